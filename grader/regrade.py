"""The regrade preview: ``autograde ROOT --out RESULTS --dry-run``, then ``--apply``.

After a fix to a check, a new kit version or late submissions, an instructor wants to know
whose grade moves before anything is overwritten. ``--dry-run`` grades into a *scratch*
folder (by default one per results folder, under ``~/.cache/practico2/regrade/``,
:func:`default_scratch`) and writes nothing under ``RESULTS``:

1. the scratch is made the picture of ``RESULTS`` after the regrade: every student whose
   signed result in ``RESULTS`` still holds (same kit, files and verdict options: the
   result's ``fingerprint``) is copied into it (:func:`seed_scratch`), students no longer in
   the class are taken out of it;
2. ``autograde`` runs on the scratch: it grades everyone else (a result already in the
   scratch that still holds, from an earlier ``--dry-run``, is kept), and writes the
   scratch's ``grades.csv`` and class report;
3. :func:`compare` sets each student's new result beside the earlier one and
   :func:`format_preview` prints whose score changes (old and new score, the checks whose
   status or points changed) and why: the kit, the submission (which files) or the options
   (which), read from each result's ``produced_by`` (:mod:`grader.outputs.provenance`).
   Only signed earlier results are compared; an unsigned one is listed as such.

``--apply`` is a normal run that first takes from the scratch every result that still holds
for this very run (:func:`take_from_scratch`: signed, the current fingerprint, and the same
options, time limit and language included), so what was previewed is written without being
graded again; anything else is graded. The scratch is removed once applied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.i18n import t
from grader.options import UserError
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import terminal
from grader.outputs.grades_csv import read_json
from grader.outputs.provenance import causes, changed_files, changed_options
from grader.outputs.signing import verify
from grader.statuses import label

__all__ = ["PREVIEW_NAME", "SCRATCH_MARKER", "STUDENT_FILES", "Change", "Preview",
           "check_scratch", "compare", "default_scratch", "format_preview", "make_scratch",
           "remove_scratch", "seed_scratch", "still_holds", "take_from_scratch"]

#: the files ``autograde`` writes per student; ``result.json`` last (it marks the student done)
STUDENT_FILES = ("feedback.md", "feedback.html", "results.json", "result.json")
#: the file that marks a folder as a scratch folder of this kit (never removed without it)
SCRATCH_MARKER = ".practico-regrade"
#: the preview, as data, in the scratch folder
PREVIEW_NAME = "preview.json"
#: how a verdict option is named to the reader
OPTION_NAMES = {"tasks": "--tasks", "device": "--device", "variant": "--variant",
                "secret": "$PRACTICO_SECRET"}
#: students named in one line of the preview, at most
NAMED = 20


def default_scratch(out: Path) -> Path:
    """The scratch folder of results folder ``out``: under ``$XDG_CACHE_HOME`` (else
    ``~/.cache``), ``practico2/regrade/<16 hex digits of the folder's absolute path>``: the
    same for a ``--dry-run`` and the ``--apply`` after it, another for every results folder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(os.fsencode(out.resolve())).hexdigest()[:16]
    return Path(base) / "practico2" / "regrade" / digest


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_scratch(scratch: Path, root: Path, out: Path) -> None:
    """A :class:`UserError` when the scratch folder and the class or the results folder hold
    one another (a student's files could pass for a previewed result, a preview for a
    student), or when it exists, holds something and is not a scratch folder of this kit."""
    where = scratch.resolve()
    for folder in (root, out):
        other = folder.resolve()
        if _inside(where, other) or _inside(other, where):
            raise UserError(key="err_scratch_overlaps", scratch=str(scratch), folder=str(folder))
    if where.is_dir() and any(where.iterdir()) and not (where / SCRATCH_MARKER).is_file():
        raise UserError(key="err_scratch_not_ours", scratch=str(scratch), marker=SCRATCH_MARKER)


def make_scratch(scratch: Path) -> None:
    """The scratch folder, made (private: it holds students' results) and marked as ours."""
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    (scratch / SCRATCH_MARKER).write_text("autograde --dry-run\n", encoding="utf-8")


def remove_scratch(scratch: Path) -> None:
    """Remove a scratch folder once applied (only one this kit marked as its own)."""
    if (scratch / SCRATCH_MARKER).is_file() and not scratch.is_symlink():
        shutil.rmtree(scratch, ignore_errors=True)


