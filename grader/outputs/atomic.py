"""Writing a file so that no reader ever sees half of it: a temp file beside it, then a rename.

Every output of the kit goes through here (results, ``grades.csv``, feedback, reports,
figures): a run stopped by Ctrl-C, a full disk or a crash leaves the previous file whole
or the new one whole, never a truncated one that a later run would take as finished.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: files are for the course team to read (mkstemp alone would make them owner-only)
MODE = 0o644


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh temporary path beside ``path`` to write to; when the block ends without an
    error it replaces ``path`` in one step (``os.replace``), otherwise it is removed.

    The temporary name is unique (``mkstemp``), so threads writing the same file at once
    never share one; the last to finish wins, whole.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, MODE)
        os.close(fd)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically (:func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
