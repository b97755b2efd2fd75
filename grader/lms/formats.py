"""The import files of two LMSs, written with Python's ``csv`` module.

Formats followed (cited so that a change in either LMS can be checked against them):

- **Canvas**, "How do I import grades in the Gradebook?" (Canvas Instructor Guide) and the
  parser itself, ``GradebookImporter`` in instructure/canvas-lms (app/models/
  gradebook_importer.rb): the header row is ``Student, ID, SIS User ID, SIS Login ID,
  Section`` (it must start with ``Student`` and ``ID`` and its last student column must be
  ``Section``), then one column per assignment, named ``Title (assignment id)`` to update an
  existing assignment or ``Title`` to make a new one; an optional second row whose first cell
  is ``Points Possible`` gives each assignment's points. A student is found by ``ID``, else by
  ``SIS User ID`` / ``SIS Login ID``, else by name. Canvas's own export starts with a UTF-8
  byte-order mark, and its importer accepts one (its header test is not anchored).
- **Moodle**, "Grade import" (MoodleDocs, CSV import): a header row, then one row per student;
  on upload the teacher maps an identifier column to the user field (``useremail`` or
  ``useridnumber``), the grade column to a grade item and the feedback column to that item's
  feedback. Its reader (``csv_import_reader::load_csv_content``) strips a UTF-8 byte-order mark;
  feedback is stored as ``FORMAT_MOODLE`` (grade/import/lib.php), which renders HTML: so
  feedback is HTML-escaped here, lines joined with ``<br />``.

Both get a byte-order mark (Excel then reads UTF-8 names right when the file is opened before
upload) and numbers with a decimal point. Every cell goes through
:func:`grader.outputs.escape.csv_cell`: a name or id beginning with ``=``, ``+``, ``-``, ``@``,
tab or CR (or their full-width forms) is written with a leading ``'`` and cannot run as a
formula in the spreadsheet the file is opened in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from grader.i18n import t
from grader.outputs.escape import FORMULA_START, csv_row
from grader.outputs.html import escape
from grader.tasks import TASK_BY_ID

BOM = "\ufeff"
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
#: the first cell of Canvas's points-possible row (as Canvas's own export writes it)
CANVAS_POINTS_ROW = "    Points Possible"


def number(value: float) -> str:
    """A score as the LMS reads it: a decimal point, at most 4 decimals, no exponent."""
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def neutralised(value: str) -> bool:
    """Whether :func:`csv_cell` will prefix ``value`` (it would begin a formula): an id so
    changed no longer matches in the LMS, which the export reports."""
    return value.lstrip(" ")[:1] in FORMULA_START


@dataclass
class Row:
    """One student's line: the roster's fields, and per assignment the score (None: no grade
    for it) and the feedback lines."""

    fields: dict[str, str]
    scores: list[float | None]
    feedback: list[str]


def _csv(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, what both LMSs export
    for row in rows:
        writer.writerow(csv_row(row))
    return BOM + buffer.getvalue()


def canvas_csv(titles: list[str], points: list[float], rows: list[Row]) -> str:
    """Canvas's gradebook import file: the student columns, one column per assignment, the
    points-possible row, then one row per student (an empty cell changes nothing there)."""
    head = [*CANVAS_STUDENT_COLUMNS, *titles]
    possible = [CANVAS_POINTS_ROW, "", "", "", "", *(number(p) for p in points)]
    body = [[r.fields["name"], r.fields["canvas_id"], r.fields["sis_user_id"],
             r.fields["sis_login_id"], r.fields["section"],
             *("" if s is None else number(s) for s in r.scores)] for r in rows]
    return _csv([head, possible, *body])


def moodle_csv(title: str, identity: str, rows: list[Row], lang: str | None) -> str:
    """Moodle's grade import file: the identifier (email or ID number), the grade, and the
    feedback (HTML: each task's score and first message, escaped)."""
    head = [t(f"lms_moodle_{identity}_header", lang), title,
            t("lms_moodle_feedback_header", lang, title=title)]
    body = [[r.fields[identity], number(r.scores[0]) if r.scores[0] is not None else "",
             "<br />".join(escape(line) for line in r.feedback)] for r in rows]
    return _csv([head, *body])


def feedback_lines(tasks: list, lang: str | None) -> list[str]:
    """``test_viewer Visor del conjunto de test: 10/10`` per task, with the task's first
    message after it when it lost points (plain text: the writer escapes it)."""
    lines = []
    for line in tasks:
        task = TASK_BY_ID[line.task]
        text = f"{task.id} {task.title(lang)}: {number(line.score)}/{number(line.max_score)}"
        if line.message and line.score < line.max_score:
            text += " — " + line.message
        lines.append(text)
    return lines
