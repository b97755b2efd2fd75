"""Where the grades come from: an ``autograde`` results folder or an nbgrader course.

:func:`open_source` tells them apart by what the folder holds: an nbgrader course has its
``nbgrader_config.py``; a results folder has ``students/`` (``autograde --out``). Either gives
a :class:`Grades`: the assignments (name, points possible), each student's grade per
assignment with every task's score and first message, and the students that could not be
read (:class:`Left`), each with why -- nothing is left out without being listed.

- Results folder: only a ``result.json`` this kit signed for that very folder counts
  (:func:`grader.outputs.signing.verify` with the grading account's key); a folder entry that
  is a symbolic link is reported and never followed, as ``autograde`` does.
- nbgrader course: read through ``nbgrader.api.Gradebook`` (never SQL); each grade cell
  ``prueba_<task>`` is a task; the first message of a task comes from the grade cell's output in
  ``autograded/<student>/<assignment>/``, as the kit's preprocessor wrote it. A submission
  that still needs manual grading is reported, not exported with a partial total.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.i18n import render_reason, t
from grader.options import UserError
from grader.tasks import TASK_BY_ID, TASKS
from grader.textsafe import display_names, safe_name, safe_text

#: a result.json or an autograded notebook bigger than this is not read
MAX_RESULT_BYTES = 8 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
#: characters of a task's first message kept for feedback
MESSAGE_CHARS = 300
#: the grade ids of the course notebook's grade cells (course/source/): ``prueba_<task id>``
GRADE_ID_PREFIX = "prueba_"

#: why a student of the source has no grade, in the order the summary lists them
LEFT_REASONS = ("unverified", "not_graded", "manual", "link")


@dataclass
class Assignment:
    name: str
    points: float


@dataclass
class TaskLine:
    """One task of one graded submission."""

    task: str
    score: float
    max_score: float
    message: str = ""


@dataclass
class Grade:
    score: float
    max_score: float
    tasks: list[TaskLine] = field(default_factory=list)


@dataclass
class Grades:
    """What a source holds. ``grades``: student -> assignment name -> :class:`Grade`;
    ``shown``: how each student is displayed (unique, escaped); ``left``: reason (one of
    :data:`LEFT_REASONS`) -> the students with no usable grade for it."""

    kind: str  # "results" or "nbgrader"
    assignments: list[Assignment]
    grades: dict[str, dict[str, Grade]]
    shown: dict[str, str]
    left: dict[str, list[str]] = field(default_factory=dict)


def open_source(path: Path, assignments: list[str] | None, lang: str | None) -> Grades:
    """The grades of ``path``: an nbgrader course (it holds ``nbgrader_config.py``) or an
    ``autograde`` results folder (it holds ``students/``)."""
    if not path.is_dir():
        raise UserError(t("lms_source_missing", lang, path=safe_name(str(path))))
    if (path / "nbgrader_config.py").is_file():
        return course_grades(path, assignments, lang)
    if (path / "students").is_dir():
        if assignments:
            raise UserError(t("lms_assignment_results", lang))
        return results_grades(path, lang)
    raise UserError(t("lms_source_unknown", lang, path=safe_name(str(path))))


# ------------------------------------------------------------------ results folder


def _read_capped(path: Path, cap: int) -> bytes | None:
    """The file's bytes, if it is a regular file (never through a link) under ``cap``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        data = fh.read(cap + 1)
    return data if len(data) <= cap else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def first_message(task: dict[str, Any], lang: str | None) -> str:
    """The message of a task's first check that did not pass, in ``lang``: rendered again from
    its key and values (``result.json`` keeps both, docs/result-json.md), or as written."""
    from grader.messages import MESSAGES

    for check in (task.get("checks") or {}).values():
        if not isinstance(check, dict) or check.get("status") == "passed":
            continue
        key, values = check.get("key"), check.get("values")
        text = check.get("message") if isinstance(check.get("message"), str) else ""
        if isinstance(key, str) and key in MESSAGES and isinstance(values, dict):
            # what grader.scoring.render_message does, without loading torch for a CSV
            values = dict(values)
            if isinstance(values.get("reason"), dict):
                values["reason"] = render_reason(values["reason"], lang) or "—"
            elif key.startswith("status_"):
                values.setdefault("reason", "—")
            text = t(key, lang, **values)
        return safe_text(text, MESSAGE_CHARS, newlines=False)
    message = task.get("message")
    line = message.splitlines()[0] if isinstance(message, str) and message.strip() else ""
    return safe_text(line, MESSAGE_CHARS, newlines=False)


