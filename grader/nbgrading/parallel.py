"""``python -m grader nbgrader-autograde COURSE [--jobs N]``: ``nbgrader autograde``, N
students at once, into the course's one gradebook.

``nbgrader autograde`` grades one student after the other (nbgrader issue #174). Here each
student is one ``nbgrader autograde`` process of its own, with the course's own
``nbgrader_config.py`` (so the same pipeline: jailed kernel, sandboxed grade cells), run in
a work folder of its own under ``COURSE/.nbgrader-parallel/``:

    work/source                  -> COURSE/source (a link)
    work/submitted/<student>     -> COURSE/submitted/<student> (a link; the only student)
    work/gradebook.db            the assignment's definition, this student's row and
                                 earlier submission (grader.nbgrading.gbstate), nobody else
    work/autograded/<student>/   what nbgrader writes

The work is one top-level function of plain data, :func:`autograde_student`, so it can be
handed to another executor as it is. This process then records each student, one at a time,
into the course's gradebook through ``nbgrader.api.Gradebook`` (the fields ``nbgrader
autograde`` itself writes) and only then moves the autograded folder into
``COURSE/autograded/<student>/<assignment>/``. A student whose autograded folder exists is
skipped as ``nbgrader autograde`` skips it (unless the submission's timestamp is newer, or
``--force``), so a stopped run is resumed by running it again. A student whose nbgrader
fails or runs out of time is reported with its log; the others' grades are kept, and that
student's earlier grades and autograded folder are left as they were.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.cli_language import helptext
from grader.options import UserError
from grader.textsafe import safe_name, safe_text

#: the work folders, inside the course (the finished folder is moved, not copied, into place)
SCRATCH = ".nbgrader-parallel"
#: seconds nbgrader gets to stop its kernel after an interrupt, before its processes are killed
GRACE = 20.0
#: last characters of a failed student's nbgrader log shown in the report
LOG_TAIL = 3000
#: seconds between two looks at the cancel flag while nbgrader runs (how soon Ctrl-C
#: reaches the running students; nbgrader's end is waited on, not looked for)
CANCEL_POLL = 0.2
#: bytes of a timestamp.txt read (nbgrader writes ~30)
STAMP_BYTES = 200
#: nbgrader processes at once: each takes a block of private uids for its kernels and
#: sandbox children (grader/sandbox/uidblocks.py, 64 a machine), half of them at most
MAX_JOBS = 32


@dataclass(frozen=True)
class StudentJob:
    """Everything one student's ``nbgrader autograde`` needs; plain data (picklable)."""

    course: str           # the course folder: nbgrader runs there, with its nbgrader_config.py
    assignment: str
    student: str          # the name of the student's folder in COURSE/submitted/
    course_id: str
    template: bytes       # a gradebook holding only the assignment's definition
    prior: dict[str, Any] | None  # the student's earlier submission (gbstate.read_state)
    scratch: str          # where the work folder is made
    timeout: float        # wall seconds for the whole student
    roster: dict[str, Any] | None = None  # the student's row (gbstate.read_students)


def _descendants(pid: int) -> list[tuple[int, bytes]]:
    """Every process below ``pid``, each with its start time (kernels start in sessions of
    their own, so nbgrader's process group does not hold them)."""
    from grader.sandbox.cpuwatch import children_by_parent

    children = children_by_parent()
    found, todo = [], [pid]
    while todo:
        for child, fields in children.get(todo.pop(), []):
            if len(fields) > 19:
                found.append((child, fields[19]))
                todo.append(child)
    return found


