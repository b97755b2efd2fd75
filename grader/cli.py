"""Command line: ``python -m grader <command>``.

- ``build-stubs [--check]``: generate ``exercises/`` from ``solutions/`` (or check for drift).
- ``grade SUBMISSION_DIR [--json OUT]``: grade one folder of ``ex*.py`` (through
  :mod:`grader.grading`, in the sandbox or, with ``--in-process``, here).

Everything the command line says (``--help``, argparse's usage errors, a :class:`UserError`)
is in the reader's language: ``--lang`` where the command line gives one, else
``$PRACTICO_LANG``, else Spanish (:mod:`grader.cli_language`; the texts are in
:mod:`grader.cli_messages`).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import os
import sys

from grader.cli_language import (
    argparse_words,
    argv_lang,
    command_language,
    helptext,
    parser_language,
    say,
)
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


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, every text in ``lang`` (default: the environment's)."""
    with parser_language(lang):
        return _build_parser()


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=helptext(
        "cli_description"))
    sub = parser.add_subparsers(dest="command", required=True, title=say("cli_commands"),
                                metavar=say("cli_command"))

    p = sub.add_parser("grade", help=helptext("cli_grade"), description=helptext("cli_grade"))
    p.add_argument("submission", help=helptext("cli_grade_submission"))
    p.add_argument("--json", metavar="OUT", help=helptext("cli_grade_json"))
    add_options(p, "--tasks", "--timeout", "--device", "--variant")
    p.add_argument("--children", type=positive_int, default=None, metavar="N",
                   help=helptext("cli_grade_children"))
    add_options(p, "--lang")
    p.add_argument("--in-process", action="store_true", help=helptext("cli_grade_in_process"))
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
    argv = sys.argv[1:] if argv is None else list(argv)
    # --help and usage errors end parsing (SystemExit) in the language asked for, before the
    # command line is understood: `--lang en` is looked for in it first.
    with command_language(argv_lang(argv)) as lang:
        with argparse_words():
            args = _build_parser().parse_args(argv)
        args.argv = argv  # what was typed: a command may repeat it (autograde --dry-run)
        try:
            return int(args.func(args) or 0)
        except UserError as exc:
            from grader.outputs.escape import terminal

            # An error may name a path or a value someone else chose: escaped like any
            # output, and worded in the language the command was given.
            text = terminal(exc.message(getattr(args, "lang", None) or lang))
            print(say("cli_error", message=text), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(say("cli_interrupted"), file=sys.stderr)
            return 130
