"""``python -m grader autograde ROOT --out RESULTS [--jobs N]``: a whole class, in parallel.

Every subfolder of ROOT is one student. Each student is graded in isolated children
(:mod:`grader.sandbox.supervisor`); as soon as a student is done, their files are written:

    RESULTS/students/<student>/result.json    the result JSON (docs/result-json.md)
    RESULTS/students/<student>/results.json   Gradescope's format
    RESULTS/students/<student>/feedback.md    each task's score and messages
    RESULTS/students/<student>/feedback.html  the same, as a page
    RESULTS/grades.csv                        one row per student, rewritten after each one

so an interrupted run keeps what it had, and a re-run skips students whose submission
(and the kit) did not change, unless ``--force``. A re-run trusts only results this kit
signed (:mod:`grader.outputs.signing`); a student folder that is a symbolic link is reported,
never followed; and student text reaches every output through that output's escaper
(:mod:`grader.outputs.escape`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader import __version__
from grader.cluster import add_cluster_flags
from grader.i18n import render_reason
from grader.kitprint import kit_digest
from grader.options import (
    UserError,
    add_options,
    check_variant,
    parse_task_ids,
    require_data,
    resolve_device,
)
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import terminal
from grader.outputs.feedback import feedback_html, feedback_markdown
from grader.outputs.grades_csv import LINK_STATUS, read_json, write_grades_csv
from grader.outputs.gradescope import gradescope_json
from grader.outputs.progress import Progress
from grader.outputs.signing import load_key, verify, write_signed
from grader.request import GradeRequest
from grader.settings import results_key_file
from grader.submission import ALLOWED_NAMES, Submission
from grader.textsafe import display_names, safe_name, safe_text

# torch and the checks load only when grading starts: `python -m grader --help` and
# every other command stay fast.


@dataclass
class ClassFolder:
    """What ``autograde`` found in the class folder."""

    folders: list[Path]
    #: names of the entries that are symbolic links (to a folder or not, dangling or not):
    #: reported, never followed. An extracted archive can make one pointing anywhere, e.g.
    #: at ``solutions/``, which would be graded as that student's work.
    links: list[str] = field(default_factory=list)


def student_folders(root: Path, out: Path) -> ClassFolder:
    """The student subfolders of ``root`` and its symbolic links; clear errors for a missing
    or empty root, and for a results folder and a class folder that hold one another."""
    if not root.exists():
        raise UserError(f"{root}: no such folder. Give the folder that holds one subfolder "
                          "per student.")
    if not root.is_dir():
        raise UserError(f"{root}: not a folder.")
    out_resolved, root_resolved = out.resolve(), root.resolve()
    if out_resolved == root_resolved or root_resolved in out_resolved.parents:
        raise UserError(f"--out {out} is inside {root}: it would be graded as a student. "
                          "Put the results somewhere else.")
    if out_resolved in root_resolved.parents:
        # Students' files among the results: a planted students/<name>/result.json would be
        # read back as an earlier result, or a planted key as the signing key.
        raise UserError(f"{root} is inside --out {out}: students' files would lie among the "
                        "results (and could pass for them). Put the class and the results in "
                        "two separate folders.")
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except PermissionError:
        raise UserError(f"{root}: cannot read this folder (permission denied).") from None
    found = ClassFolder(folders=[], links=[])
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            found.links.append(entry.name)
        elif entry.is_dir(follow_symlinks=False):
            found.folders.append(root / entry.name)
    if not found.folders and not found.links:
        raise UserError(f"{root}: holds no student folders (expected one subfolder per "
                          "student, each with their ex*.py files).")
    return found


#: file names listed in ``ignored_files`` of a result (a folder may hold thousands)
MAX_IGNORED_LISTED = 100


def ignored_files(folder: Path) -> tuple[list[str], int]:
    """Names (escaped where not UTF-8) of the files in ``folder`` that are not graded, at most
    ``MAX_IGNORED_LISTED`` of them, and how many more there are."""
    names: list[str] = []
    more = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name in ALLOWED_NAMES or not entry.is_file(follow_symlinks=False):
                    continue
                if len(names) < MAX_IGNORED_LISTED:
                    names.append(safe_name(entry.name))
                else:
                    more += 1
    except OSError:
        pass
    return sorted(names), more


def fingerprint(submission: Submission, settings: dict[str, Any]) -> str:
    """Changes when the student's graded files, the kit, or the grading settings change."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"kit": __version__, **settings}, sort_keys=True).encode())
    digest.update(kit_digest().encode())
    for name in sorted(submission.files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(submission.files[name]).digest())
    for name in sorted(submission.problems):
        digest.update(f"{name}:{submission.problems[name]}".encode())
    return digest.hexdigest()


def _previous(out: Path, student: str, key: bytes) -> tuple[dict[str, Any] | None, bool]:
    """The student's earlier ``result.json`` when this kit signed it with this key, and
    whether one was there but not so signed (it is then graded again, and said)."""
    data = read_json(out / "students" / student / "result.json")
    if data is None:
        return None, False
    if not verify(key, student, data):
        return None, True
    return data, False


