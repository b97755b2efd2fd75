"""Fixture submissions stored as patches against the reference.

A wrong (or alternative) fixture is the reference file with a small change. Keeping a
whole copy per fixture would let dozens of copies drift from ``solutions/``; a unified diff
keeps only the change, and applying it fails loudly when the reference moves under it.

File format (``fixtures/wrong/<name>/ex<N>_<module>.py.diff``): ``Key: value`` header lines
(``What:``, ``Task:``, ``Keys:``), then a unified diff against the reference file with its
``BEGIN/END SOLUTION`` marker lines removed (what a student's finished file looks like).
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.stubs import BEGIN_RE, END_RE

HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def strip_markers(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True)
                   if not (BEGIN_RE.match(line) or END_RE.match(line)))


def apply_unified_diff(base: str, diff: str) -> str:
    """Apply a unified diff exactly (no fuzz): every context and removed line must match."""
    source = base.splitlines(keepends=True)
    out: list[str] = []
    cursor = 0
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = HUNK_RE.match(lines[i])
        i += 1
        if not match:
            continue
        start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
        if start < cursor:
            raise ValueError(f"overlapping hunk at line {start + 1}")
        out.extend(source[cursor:start])
        cursor = start
        while i < len(lines) and not HUNK_RE.match(lines[i]):
            line = lines[i]
            i += 1
            tag, body = line[:1], line[1:]
            if tag == "\\":
                continue
            if tag in (" ", "-"):
                if cursor >= len(source) or source[cursor].rstrip("\n") != body.rstrip("\n"):
                    raise ValueError(f"patch does not apply at line {cursor + 1}: expected "
                                     f"{body.rstrip()!r}")
                if tag == " ":
                    out.append(source[cursor])
                cursor += 1
            elif tag == "+":
                out.append(body if body.endswith("\n") else body + "\n")
    out.extend(source[cursor:])
    return "".join(out)


def read_fixture(path: Path) -> tuple[dict[str, str], str]:
    """The header fields and the diff of a ``.py.diff`` fixture."""
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("\n--- ")
    if not sep:
        raise ValueError(f"{path}: no unified diff found")
    fields = dict(re.findall(r"^(\w+):\s*(.+)$", head, re.M))
    return fields, "--- " + rest


def build(path: Path, solutions: Path) -> tuple[str, str]:
    """``(file name, patched source)`` of a fixture."""
    name = path.name.removesuffix(".diff")
    base = strip_markers((solutions / name).read_text(encoding="utf-8"))
    return name, apply_unified_diff(base, read_fixture(path)[1])