def _kill_if_same(pid: int, started: bytes) -> None:
    """SIGKILL ``pid`` unless it has ended and the number now belongs to another process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        if stat[stat.rfind(b")") + 2:].split()[19] == started:
            os.kill(pid, signal.SIGKILL)
    except (OSError, IndexError):
        pass


def _stop(proc: subprocess.Popen) -> None:
    """Interrupt nbgrader as Ctrl-C would (it shuts its kernel down and removes its
    half-written output), then kill whatever is left of it and below it."""
    tree = _descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(GRACE)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    if proc.poll() is None:
        tree += _descendants(proc.pid)
        proc.kill()
    for pid, started in tree:
        _kill_if_same(pid, started)
    proc.wait()


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - LOG_TAIL))
            data = fh.read(LOG_TAIL)
    except OSError:
        return ""
    return safe_text(data.decode("utf-8", "replace"), LOG_TAIL)


def _layout_findings(folder: Path) -> dict[str, int]:
    """How many altered nbgrader cells and put-back grade cells the kit's grade-id check
    recorded in the autograded notebooks (grader/nbgrading/gradeids.py)."""
    import json

    from grader.nbgrading.gradeids import LAYOUT_KEY

    found = {"problems": 0, "restored": 0}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            layout = json.loads(path.read_text(encoding="utf-8"))["metadata"].get(LAYOUT_KEY)
        except (OSError, ValueError, KeyError, AttributeError):
            continue
        if isinstance(layout, dict):
            for key in found:
                found[key] += len(layout.get(key) or [])
    return found


def autograde_student(job: StudentJob, cancel: threading.Event | None = None) -> dict[str, Any]:
    """Run ``nbgrader autograde`` for one student in a work folder of its own.

    Returns plain data: ``student``, ``ok``, ``error`` (a sentence, or None), ``log`` (the
    end of nbgrader's output when it failed), ``seconds``, ``state`` (what nbgrader wrote
    in the work gradebook, :func:`grader.nbgrading.gbstate.read_state`), ``timestamp`` (the
    one nbgrader read from the submission's timestamp.txt, None when it set none), ``output``
    (the autograded folder), ``work`` and, when graded, ``layout`` (how many altered and
    put-back cells the grade-id check found).
    Never raises for a student's failure: a crash or a timeout is an outcome like a grade.
    """
    from grader.nbgrading.gbstate import read_state, seed_state, seed_student

    start = time.monotonic()
    course = Path(job.course)
    work = Path(tempfile.mkdtemp(prefix="student-", dir=job.scratch))
    outcome: dict[str, Any] = {"student": job.student, "ok": False, "error": None, "log": "",
                               "seconds": 0.0, "state": None, "timestamp": None,
                               "output": str(work / "autograded" / job.student / job.assignment),
                               "work": str(work)}
    try:
        (work / "source").symlink_to(course / "source")
        (work / "submitted").mkdir()
        (work / "submitted" / job.student).symlink_to(course / "submitted" / job.student)
        db = work / "gradebook.db"
        db.write_bytes(job.template)
        url = f"sqlite:///{db}"
        if job.roster is not None:
            seed_student(url, job.student, job.roster, job.course_id)
        if job.prior is not None:
            seed_state(url, job.assignment, job.student, job.prior, job.course_id)
        # Its own block of private uids is taken by the nbgrader process itself, with a lock
        # (grader/sandbox/uidblocks.py), wherever it runs.
        env = dict(os.environ)
        # The course's config sets the root and the gradebook; the command line wins over it.
        cmd = [sys.executable, "-m", "nbgrader", "autograde", job.assignment,
               f"--CourseDirectory.root={work}", f"--CourseDirectory.db_url={url}"]
        log = work / "nbgrader.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(cmd, cwd=course, env=env, stdin=subprocess.DEVNULL,
                                    stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        deadline = start + job.timeout
        while proc.poll() is None:
            if cancel is not None and cancel.is_set():
                _stop(proc)
                outcome["error"] = "interrupted"
                return outcome
            if time.monotonic() > deadline:
                _stop(proc)
                outcome["error"] = f"took more than {job.timeout:g} s (--timeout); stopped"
                outcome["log"] = _tail(log)
                return outcome
            try:
                proc.wait(CANCEL_POLL)
            except subprocess.TimeoutExpired:
                pass
        if proc.returncode != 0:
            outcome["error"] = f"nbgrader autograde exited with status {proc.returncode}"
            outcome["log"] = _tail(log)
            return outcome
        if not Path(outcome["output"]).is_dir():
            # e.g. a config that sets the root in a way the command line does not override
            outcome["error"] = ("nbgrader wrote no autograded folder in the work folder; "
                                "is CourseDirectory.root set somewhere other than "
                                "nbgrader_config.py?")
            outcome["log"] = _tail(log)
            return outcome
        outcome["state"] = read_state(url, job.assignment, job.student, job.course_id)
        outcome["ok"] = outcome["state"] is not None
        if outcome["ok"] and outcome["state"]["timestamp"] != (job.prior or {}).get("timestamp"):
            # what nbgrader read from the submission's timestamp.txt (the only thing that
            # changes the timestamp there): the course's gradebook gets it the same way
            outcome["timestamp"] = outcome["state"]["timestamp"]
        if not outcome["ok"]:
            outcome["error"] = "nbgrader recorded no submission for the student"
        else:
            outcome["layout"] = _layout_findings(Path(outcome["output"]))
        return outcome
    except Exception as exc:  # the outcome of one student, never the end of the class
        outcome["error"] = f"{type(exc).__name__}: {exc}"
        return outcome
    finally:
        outcome["seconds"] = round(time.monotonic() - start, 2)


# ---------------------------------------------------------------------- the course side


@dataclass
class Course:
    """A course folder checked for what ``nbgrader autograde`` needs."""

    root: Path
    assignment: str
    db_url: str
    course_id: str
    students: list[str]


def _course_config(root: Path) -> Any:
    """The course's ``nbgrader_config.py``, loaded as nbgrader loads it (it may set
    variables for the kernels: they then reach every nbgrader started from here too)."""
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except ConfigFileNotFound:
        raise UserError(f"{root}: no nbgrader_config.py here. Give the nbgrader course "
                        "folder (the one you run `nbgrader autograde` in).") from None
    except Exception as exc:  # the instructor's file: say where it broke, not a traceback
        raise UserError(f"{root}/nbgrader_config.py could not be loaded: "
                        f"{type(exc).__name__}: {exc}") from None


def open_course(path: str, assignment: str | None) -> Course:
    """Check the course folder, its gradebook and the assignment; list the submissions."""
    root = Path(path)
    if not root.is_dir():
        raise UserError(f"{path}: no such folder. Give the nbgrader course folder (the one "
                        "holding nbgrader_config.py, source/ and submitted/).")
    root = root.resolve()
    config = _course_config(root)
    cd = config.get("CourseDirectory", {})
    default_url = f"sqlite:///{root / 'gradebook.db'}"
    db_url = str(cd.get("db_url", default_url))
    course_id = str(cd.get("course_id", ""))  # nbgrader's default: opens without adding one
    if "root" in cd and Path(str(cd["root"])).resolve() != root:
        raise UserError(f"{root}/nbgrader_config.py sets CourseDirectory.root to "
                        f"{cd['root']}: run this on that folder.")
    if not db_url.startswith("sqlite:///"):
        raise UserError(f"the gradebook is {db_url!r}: nbgrader-autograde supports only a "
                        "SQLite gradebook (run `nbgrader autograde` instead).")
    db_file = root / db_url[len("sqlite:///"):]  # a relative path is from the course folder
    db_url = f"sqlite:///{db_file}"
    if not db_file.is_file():
        raise UserError(f"{db_file}: no gradebook yet. Run `nbgrader generate_assignment "
                        "ASSIGNMENT` in the course folder first.")
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        course_of = {a.name: a.course_id for a in gb.assignments}
    known = sorted(course_of)
    if assignment is None:
        if len(known) != 1:
            raise UserError(f"the gradebook holds {len(known)} assignments "
                            f"({', '.join(known) or 'none'}): say which with --assignment.")
        assignment = known[0]
    elif assignment not in known:
        raise UserError(f"no assignment {assignment!r} in the gradebook (it holds: "
                        f"{', '.join(known) or 'none'}). Run `nbgrader generate_assignment "
                        f"{assignment}` first, or give another --assignment.")
    submitted = root / "submitted"
    students = sorted(p.name for p in submitted.glob("*") if not p.name.startswith(".")
                      and (p / assignment).is_dir()) if submitted.is_dir() else []
    if not students:
        raise UserError(f"{submitted}: no submissions of {assignment} (expected "
                        f"submitted/<student>/{assignment}/).")
    # The course id the assignment was made with: opening the gradebook with another one
    # would add that course to it.
    return Course(root, assignment, db_url, course_of[assignment], students)


def needs_grading(course: Course, student: str, force: bool) -> bool:
    """What ``nbgrader autograde`` decides for a student: grade when there is no autograded
    folder yet, with ``--force``, or when the submission's timestamp is newer."""
    from nbgrader.utils import parse_utc

    dest = course.root / "autograded" / student / course.assignment
    if force or not dest.exists():
        return True

    def stamp(folder: Path) -> Any:
        # The student's file: only a regular file, only its first bytes (a link to a FIFO
        # or to /dev/zero must not hang or fill this process; the student's own nbgrader,
        # which reads it whole, is bounded by --timeout).
        path = folder / "timestamp.txt"
        try:
            if not path.is_file():
                return None
            with path.open("rb") as fh:
                text = fh.read(STAMP_BYTES).decode("utf-8").strip()
            return parse_utc(text) if text else None
        except (OSError, ValueError, OverflowError):
            return None

    new = stamp(course.root / "submitted" / student / course.assignment)
    old = stamp(dest)
    return new is not None and old is not None and new > old


