"""One student's part of an nbgrader gradebook as plain data, read and written through
``nbgrader.api.Gradebook`` only (never SQL), for ``nbgrader-autograde --jobs N``.

Each parallel ``nbgrader autograde`` runs against a gradebook of its own (SQLite has one
writer at a time, and two nbgrader processes writing one file fail with "database is
locked"). That gradebook is made here:

- :func:`assignment_template` copies the assignment's definition (notebooks, grade, solution,
  task and source cells, due date) from the course's gradebook into a new, empty one;
- :func:`read_state` / :func:`seed_state` carry the student's earlier submission, if any
  (timestamp, extension, manual scores, earlier auto scores), into it, so that nbgrader sees
  what a serial run would see: a manual score makes it mark the grade for review, an
  extension changes the late penalty;
- after nbgrader ran, :func:`read_state` reads what it wrote, and :func:`record_state`
  writes the fields ``nbgrader autograde`` owns into the course's gradebook. Manual scores,
  manual comments, flags and extensions are never written back: a grader may be editing them
  in formgrader while autograde runs.

Every value is a plain Python object (str, float, bool, None, datetime, timedelta), so the
state crosses a process (or a Dask worker) boundary by pickling.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: per student: the roster fields of nbgrader's ``Student``
STUDENT_FIELDS = ("first_name", "last_name", "email", "lms_user_id")
#: per grade: the fields of nbgrader's ``Grade`` that a submission carries
GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
#: per comment: the fields of nbgrader's ``Comment``
COMMENT_FIELDS = ("auto_comment", "manual_comment")
#: what ``nbgrader autograde`` writes (SaveAutoGrades, AssignLatePenalties and the zero
#: scores of a notebook missing from the submission): the only fields written back
AUTOGRADE_GRADE_FIELDS = ("auto_score", "needs_manual_grade")
AUTOGRADE_COMMENT_FIELDS = ("auto_comment",)


@contextmanager
def _gradebook(url: str, course_id: str) -> Iterator[Any]:
    """``nbgrader.api.Gradebook``, without the SQLAlchemy warnings its own
    ``add_submission`` prints (the same ones ``nbgrader autograde`` logs)."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    # A new gradebook is stamped by running the `alembic` command of nbgrader's environment
    # (what course/nbgrader_config.py puts on PATH for nbgrader itself).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(url, course_id) as gb:
            yield gb


def assignment_template(src_url: str, dst_url: str, assignment: str, course_id: str) -> None:
    """Create the gradebook ``dst_url`` holding only ``assignment``'s definition, copied from
    ``src_url``: what ``nbgrader generate_assignment`` wrote there, no student."""
    with _gradebook(src_url, course_id) as src, _gradebook(dst_url, course_id) as dst:
        a = src.find_assignment(assignment)
        dst.add_assignment(assignment, duedate=a.duedate)
        for nb in a.notebooks:
            dst.add_notebook(nb.name, assignment, kernelspec=nb.kernelspec)
            for cell in nb.grade_cells:
                dst.add_grade_cell(cell.name, nb.name, assignment, max_score=cell.max_score,
                                   cell_type=cell.cell_type)
            for cell in nb.solution_cells:
                dst.add_solution_cell(cell.name, nb.name, assignment)
            for cell in nb.task_cells:
                dst.add_task_cell(cell.name, nb.name, assignment, max_score=cell.max_score,
                                  cell_type=cell.cell_type)
            for cell in nb.source_cells:
                dst.add_source_cell(cell.name, nb.name, assignment, cell_type=cell.cell_type,
                                    locked=cell.locked, source=cell.source,
                                    checksum=cell.checksum)


def read_state(url: str, assignment: str, student: str, course_id: str) -> dict[str, Any] | None:
    """The student's submission of ``assignment`` in the gradebook at ``url``, as plain
    data; None when there is none."""
    return read_states(url, assignment, [student], course_id)[student]


def read_states(url: str, assignment: str, students: list[str],
                course_id: str) -> dict[str, dict[str, Any] | None]:
    """:func:`read_state` of many students, in one opening of the gradebook."""
    with _gradebook(url, course_id) as gb:
        return {student: _state(gb, assignment, student) for student in students}


