"""``python -m grader similarity CLASS_DIR --out DIR [--starter DIR] [--threshold X] ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from grader.cli_language import helptext, say
from grader.i18n import t
from grader.options import UserError, add_options
from grader.outputs.escape import terminal

#: the kit's starter code: what every student was given
KIT_STARTER = Path(__file__).resolve().parent.parent.parent / "exercises"
#: flagged pairs named on the terminal (the report has them all)
SHOWN_FLAGGED = 10


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(say("ap_not_a_number", value=repr(value))) from None
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(say("ap_share", number=f"{number:g}"))
    return number


def _cmd_similarity(args: argparse.Namespace) -> int:
    import importlib.util

    lang = args.lang
    from grader.autograde import student_folders
    from grader.similarity.collect import read_starter, read_student
    from grader.similarity.engine import find_pairs, fingerprints
    from grader.similarity.report import Context, write_reports
    from grader.textsafe import display_names

    root, out = Path(args.class_dir), Path(args.out)
    starter_dir = Path(args.starter) if args.starter else KIT_STARTER
    if not starter_dir.is_dir():
        raise UserError(t("sim_no_starter", lang, path=terminal(starter_dir, newlines=False)))
    found = student_folders(root, out)  # the same checks and link policy as autograde
    if not all(importlib.util.find_spec(m) for m in ("copydetect", "datasketch")):
        raise UserError(t("sim_not_installed", lang))
    starter = read_starter(starter_dir)
    students = [read_student(folder, starter, lang) for folder in found.folders]
    shown = display_names([*(s.name for s in students), *found.links])
    prefilter = {"auto": None, "on": True, "off": False}[args.prefilter]
    result = find_pairs(students, starter, threshold=args.threshold,
                        min_tokens=args.min_tokens, prefilter=prefilter, jobs=args.jobs)
    ctx = Context(students, shown, [shown[n] for n in found.links], args.threshold,
                  args.min_tokens, lang)
    html_path, csv_path = write_reports(out, result, ctx, fingerprints(), args.top,
                                        args.detail)
    for link in found.links:
        print(terminal(t("sim_link_terminal", lang, name=shown[link]), newlines=False),
              file=sys.stderr)
    flagged = [p for p in result.pairs if p.flagged]
    print(terminal(t("sim_summary", lang, students=len(students), compared=result.compared,
                     flagged=len(flagged), seconds=f"{result.seconds['total']:.1f}",
                     html=html_path, csv=csv_path), newlines=False))
    for p in flagged[:SHOWN_FLAGGED]:
        a, b = shown[students[p.a].name], shown[students[p.b].name]
        print(terminal(f"  {a} — {b}: {100 * p.score:.0f}%"
                       + (f" ({t('sim_identical', lang)})" if p.identical else ""),
                       newlines=False))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("similarity", help=helptext("cli_similarity"),
                       description=helptext("cli_similarity_description"))
    p.add_argument("class_dir", metavar="CLASS_DIR", help=helptext("cli_similarity_class"))
    p.add_argument("--out", required=True, metavar="DIR", help=helptext("cli_similarity_out"))
    p.add_argument("--starter", default=None, metavar="DIR",
                   help=helptext("cli_similarity_starter"))
    p.add_argument("--threshold", type=_fraction, default=0.5, metavar="X",
                   help=helptext("cli_similarity_threshold"))
    p.add_argument("--min-tokens", type=int, default=100, metavar="N",
                   help=helptext("cli_similarity_min_tokens"))
    p.add_argument("--prefilter", choices=("auto", "on", "off"), default="auto",
                   help=helptext("cli_similarity_prefilter"))
    p.add_argument("--top", type=int, default=50, metavar="N",
                   help=helptext("cli_similarity_top"))
    p.add_argument("--detail", type=int, default=20, metavar="N",
                   help=helptext("cli_similarity_detail"))
    p.add_argument("--jobs", type=int, default=None, help=helptext("cli_similarity_jobs"))
    add_options(p, "--lang")
    p.set_defaults(func=_cmd_similarity)