def record(course: Course, outcome: dict[str, Any]) -> None:
    """Write a finished student into the course: the gradebook first, then the folder."""
    from grader.nbgrading.gbstate import record_state

    record_state(course.db_url, course.assignment, outcome["student"], outcome["state"],
                 outcome["timestamp"], course.course_id)
    dest = course.root / "autograded" / outcome["student"] / course.assignment
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix="replaced-", dir=outcome["work"]))
        os.rename(dest, old / "old")
    os.rename(outcome["output"], dest)


def _template(course: Course, scratch: Path) -> bytes:
    from grader.nbgrading.gbstate import assignment_template

    folder = Path(tempfile.mkdtemp(prefix="template-", dir=scratch))
    try:
        db = folder / "gradebook.db"
        assignment_template(course.db_url, f"sqlite:///{db}", course.assignment,
                            course.course_id)
        return db.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def autograde_course(course: Course, jobs: int, force: bool = False, timeout: float = 3600,
                     say: Any = print) -> dict[str, dict[str, Any]]:
    """Grade every student of ``course`` that needs it, ``jobs`` at once; returns each
    graded student's outcome (students skipped are not in it). Only this thread touches
    the course's gradebook: it reads the students' earlier submissions, then records
    each student as it finishes."""
    from grader.nbgrading.gbstate import read_states, read_students

    todo = [s for s in course.students if needs_grading(course, s, force)]
    skipped = len(course.students) - len(todo)
    say(f"{course.assignment}: {len(todo)} to grade, {skipped} already autograded "
        f"(--force grades them again), {jobs} at once")
    if not todo:
        return {}
    scratch = course.root / SCRATCH
    scratch.mkdir(exist_ok=True)
    with _only_run(scratch):
        template = _template(course, scratch)
        prior = read_states(course.db_url, course.assignment, todo, course.course_id)
        roster = read_students(course.db_url, todo, course.course_id)
        job_of = {s: StudentJob(str(course.root), course.assignment, s, course.course_id,
                                template, prior[s], str(scratch), timeout, roster=roster[s])
                  for s in todo}
        outcomes = _grade_all(course, job_of, jobs, scratch, say)
    if not any(p.name != "lock" for p in scratch.iterdir()):
        shutil.rmtree(scratch, ignore_errors=True)  # nothing left to look at (no failed log)
    return outcomes