def _signed(results: Path, name: str, key: bytes) -> tuple[dict[str, Any] | None, bool]:
    """The result of student folder ``name`` in ``results`` when signed with ``key`` for that
    folder, and whether a file was there at all."""
    path = results / "students" / name / "result.json"
    if not path.exists() and not path.is_symlink():
        return None, False
    data = read_json(path)
    return (data if verify(key, name, data) else None), True


def still_holds(data: Any, fingerprint: str, record: dict[str, Any] | None = None) -> bool:
    """Whether a verified result ``data`` is what grading now would give: the same
    ``fingerprint`` (kit, files, verdict options) and, when ``record`` (the current
    ``produced_by``) is given, the same options in full (time limit and language too)."""
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint:
        return False
    if record is None:
        return True
    produced = data.get("produced_by")
    return isinstance(produced, dict) and produced.get("options") == record["options"]


def _copy_student(source: Path, target: Path, names: tuple[str, ...] = STUDENT_FILES) -> None:
    """A student's files (``names``) from one results folder to another, in that order:
    ``result.json`` last."""
    for name in names:
        path = source / name
        if path.is_file() and not path.is_symlink():
            write_atomic(target / name, path.read_bytes())


def seed_scratch(names: Iterable[str], out: Path, scratch: Path, key: bytes,
                 fingerprints: dict[str, str]) -> list[str]:
    """Copy into the scratch every student whose signed result in ``out`` still holds
    (``fingerprints``: each folder's current fingerprint), and take out of it the students
    no longer in the class; returns the names copied. Nothing under ``out`` is written."""
    names = list(names)
    copied = []
    for name in names:
        data, _ = _signed(out, name, key)
        if data is not None and still_holds(data, fingerprints[name]):
            _copy_student(out / "students" / name, scratch / "students" / name)
            copied.append(name)
    students = scratch / "students"
    if students.is_dir():
        keep = set(names)
        for entry in students.iterdir():
            if entry.name not in keep and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
    return copied


def take_from_scratch(names: Iterable[str], out: Path, scratch: Path, key: bytes,
                      records: dict[str, dict[str, Any]], fingerprints: dict[str, str]
                      ) -> list[str]:
    """``--apply``: write into ``out`` each previewed result that still holds for this run
    (:func:`still_holds` with the current record, so the same time limit and language too),
    unless ``out`` already holds one that does; returns the names taken. The bytes verified
    are the bytes written."""
    taken = []
    for name in names:
        mine, _ = _signed(out, name, key)
        if mine is not None and still_holds(mine, fingerprints[name]):
            continue
        source = scratch / "students" / name
        raw = _read_bytes(source / "result.json")
        try:
            data = json.loads(raw.decode("utf-8")) if raw is not None else None
        except (UnicodeDecodeError, ValueError):
            data = None
        if not (verify(key, name, data) and still_holds(data, fingerprints[name],
                                                        records[name])):
            continue
        target = out / "students" / name
        _copy_student(source, target, STUDENT_FILES[:-1])
        write_atomic(target / "result.json", raw)  # the bytes verified, not a second read
        taken.append(name)
    return taken


def _read_bytes(path: Path) -> bytes | None:
    try:
        if path.is_symlink():
            return None
        return path.read_bytes()
    except OSError:
        return None


