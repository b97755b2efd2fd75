"""Fixture submissions stored as patches, and the applier that rebuilds them.

A fixture is a base file with a change: a plausible mistake in the reference
(``fixtures/wrong/``), another correct idiom of the reference (``fixtures/alt_variants/``), or
an independent solution written into the stubs (``fixtures/alt_correct*/``). A whole copy per
fixture would drift from the file it was made from; a unified diff keeps only the change, and
applying it fails loudly when its base changes under it.

File format (``<folder>/ex<N>_<module>.py.diff``): ``Key: value`` header lines (``What:``,
and for ``wrong/`` also ``Task:`` and ``Keys:``), then a unified diff (``diff -u``) against
the base file:

- ``wrong/`` and ``alt_variants/``: the reference ``solutions/<file>`` with its
  ``BEGIN/END SOLUTION`` marker lines removed (what a student's finished file looks like);
- ``alt_correct*/``: the stub ``exercises/<file>`` as generated (the given code plus the TODO
  stubs), so the given code it is graded with is the students' own, never a copy of it.

How a hunk is placed (as ``patch --fuzz=0`` does: no line of the hunk is ever ignored): its
context and removed lines must all be in the base file, exactly and in one run. When they are
at the line the hunk states (moved by as much as the previous hunk had moved), they are taken
there. When they are not (lines were added or removed above), they are searched for in the rest
of the file (after the previous hunk): one match is taken; two or more are refused as
ambiguous rather than picking the nearest, because a fixture's mistake silently landing in the
look-alike function (two training loops, two ``forward``s) would change what the fixture tests;
no match is refused. Every refusal is a :class:`PatchError` naming the fixture and the hunk.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.authoring.stubs import BEGIN_RE, END_RE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
ALT_CORRECT = FIXTURES / "alt_correct"
#: every independent correct submission: ``alt_correct`` and the ones written after it in other
#: idioms (``alt_correct_b``, ``alt_correct_c``, ...), each a whole submission over the stubs
ALT_CORRECTS = tuple(sorted(p for p in FIXTURES.glob("alt_correct*") if p.is_dir()))

HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    """A fixture's patch does not apply; the message names the fixture, the hunk and why."""


@dataclass(frozen=True)
class Hunk:
    """One ``@@`` block of a unified diff."""

    number: int  #: 1-based, in the order of the diff (for messages)
    header: str  #: the ``@@ ... @@`` line, for messages
    start: int  #: 0-based index in the base of its first old line (insertion point if none)
    lines: tuple[tuple[str, str], ...]  #: ``(tag, text)``: tag ``" "``, ``"-"`` or ``"+"``
    no_newline_at_end: bool  #: the new side's last line has no ``\n`` (``\ No newline``)

    @property
    def old(self) -> list[str]:
        """Its context and removed lines, the run that must be found in the base."""
        return [text for tag, text in self.lines if tag != "+"]


def split_lines(text: str) -> list[str]:
    """``text``'s lines, each with its newline, split at newlines only, as ``diff`` does.

    (``str.splitlines`` also splits at form feeds and Unicode separators inside a line.)
    """
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def strip_markers(text: str) -> str:
    return "".join(line for line in split_lines(text)
                   if not (BEGIN_RE.match(line) or END_RE.match(line)))


def parse_hunks(diff: str, label: str) -> list[Hunk]:
    """The hunks of a one-file unified diff, each checked against its header's line counts."""
    lines = [line.removesuffix("\n") for line in split_lines(diff)]
    hunks: list[Hunk] = []
    i = 0
    while i < len(lines):
        match = HUNK_RE.match(lines[i])
        i += 1
        if not match:
            continue
        header = lines[i - 1]
        old_start, old_count = int(match.group(1)), int(match.group(2) or 1)
        new_count = int(match.group(4) or 1)
        where = f"{label}: hunk {len(hunks) + 1} ({header})"
        body: list[tuple[str, str]] = []
        n_old = n_new = 0
        no_newline = False
        # read by the header's counts, as patch does: a hunk ends when both sides are complete
        while i < len(lines) and (n_old < old_count or n_new < new_count):
            line = lines[i]
            i += 1
            tag, text = (line[:1], line[1:]) if line else (" ", "")  # a bare empty line is an
            # empty context line whose leading space an editor trimmed (patch reads it so too)
            if tag == "\\":
                continue
            if tag not in (" ", "-", "+"):
                raise PatchError(f"{where}: line {line!r} is neither context (' '), removed "
                                 f"('-') nor added ('+'); the hunk holds fewer lines than its "
                                 f"header says. Regenerate the patch with diff -u")
            body.append((tag, text))
            n_old += tag != "+"
            n_new += tag != "-"
        if i < len(lines) and lines[i].startswith("\\"):
            no_newline = body[-1][0] != "-" if body else False
            i += 1
        if (n_old, n_new) != (old_count, new_count):
            raise PatchError(f"{where}: the header counts {old_count} old and {new_count} new "
                             f"lines, the hunk holds {n_old} and {n_new}. Regenerate the patch "
                             f"with diff -u")
        if i < len(lines) and lines[i][:1] in (" ", "-", "+") and not lines[i].startswith(
                ("--- ", "+++ ")):
            raise PatchError(f"{where}: more lines follow than its header counts "
                             f"({lines[i]!r}). Regenerate the patch with diff -u")
        # "-N,0" inserts after line N; otherwise N is the 1-based line of the first old line
        start = old_start if old_count == 0 else old_start - 1
        hunks.append(Hunk(len(hunks) + 1, header, start, tuple(body), no_newline))
    if not hunks:
        raise PatchError(f"{label}: no hunk (@@ ... @@) found in the patch")
    return hunks


