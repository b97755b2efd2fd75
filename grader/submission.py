"""What of a submission the grader reads: an allow-list of files, each and all together capped.

A :class:`Submission` is what grading works from: the files read once (by
:func:`collect_files`), the problems of the unusable ones, and a label for messages. It
travels whole to a cluster's worker and into the sandbox's job folder; nothing reads the
student's folder again.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.tasks import MODULES

#: the only files of a submission the grader reads: the kit's own exercise modules. A student
#: folder may hold anything else (notes, data, thousands of files): none of it is read.
ALLOWED_NAMES: frozenset[str] = frozenset(f"{module}.py" for module in MODULES)
MAX_FILE_BYTES = 1024 * 1024
#: the one file of a notebook submission: its code cells, a JSON list of [label, source]
NOTEBOOK_FILE = "notebook.cells"

#: all of a submission's files together (the reference's six files are 25 KB)
MAX_TOTAL_BYTES = 2 * 1024 * 1024

__all__ = ["ALLOWED_NAMES", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "NOTEBOOK_FILE", "Submission",
           "collect_files"]


@dataclass(frozen=True)
class Submission:
    """One student's work as the grader read it, once.

    ``files``: allow-listed name -> bytes; ``problems``: name -> the reason (a ``reason_*``
    message key and its values) that file cannot be used; ``label``: how messages name the
    submission (its folder). A notebook is the one file :data:`NOTEBOOK_FILE`, its code
    cells as a JSON list of ``[label, source]``, with ``notebook`` set.
    """

    files: dict[str, bytes]
    problems: dict[str, dict[str, object]] = field(default_factory=dict)
    label: str = ""
    notebook: bool = False

    @classmethod
    def from_folder(cls, folder: str | Path) -> Submission:
        """The allow-listed files of ``folder`` (:func:`collect_files`), read now."""
        files, problems = collect_files(Path(folder))
        return cls(files, problems, str(Path(folder)))

    @classmethod
    def from_cells(cls, cells: Iterable[tuple[str, str]]) -> Submission:
        """A notebook's code cells, ``(label, python source)`` in order."""
        payload = json.dumps([[str(label), str(source)] for label, source in cells]).encode()
        return cls({NOTEBOOK_FILE: payload}, {}, "notebook", notebook=True)

def _reason(key: str, **values: object) -> dict[str, object]:
    """A problem as a message key and its values (rendered in the reader's language later)."""
    return {"key": key, **values}


def _errno_name(exc: OSError) -> str:
    """``EACCES`` rather than the system's English ``Permission denied``."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def collect_files(folder: Path) -> tuple[dict[str, bytes], dict[str, dict[str, object]]]:
    """The allow-listed files of a submission, and the problems of those that are unusable.

    Only the kit's own module names are looked up (never a listing of the folder, which may
    be huge); each file is read up to its cap, and all of them together up to
    ``MAX_TOTAL_BYTES``, so a submission costs the grader a bounded amount of memory.
    """
    files: dict[str, bytes] = {}
    problems: dict[str, str] = {}
    total = 0
    for entry in sorted(ALLOWED_NAMES):
        path = folder / entry
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems[entry] = _reason("reason_unreadable", detail=_errno_name(exc))
            continue
        if not stat.S_ISREG(info.st_mode):
            problems[entry] = _reason("reason_not_regular")
            continue
        if info.st_size > MAX_FILE_BYTES:
            problems[entry] = _reason("reason_too_large", kib=MAX_FILE_BYTES // 1024)
            continue
        if total + info.st_size > MAX_TOTAL_BYTES:
            problems[entry] = _reason("reason_all_too_large", kib=MAX_TOTAL_BYTES // 1024)
            continue
        try:
            # O_NOFOLLOW: a file swapped for a link after the lstat is refused, not followed;
            # one byte more than the cap is read, so a file that grew is caught too.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            problems[entry] = _reason("reason_unreadable", detail=_errno_name(exc))
            continue
        if len(data) > MAX_FILE_BYTES:
            problems[entry] = _reason("reason_too_large", kib=MAX_FILE_BYTES // 1024)
            continue
        total += len(data)
        files[entry] = data
    return files, problems
