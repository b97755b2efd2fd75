"""The roster: one row per student, mapping the kit's name for them to the LMS's identity.

A CSV file with a header row, UTF-8 (a byte-order mark, as Excel writes one, is fine), comma-,
semicolon- or tab-separated. Its columns, matched without regard to case or extra spaces:

- ``folder`` (always): the student's folder name in the class (an ``autograde`` results
  folder keeps it: ``students/<folder>/``), or the nbgrader student id;
- Canvas: ``Student`` (the name Canvas shows), ``ID`` (Canvas's user id), ``SIS User ID``,
  ``SIS Login ID``, ``Section`` -- the first five columns of Canvas's own gradebook export,
  so that export with a ``folder`` column added is a roster. Each row needs at least one of
  ``ID``, ``SIS User ID``, ``SIS Login ID`` (Canvas finds the student by them);
- Moodle: ``Email address`` (or ``email``) and/or ``ID number`` (or ``idnumber``): the one
  named by ``--moodle-id`` must be filled in on every row.

A roster that cannot be read without guessing is a :class:`~grader.options.UserError` naming
the rows: a row without a folder, one folder twice, one LMS identity on two rows.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from grader.i18n import t
from grader.options import UserError
from grader.textsafe import safe_name, safe_text

#: a roster larger than this is not a class list (and is not read into memory)
MAX_ROSTER_BYTES = 16 * 1024 * 1024
#: rows named in one error message (then a count)
SHOWN_ROWS = 10

#: the roster's columns: canonical name -> the headers accepted for it (normalised)
COLUMNS: dict[str, tuple[str, ...]] = {
    "folder": ("folder",),
    "name": ("student",),
    "canvas_id": ("id",),
    "sis_user_id": ("sis user id",),
    "sis_login_id": ("sis login id",),
    "section": ("section",),
    "email": ("email address", "email"),
    "idnumber": ("id number", "idnumber"),
}
#: the fields that identify a student in each LMS (a value may not repeat across rows)
IDENTITIES = {"canvas": ("canvas_id", "sis_user_id", "sis_login_id"),
              "email": ("email",), "idnumber": ("idnumber",)}


@dataclass
class Roster:
    """``entries``: folder -> its row's fields (canonical names, missing ones empty)."""

    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    #: folder -> row number in the file (the header is row 1), for messages
    rows: dict[str, int] = field(default_factory=dict)


def _normal(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").split()).casefold()


def _delimiter(first_line: str) -> str:
    """``,`` unless the header holds only semicolons (Excel in a comma-decimal locale) or
    only tabs."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN_ROWS])
    return shown + (f" (+{len(items) - SHOWN_ROWS})" if len(items) > SHOWN_ROWS else "")


def read_roster(path: Path, identity: str, lang: str | None) -> Roster:
    """The roster at ``path`` for ``identity`` (``canvas``, ``email`` or ``idnumber``): every
    row checked, or a :class:`UserError` that says which rows and how to fix them."""
    where = safe_name(str(path))
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_ROSTER_BYTES + 1)
    except OSError as exc:
        raise UserError(t("lms_roster_unreadable", lang, path=where,
                          reason=exc.strerror or type(exc).__name__)) from None
    if len(raw) > MAX_ROSTER_BYTES:
        raise UserError(t("lms_roster_too_big", lang, path=where,
                          mib=MAX_ROSTER_BYTES // (1024 * 1024)))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(t("lms_roster_not_utf8", lang, path=where, offset=exc.start)) from None
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter=_delimiter(text.split("\n", 1)[0]))
    try:
        table = list(reader)
    except csv.Error as exc:
        raise UserError(t("lms_roster_bad_csv", lang, path=where,
                          reason=safe_text(exc, 200, newlines=False))) from None
    if not table:
        raise UserError(t("lms_roster_empty", lang, path=where))
    header = [_normal(h) for h in table[0]]
    index: dict[str, int] = {}
    for name, accepted in COLUMNS.items():
        for i, h in enumerate(header):
            if h in accepted and name not in index:
                index[name] = i
    if "folder" not in index:
        raise UserError(t("lms_roster_no_folder", lang, path=where))
    needed = {"canvas": ("canvas_id", "sis_user_id", "sis_login_id"),
              "email": ("email",), "idnumber": ("idnumber",)}[identity]
    if not any(n in index for n in needed):
        raise UserError(t(f"lms_roster_no_{identity}", lang, path=where))

    roster = Roster()
    blank_folder: list[str] = []
    no_identity: list[str] = []
    twice: list[str] = []
    seen_ids: dict[tuple[str, str], int] = {}
    same_id: list[str] = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # an empty line (a spreadsheet's trailing rows)
        values = {name: (cells[i].strip() if i < len(cells) else "")
                  for name, i in index.items()}
        values = {name: values.get(name, "") for name in COLUMNS}
        folder = values["folder"]
        if not folder:
            blank_folder.append(str(number))
            continue
        if not any(values[n] for n in needed):
            no_identity.append(f"{number} ({safe_name(folder)})")
            continue
        if folder in roster.entries:
            twice.append(f"{safe_name(folder)} ({roster.rows[folder]}, {number})")
            continue
        for name in IDENTITIES[identity]:
            # Canvas's user id is a number: "0042" and "42" are one user there.
            value = values[name]
            key = (name, (value.lstrip("0") or "0") if name == "canvas_id" else value)
            if value and key in seen_ids:
                same_id.append(f"{name} {safe_text(value, 80, newlines=False)} "
                               f"({seen_ids[key]}, {number})")
            elif value:
                seen_ids[key] = number
        roster.entries[folder] = values
        roster.rows[folder] = number
    problems = []
    if blank_folder:
        problems.append(t("lms_roster_blank_folder", lang, rows=_listed(blank_folder)))
    if no_identity:
        problems.append(t(f"lms_roster_row_without_{identity}", lang,
                          rows=_listed(no_identity)))
    if twice:
        problems.append(t("lms_roster_folder_twice", lang, rows=_listed(twice)))
    if same_id:
        problems.append(t("lms_roster_identity_twice", lang, rows=_listed(same_id)))
    if problems:
        raise UserError(t("lms_roster_problems", lang, path=where) + " " + " ".join(problems))
    return roster


def near_match(folder: str, roster: Roster) -> str | None:
    """A roster folder that reads the same as ``folder`` once both are in Unicode's composed
    form (a Mac writes ``José`` decomposed): a hint, never matched silently."""
    want = unicodedata.normalize("NFC", folder)
    for name in roster.entries:
        if name != folder and unicodedata.normalize("NFC", name) == want:
            return name
    return None
