"""What two gradings of one class must share byte for byte (tests and ``bench/class_scale.py``).

Every file ``autograde`` writes, by path, with only the values that differ from run to run
blanked: timings, the private uid a child ran as, the sandbox's temporary folder name, and
the signature of each ``result.json`` (which covers them).
"""

from __future__ import annotations

import re
from pathlib import Path

RUN_SPECIFIC = [
    (re.compile(rb'"(seconds|execution_time)": [0-9.]+'), rb'"\1": S'),
    (re.compile(rb'"uid": [0-9]+'), rb'"uid": U'),
    (re.compile(rb"practico-sandbox-[A-Za-z0-9_]+"), rb"practico-sandbox-T"),
    # the signature covers the fields above, so it differs whenever they do
    (re.compile(rb'"mac": "[0-9a-f]{64}"'), rb'"mac": M'),
]


def comparable_outputs(out: Path) -> dict[str, bytes]:
    """Every file under ``out``, by relative path, run-specific values blanked."""
    found = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            for pattern, repl in RUN_SPECIFIC:
                data = pattern.sub(repl, data)
            found[str(path.relative_to(out))] = data
    return found