def _grade_all(course: Course, job_of: dict[str, StudentJob], jobs: int, scratch: Path,
               say: Any) -> dict[str, dict[str, Any]]:
    cancel = threading.Event()

    def run(job: StudentJob) -> dict[str, Any]:
        return autograde_student(job, cancel)

    outcomes: dict[str, dict[str, Any]] = {}
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="nbgrader")
    try:
        futures = [pool.submit(run, job) for job in job_of.values()]
        for done, future in enumerate(as_completed(futures), 1):
            outcome = future.result()
            student = safe_name(outcome["student"])
            if outcome["ok"]:
                try:
                    record(course, outcome)
                except Exception as exc:  # e.g. the gradebook locked by another program
                    outcome["ok"] = False
                    outcome["error"] = f"could not record it: {type(exc).__name__}: {exc}"
            if outcome["ok"]:
                layout = outcome.get("layout") or {}
                note = ""
                if layout.get("problems"):
                    note += (f"; {layout['problems']} altered nbgrader cell(s): every grade "
                             "cell scores 0 and says why")
                if layout.get("restored"):
                    note += f"; {layout['restored']} deleted grade cell(s) put back and graded"
                say(f"[{done}/{len(futures)}] {student}: graded in {outcome['seconds']:.1f} s"
                    + note)
                (scratch / "logs" / f"{outcome['student']}.log").unlink(missing_ok=True)
            else:
                say(f"[{done}/{len(futures)}] {student}: FAILED: {outcome['error']}")
                _keep_log(scratch, outcome)
            shutil.rmtree(outcome["work"], ignore_errors=True)
            outcomes[outcome["student"]] = outcome
    except KeyboardInterrupt:
        cancel.set()  # every running nbgrader is interrupted; what is recorded stays
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for leftover in scratch.glob("student-*"):  # students stopped by an interrupt
            shutil.rmtree(leftover, ignore_errors=True)
    return outcomes


