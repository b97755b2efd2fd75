"""Where a class report's results come from, and which of them count.

Two sources hold one result JSON (docs/result-json.md) per student:

- an ``autograde`` results folder: ``RESULTS/students/<folder>/result.json``, signed for the
  folder's name; ``RESULTS/grades.csv`` also lists entries with no result (``pending``,
  ``grader_error``, ``symlink_not_graded``);
- an nbgrader course: ``COURSE/autograded/<student>/<assignment>/`` + :data:`NBGRADER_RESULT_NAME`,
  stored beside the autograded notebook by the sandboxed-grades preprocessor, signed for
  :func:`nbgrader_signed_name` (so a file of ``autograde`` never passes for one of nbgrader,
  nor one assignment's for another's).

Only a result signed with the grading account's key (:func:`grader.outputs.signing.verify`)
counts; every other entry is listed as not counted, with why (:class:`NotCounted`). Nothing
here follows a symbolic link or blocks on a special file a student may have planted.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.options import UserError
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import csv_cell
from grader.outputs.signing import signed_json, verify
from grader.textsafe import display_names, safe_text

#: the file, in ``COURSE/autograded/<student>/<assignment>/``, that holds the student's result
#: JSON for the nbgrader path (same schema as ``result.json``; one notebook per assignment,
#: as in the kit's course)
NBGRADER_RESULT_NAME = "practico_result.json"

#: a result file larger than this is not one the kit wrote (a whole result is ~10-40 KiB)
MAX_RESULT_BYTES = 16 * 1024 * 1024

#: longest name kept from a result's ``student`` (a spelled-out display name can be long)
MAX_SHOWN_NAME = 4096

#: why an entry does not count (each has a ``cr_nc_<reason>`` message)
NOT_COUNTED_REASONS = ("unsigned", "missing", "pending", "grader_error", "symlink_not_graded",
                       "malformed")


@dataclass(frozen=True)
class Counted:
    """A student whose result counts: ``name`` as every output shows it, ``data`` the
    verified result JSON."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class NotCounted:
    """An entry with no result that counts, and why (one of :data:`NOT_COUNTED_REASONS`)."""

    name: str
    reason: str


@dataclass
class Source:
    """What a report is made from."""

    kind: str  # "autograde" or "nbgrader"
    counted: list[Counted]
    not_counted: list[NotCounted]
    assignment: str | None = None


def nbgrader_signed_name(student: str, assignment: str) -> str:
    """The name a student's nbgrader result is signed for (the ``folder`` of
    :func:`grader.outputs.signing.sign`). No folder name holds a ``/``: it never equals the
    name an ``autograde`` result is signed for."""
    return f"nbgrader/{assignment}/{student}"


def nbgrader_result_bytes(student: str, assignment: str, data: dict[str, Any], key: bytes
                          ) -> bytes:
    """The file :data:`NBGRADER_RESULT_NAME` of a student: ``data`` (a result JSON:
    ``grader.outputs.results.to_json_dict`` of the task results that scored the grade cells)
    signed for :func:`nbgrader_signed_name`. The preprocessor hands these bytes to nbgrader's
    writer (``resources["outputs"][NBGRADER_RESULT_NAME]``), which puts them beside the
    autograded notebook, wherever that is being built."""
    return signed_json(key, nbgrader_signed_name(student, assignment), dict(data))[1].encode(
        "utf-8")


def write_nbgrader_result(folder: Path, student: str, assignment: str, data: dict[str, Any],
                          key: bytes) -> None:
    """Store :func:`nbgrader_result_bytes` in ``folder`` (the student's
    ``autograded/<student>/<assignment>/``), atomically."""
    write_atomic(folder / NBGRADER_RESULT_NAME, nbgrader_result_bytes(student, assignment, data,
                                                                      key))


