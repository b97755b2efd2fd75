"""``python -m grader similarity CLASS_DIR --out DIR [--starter DIR] [--threshold X] ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

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
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f"give a share between 0 and 1, got {number:g}")
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
    p = sub.add_parser(
        "similarity", help="pairs of students whose code is unusually alike (a report, "
                           "never part of a grade)",
        description="Compare every student's own code (their exercise files less the given "
                    "starter code) and write DIR/similarity.html (self-contained) and "
                    "DIR/similarity.csv: the most similar pairs, per file, with the matching "
                    "regions side by side. Uses copydetect (and datasketch's MinHash LSH to "
                    "pick the pairs to compare in a large class).")
    p.add_argument("class_dir", metavar="CLASS_DIR", help="folder with one subfolder per student")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--starter", default=None, metavar="DIR",
                   help="the starter code every student got (default: the kit's exercises/)")
    p.add_argument("--threshold", type=_fraction, default=0.5, metavar="X",
                   help="flag a pair whose score (the mean share of each one's code found in "
                        "the other's) reaches X (default 0.5)")
    p.add_argument("--min-tokens", type=int, default=100, metavar="N",
                   help="and that has at least N matched tokens (default 100)")
    p.add_argument("--prefilter", choices=("auto", "on", "off"), default="auto",
                   help="MinHash LSH pre-filter: on, off, or auto (on above 50,000 pairs)")
    p.add_argument("--top", type=int, default=50, metavar="N", help="pairs listed (default 50)")
    p.add_argument("--detail", type=int, default=20, metavar="N",
                   help="pairs shown with their code side by side (default 20)")
    p.add_argument("--jobs", type=int, default=None,
                   help="processes (default: the CPU count)")
    add_options(p, "--lang")
    p.set_defaults(func=_cmd_similarity)