def _matches_at(source: list[str], old: list[str], pos: int) -> bool:
    return pos + len(old) <= len(source) and all(
        source[pos + k].rstrip("\n") == text for k, text in enumerate(old))


def _locate(source: list[str], hunk: Hunk, expected: int, cursor: int, label: str) -> int:
    """Where ``hunk``'s old lines are in ``source``: see the module docstring for the rule."""
    old = hunk.old
    where = f"{label}: hunk {hunk.number} ({hunk.header})"
    if not old:  # a pure insertion has no context to look for: its stated line is all there is
        if not cursor <= expected <= len(source):
            raise PatchError(f"{where}: inserts at line {expected}, outside lines "
                             f"{cursor}-{len(source)} of the base")
        return expected
    if expected >= cursor and _matches_at(source, old, expected):
        return expected
    found = [pos for pos in range(cursor, len(source) - len(old) + 1)
             if _matches_at(source, old, pos)]
    if len(found) == 1:
        return found[0]
    if found:
        raise PatchError(f"{where}: its context and removed lines are not at line "
                         f"{expected + 1} but at each of lines "
                         f"{', '.join(str(p + 1) for p in found)}: ambiguous. Add context "
                         f"lines to the hunk (diff -U5) so that it matches in one place")
    above = [pos for pos in range(cursor) if _matches_at(source, old, pos)]
    if above:
        raise PatchError(f"{where}: its context and removed lines are only above the end of "
                         f"hunk {hunk.number - 1} (line {cursor}), at line(s) "
                         f"{', '.join(str(p + 1) for p in above)}: hunks overlap or are out of "
                         f"order. Regenerate the patch with diff -u")
    detail = ""
    for k, text in enumerate(old):
        have = source[expected + k].rstrip("\n") if 0 <= expected + k < len(source) else None
        if have != text:
            detail = f" (line {expected + k + 1} should read {text!r}, the base has {have!r})"
            break
    raise PatchError(f"{where}: its context and removed lines are nowhere in the base file"
                     f"{detail}. The base changed under the fixture: remake the patch "
                     f"against the current base")


def apply_unified_diff(base: str, diff: str, label: str = "patch") -> str:
    """``base`` with ``diff`` applied, each hunk placed as the module docstring says.

    ``label`` names the fixture in every :class:`PatchError`.
    """
    source = split_lines(base)
    out: list[str] = []
    cursor = offset = 0
    for hunk in parse_hunks(diff, label):
        pos = _locate(source, hunk, hunk.start + offset, cursor, label)
        out.extend(source[cursor:pos])
        k = pos
        for tag, text in hunk.lines:
            if tag == " ":
                out.append(source[k])  # the base's own bytes
            if tag != "+":
                k += 1
            else:
                out.append(text + "\n")
        if hunk.no_newline_at_end and out:
            out[-1] = out[-1].removesuffix("\n")
        cursor, offset = k, pos - hunk.start
    out.extend(source[cursor:])
    return "".join(out)


def read_fixture(path: Path) -> tuple[dict[str, str], str]:
    """The header fields and the diff of a ``.py.diff`` fixture."""
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("\n--- ")
    if not sep:
        raise PatchError(f"{path}: no unified diff found (a '--- ' line after the header)")
    fields = dict(re.findall(r"^(\w+):\s*(.+)$", head, re.M))
    return fields, "--- " + rest


def _label(path: Path) -> str:
    """The fixture's path as a reader finds it (relative to the kit when inside it)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def build(path: Path, base_dir: Path) -> tuple[str, str]:
    """``(file name, patched source)`` of a fixture, against its namesake in ``base_dir``.

    The base's ``BEGIN/END SOLUTION`` marker lines are removed first (the stubs have none).
    """
    name = path.name.removesuffix(".diff")
    base = strip_markers((base_dir / name).read_text(encoding="utf-8"))
    return name, apply_unified_diff(base, read_fixture(path)[1], _label(path))


def overlay_reference(patch: Path, dest: Path) -> str:
    """Write a submission into ``dest``: ``solutions/``' files, the one ``patch`` names
    replaced by the patched reference (a fixture that changes one module). Returns that
    file's name."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in SOLUTIONS.glob("ex*.py"):
        shutil.copy(path, dest / path.name)
    name, source = build(patch, SOLUTIONS)
    (dest / name).write_text(source, encoding="utf-8")
    return name


def materialise_alt_correct(dest: Path, source: Path = ALT_CORRECT) -> Path:
    """Write an independent correct submission (``fixtures/alt_correct`` unless ``source``
    names another of :data:`ALT_CORRECTS`) into ``dest``.

    Each of its ``ex*.py.diff`` is applied to the stub of the same name in ``exercises/``;
    ``dest`` then holds the ``ex*.py`` files, ready to grade. Returns ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for patch in sorted(source.glob("ex*.py.diff")):
        name, source = build(patch, EXERCISES)
        (dest / name).write_text(source, encoding="utf-8")
    return dest


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python tests/patching.py DEST [NAME]  (writes fixtures/NAME, by default "
                 "alt_correct, applied to exercises/ into DEST, e.g. to grade it: "
                 "python -m grader grade DEST)")
    name = sys.argv[2] if len(sys.argv) == 3 else ALT_CORRECT.name
    if FIXTURES / name not in ALT_CORRECTS:
        sys.exit(f"unknown submission {name!r}: one of "
                 f"{', '.join(p.name for p in ALT_CORRECTS)}")
    print(f"{name} written to {materialise_alt_correct(Path(sys.argv[1]), FIXTURES / name)}")