def _result_grade(data: dict[str, Any], lang: str | None) -> Grade | None:
    """The grade a verified ``result.json`` holds, or None if it lacks a field."""
    score, max_score = _number(data.get("score")), _number(data.get("max_score"))
    tasks = data.get("tasks")
    if score is None or max_score is None or not isinstance(tasks, dict):
        return None
    lines = []
    for task in TASKS:
        entry = tasks.get(task.id)
        if not isinstance(entry, dict):
            return None
        got, most = _number(entry.get("score")), _number(entry.get("max_score"))
        if got is None or most is None:
            return None
        if entry.get("status") == "not_graded":
            continue
        lines.append(TaskLine(task.id, got, most, first_message(entry, lang)))
    return Grade(score, max_score, lines)


def results_grades(root: Path, lang: str | None) -> Grades:
    """Every student of an ``autograde`` results folder whose ``result.json`` checks out."""
    from grader.outputs.signing import load_key, verify

    key = load_key([root])
    students = root / "students"
    try:
        with os.scandir(students) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        raise UserError(t("lms_source_unreadable", lang, path=safe_name(str(students)),
                          reason=exc.strerror or type(exc).__name__)) from None
    names = [e.name for e in entries if not e.name.startswith(".")]
    shown = display_names(names)
    grades: dict[str, dict[str, Grade]] = {}
    left: dict[str, list[str]] = {reason: [] for reason in LEFT_REASONS}
    points: dict[float, list[str]] = {}
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            left["link"].append(entry.name)
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        raw = _read_capped(students / entry.name / "result.json", MAX_RESULT_BYTES)
        if raw is None:
            # no result yet (pending, or a grader error autograde reported)
            left["not_graded"].append(entry.name)
            continue
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        grade = _result_grade(data, lang) if verify(key, entry.name, data) else None
        if grade is None:
            left["unverified"].append(entry.name)
            continue
        grades[entry.name] = {"": grade}
        points.setdefault(grade.max_score, []).append(entry.name)
    if len(points) > 1:
        # Graded with different --tasks: one "points possible" cannot hold for all of them.
        parts = [f"{value:g}: {', '.join(shown[n] for n in who[:5])}"
                 + (f" (+{len(who) - 5})" if len(who) > 5 else "")
                 for value, who in sorted(points.items())]
        raise UserError(t("lms_mixed_max_score", lang, parts="; ".join(parts)))
    total = next(iter(points)) if points else float(sum(task.points for task in TASKS))
    return Grades("results", [Assignment("", total)], grades, shown,
                  {k: v for k, v in left.items() if v})


# ------------------------------------------------------------------ nbgrader course


def _course_db(root: Path, lang: str | None) -> tuple[str, str]:
    """The gradebook URL and course id that the course's ``nbgrader_config.py`` sets (the
    instructor's own file, loaded as nbgrader loads it)."""
    from traitlets.config.loader import PyFileConfigLoader

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except Exception as exc:  # the instructor's file: where it broke, not a traceback
        raise UserError(t("lms_course_config", lang, path=safe_name(str(root)),
                          reason=safe_text(f"{type(exc).__name__}: {exc}", 300,
                                           newlines=False))) from None
    cd = config.get("CourseDirectory", {})
    url = str(cd.get("db_url", f"sqlite:///{root / 'gradebook.db'}"))
    if url.startswith("sqlite:///"):
        db = root / url[len("sqlite:///"):]  # a relative path is from the course folder
        if not db.is_file():
            raise UserError(t("lms_course_no_gradebook", lang, path=safe_name(str(db))))
        url = f"sqlite:///{db}"
    return url, str(cd.get("course_id", ""))


