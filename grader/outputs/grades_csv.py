"""``grades.csv``: one row per student of a class, from the signed ``result.json`` files."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.outputs.atomic import write_atomic
from grader.outputs.escape import csv_row
from grader.outputs.signing import verify
from grader.tasks import TASKS
from grader.textsafe import display_names

#: the ``grades.csv`` status of an entry of the class folder that is a symbolic link
LINK_STATUS = "symlink_not_graded"



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
    data = read_json(path)
    if not verify(key, student, data):
        return None
    try:
        scores = [*(f"{data['tasks'][task.id]['score']:g}" for task in TASKS),
                  f"{data['score']:g}", f"{data['max_score']:g}", "graded"]
    except (KeyError, TypeError, ValueError):
        return None
    _VERIFIED[(path, key)] = (stamp, scores)
    return scores



def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