@contextmanager
def _only_run(scratch: Path) -> Iterator[None]:
    """One run per course at a time: two would record into one gradebook at once and move
    folders under each other."""
    import fcntl

    with open(scratch / "lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another nbgrader-autograde is running on this course ({scratch}"
                            "/lock is held); wait for it to end.") from None
        yield


def _keep_log(scratch: Path, outcome: dict[str, Any]) -> None:
    """A failed student's nbgrader log is kept in SCRATCH/logs/."""
    log = Path(outcome["work"]) / "nbgrader.log"
    logs = scratch / "logs"
    logs.mkdir(exist_ok=True)
    if log.is_file():
        target = logs / f"{outcome['student']}.log"
        shutil.copyfile(log, target)
        outcome["log_file"] = str(target)


def _cmd(args: argparse.Namespace) -> int:
    if not 1 <= args.jobs <= MAX_JOBS:
        raise UserError(f"--jobs {args.jobs}: give 1 to {MAX_JOBS} (each nbgrader at once "
                        "gets its own range of uids for its kernel; there are 32).")
    if args.timeout <= 0:
        raise UserError(f"--timeout {args.timeout:g}: give a number of seconds above 0.")
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        raise UserError("nbgrader is not installed here: `pip install -e \".[notebook]\"` "
                        "(or `./kit setup`).") from None
    course = open_course(args.course, args.assignment)
    start = time.monotonic()
    outcomes = autograde_course(course, args.jobs, force=args.force, timeout=args.timeout)
    failed = [o for o in outcomes.values() if not o["ok"]]
    print(f"{len(outcomes) - len(failed)} graded, {len(failed)} failed, "
          f"{time.monotonic() - start:.1f} s")
    for outcome in failed:
        print(f"\n--- {safe_name(outcome['student'])}: {outcome['error']}", file=sys.stderr)
        if outcome.get("log"):
            print(outcome["log"], file=sys.stderr)
        if outcome.get("log_file"):
            print(f"(whole log: {safe_name(outcome['log_file'])})", file=sys.stderr)
    return 1 if failed else 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("nbgrader-autograde", help=helptext("cli_nbgrader"),
                       description=helptext("cli_nbgrader"))
    p.add_argument("course", help=helptext("cli_nbgrader_course"))
    p.add_argument("--assignment", default=None, help=helptext("cli_nbgrader_assignment"))
    p.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, MAX_JOBS),
                   help=helptext("cli_nbgrader_jobs"))
    p.add_argument("--force", action="store_true", help=helptext("cli_nbgrader_force"))
    p.add_argument("--timeout", type=float, default=3600, metavar="S",
                   help=helptext("cli_nbgrader_timeout"))
    p.set_defaults(func=_cmd)
