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
import csv
import hashlib
import io
import json
import os
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import __version__
from grader.cluster import add_cluster_flags
from grader.i18n import render_reason, t
from grader.options import (
    UserError,
    add_unsafe_flag,
    parse_task_ids,
    require_data,
    resolve_device,
)
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import csv_row, md_code, md_text, terminal
from grader.outputs.html import escape, page
from grader.outputs.progress import Progress
from grader.outputs.signing import load_key, verify, write_signed
from grader.settings import results_key_file
from grader.tasks import TASKS
from grader.textsafe import display_names, safe_name, safe_text

# torch and the checks load only when grading starts: `python -m grader --help` and
# every other command stay fast.
if TYPE_CHECKING:
    from grader.scoring import TaskResult


#: the ``grades.csv`` status of an entry of the class folder that is a symbolic link
LINK_STATUS = "symlink_not_graded"


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
    from grader.sandbox.submission import ALLOWED_NAMES

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


def fingerprint(folder: Path, settings: dict[str, Any]) -> str:
    """Changes when the student's graded files, the kit, or the grading settings change."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"kit": __version__, **settings}, sort_keys=True).encode())
    digest.update(_kit_digest().encode())
    from grader.sandbox.submission import collect_files

    files, problems = collect_files(folder)
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    for name in sorted(problems):
        digest.update(f"{name}:{problems[name]}".encode())
    return digest.hexdigest()


_kit_digest_cache: list[str] = []


def _kit_digest() -> str:
    """A hash of the grader's own code: new checks invalidate earlier results."""
    if not _kit_digest_cache:
        digest = hashlib.sha256()
        package = Path(__file__).resolve().parent
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode() + path.read_bytes())
        _kit_digest_cache.append(digest.hexdigest())
    return _kit_digest_cache[0]


def gradescope_json(results: dict[str, TaskResult], seconds: float, lang: str | None
                    ) -> dict[str, Any]:
    """Gradescope's ``results.json``: one test per task, with its messages as output."""
    tests = []
    for number, task in enumerate(TASKS, start=1):
        res = results.get(task.id)
        score = res.score if res else 0.0
        tests.append({
            "name": f"{task.id}: {task.title(lang)}",
            "number": str(number),
            "score": score,
            "max_score": float(task.points),
            "status": "passed" if res and res.status == "passed" else "failed",
            # Gradescope's default format renders some HTML: plain text shows the
            # student's exception text as text.
            "output": safe_text(res.message) if res else "",
            "output_format": "text",
        })
    return {"score": sum(x["score"] for x in tests), "execution_time": round(seconds, 1),
            "tests": tests}


def feedback_markdown(student: str, data: dict[str, Any], lang: str | None) -> str:
    """``feedback.md``. The student's name and every message line (which hold exception
    texts) are code spans (:func:`md_code`): no renderer makes HTML, a link or an image of
    them; the kit's own labels are escaped text (:func:`md_text`)."""
    t_ = md_text
    lines = [f"# Práctico 2: {md_code(student)}", "",
             f"**{t_(t('feedback_total', lang))}: {data['score']:g} / {data['max_score']:g}**",
             "", f"| {t_(t('feedback_task', lang))} | {t_(t('feedback_points', lang))} | "
             f"{t_(t('feedback_status', lang))} |", "|---|---|---|"]
    for task in TASKS:
        entry = data["tasks"][task.id]
        label = _label(entry["status"], lang)
        lines.append(f"| {md_code(task.id, in_table=True)} {t_(task.title(lang))} | "
                     f"{entry['score']:g} / "
                     f"{entry['max_score']:g} | {t_(label)} |")
    for task in TASKS:
        entry = data["tasks"][task.id]
        if entry.get("message"):
            lines += ["", f"## {md_code(task.id)}: {t_(task.title(lang))}", ""]
            lines += [f"- {md_code(m)}" for m in entry["message"].splitlines() if m.strip()]
    return "\n".join(lines) + "\n"


_FEEDBACK_CSS = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
                 "td,th{padding:.3em .8em;border-bottom:1px solid #ddd}"
                 ".ok td:nth-child(2){color:#176317}.ko td:nth-child(2){color:#a01515}")


