"""A student's notebook cannot stop ``nbgrader autograde`` with its nbgrader metadata.

Why this exists: nbgrader 0.9 trusts the ``metadata.nbgrader`` of every submitted cell, which a
student can change (copying a cell copies it; any editor can rewrite it). Tried on a course
copy with one classmate after each case:

- a pasted copy of a grade cell, solution cell or read-only cell (a duplicated ``grade_id``),
  or an edited ``schema_version``: ``DeduplicateIds`` empties the copy's metadata,
  ``CheckCellMetadata`` then raises ``SchemaTooOldError`` (or ``SchemaTooNewError``), which
  ``convert_notebooks`` re-raises: **the run stops**, every later classmate is not graded;
- an unknown ``grade_id``, metadata that is not a dict or fails nbgrader's schema, a solution
  cell turned into a grade cell: that student fails with no grade and no reason (the run goes
  on, exits 1);
- a deleted grade cell: that cell scores 0, silently.

:class:`CheckGradeIds` runs first in ``Autograde.sanitize_preprocessors``
(``course/nbgrader_config.py``), before any of nbgrader's own steps, against the gradebook's
definition of the notebook. A cell whose nbgrader metadata is invalid, names an id the
assignment does not have, repeats an id, or claims another kind of cell than the id is (grade,
solution, task) loses its nbgrader metadata (so nbgrader cannot fail on it) and is recorded as
a problem; a grade cell missing from the notebook is put back from the gradebook. What was found
goes into the notebook's metadata (:data:`LAYOUT_KEY`), replacing anything the student put
there; :class:`grader.nbgrading.preprocessor.SandboxedGrades` then gives every grade cell 0
with the reasons when there is a problem, and grades a restored cell as any other. Edits that
nbgrader itself undoes (a locked cell's source, points, ``locked``, the cell type) are left to it.
"""

from __future__ import annotations

import copy
from typing import Any

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import NbGraderPreprocessor

from grader.textsafe import safe_name, safe_text

#: where the findings travel, in the notebook's own metadata, to the autograde phase
LAYOUT_KEY = "practico_layout"
#: characters of a validation error kept in a reason (it may quote the student's cell)
DETAIL_CHARS = 160
#: characters of a student's grade id kept in a reason
ID_CHARS = 80
#: characters of a cell's first line quoted in a reason (so the student can find the cell)
EXCERPT_CHARS = 60
_FLAGS = ("grade", "solution", "locked", "task")


def cell_kind(meta: dict[str, Any]) -> str:
    """What nbgrader makes of a cell with these flags, as one word (for the reasons)."""
    if meta.get("task"):
        return "task"
    if meta.get("grade") and meta.get("solution"):
        return "manual"
    for flag in ("grade", "solution", "locked"):
        if meta.get(flag):
            return flag
    return "plain"


def _valid_schema(cell: Any) -> str | None:
    """None when nbgrader's own validator accepts the cell's metadata, else why not."""
    from nbgrader.nbgraderformat import MetadataValidator

    try:
        MetadataValidator().validate_cell(copy.deepcopy(cell))
    except Exception as exc:  # noqa: BLE001 - any failure of nbgrader's validator
        text = " ".join(str(exc).split())
        return f"{type(exc).__name__}: {text}"[:DETAIL_CHARS]
    return None


def _excerpt(cell: Any) -> str:
    """The cell's first non-blank line, short: what the student can search for."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return line[:EXCERPT_CHARS] + ("..." if len(line) > EXCERPT_CHARS else "")


def _definition(db_url: str, notebook: str, assignment: str) -> dict[str, Any]:
    """The notebook as ``generate_assignment`` recorded it: every id and what it is."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        grades = {c.name: float(c.max_score) for c in nb.grade_cells}
        kinds = {}
        for source in nb.source_cells:
            kinds[source.name] = {
                "grade": source.name in grades,
                "solution": source.name in {c.name for c in nb.solution_cells},
                "task": source.name in {c.name for c in nb.task_cells},
            }
        sources = [{"name": s.name, "source": s.source, "cell_type": s.cell_type,
                    "locked": bool(s.locked), "checksum": s.checksum} for s in nb.source_cells]
    return {"grades": grades, "kinds": kinds, "sources": sources}


