"""Command line: ``python -m grader <command>``.

- ``build-stubs [--check]``: generate ``exercises/`` from ``solutions/`` (or check for drift).
- ``grade SUBMISSION_DIR [--json OUT]``: grade one folder of ``ex*.py`` (through
  :mod:`grader.grading`, in the sandbox or, with ``--in-process``, here).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import os
import sys

from grader.options import (
    UserError,
    add_options,
    check_variant,
    parse_task_ids,
    positive_int,
    require_data,
    resolve_device,
    submission_dir,
)
from grader.settings import mnist_missing

#: modules that add subcommands with ``add_commands(subparsers)``, in help order
COMMAND_MODULES = ("grader.authoring.stubs", "grader.autograde", "grader.experiments",
                   "grader.authoring.release", "grader.nbgrading.parallel", "grader.class_report",
                   "grader.lms.export", "grader.similarity.cli")


def _cmd_grade(args: argparse.Namespace) -> int:
    import contextlib

    folder = submission_dir(args.submission)
    task_ids = parse_task_ids(args.tasks)
    device = resolve_device(args.device)
    check_variant(args.variant, args.lang)
    # One submission: its modules are shared among children of one thread each, two by
    # default (torch gains little from a second thread on these small nets, a second child
    # doubles the work done; the two long MNIST runs set the pace; README, "Grading speed").
    cpus = os.cpu_count() or 1
    children = args.children or max(1, min(2, cpus))
    threads = max(1, cpus // children)
    with contextlib.ExitStack() as stack:
        sandbox = None
        if not args.in_process and not mnist_missing():
            # Made before anything imports torch: its zygote imports torch on another core
            # while this process does (README, "Grading speed").
            sandbox = stack.enter_context(_grading_sandbox(args, children, device, threads))
        require_data()

        from grader.grading import InProcess, grade
        from grader.outputs.results import format_table, to_json_dict, write_json_atomic
        from grader.request import GradeRequest
        from grader.submission import Submission

        request = GradeRequest(tasks=task_ids, device=device, threads=threads,
                               variant=args.variant, lang=args.lang, timeout=args.timeout)
        if args.in_process:
            from grader.impl import DirImpl

            outcome = grade(request, InProcess(DirImpl(folder)))
        else:
            from grader.sandbox.supervisor import IsolationRefused

            if sandbox is None:  # MNIST was just downloaded
                sandbox = stack.enter_context(_grading_sandbox(args, children, device, threads))
            request = dataclasses.replace(request, submission=Submission.from_folder(folder))
            try:
                outcome = grade(request, sandbox)
            except IsolationRefused as exc:
                raise UserError(str(exc)) from None
    print(format_table(outcome.results, args.lang))
    if args.json:
        data = to_json_dict(outcome.results)
        if outcome.report.isolated:
            data["sandbox"] = outcome.sandbox_json()
        write_json_atomic(args.json, data)
    return 0


def _grading_sandbox(args: argparse.Namespace, children: int, device: str, threads: int):
    """The sandbox of ``grade``, its zygote already starting (-> Sandbox)."""
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox

    options = SandboxOptions(children=children, unsafe_no_isolation=args.unsafe_no_isolation,
                             gpu_memory_fraction=0.9 / children)
    sandbox = Sandbox(options)
    sandbox.start_zygote(device, threads)
    return sandbox


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader",
                                     description="Práctico 2 kit: stubs, grading, experiments")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade one submission folder")
    p.add_argument("submission", help="folder holding the student's ex*.py")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    add_options(p, "--tasks", "--timeout", "--device", "--variant")
    p.add_argument("--children", type=positive_int, default=None, metavar="N",
                   help="children that grade the submission at once, each over whole "
                        "modules (default: 2, or 1 on a single core)")
    add_options(p, "--lang")
    p.add_argument("--in-process", action="store_true",
                   help="run the code in this process, without isolation (trusted code only)")
    add_options(p, "--unsafe-no-isolation")
    p.set_defaults(func=_cmd_grade)

    # Further commands live next to what they drive; each module that exists adds its own.
    # A student release has no grader/authoring: its commands are simply not there.
    for name in COMMAND_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            importlib.import_module(name).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        from grader.outputs.escape import terminal

        # An error may name a path or a value someone else chose: escaped like any output.
        print(f"error: {terminal(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
