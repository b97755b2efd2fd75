"""Each student's own code: their exercise files, read as grading reads them, less the starter.

The files come from :func:`grader.submission.collect_files` (only the kit's module
names, each under 1 MiB and all under 2 MiB, never through a link), and the student folders
from :func:`grader.autograde.student_folders` (a folder that is a link is listed, never
followed). Bytes that are not UTF-8 are read as U+FFFD and the file is noted.

What a student wrote is what their file has beyond the starter file of the same name: the
lines a line diff (``difflib``) finds inserted or changed against ``exercises/<file>``. Only
those are compared, each run headed by a comment with its file and line numbers. Were the
whole files compared, every pair would share the given code around each TODO, and a
fingerprint spanning the end of a given docstring and the first line of a solution (which
nearly every student starts the same way) would count as copied.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from grader.i18n import render_reason
from grader.tasks import MODULES

#: the compared files, in the practical's order
FILES: tuple[str, ...] = tuple(f"{module}.py" for module in dict.fromkeys(MODULES))


@dataclass
class Student:
    """One student folder. ``own``: file -> the student's own lines (with their run headers);
    ``problems``: file -> why it was not read (rendered); ``not_utf8``: files read with
    U+FFFD for bytes that are not UTF-8; ``digest``: of every graded file's bytes (two equal
    digests: identical submissions)."""

    name: str
    own: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    not_utf8: list[str] = field(default_factory=list)
    digest: str = ""


def decode(data: bytes) -> tuple[str, bool]:
    """The text of a file, and whether it was valid UTF-8 (a byte-order mark is dropped)."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), False


def own_lines(starter: str | None, text: str, file: str) -> str:
    """The lines of ``text`` that are not ``starter``'s (trailing blanks ignored), as runs,
    each after a ``# <file>:<first>-<last>`` line; the whole file when there is no starter."""
    lines = text.splitlines()
    if starter is None:
        return f"# {file}:1-{len(lines)}\n" + "\n".join(lines) + "\n" if lines else ""
    given = [line.rstrip() for line in starter.splitlines()]
    matcher = difflib.SequenceMatcher(None, given, [line.rstrip() for line in lines],
                                      autojunk=False)
    out: list[str] = []
    for op, _, _, j1, j2 in matcher.get_opcodes():
        if op in ("insert", "replace") and any(line.strip() for line in lines[j1:j2]):
            out.append(f"# {file}:{j1 + 1}-{j2}")
            out.extend(lines[j1:j2])
    return "\n".join(out) + "\n" if out else ""


def read_starter(folder: Path) -> dict[str, str]:
    """The starter files (``exercises/``), read like a submission."""
    from grader.submission import collect_files

    files, _ = collect_files(folder)
    return {name: decode(data)[0] for name, data in files.items()}


def read_student(folder: Path, starter: dict[str, str], lang: str | None) -> Student:
    """What :class:`Student` holds for one folder (its name as on disk)."""
    from grader.submission import collect_files

    files, problems = collect_files(folder)
    student = Student(folder.name)
    student.problems = {name: render_reason(why, lang) or "—" for name, why in problems.items()}
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
        text, utf8 = decode(files[name])
        if not utf8:
            student.not_utf8.append(name)
        own = own_lines(starter.get(name), text, name)
        if own:
            student.own[name] = own
    student.digest = digest.hexdigest() if files else ""
    return student