def read_small_file(path: Path) -> bytes | None:
    """The bytes of ``path``, or None: not for a link, a FIFO, a device or a file over
    :data:`MAX_RESULT_BYTES` (opened without following links and without blocking, then
    checked to be a regular file): a student may have planted any of them."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RESULT_BYTES:
                return None
            return fh.read(MAX_RESULT_BYTES + 1)
        except OSError:
            return None


def read_json_file(path: Path) -> Any:
    """The JSON in ``path`` (:func:`read_small_file`), or None."""
    raw = read_small_file(path)
    try:
        return None if raw is None else json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _entries(folder: Path) -> tuple[list[str], list[str]]:
    """(subfolder names, link names) of ``folder``, sorted, dot entries left out."""
    folders, links = [], []
    try:
        with os.scandir(folder) as scan:
            for entry in scan:
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    links.append(entry.name)
                elif entry.is_dir(follow_symlinks=False):
                    folders.append(entry.name)
    except OSError as exc:
        raise UserError(f"{folder}: cannot read this folder "
                        f"({exc.strerror or type(exc).__name__}).") from None
    return sorted(folders), sorted(links)


def _judge(path: Path, signed_as: str, key: bytes) -> tuple[dict[str, Any] | None, str]:
    """The verified result at ``path`` (or None) and, when None, why it does not count."""
    if not path.exists() and not path.is_symlink():
        return None, "missing"
    data = read_json_file(path)
    if not verify(key, signed_as, data):
        return None, "unsigned"
    return data, ""


def read_results_folder(results: Path, key: bytes) -> Source:
    """Every student of an ``autograde`` results folder, counted or not."""
    folders, links = _entries(results / "students")
    shown = display_names([*folders, *links])
    counted: list[Counted] = []
    not_counted: list[NotCounted] = []
    for folder in folders:
        data, why = _judge(results / "students" / folder / "result.json", folder, key)
        if data is None:
            not_counted.append(NotCounted(shown[folder], why))
            continue
        # the name grades.csv, feedback and the terminal showed (signed with the result; made
        # safe again all the same: a kit of another version may have signed it)
        name = data.get("student")
        counted.append(Counted(safe_text(name, MAX_SHOWN_NAME, newlines=False)
                               if isinstance(name, str) and name else shown[folder], data))
    # nothing a run wrote under students/ is a link: one there was put by someone else
    not_counted += [NotCounted(shown[link], "symlink_not_graded") for link in links]
    not_counted += _grades_csv_only(results, {e.name for e in [*counted, *not_counted]})
    return Source("autograde", counted, not_counted)


def _grades_csv_only(results: Path, known: set[str]) -> list[NotCounted]:
    """Rows of ``grades.csv`` with no result folder: students still pending, those the grader
    failed on, the class folder's symbolic links. Their names are shown as the CSV holds them
    (its cells are written for a spreadsheet, :func:`csv_cell`)."""
    raw = read_small_file(results / "grades.csv")
    if raw is None:
        return []
    known_cells = {csv_cell(name) for name in known}
    found = []
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8", "replace"), newline="")):
        status, name = row.get("status"), row.get("student")
        if (status in ("pending", "grader_error", "symlink_not_graded")
                and isinstance(name, str) and name not in known_cells):
            found.append(NotCounted(name, status))
    return found


def course_assignments(course: Path) -> list[str]:
    """The assignments of which some student of ``course`` has a stored result."""
    students, _ = _entries(course / "autograded")
    found = set()
    for student in students:
        for assignment in _entries(course / "autograded" / student)[0]:
            if (course / "autograded" / student / assignment / NBGRADER_RESULT_NAME).is_file():
                found.add(assignment)
    return sorted(found)


def read_course(course: Path, assignment: str | None, key: bytes) -> Source:
    """Every student of an nbgrader course's ``autograded/`` folder for ``assignment`` (when
    None: the one assignment with stored results; a clear error if none or several)."""
    if assignment is not None and (assignment in ("", ".", "..") or "/" in assignment
                                   or "\0" in assignment):
        raise UserError(f"--assignment {assignment!r}: not an assignment name (a folder "
                        "name under autograded/<student>/).")
    if assignment is None:
        found = course_assignments(course)
        if not found:
            raise UserError(f"{course}/autograded holds no {NBGRADER_RESULT_NAME} of any "
                            "student: run `nbgrader autograde` with the kit's preprocessor "
                            "first (course/nbgrader_config.py).")
        if len(found) > 1:
            raise UserError(f"{course} has results of several assignments "
                            f"({', '.join(found)}): choose one with --assignment NAME.")
        assignment = found[0]
    students, links = _entries(course / "autograded")
    shown = display_names([*students, *links])
    counted: list[Counted] = []
    not_counted: list[NotCounted] = []
    for student in students:
        folder = course / "autograded" / student / assignment
        if not folder.is_dir() or folder.is_symlink():
            continue  # not autograded for this assignment (never submitted it)
        data, why = _judge(folder / NBGRADER_RESULT_NAME,
                           nbgrader_signed_name(student, assignment), key)
        if data is None:
            not_counted.append(NotCounted(shown[student], why))
        else:
            counted.append(Counted(shown[student], data))
    not_counted += [NotCounted(shown[link], "symlink_not_graded") for link in links]
    return Source("nbgrader", counted, not_counted, assignment)
