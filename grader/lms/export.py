"""``python -m grader export SOURCE --to canvas|moodle --roster ROSTER.csv --out FILE``.

Matches the source's students (:mod:`grader.lms.sources`) to the roster
(:mod:`grader.lms.roster`) and writes the LMS's import file (:mod:`grader.lms.formats`).
Nobody is left out in silence: students with no usable grade (a ``result.json`` that does
not check out, none yet, a submission awaiting manual grading, a link), students missing
from the roster and roster entries with no submission are all listed on stderr. Any of them
stops the export (exit 1, no file written) unless ``--allow-incomplete``: then the file holds
every student that could be matched, and the list says who is not in it. An id the
spreadsheet neutraliser had to change (it began with ``=``, ``+``, ``-``, ``@``...) is listed
too: the LMS will not find that student until the roster is fixed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.cli_language import helptext
from grader.i18n import t
from grader.lms.formats import Row, canvas_csv, feedback_lines, moodle_csv, neutralised
from grader.lms.roster import IDENTITIES, Roster, near_match, read_roster
from grader.lms.sources import LEFT_REASONS, Grades, open_source
from grader.options import UserError, add_options
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import terminal
from grader.textsafe import safe_name

#: names listed per line of the summary (then a count)
SHOWN_NAMES = 20
#: the order of the summary's lines; every one but ``neutralised`` stops the export
PROBLEMS = (*LEFT_REASONS, "not_in_roster", "no_submission", "neutralised")


@dataclass
class Export:
    """The file's text, and problem -> the names it concerns (as shown)."""

    text: str
    rows: int
    problems: dict[str, list[str]] = field(default_factory=dict)

    def blocking(self) -> bool:
        return any(v for k, v in self.problems.items() if k != "neutralised")


def build(grades: Grades, roster: Roster, lms: str, identity: str, title: str | None,
          lang: str | None) -> Export:
    """The import file for ``lms`` from ``grades`` and ``roster``, and what was left out."""
    problems: dict[str, list[str]] = {k: [grades.shown[n] for n in v]
                                      for k, v in grades.left.items()}
    names = [a.name for a in grades.assignments]
    if lms == "moodle" and len(names) != 1:
        raise UserError(t("lms_moodle_one_assignment", lang,
                          names=", ".join(safe_name(n) for n in names)))
    if title is not None and len(names) != 1:
        raise UserError(t("lms_title_one_assignment", lang))
    if title is not None:
        titles = [title]
    elif grades.kind == "results":
        titles = [t("lms_default_title", lang)]
    else:
        titles = names
    rows: list[Row] = []
    not_in_roster: list[str] = []
    for student in sorted(grades.grades):
        fields = roster.entries.get(student)
        if fields is None:
            hint = near_match(student, roster)
            shown = grades.shown[student]
            not_in_roster.append(shown if hint is None else
                                 t("lms_near_match", lang, name=shown, roster=safe_name(hint)))
            continue
        mine = grades.grades[student]
        scores = [mine[n].score if n in mine else None for n in names]
        first = mine.get(names[0])
        feedback = feedback_lines(first.tasks, lang) if first is not None else []
        rows.append(Row(fields, scores, feedback))
        checked = IDENTITIES["canvas"] + ("name",) if lms == "canvas" else (identity,)
        if any(neutralised(fields[f]) for f in checked):
            problems.setdefault("neutralised", []).append(grades.shown[student])
    if not_in_roster:
        problems["not_in_roster"] = not_in_roster
    # A roster entry with no grade at all, and not already listed with its reason.
    listed = {n for v in grades.left.values() for n in v}
    absent = [safe_name(f) for f in roster.entries if f not in grades.grades and f not in listed]
    if absent:
        problems["no_submission"] = absent
    if lms == "canvas":
        text = canvas_csv(titles, [a.points for a in grades.assignments], rows)
    else:
        text = moodle_csv(titles[0], identity, rows, lang)
    return Export(text, len(rows), {k: problems[k] for k in PROBLEMS if problems.get(k)})


def summary(export: Export, lang: str | None) -> list[str]:
    """One line per kind of problem: how many, and who (names escaped for the terminal)."""
    lines = []
    for kind, names in export.problems.items():
        shown = ", ".join(names[:SHOWN_NAMES])
        if len(names) > SHOWN_NAMES:
            shown += " " + t("lms_and_more", lang, count=len(names) - SHOWN_NAMES)
        lines.append(terminal(t(f"lms_problem_{kind}", lang, count=len(names), names=shown),
                              newlines=False))
    return lines


def _cmd_export(args: argparse.Namespace) -> int:
    lang = args.lang
    out = Path(args.out)
    source = Path(args.source)
    if out.resolve().is_relative_to(source.resolve()):
        # the file would land among the students' results (or the course's files)
        raise UserError(t("lms_out_inside_source", lang))
    identity = "canvas" if args.to == "canvas" else args.moodle_id
    roster = read_roster(Path(args.roster), identity, lang)
    grades = open_source(source, args.assignment, lang)
    export = build(grades, roster, args.to, identity, args.title, lang)
    for line in summary(export, lang):
        print(line, file=sys.stderr)
    if export.blocking() and not args.allow_incomplete:
        print(t("lms_not_written", lang, out=terminal(args.out, newlines=False)),
              file=sys.stderr)
        return 1
    write_atomic(out, export.text)
    print(terminal(t("lms_written", lang, rows=export.rows, out=args.out, lms=args.to),
                   newlines=False))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("export", help=helptext("cli_export"),
                       description=helptext("cli_export_description"))
    p.add_argument("source", help=helptext("cli_export_source"))
    p.add_argument("--to", required=True, choices=("canvas", "moodle"),
                   help=helptext("cli_export_to"))
    p.add_argument("--roster", required=True, metavar="ROSTER.csv",
                   help=helptext("cli_export_roster"))
    p.add_argument("--out", required=True, metavar="FILE", help=helptext("cli_export_out"))
    p.add_argument("--moodle-id", choices=("email", "idnumber"), default="email",
                   help=helptext("cli_export_moodle_id"))
    p.add_argument("--assignment", action="append", metavar="NAME",
                   help=helptext("cli_export_assignment"))
    p.add_argument("--title", default=None, help=helptext("cli_export_title"))
    p.add_argument("--allow-incomplete", action="store_true",
                   help=helptext("cli_export_allow_incomplete"))
    add_options(p, "--lang")
    p.set_defaults(func=_cmd_export)