def feedback_html(student: str, data: dict[str, Any], lang: str | None) -> str:
    """``feedback.html``: the student's table and messages, in ``lang``."""
    esc = escape
    rows = []
    for task in TASKS:
        entry = data["tasks"][task.id]
        ok = entry["status"] == "passed"
        rows.append(
            f"<tr class=\"{'ok' if ok else 'ko'}\"><td><code>{esc(task.id)}</code> "
            f"{esc(task.title(lang))}</td><td>{entry['score']:g} / {entry['max_score']:g}</td>"
            f"<td>{esc(_label(entry['status'], lang))}</td></tr>")
    details = []
    for task in TASKS:
        entry = data["tasks"][task.id]
        if entry.get("message"):
            items = "".join(f"<li>{esc(m)}</li>" for m in entry["message"].splitlines())
            details.append(f"<h2><code>{esc(task.id)}</code> {esc(task.title(lang))}</h2>"
                           f"<ul>{items}</ul>")
    title = t("feedback_title", lang, student=student)
    body = [
        f"<h1>{esc(title)}</h1>",
        f"<p><strong>{esc(t('feedback_total', lang))}: {data['score']:g} / "
        f"{data['max_score']:g}</strong></p>",
        f"<table><tr><th>{esc(t('feedback_task', lang))}</th>"
        f"<th>{esc(t('feedback_points', lang))}</th><th>{esc(t('feedback_status', lang))}</th>"
        f"</tr>{''.join(rows)}</table>{''.join(details)}",
    ]
    return page(title, body, lang, _FEEDBACK_CSS)


def _label(status: str, lang: str | None) -> str:
    from grader.messages import MESSAGES

    key = f"label_{status}"
    return t(key, lang) if key in MESSAGES else status


def write_grades_csv(out: Path, students: list[str], errors: Iterable[str] = (), *,
                     key: bytes, links: Iterable[str] = (),
                     shown: dict[str, str] | None = None) -> None:
    """``grades.csv`` from every finished student's ``result.json`` (atomic rewrite).

    ``students`` are folder names as on disk, ``links`` the class folder's symbolic links
    (status :data:`LINK_STATUS`); ``shown`` how each is displayed (default:
    :func:`grader.textsafe.display_names` of them all: unique, escaped). Only a result signed
    with ``key`` for that folder counts (:func:`grader.outputs.signing.verify`); any other
    file is ``pending``. ``errors``: students the grader itself failed on (status
    ``grader_error``: grade them again once fixed). Every cell goes through
    :func:`grader.outputs.escape.csv_row`: no cell begins with a formula character.
    """
    links = list(links)
    shown = display_names([*students, *links]) if shown is None else shown
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_row(["student", *(task.id for task in TASKS), "total", "max_score",
                             "status"]))
    errors = set(errors)
    empty = [""] * (len(TASKS) + 2)
    for student in students:
        scores = _verified_scores(out / "students" / student / "result.json", key, student)
        if scores is None:
            scores = [*empty, "grader_error" if student in errors else "pending"]
        writer.writerow(csv_row([shown[student], *scores]))
    for link in links:
        writer.writerow(csv_row([shown[link], *empty, LINK_STATUS]))
    write_atomic(out / "grades.csv", buffer.getvalue())


#: (path, key) -> (the file's stat stamp, its verified scores): autograde rewrites grades.csv
#: after every student and would otherwise parse and verify every finished result each time
_VERIFIED: dict[tuple[Path, bytes], tuple[tuple[int, ...], list[str]]] = {}


