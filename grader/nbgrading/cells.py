"""Grader side: what of a notebook gets graded, and where the grades go.

- :func:`student_cells`: every code cell but the grade cells, in notebook order, as plain
  Python (IPython syntax transformed here, in the grader, so the child needs no IPython).
  Grade cells are left out: in the sandbox nothing of the kit's grading code runs where
  the student's code can reach it, and nbgrader has already restored their source.
- :func:`grade_cells`: each grade cell with its task (from its ``grade_id``,
  ``prueba_<task>``, which the course notebook generator writes; ``""`` for any other id)
  and whether its source carries hidden tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.tasks import TASK_BY_ID

GRADE_ID_PREFIX = "prueba_"
HIDDEN_MARK = "BEGIN HIDDEN TESTS"
#: more code than this is not a student's notebook (the course notebook has ~40 KB)
MAX_CODE_BYTES = 4 * 1024 * 1024


class NotebookLayoutError(ValueError):
    """The notebook cannot be graded as it is (too much code)."""


@dataclass(frozen=True)
class GradeCell:
    index: int  # position in ``nb.cells``
    grade_id: str
    task: str
    points: float
    hidden: bool


def _nbgrader_meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def grade_cells(nb: Any) -> list[GradeCell]:
    """The notebook's autograded cells, each tied to one task of the kit."""
    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        meta = _nbgrader_meta(cell)
        if cell.get("cell_type") != "code" or not meta.get("grade"):
            continue
        grade_id = str(meta.get("grade_id", ""))
        task = grade_id[len(GRADE_ID_PREFIX):] if grade_id.startswith(GRADE_ID_PREFIX) else ""
        if task not in TASK_BY_ID:
            task = ""  # not one of the kit's: scores nothing (see the preprocessor)
        found.append(GradeCell(index, grade_id, task, float(meta.get("points", 0)),
                               HIDDEN_MARK in _text(cell.get("source", ""))))
    return found


def to_python(source: str) -> str:
    """A cell's source as plain Python: IPython's own transformer, as a kernel applies it."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def student_cells(nb: Any) -> list[tuple[str, str]]:
    """``(label, python)`` for every code cell that is not a grade cell, in order.

    The label is the cell's number in the notebook (1-based), with its ``grade_id`` when it
    has one. A cell whose syntax IPython cannot transform is passed on unchanged: running
    it raises the student's ``SyntaxError`` in the child, as it would in a kernel.
    """
    cells = []
    total = 0
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code" or _nbgrader_meta(cell).get("grade"):
            continue
        source = _text(cell.get("source", ""))
        total += len(source.encode("utf-8", "surrogatepass"))
        if total > MAX_CODE_BYTES:
            raise NotebookLayoutError(
                f"the notebook holds more than {MAX_CODE_BYTES // 2**20} MiB of code: "
                "not graded (a student notebook holds a few dozen KB).")
        try:
            python = to_python(source)
        except Exception:  # noqa: BLE001 - the kernel would report it when running the cell
            python = source
        grade_id = _nbgrader_meta(cell).get("grade_id")
        label = f"{index + 1}" + (f" ({grade_id})" if isinstance(grade_id, str) else "")
        cells.append((label, python))
    return cells