def grade_cell_messages(notebook: Path) -> dict[str, str]:
    """Task id -> the first check message in its grade cell's output, from an autograded
    notebook (``{}`` when it is missing, too big or not a notebook). The kit's preprocessor
    writes a header line, then ``✘ check (0/5)`` with the message indented below it."""
    raw = _read_capped(notebook, MAX_NOTEBOOK_BYTES)
    try:
        nb = json.loads(raw.decode("utf-8")) if raw is not None else None
    except (UnicodeDecodeError, ValueError):
        nb = None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    found: dict[str, str] = {}
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if not (isinstance(grade_id, str) and grade_id.startswith(GRADE_ID_PREFIX)):
            continue
        task = grade_id[len(GRADE_ID_PREFIX):]
        if task not in TASK_BY_ID or task in found:
            continue
        text = "".join(
            "".join(o["text"]) if isinstance(o.get("text"), list) else str(o.get("text", ""))
            for o in cell.get("outputs", []) if isinstance(o, dict)
            and o.get("output_type") == "stream")
        for line in text.splitlines():
            if line.startswith("      ") and line.strip():
                found[task] = safe_text(line.strip(), MESSAGE_CHARS, newlines=False)
                break
    return found


def course_grades(root: Path, wanted: list[str] | None, lang: str | None) -> Grades:
    """Every submission of the course's gradebook (of the ``wanted`` assignments, or all)."""
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise UserError(t("lms_no_nbgrader", lang)) from None
    url, course_id = _course_db(root, lang)
    with Gradebook(url, course_id) as gb:
        known = {a.name: a for a in gb.assignments}
        if wanted:
            unknown = [w for w in wanted if w not in known]
            if unknown:
                raise UserError(t("lms_course_no_assignment", lang,
                                  names=", ".join(safe_name(u) for u in unknown),
                                  known=", ".join(safe_name(k) for k in sorted(known)) or "—"))
            names = list(dict.fromkeys(wanted))
        else:
            names = sorted(known)
        if not names:
            raise UserError(t("lms_course_empty", lang, path=safe_name(str(root))))
        assignments = [Assignment(n, float(known[n].max_score)) for n in names]
        students = sorted(s.id for s in gb.students)
        grades: dict[str, dict[str, Grade]] = {}
        left: dict[str, list[str]] = {reason: [] for reason in LEFT_REASONS}
        for student in students:
            for name in names:
                try:
                    sub = gb.find_submission(name, student)
                except MissingEntry:
                    continue
                if sub.needs_manual_grade:
                    left["manual"].append(student)
                    continue
                lines = []
                for nb in sub.notebooks:
                    messages = grade_cell_messages(
                        root / "autograded" / student / name / f"{nb.name}.ipynb")
                    for grade in nb.grades:
                        task = grade.name[len(GRADE_ID_PREFIX):]
                        if grade.name.startswith(GRADE_ID_PREFIX) and task in TASK_BY_ID:
                            lines.append(TaskLine(task, float(grade.score or 0),
                                                  float(grade.max_score or 0),
                                                  messages.get(task, "")))
                order = {task.id: i for i, task in enumerate(TASKS)}
                lines.sort(key=lambda line: order[line.task])
                grades.setdefault(student, {})[name] = Grade(float(sub.score or 0),
                                                             float(sub.max_score or 0), lines)
    left["manual"] = sorted(set(left["manual"]))
    return Grades("nbgrader", assignments, grades, display_names(students),
                  {k: v for k, v in left.items() if v})
