"""What of a submission the grader reads: an allow-list of files, each and all together capped."""

from __future__ import annotations

import os
import stat
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

def collect_files(folder: Path) -> tuple[dict[str, bytes], dict[str, str]]:
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
            problems[entry] = f"cannot be read ({exc.strerror or exc})"
            continue
        if not stat.S_ISREG(info.st_mode):
            problems[entry] = "not a regular file (a link or a folder)"
            continue
        if info.st_size > MAX_FILE_BYTES:
            problems[entry] = f"larger than {MAX_FILE_BYTES // 1024} KiB"
            continue
        if total + info.st_size > MAX_TOTAL_BYTES:
            problems[entry] = (f"the files together are larger than "
                               f"{MAX_TOTAL_BYTES // 1024} KiB")
            continue
        try:
            # O_NOFOLLOW: a file swapped for a link after the lstat is refused, not followed;
            # one byte more than the cap is read, so a file that grew is caught too.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            problems[entry] = f"cannot be read ({exc.strerror or exc})"
            continue
        if len(data) > MAX_FILE_BYTES:
            problems[entry] = f"larger than {MAX_FILE_BYTES // 1024} KiB"
            continue
        total += len(data)
        files[entry] = data
    return files, problems