@dataclass
class Change:
    """One student whose score changes: ``old`` and ``new`` as ``score/max``, ``causes``
    (:data:`grader.outputs.provenance.CAUSES`), the ``files`` and ``options`` that differ, and
    every check whose status or points changed (``task``, ``check``, ``old``, ``new``: each
    ``{"status", "score", "max_score"}`` or None where the check was not graded)."""

    student: str
    old: list[float]
    new: list[float]
    causes: list[str]
    files: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Preview:
    """What a ``--dry-run`` found, student by student (their names as every output shows them)."""

    out: str
    scratch: str
    total: int
    changed: list[Change] = field(default_factory=list)
    same_score: list[str] = field(default_factory=list)
    unchanged: int = 0
    new: list[dict[str, Any]] = field(default_factory=list)
    unsigned: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _checks(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    tasks = data.get("tasks") if isinstance(data.get("tasks"), dict) else {}
    for task, entry in tasks.items():
        checks = entry.get("checks") if isinstance(entry, dict) else None
        if not isinstance(checks, dict):
            continue
        for name, check in checks.items():
            if isinstance(check, dict):
                found[(str(task), str(name))] = {"status": check.get("status"),
                                                 "score": check.get("score"),
                                                 "max_score": check.get("max_score")}
    return found


def changed_checks(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check whose status or points differ between two results, in the new result's
    order (then those only the old one graded)."""
    a, b = _checks(old), _checks(new)
    order = [*b, *(k for k in a if k not in b)]
    return [{"task": task, "check": check, "old": a.get((task, check)),
             "new": b.get((task, check))}
            for task, check in order if a.get((task, check)) != b.get((task, check))]


def _score(data: dict[str, Any]) -> list[float]:
    return [data.get("score"), data.get("max_score")]


def compare(names: Iterable[str], out: Path, scratch: Path, key: bytes,
            shown: dict[str, str], errors: Iterable[str] = ()) -> Preview:
    """Each student's result in the scratch beside their earlier one in ``out``."""
    names = list(names)
    errors = set(errors)
    preview = Preview(out=str(out), scratch=str(scratch), total=len(names))
    for name in names:
        who = shown.get(name, name)
        new, _ = _signed(scratch, name, key)
        if new is None:
            if name in errors:
                preview.errors.append(who)
            continue
        old, present = _signed(out, name, key)
        if old is None:
            if present:
                preview.unsigned.append(who)
            else:
                preview.new.append({"student": who, "score": _score(new)})
            continue
        if _score(old) == _score(new):
            if old.get("fingerprint") == new.get("fingerprint"):
                preview.unchanged += 1
            else:
                preview.same_score.append(who)
            continue
        preview.changed.append(Change(who, _score(old), _score(new), causes(old, new),
                                      changed_files(old, new), changed_options(old, new),
                                      changed_checks(old, new)))
    return preview


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else "?"


def _points(score: list[Any]) -> str:
    return f"{_number(score[0])}/{_number(score[1])}"


def _names(names: list[str], lang: str | None) -> str:
    shown = ", ".join(names[:NAMED])
    if len(names) > NAMED:
        shown = t("ag_and_more", lang, names=shown, count=len(names) - NAMED)
    return shown


def _why(change: Change, lang: str | None) -> str:
    parts = []
    for cause in change.causes:
        if cause == "submission":
            parts.append(t("rg_cause_submission", lang, files=", ".join(change.files)))
        elif cause == "options":
            parts.append(t("rg_cause_options", lang, options=", ".join(
                OPTION_NAMES.get(o, o) for o in change.options)))
        else:
            parts.append(t(f"rg_cause_{cause}", lang))
    return t("rg_and", lang).join(parts)


def _state(state: dict[str, Any] | None, lang: str | None) -> str:
    if state is None:
        return t("rg_check_absent", lang)
    return t("rg_check_state", lang, status=label(str(state.get("status")), lang),
             score=_number(state.get("score")), max=_number(state.get("max_score")))


def format_preview(preview: Preview, lang: str | None, apply_command: str) -> str:
    """The preview as the terminal shows it (escaped where it is written)."""
    lines = [t("rg_title", lang, out=preview.out)]
    if preview.changed:
        lines.append(t("rg_changes", lang, count=len(preview.changed), total=preview.total))
        for change in preview.changed:
            lines.append(t("rg_student", lang, name=change.student, old=_points(change.old),
                           new=_points(change.new), why=_why(change, lang)))
            for check in change.checks:
                lines.append(t("rg_check", lang, task=check["task"], check=check["check"],
                               old=_state(check["old"], lang), new=_state(check["new"], lang)))
    else:
        graded = preview.total - preview.unchanged - len(preview.errors)
        lines.append(t("rg_none_changes", lang, graded=graded, total=preview.total))
    if preview.same_score:
        lines.append(t("rg_same_score", lang, count=len(preview.same_score),
                       names=_names(preview.same_score, lang)))
    if preview.unchanged:
        lines.append(t("rg_unchanged", lang, count=preview.unchanged))
    if preview.new:
        lines.append(t("rg_new", lang, count=len(preview.new), names=_names(
            [f"{n['student']} ({_points(n['score'])})" for n in preview.new], lang)))
    if preview.unsigned:
        lines.append(t("rg_unsigned", lang, count=len(preview.unsigned),
                       names=_names(preview.unsigned, lang)))
    if preview.errors:
        lines.append(t("rg_errors", lang, count=len(preview.errors),
                       names=_names(preview.errors, lang)))
    lines.append(t("rg_where", lang, scratch=preview.scratch, out=preview.out))
    lines.append(f"    {apply_command}")
    return terminal("\n".join(lines))


def write_preview(preview: Preview, scratch: Path) -> Path:
    """``preview.json`` in the scratch folder: the preview as data."""
    path = scratch / PREVIEW_NAME
    write_atomic(path, json.dumps(preview.as_json(), ensure_ascii=False, indent=1) + "\n")
    return path