def check_layout(nb: Any, definition: dict[str, Any]) -> dict[str, Any]:
    """Make ``nb``'s nbgrader metadata safe for nbgrader, in place; return the findings.

    ``problems``: one dict per altered cell (``kind``, 1-based ``cell`` of the submitted
    notebook, ``grade_id``, ``excerpt`` of its first line, and ``first`` / ``expected`` /
    ``found`` / ``detail`` as fits).
    ``restored``: the grade ids of grade cells missing from the notebook, put back.
    """
    kinds, problems = definition["kinds"], []
    seen: dict[str, int] = {}
    for number, cell in enumerate(nb.cells, 1):
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = NotebookNode({})
            problems.append({"kind": "invalid", "cell": number, "grade_id": "",
                             "detail": "cell metadata is not a mapping"})
            continue
        if "nbgrader" not in cell.metadata:
            continue
        meta = cell.metadata["nbgrader"]
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        grade_id = grade_id if isinstance(grade_id, str) else ""
        problem: dict[str, Any] | None = None
        if isinstance(meta, dict) and not any(meta.get(f) for f in _FLAGS) and (
                grade_id not in kinds):
            # Says nothing to nbgrader (a cell copied from another notebook): not a problem,
            # but nbgrader's validator would stop the run on its missing schema version.
            del cell.metadata["nbgrader"]
            continue
        detail = (_valid_schema(cell) if isinstance(meta, dict)
                  else f"metadata.nbgrader is a {type(meta).__name__}, not a mapping")
        if detail is not None:
            problem = {"kind": "invalid", "detail": detail}
        elif grade_id not in kinds:
            problem = {"kind": "unknown"}
        elif grade_id in seen:
            problem = {"kind": "duplicate", "first": seen[grade_id]}
        else:
            expected = kinds[grade_id]
            found = {f: bool(meta.get(f)) for f in expected}
            if found != expected:
                problem = {"kind": "changed", "expected": cell_kind(expected),
                           "found": cell_kind(meta)}
        if problem is None:
            seen[grade_id] = number
            continue
        problems.append({**problem, "cell": number, "grade_id": grade_id[:ID_CHARS],
                         "excerpt": _excerpt(cell)})
        del cell.metadata["nbgrader"]  # a plain cell now: nbgrader has nothing to fail on
    restored = _restore_grade_cells(nb, definition, set(seen))
    return {"problems": problems, "restored": restored}


def _restore_grade_cells(nb: Any, definition: dict[str, Any], present: set[str]) -> list[str]:
    """Put back each grade cell the notebook lacks, from the gradebook, after the cell of the
    id that comes before it there (the end when none is present)."""
    restored = []
    for position, source in enumerate(definition["sources"]):
        name = source["name"]
        if name in present or name not in definition["grades"]:
            continue
        meta = {"grade": True, "grade_id": name, "locked": source["locked"],
                "points": definition["grades"][name],
                "solution": definition["kinds"][name]["solution"], "schema_version": 3}
        if source["checksum"]:
            meta["checksum"] = source["checksum"]
        if source["cell_type"] in ("code", "markdown"):
            meta["cell_type"] = source["cell_type"]
        cell: dict[str, Any] = {"cell_type": source["cell_type"], "source": source["source"],
                                "metadata": {"deletable": False, "editable": False,
                                             "nbgrader": meta}}
        if source["cell_type"] == "code":
            cell.update(outputs=[], execution_count=None)
        index = len(nb.cells)
        before = {s["name"] for s in definition["sources"][:position]} & (present | set(restored))
        for i, other in enumerate(nb.cells):
            other_id = other.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if other_id in before:
                index = i + 1
        nb.cells.insert(index, from_dict(cell))
        restored.append(name)
    return restored


class CheckGradeIds(NbGraderPreprocessor):
    """First of ``Autograde.sanitize_preprocessors``: see the module's docstring."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        info = resources["nbgrader"]
        definition = _definition(info["db_url"], info["notebook"], info["assignment"])
        nb.metadata.pop(LAYOUT_KEY, None)  # only this step writes it
        found = check_layout(nb, definition)
        student = safe_name(str(info.get("student", "")))
        for problem in found["problems"]:
            what = problem["kind"] + (f" ({problem['detail']})" if "detail" in problem else "")
            self.log.warning("%s: cell %s (%s): %s; every grade cell of the notebook scores 0",
                             student, problem["cell"], safe_text(problem["grade_id"], 80),
                             safe_text(what, 240))
        for name in found["restored"]:
            self.log.warning("%s: grade cell %s was missing; put back from the gradebook",
                             student, name)
        if found["problems"] or found["restored"]:
            nb.metadata[LAYOUT_KEY] = found
        return nb, resources
