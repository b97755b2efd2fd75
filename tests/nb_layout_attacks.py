"""Notebooks whose nbgrader cells a student changed, for the grade-id tests
(grader/nbgrading/gradeids.py). Most are what students do without meaning harm (copying a cell
copies its nbgrader metadata); some are edits by hand.

Each entry: ``name -> (what the student did, expected outcome, alter)``; ``alter(nb)`` changes
the student's notebook in place. Expected outcomes:

- ``zero:<kind>``: nbgrader never stops nor fails on it; every grade cell of that notebook
  scores 0 and lists the altered cell, a finding of that kind (duplicate, unknown, invalid,
  changed); classmates are graded as usual;
- ``restored``: the missing grade cell is put back from the gradebook and graded (its output
  says it was missing);
- ``nbgrader``: nbgrader itself undoes the edit (points, a locked cell's source, ``locked``);
  graded as usual;
- ``ignored``: nbgrader metadata that says nothing (no flag, no id) is dropped; graded as usual.

Without the kit's check, nbgrader 0.9 **stops the whole run** on the ``stops`` ones (re-raised
``SchemaTooOldError`` / ``SchemaTooNewError``) and fails that student with no grade on the
others marked ``zero``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

GRADE = "prueba_relu_net"        # a grade cell of the course notebook
ANSWER = "respuesta_DeepMLPR"    # a solution cell
LOCKED_KIND = "locked"           # any read-only given cell


def _cell(nb: Any, grade_id: str) -> Any:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _index(nb: Any, grade_id: str) -> int:
    return nb.cells.index(_cell(nb, grade_id))


def _locked(nb: Any) -> Any:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("locked")
                and not c.metadata["nbgrader"].get("grade")
                and not c.metadata["nbgrader"].get("solution"))


def _paste_copy(grade_id: str) -> Callable[[Any], None]:
    def alter(nb: Any) -> None:
        nb.cells.insert(_index(nb, grade_id) + 1, copy.deepcopy(_cell(nb, grade_id)))
    return alter


def _paste_locked(nb: Any) -> None:
    cell = _locked(nb)
    nb.cells.insert(nb.cells.index(cell) + 1, copy.deepcopy(cell))


def _set(target: str, **changes: Any) -> Callable[[Any], None]:
    def alter(nb: Any) -> None:
        _cell(nb, target).metadata.nbgrader.update(changes)
    return alter


def _unknown(nb: Any) -> None:
    cell = copy.deepcopy(_cell(nb, GRADE))
    cell.metadata.nbgrader["grade_id"] = "prueba_inventada"
    nb.cells.append(cell)


def _not_a_mapping(nb: Any) -> None:
    _cell(nb, GRADE).metadata["nbgrader"] = "prueba"


def _no_id(nb: Any) -> None:
    nb.cells.append(copy.deepcopy(_cell(nb, GRADE)))
    del nb.cells[-1].metadata.nbgrader["grade_id"]


def _delete(nb: Any) -> None:
    del nb.cells[_index(nb, GRADE)]


def _edit_source(nb: Any) -> None:
    cell = _cell(nb, GRADE)
    cell.source = "print('todo bien')\n10"
    cell.metadata.nbgrader["checksum"] = "0" * 32


def _empty_meta(nb: Any) -> None:
    nb.cells[0].metadata["nbgrader"] = {}


LAYOUTS: dict[str, tuple[str, str, Callable[[Any], None]]] = {
    "copia_prueba": ("a grade cell copied and pasted below itself", "zero:duplicate stops",
                     _paste_copy(GRADE)),
    "copia_respuesta": ("an answer cell copied and pasted", "zero:duplicate stops",
                        _paste_copy(ANSWER)),
    "copia_fija": ("a read-only given cell copied and pasted", "zero:duplicate stops",
                   _paste_locked),
    "respuesta_con_id_de_prueba": ("an answer cell renamed to a grade cell's id",
                                   "zero:changed stops", _set(ANSWER, grade_id=GRADE)),
    "esquema_nuevo": ("schema_version edited to 4", "zero:invalid stops",
                      _set(GRADE, schema_version=4)),
    "id_inventado": ("a cell naming a grade id the assignment lacks", "zero:unknown",
                     _unknown),
    "sin_id": ("a grade cell without grade_id", "zero:invalid", _no_id),
    "metadatos_texto": ("metadata.nbgrader a string", "zero:invalid", _not_a_mapping),
    "puntos_texto": ("points made a string", "zero:invalid", _set(GRADE, points="diez")),
    "respuesta_a_prueba": ("an answer cell made a grade cell worth 100", "zero:changed",
                           _set(ANSWER, grade=True, points=100)),
    "prueba_a_respuesta": ("a grade cell made an answer cell", "zero:changed",
                           _set(GRADE, solution=True)),
    "prueba_borrada": ("a grade cell deleted", "restored", _delete),
    "puntos_cambiados": ("a grade cell's points raised to 500", "nbgrader",
                         _set(GRADE, points=500.0)),
    "prueba_editada": ("a grade cell's source and checksum edited", "nbgrader", _edit_source),
    "desbloqueada": ("a grade cell unlocked", "nbgrader", _set(GRADE, locked=False)),
    "metadatos_vacios": ("an empty nbgrader dict on a plain cell (copied from another "
                         "notebook)", "ignored stops", _empty_meta),
}


def altered(release: Any, name: str) -> Any:
    """A copy of the release with one layout change applied."""
    nb = copy.deepcopy(release)
    LAYOUTS[name][2](nb)
    return nb