def grading_settings(request: GradeRequest) -> dict[str, Any]:
    """What decides a verdict, for a result's fingerprint; the timeout does not (a re-run
    with another timeout keeps the finished students; --force grades them again)."""
    settings: dict[str, Any] = {"tasks": request.tasks, "device": request.device,
                                "variant": request.variant}
    if request.variant:
        # Another course secret draws other hidden inputs: earlier results no longer hold.
        from grader.hidden import variant_token

        settings["variant_key"] = hashlib.sha256(
            variant_token(request.variant).encode()).hexdigest()
    return settings


class ClassRun:
    """One ``autograde`` run over a class folder: who is already done, grading one student
    into their files, and ``grades.csv`` rewritten as they finish."""

    def __init__(self, out: Path, key: bytes, found: ClassFolder, request: GradeRequest,
                 errors: dict[str, str]) -> None:
        self.out = out
        self.key = key
        self.found = found
        self.request = request
        self.errors = errors  # students the grader itself failed on
        self.settings = grading_settings(request)
        self.names = [f.name for f in found.folders]
        # One display name per folder for the whole run (grades.csv, result.json, feedback,
        # the terminal): escaped, and never the same for two folders.
        self.shown = display_names([*self.names, *found.links])
        self._csv_lock = threading.Lock()

    def rewrite_csv(self) -> None:
        with self._csv_lock:
            write_grades_csv(self.out, self.names, self.errors, key=self.key,
                             links=self.found.links, shown=self.shown)

    def resume(self, force: bool) -> tuple[dict[str, dict[str, Any]], list[Path]]:
        """The earlier results that still hold, and the folders to grade; says on stderr
        what it skipped and what it found but could not trust."""
        results: dict[str, dict[str, Any]] = {}
        todo: list[Path] = []
        unsigned = []
        for folder in self.found.folders:
            previous, forged = (None, False) if force else _previous(self.out, folder.name,
                                                                     self.key)
            if forged:
                unsigned.append(self.shown[folder.name])
            # Only a student with a signed earlier result is read here, to tell whether the
            # files changed; everyone graded is read once, when graded.
            if previous is not None and previous.get("fingerprint") == fingerprint(
                    Submission.from_folder(folder), self.settings):
                results[folder.name] = previous
            else:
                todo.append(folder)
        for link in self.found.links:
            print(terminal(f"{self.shown[link]}: a symbolic link, not followed and not graded "
                           f"(status {LINK_STATUS} in grades.csv); put the student's own folder "
                           "there to grade it", newlines=False), file=sys.stderr)
        if unsigned:
            listed = ", ".join(unsigned[:10]) + (f" and {len(unsigned) - 10} more"
                                                  if len(unsigned) > 10 else "")
            print(terminal(f"{len(unsigned)} earlier result.json file(s) not signed by this kit "
                           f"with the key {results_key_file()}: graded again ({listed})",
                           newlines=False), file=sys.stderr)
        if results:
            print(f"{len(results)} student(s) already graded with these files: skipped "
                  "(--force to grade again)", file=sys.stderr)
        return results, todo

    def grade(self, grader: Any, folder: Path) -> tuple[str, dict[str, Any], float]:
        """Grade one student and write their files; returns their name, result and seconds."""
        from grader.outputs.results import to_json_dict, write_json_atomic

        lang = self.request.lang
        start = time.monotonic()
        submission = Submission.from_folder(folder)  # the one read of this student's files
        fp = fingerprint(submission, self.settings)
        outcome = grader.grade(replace(self.request, submission=submission))
        seconds = time.monotonic() - start
        data = to_json_dict(outcome.results)
        ignored, more = ignored_files(folder)
        student = self.shown[folder.name]
        data.update({"student": student, "fingerprint": fp, "seconds": round(seconds, 1),
                     "files": sorted(submission.files),
                     "unusable_files": {name: render_reason(why, lang) or "—"
                                        for name, why in submission.problems.items()},
                     "ignored_files": ignored,
                     "sandbox": outcome.sandbox_json()})
        if more:
            data["ignored_files_not_listed"] = more
        target = self.out / "students" / folder.name
        target.mkdir(parents=True, exist_ok=True)
        write_atomic(target / "feedback.md", feedback_markdown(student, data, lang))
        write_atomic(target / "feedback.html", feedback_html(student, data, lang))
        write_json_atomic(target / "results.json",
                          gradescope_json(outcome.results, seconds, lang))
        # Last, signed: it marks the student done, and only this kit can write one that a
        # re-run or grades.csv will trust.
        data = write_signed(target / "result.json", self.key, folder.name, data)
        return folder.name, data, seconds