def read_students(url: str, students: list[str],
                  course_id: str) -> dict[str, dict[str, Any] | None]:
    """Each student's row in the gradebook (names, email, LMS id), None for one it lacks.
    With ``Autograde.create_student = False`` nbgrader grades only students listed there."""
    from nbgrader.api import MissingEntry

    rows: dict[str, dict[str, Any] | None] = {}
    with _gradebook(url, course_id) as gb:
        for student in students:
            try:
                row = gb.find_student(student)
            except MissingEntry:
                rows[student] = None
            else:
                rows[student] = {f: getattr(row, f) for f in STUDENT_FIELDS}
    return rows


def seed_student(url: str, student: str, fields: dict[str, Any], course_id: str) -> None:
    """Add the student's row, as the course's gradebook has it, to the gradebook at ``url``."""
    with _gradebook(url, course_id) as gb:
        gb.update_or_create_student(student, **fields)


def _state(gb: Any, assignment: str, student: str) -> dict[str, Any] | None:
    from nbgrader.api import MissingEntry

    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return None
    notebooks = {}
    for nb in sub.notebooks:
        notebooks[nb.name] = {
            "flagged": nb.flagged,
            "late_submission_penalty": nb.late_submission_penalty,
            "grades": {g.name: {f: getattr(g, f) for f in GRADE_FIELDS} for g in nb.grades},
            "comments": {c.name: {f: getattr(c, f) for f in COMMENT_FIELDS}
                         for c in nb.comments},
        }
    return {"timestamp": sub.timestamp, "extension": sub.extension, "notebooks": notebooks}


def _apply(gb: Any, assignment: str, student: str, state: dict[str, Any],
           grade_fields: tuple[str, ...], comment_fields: tuple[str, ...],
           notebook_fields: tuple[str, ...]) -> None:
    """Set the given fields of every grade, comment and submitted notebook of ``state``."""
    from nbgrader.api import MissingEntry

    for nb_name, nb_state in state["notebooks"].items():
        try:
            nb = gb.find_submission_notebook(nb_name, assignment, student)
        except MissingEntry:
            continue  # a notebook the assignment no longer has: nothing to carry
        for field in notebook_fields:
            setattr(nb, field, nb_state[field])
        for kind, find, fields in (("grades", gb.find_grade, grade_fields),
                                   ("comments", gb.find_comment, comment_fields)):
            for name, values in nb_state[kind].items():
                try:
                    entry = find(name, nb_name, assignment, student)
                except MissingEntry:
                    continue
                for field in fields:
                    setattr(entry, field, values[field])
    gb.db.commit()


def seed_state(url: str, assignment: str, student: str, state: dict[str, Any],
               course_id: str) -> None:
    """Put the student's earlier submission ``state`` into the (template) gradebook at
    ``url``, every field, before nbgrader grades there."""
    with _gradebook(url, course_id) as gb:
        gb.update_or_create_student(student)
        sub = gb.update_or_create_submission(assignment, student)
        sub.timestamp = state["timestamp"]
        sub.extension = state["extension"]
        _apply(gb, assignment, student, state, GRADE_FIELDS, COMMENT_FIELDS,
               ("flagged", "late_submission_penalty"))


def record_state(url: str, assignment: str, student: str, state: dict[str, Any],
                 timestamp: Any, course_id: str) -> None:
    """Write what ``nbgrader autograde`` produced for the student (``state``, read from the
    worker's gradebook) into the course's gradebook at ``url``, the way autograde itself
    does: the student and the submission created if new, the submission's timestamp set
    only when the submission folder had one (``timestamp``), then the auto scores, review
    flags, auto comments and late penalties. The caller puts the student's autograded folder
    in place only after this returns, so a run stopped in between grades the student again."""
    with _gradebook(url, course_id) as gb:
        gb.update_or_create_student(student)
        if timestamp is not None:
            gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(assignment, student)
        _apply(gb, assignment, student, state, AUTOGRADE_GRADE_FIELDS,
               AUTOGRADE_COMMENT_FIELDS, ("late_submission_penalty",))