def _verified_scores(path: Path, key: bytes, student: str) -> list[str] | None:
    """The score cells and ``graded`` from ``path`` when it is signed with ``key`` for
    ``student``; else None. A file whose device, inode, size, mtime and ctime are those of a
    file already verified is not read again: any write to it changes its ctime, which no
    user can set back."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    stamp = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    cached = _VERIFIED.get((path, key))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    data = _read_json(path)
    if not verify(key, student, data):
        return None
    try:
        scores = [*(f"{data['tasks'][task.id]['score']:g}" for task in TASKS),
                  f"{data['score']:g}", f"{data['max_score']:g}", "graded"]
    except (KeyError, TypeError, ValueError):
        return None
    _VERIFIED[(path, key)] = (stamp, scores)
    return scores


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _previous(out: Path, student: str, fp: str, key: bytes) -> tuple[dict[str, Any] | None, bool]:
    """The student's earlier result if it still holds, and whether a ``result.json`` was
    there but not signed by this kit with this key (it is then graded again, and said)."""
    data = _read_json(out / "students" / student / "result.json")
    if data is None:
        return None, False
    if not verify(key, student, data):
        return None, True
    return (data if data.get("fingerprint") == fp else None), False


def autograde(
    root: Path, out: Path, jobs: int | None = None, force: bool = False,
    timeout: float | None = None, device: str = "cpu", task_ids: list[str] | None = None,
    lang: str | None = None, variant: int = 0, unsafe_no_isolation: bool = False,
    grader_errors: dict[str, str] | None = None, cluster: Any = None,
) -> dict[str, dict[str, Any]]:
    """Grade every student folder of ``root`` into ``out``; returns the per-student JSON.

    ``grader_errors``, when given, receives the students the grader itself failed on (folder
    name -> what happened); they have no result and are graded again on the next run.
    ``cluster``: a started :class:`grader.cluster.Cluster` whose workers grade the students
    (``jobs`` of them at once) instead of a sandbox here.
    """
    from grader.checks import Context
    from grader.outputs.results import to_json_dict, write_json_atomic
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.submission import collect_files
    from grader.sandbox.supervisor import GradingCancelled, Sandbox

    if variant:
        from grader.hidden import MissingSecretError, require_secret

        try:
            require_secret(lang)
        except MissingSecretError as exc:
            raise UserError(f"--variant {variant}: {exc}") from None
    found = student_folders(root, out)
    folders = found.folders
    key = load_key([root, out])
    jobs = max(1, jobs or os.cpu_count() or 1)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    # What decides a verdict; the timeout does not (a re-run with another timeout keeps the
    # finished students; --force grades them again).
    settings = {"tasks": task_ids, "device": device, "variant": variant}
    if variant:
        # Another course secret draws other hidden inputs: earlier results no longer hold.
        from grader.hidden import variant_token

        settings["variant_key"] = hashlib.sha256(variant_token(variant).encode()).hexdigest()
    (out / "students").mkdir(parents=True, exist_ok=True)
    names = [f.name for f in folders]
    # One display name per folder for the whole run (grades.csv, result.json, feedback, the
    # terminal): escaped, and never the same for two folders.
    shown = display_names([*names, *found.links])
    results: dict[str, dict[str, Any]] = {}
    todo = []
    unsigned = []
    for folder in folders:
        fp = fingerprint(folder, settings)
        previous, forged = (None, False) if force else _previous(out, folder.name, fp, key)
        if forged:
            unsigned.append(shown[folder.name])
        if previous is not None:
            results[folder.name] = previous
        else:
            todo.append((folder, fp))

    def rewrite_csv() -> None:
        write_grades_csv(out, names, errors, key=key, links=found.links, shown=shown)

    errors: dict[str, str] = {} if grader_errors is None else grader_errors
    rewrite_csv()
    for link in found.links:
        print(terminal(f"{shown[link]}: a symbolic link, not followed and not graded (status "
                       f"{LINK_STATUS} in grades.csv); put the student's own folder there to "
                       "grade it", newlines=False), file=sys.stderr)
    if unsigned:
        listed = ", ".join(unsigned[:10]) + (f" and {len(unsigned) - 10} more"
                                              if len(unsigned) > 10 else "")
        print(terminal(f"{len(unsigned)} earlier result.json file(s) not signed by this kit "
                       f"with the key {results_key_file()}: graded again ({listed})",
                       newlines=False), file=sys.stderr)
    skipped = len(folders) - len(todo)
    if skipped:
        print(f"{skipped} student(s) already graded with these files: skipped (--force to "
              "grade again)", file=sys.stderr)
    # In cuda mode the children share one GPU: each allocator may take its share of it.
    options = SandboxOptions(device=device, threads=threads, timeout=timeout,
                             unsafe_no_isolation=unsafe_no_isolation,
                             gpu_memory_fraction=0.9 / jobs if device == "cuda" else None)
    progress = Progress(len(folders), "student", done=skipped)
    csv_lock = threading.Lock()
    ctx = Context(device=device, lang=lang, variant=variant)

    def one(folder: Path, fp: str) -> tuple[str, dict[str, Any], float]:
        start = time.monotonic()
        info: dict[str, Any] = {}
        files, problems = collect_files(folder)
        graded = sandbox.grade(folder, ctx, task_ids, info=info)
        seconds = time.monotonic() - start
        data = to_json_dict(graded)
        ignored, more = ignored_files(folder)
        student = shown[folder.name]
        data.update({"student": student, "fingerprint": fp, "seconds": round(seconds, 1),
                     "files": sorted(files),
                     "unusable_files": {name: render_reason(why, lang) or "—"
                                        for name, why in problems.items()},
                     "ignored_files": ignored,
                     "sandbox": {"children": info.get("children", 0),
                                 "isolation": info.get("isolation", {})}})
        if more:
            data["ignored_files_not_listed"] = more
        target = out / "students" / folder.name
        target.mkdir(parents=True, exist_ok=True)
        write_atomic(target / "feedback.md", feedback_markdown(student, data, lang))
        write_atomic(target / "feedback.html", feedback_html(student, data, lang))
        write_json_atomic(target / "results.json", gradescope_json(graded, seconds, lang))
        # Last, signed: it marks the student done, and only this kit can write one that a
        # re-run or grades.csv will trust.
        data = write_signed(target / "result.json", key, folder.name, data)
        return folder.name, data, seconds

    sandbox = Sandbox(options) if cluster is None else cluster.sandbox(options)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(one, folder, fp): folder.name for folder, fp in todo}
            try:
                for future in as_completed(futures):
                    try:
                        name, data, seconds = future.result()
                    except (GradingCancelled, KeyboardInterrupt):
                        raise
                    except Exception as exc:
                        # A failure of the grader itself (a bug, a full disk): this student
                        # is reported, not given a score, and everyone else is still graded.
                        errors[futures[future]] = safe_text(f"{type(exc).__name__}: {exc}",
                                                            300, newlines=False)
                        with csv_lock:
                            rewrite_csv()
                        progress.item_failed(f"{shown[futures[future]]}: NOT GRADED, grader "
                                             f"error: {errors[futures[future]]}")
                        continue
                    results[name] = data
                    with csv_lock:
                        rewrite_csv()
                    progress.item_done(f"{shown[name]}: {data['score']:g}/"
                                       f"{data['max_score']:g} ({seconds:.1f} s)")
            except KeyboardInterrupt:
                for future in futures:
                    future.cancel()
                sandbox.kill_all()
                raise
    finally:
        progress.close()
        sandbox.close()
    rewrite_csv()
    return results


def _cmd_autograde(args: argparse.Namespace) -> int:
    task_ids = parse_task_ids(args.tasks)
    out = Path(args.out)
    found = student_folders(Path(args.root), out)  # bad input fails here, before torch loads
    load_key([Path(args.root), out])
    from grader.cluster import Cluster, spec_from_args

    spec = spec_from_args(args)
    device = resolve_device(args.device)
    require_data()
    from grader.sandbox.supervisor import IsolationRefused

    errors: dict[str, str] = {}
    try:
        with contextlib.nullcontext() if spec is None else Cluster(spec, args.jobs) as cluster:
            jobs = args.jobs if cluster is None else cluster.slots
            results = autograde(Path(args.root), out, jobs=jobs, force=args.force,
                                timeout=args.timeout, device=device, task_ids=task_ids,
                                lang=args.lang, unsafe_no_isolation=args.unsafe_no_isolation,
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
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="wall seconds allowed per check (default: from each check's cost)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--tasks", action="append", metavar="ID[,ID]", help="grade only these tasks")
    p.add_argument("--lang", choices=("es", "en"), default=None)
    add_unsafe_flag(p)
    add_cluster_flags(p)
    p.set_defaults(func=_cmd_autograde)