def autograde(
    root: Path, out: Path, request: GradeRequest | None = None, jobs: int | None = None,
    force: bool = False, unsafe_no_isolation: bool = False,
    grader_errors: dict[str, str] | None = None, cluster: Any = None,
) -> dict[str, dict[str, Any]]:
    """Grade every student folder of ``root`` into ``out``; returns the per-student JSON.

    ``request``: how each student is graded (tasks, device, variant, language, time
    limit); each student's files and the threads of their children are filled in here.
    ``grader_errors``, when given, receives the students the grader itself failed on (folder
    name -> what happened); they have no result and are graded again on the next run.
    ``cluster``: a started :class:`grader.cluster.Cluster` whose workers grade the students
    (``jobs`` of them at once) instead of a sandbox here.
    """
    from grader.grading import Grader
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import GradingCancelled, Sandbox

    request = request or GradeRequest()
    check_variant(request.variant, request.lang)
    found = student_folders(root, out)
    key = load_key([root, out])
    jobs = max(1, jobs or os.cpu_count() or 1)
    request = replace(request, threads=max(1, (os.cpu_count() or 1) // jobs))
    (out / "students").mkdir(parents=True, exist_ok=True)
    run = ClassRun(out, key, found, request, {} if grader_errors is None else grader_errors)
    run.rewrite_csv()
    results, todo = run.resume(force)
    # In cuda mode the children share one GPU: each allocator may take its share of it.
    options = SandboxOptions(unsafe_no_isolation=unsafe_no_isolation,
                             gpu_memory_fraction=0.9 / jobs)
    progress = Progress(len(found.folders), "student", done=len(results))
    grader = Grader(Sandbox(options)) if cluster is None else cluster.grader(options)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run.grade, grader, folder): folder.name for folder in todo}
            try:
                for future in as_completed(futures):
                    shown = run.shown[futures[future]]
                    try:
                        name, data, seconds = future.result()
                    except (GradingCancelled, KeyboardInterrupt):
                        raise
                    except Exception as exc:
                        # A failure of the grader itself (a bug, a full disk): this student
                        # is reported, not given a score, and everyone else is still graded.
                        run.errors[futures[future]] = safe_text(
                            f"{type(exc).__name__}: {exc}", 300, newlines=False)
                        run.rewrite_csv()
                        progress.item_failed(f"{shown}: NOT GRADED, grader error: "
                                             f"{run.errors[futures[future]]}")
                        continue
                    results[name] = data
                    run.rewrite_csv()
                    progress.item_done(f"{shown}: {data['score']:g}/{data['max_score']:g} "
                                       f"({seconds:.1f} s)")
            except KeyboardInterrupt:
                for future in futures:
                    future.cancel()
                grader.kill_all()
                raise
    finally:
        progress.close()
        grader.close()
    run.rewrite_csv()
    return results


def _cmd_autograde(args: argparse.Namespace) -> int:
    task_ids = parse_task_ids(args.tasks)
    check_variant(args.variant, args.lang)
    out = Path(args.out)
    found = student_folders(Path(args.root), out)  # bad input fails here, before torch loads
    load_key([Path(args.root), out])
    from grader.cluster import Cluster, spec_from_args

    spec = spec_from_args(args)
    request = GradeRequest(tasks=task_ids, device=resolve_device(args.device),
                           variant=args.variant, lang=args.lang, timeout=args.timeout)
    require_data()
    from grader.sandbox.supervisor import IsolationRefused

    errors: dict[str, str] = {}
    try:
        with contextlib.nullcontext() if spec is None else Cluster(spec, args.jobs) as cluster:
            jobs = args.jobs if cluster is None else cluster.slots
            results = autograde(Path(args.root), out, request, jobs=jobs, force=args.force,
                                unsafe_no_isolation=args.unsafe_no_isolation,
                                grader_errors=errors, cluster=cluster)
    except IsolationRefused as exc:
        raise UserError(str(exc)) from None
    scores = [r["score"] for r in results.values()]
    mean = sum(scores) / len(scores) if scores else 0.0
    print(terminal(f"graded {len(results)} student(s); mean score {mean:.1f}; results in "
                   f"{out}/ (grades.csv, students/<name>/)", newlines=False))
    if found.links:
        print(f"{len(found.links)} symbolic link(s) in {terminal(args.root, newlines=False)} "
              f"not followed, not graded (status {LINK_STATUS} in grades.csv)", file=sys.stderr)
    if errors:
        # the names grades.csv and the progress lines showed (links take part in the
        # look-alike check there too)
        shown = display_names([*(f.name for f in found.folders), *found.links])
        print(terminal(f"{len(errors)} student(s) NOT graded because of a grader error (status "
                       "grader_error in grades.csv; run again to retry them): "
                       + ", ".join(shown.get(n, safe_name(n)) for n in sorted(errors)),
                       newlines=False), file=sys.stderr)
        return 1
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("autograde", help="grade every student folder of a root, in parallel")
    p.add_argument("root", help="folder with one subfolder per student")
    p.add_argument("--out", required=True, metavar="RESULTS_DIR")
    p.add_argument("--jobs", type=int, default=None,
                   help="students graded at once (default: the CPU count)")
    p.add_argument("--force", action="store_true", help="grade again students already graded")
    add_options(p, "--timeout", "--device", "--tasks", "--variant", "--lang",
                "--unsafe-no-isolation")
    add_cluster_flags(p)
    p.set_defaults(func=_cmd_autograde)
