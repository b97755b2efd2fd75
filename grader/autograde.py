"""``python -m grader autograde ROOT --out RESULTS [--jobs N]``: a whole class, in parallel.

Every subfolder of ROOT is one student. Each student is graded in isolated children
(:mod:`grader.sandbox.supervisor`); as soon as a student is done, their files are written:

    RESULTS/students/<student>/result.json    the result JSON (docs/result-json.md)
    RESULTS/students/<student>/results.json   Gradescope's format
    RESULTS/students/<student>/feedback.md    each task's score and messages
    RESULTS/students/<student>/feedback.html  the same, as a page
    RESULTS/grades.csv                        one row per student, rewritten after each one
    RESULTS/class_report.html, .json          the class report, at the end of the run

so an interrupted run keeps what it had, and a re-run skips students whose submission
(and the kit, and the options that decide a verdict) did not change, unless ``--force``: each
``result.json`` records what produced it (``produced_by``, :mod:`grader.outputs.provenance`).
A re-run trusts only results this kit signed (:mod:`grader.outputs.signing`); a student
folder that is a symbolic link is reported, never followed; and student text reaches every
output through that output's escaper (:mod:`grader.outputs.escape`).

``--dry-run`` grades into a scratch folder and prints whose score would change, writing
nothing in ``RESULTS``; ``--apply`` then writes it (:mod:`grader.regrade`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.cli_language import helptext
from grader.cluster import add_cluster_flags
from grader.i18n import current_lang, render_reason, t
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
from grader.outputs.provenance import fingerprint, produced_by
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
        raise UserError(key="err_no_class_folder", root=str(root))
    if not root.is_dir():
        raise UserError(key="err_not_a_folder", path=str(root))
    out_resolved, root_resolved = out.resolve(), root.resolve()
    if out_resolved == root_resolved or root_resolved in out_resolved.parents:
        raise UserError(key="err_out_inside_root", out=str(out), root=str(root))
    if out_resolved in root_resolved.parents:
        # Students' files among the results: a planted students/<name>/result.json would be
        # read back as an earlier result, or a planted key as the signing key.
        raise UserError(key="err_root_inside_out", out=str(out), root=str(root))
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except PermissionError:
        raise UserError(key="err_permission", folder=str(root)) from None
    found = ClassFolder(folders=[], links=[])
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            found.links.append(entry.name)
        elif entry.is_dir(follow_symlinks=False):
            found.folders.append(root / entry.name)
    if not found.folders and not found.links:
        raise UserError(key="err_no_students", root=str(root))
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


def current_record(folder: Path, request: GradeRequest) -> dict[str, Any]:
    """What grading ``folder`` now with ``request`` would record as ``produced_by`` (its
    allow-listed files read now)."""
    return produced_by(Submission.from_folder(folder), request)


def _previous(out: Path, student: str, key: bytes) -> tuple[dict[str, Any] | None, bool]:
    """The student's earlier ``result.json`` when this kit signed it with this key, and
    whether one was there but not so signed (it is then graded again, and said)."""
    data = read_json(out / "students" / student / "result.json")
    if data is None:
        return None, False
    if not verify(key, student, data):
        return None, True
    return data, False


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
        self.names = [f.name for f in found.folders]
        # One display name per folder for the whole run (grades.csv, result.json, feedback,
        # the terminal): escaped, and never the same for two folders.
        self.shown = display_names([*self.names, *found.links])
        self._csv_lock = threading.Lock()

    def rewrite_csv(self) -> None:
        with self._csv_lock:
            write_grades_csv(self.out, self.names, self.errors, key=self.key,
                             links=self.found.links, shown=self.shown)

    def resume(self, force: bool, fingerprints: dict[str, str] | None = None
               ) -> tuple[dict[str, dict[str, Any]], list[Path]]:
        """The earlier results that still hold, and the folders to grade; says on stderr
        what it skipped and what it found but could not trust. ``fingerprints``: each
        folder's current one where the caller has read them already (else read here)."""
        lang = self.request.lang
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
            if previous is None:
                todo.append(folder)
                continue
            current = (fingerprints or {}).get(folder.name) or fingerprint(
                current_record(folder, self.request))
            if previous.get("fingerprint") == current:
                results[folder.name] = previous
            else:
                todo.append(folder)
        for link in self.found.links:
            print(terminal(t("ag_link", lang, name=self.shown[link], status=LINK_STATUS),
                           newlines=False), file=sys.stderr)
        if unsigned:
            listed = ", ".join(unsigned[:10])
            if len(unsigned) > 10:
                listed = t("ag_and_more", lang, names=listed, count=len(unsigned) - 10)
            print(terminal(t("ag_unsigned", lang, count=len(unsigned), names=listed,
                             key=str(results_key_file())), newlines=False), file=sys.stderr)
        if results:
            print(t("ag_skipped", lang, count=len(results)), file=sys.stderr)
        return results, todo

    def grade(self, grader: Any, folder: Path) -> tuple[str, dict[str, Any], float]:
        """Grade one student and write their files; returns their name, result and seconds."""
        from grader.outputs.results import to_json_dict, write_json_atomic

        lang = self.request.lang
        start = time.monotonic()
        submission = Submission.from_folder(folder)  # the one read of this student's files
        record = produced_by(submission, self.request)
        outcome = grader.grade(replace(self.request, submission=submission))
        seconds = time.monotonic() - start
        data = to_json_dict(outcome.results)
        ignored, more = ignored_files(folder)
        student = self.shown[folder.name]
        data.update({"student": student, "fingerprint": fingerprint(record),
                     "produced_by": record, "seconds": round(seconds, 1),
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
    report_names: bool = False, fingerprints: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Grade every student folder of ``root`` into ``out``; returns the per-student JSON.

    ``request``: how each student is graded (tasks, device, variant, language, time
    limit); each student's files and the threads of their children are filled in here.
    ``grader_errors``, when given, receives the students the grader itself failed on (folder
    name -> what happened); they have no result and are graded again on the next run.
    ``cluster``: a started :class:`grader.cluster.Cluster` whose workers grade the students
    (``jobs`` of them at once) instead of a sandbox here. At the end the class report is
    written beside ``grades.csv`` (``report_names``: with who is behind every count); a
    report that cannot be written is said on stderr and costs no grade. ``fingerprints``:
    each folder's current fingerprint, where the caller has just read them for this request
    (``--dry-run``, ``--apply``), so the folders are not read again to resume.
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
    results, todo = run.resume(force, fingerprints)
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
                        progress.item_failed(t("ag_grader_error", request.lang, name=shown,
                                               error=run.errors[futures[future]]))
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
    write_report(out, request.lang, report_names, key)
    return results


def write_report(out: Path, lang: str | None, names: bool, key: bytes) -> None:
    """The class report beside ``grades.csv``; whatever goes wrong there is said on stderr
    and never costs a grade (every result and ``grades.csv`` are already written)."""
    try:
        from grader.class_report import write_class_report

        write_class_report(out, lang, names, key=key)
    except Exception as exc:  # noqa: BLE001 - the report never costs a grade
        print(terminal(t("ag_report_failed", lang, out=str(out), error=safe_text(
            f"{type(exc).__name__}: {exc}", 300, newlines=False)), newlines=False),
            file=sys.stderr)


def _grade_class(args: argparse.Namespace, out: Path, request: GradeRequest,
                 errors: dict[str, str], force: bool,
                 fingerprints: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """``autograde`` into ``out`` as the flags ask (locally or on a cluster)."""
    from grader.cluster import Cluster, spec_from_args
    from grader.sandbox.supervisor import IsolationRefused

    spec = spec_from_args(args)
    try:
        with contextlib.nullcontext() if spec is None else Cluster(spec, args.jobs) as cluster:
            jobs = args.jobs if cluster is None else cluster.slots
            return autograde(Path(args.root), out, request, jobs=jobs, force=force,
                             unsafe_no_isolation=args.unsafe_no_isolation,
                             grader_errors=errors, cluster=cluster, report_names=args.names,
                             fingerprints=fingerprints)
    except IsolationRefused as exc:
        raise UserError(str(exc)) from None


def _report_errors(errors: dict[str, str], found: ClassFolder, lang: str) -> None:
    # the names grades.csv and the progress lines showed (links take part in the look-alike
    # check there too)
    shown = display_names([*(f.name for f in found.folders), *found.links])
    print(terminal(t("ag_errors", lang, count=len(errors), names=", ".join(
        shown.get(n, safe_name(n)) for n in sorted(errors))), newlines=False), file=sys.stderr)


def _apply_command(args: argparse.Namespace) -> str:
    """The ``--apply`` command line that goes with this ``--dry-run``: the same flags."""
    argv = getattr(args, "argv", None) or ["autograde", args.root, "--out", args.out]
    kept = [a for a in argv if a not in ("--dry-run", "--force")]
    return shlex.join(["python", "-m", "grader", *kept, "--apply"])


def _fingerprints(found: ClassFolder, request: GradeRequest
                  ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Each student folder's current ``produced_by`` record and fingerprint."""
    records = {f.name: current_record(f, request) for f in found.folders}
    return records, {name: fingerprint(record) for name, record in records.items()}


def _cmd_autograde(args: argparse.Namespace) -> int:
    lang = current_lang(args.lang)
    if args.dry_run and args.apply:
        raise UserError(key="err_dry_run_apply")
    task_ids = parse_task_ids(args.tasks)
    check_variant(args.variant, args.lang)
    root, out = Path(args.root), Path(args.out)
    found = student_folders(root, out)  # bad input fails here, before torch loads
    scratch = None
    if args.dry_run or args.apply:
        from grader.regrade import check_scratch, default_scratch

        scratch = Path(args.scratch) if args.scratch else default_scratch(out)
        check_scratch(scratch, root, out)
    key = load_key([root, out, *([scratch] if scratch is not None else [])])
    from grader.cluster import spec_from_args

    spec_from_args(args)  # flags that do not go together fail here, before anything is read
    request = GradeRequest(tasks=task_ids, device=resolve_device(args.device),
                           variant=args.variant, lang=args.lang, timeout=args.timeout)
    require_data()
    errors: dict[str, str] = {}
    if args.dry_run:
        return _dry_run(args, found, out, scratch, key, request, errors, lang)
    fingerprints = None
    if args.apply:
        fingerprints = _take_preview(found, out, scratch, key, request, lang)
    results = _grade_class(args, out, request, errors, args.force, fingerprints)
    scores = [r["score"] for r in results.values()]
    mean = sum(scores) / len(scores) if scores else 0.0
    print(terminal(t("ag_done", lang, count=len(results), mean=f"{mean:.1f}", out=str(out)),
                   newlines=False))
    if found.links:
        print(terminal(t("ag_links", lang, count=len(found.links), root=args.root,
                         status=LINK_STATUS), newlines=False), file=sys.stderr)
    if errors:
        _report_errors(errors, found, lang)
        return 1
    if args.apply:
        from grader.regrade import remove_scratch

        remove_scratch(scratch)
    return 0


def _dry_run(args: argparse.Namespace, found: ClassFolder, out: Path, scratch: Path,
             key: bytes, request: GradeRequest, errors: dict[str, str], lang: str) -> int:
    """Grade into the scratch folder and print whose score would change; nothing is
    written under ``out`` (:mod:`grader.regrade`)."""
    from grader.regrade import compare, format_preview, make_scratch, seed_scratch, write_preview

    names = [f.name for f in found.folders]
    make_scratch(scratch)
    fingerprints = None
    if not args.force:
        _, fingerprints = _fingerprints(found, request)
        seed_scratch(names, out, scratch, key, fingerprints)
    _grade_class(args, scratch, request, errors, args.force, fingerprints)
    shown = display_names([*names, *found.links])
    preview = compare(names, out, scratch, key, shown, errors)
    write_preview(preview, scratch)
    print(format_preview(preview, lang, _apply_command(args)))
    if errors:
        _report_errors(errors, found, lang)
        return 1
    return 0


def _take_preview(found: ClassFolder, out: Path, scratch: Path, key: bytes,
                  request: GradeRequest, lang: str) -> dict[str, str] | None:
    """``--apply``: the previewed results that still hold, into ``out`` before grading;
    returns each folder's current fingerprint (None when there was no preview to read)."""
    from grader.regrade import SCRATCH_MARKER, take_from_scratch

    if not (scratch / SCRATCH_MARKER).is_file():
        print(terminal(t("rg_no_preview", lang, scratch=str(scratch)), newlines=False),
              file=sys.stderr)
        return None
    records, fingerprints = _fingerprints(found, request)
    (out / "students").mkdir(parents=True, exist_ok=True)
    taken = take_from_scratch([f.name for f in found.folders], out, scratch, key, records,
                              fingerprints)
    print(terminal(t("rg_reused", lang, count=len(taken), scratch=str(scratch)),
                   newlines=False), file=sys.stderr)
    return fingerprints


def add_commands(sub: Any) -> None:
    p = sub.add_parser("autograde", help=helptext("cli_autograde"),
                       description=helptext("cli_autograde"))
    p.add_argument("root", help=helptext("cli_autograde_root"))
    p.add_argument("--out", required=True, metavar="RESULTS_DIR",
                   help=helptext("cli_autograde_out"))
    p.add_argument("--jobs", type=int, default=None, help=helptext("cli_autograde_jobs"))
    p.add_argument("--force", action="store_true", help=helptext("cli_autograde_force"))
    p.add_argument("--names", action="store_true", help=helptext("cli_autograde_names"))
    p.add_argument("--dry-run", action="store_true", help=helptext("cli_autograde_dry_run"))
    p.add_argument("--apply", action="store_true", help=helptext("cli_autograde_apply"))
    p.add_argument("--scratch", default=None, metavar="DIR",
                   help=helptext("cli_autograde_scratch"))
    add_options(p, "--timeout", "--device", "--tasks", "--variant", "--lang",
                "--unsafe-no-isolation")
    add_cluster_flags(p)
    p.set_defaults(func=_cmd_autograde)
