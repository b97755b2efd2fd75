"""The class report for the instructor: ``class_report.html`` and ``class_report.json``.

``python -m grader class-report RESULTS_DIR [--lang es|en] [--names]`` writes both beside
``grades.csv`` from the signed ``result.json`` of every student; ``autograde`` calls
:func:`write_class_report` at the end of a run. Given an nbgrader course folder instead, it
reads each student's result stored beside the autograded notebook
(:data:`grader.class_report.sources.NBGRADER_RESULT_NAME`) and writes the report to
``COURSE/reports/<assignment>/``.

- :mod:`.sources`: which results there are and which count (signed ones only);
- :mod:`.aggregate`: the counts, as the plain data ``class_report.json`` holds;
- :mod:`.figures`: the matplotlib figures (grayscale-readable, with alt text);
- :mod:`.render`: the self-contained page.

Without ``--names`` the report holds counts and no student name (it can be shown in class);
with it, each list of students says who.
"""

from __future__ import annotations

import argparse
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.cli_language import helptext
from grader.options import UserError, add_options

HTML_NAME = "class_report.html"
JSON_NAME = "class_report.json"
#: where the report of a course's assignment goes, under the course folder
COURSE_REPORTS = "reports"


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Reading a class makes millions of small containers and no reference cycle: the cyclic
    collector's passes over them are wasted work (2,000 students: reading and counting take
    1.1 s of CPU instead of 2.1 s, ``bench/class_report.py``). Reference counting still frees
    everything; the collector is back on when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build(source: Any, lang: str | None, names: bool = False) -> tuple[dict[str, Any], str]:
    """(the report's data, its page) from a :class:`~grader.class_report.sources.Source`."""
    from grader.class_report.aggregate import aggregate
    from grader.class_report.figures import draw_all
    from grader.class_report.render import html_page
    from grader.i18n import current_lang, t

    lang = current_lang(lang)
    report = aggregate(source, lang, names)
    figures = draw_all(report, lambda key, **values: t(key, lang, **values))
    return report, html_page(report, figures)


def _write(out: Path, report: dict[str, Any], page: str) -> tuple[Path, Path]:
    from grader.outputs.atomic import write_atomic

    json_path, html_path = out / JSON_NAME, out / HTML_NAME
    write_atomic(json_path, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    write_atomic(html_path, page)
    return html_path, json_path


def write_class_report(results_dir: str | Path, lang: str | None = None, names: bool = False,
                       *, key: bytes | None = None) -> tuple[Path, Path]:
    """Write ``class_report.html`` and ``class_report.json`` into an ``autograde`` results
    folder (beside ``grades.csv``); returns their paths. ``key``: the results key (default:
    :func:`grader.outputs.signing.load_key`, as ``autograde`` uses it)."""
    from grader.class_report.sources import read_results_folder
    from grader.outputs.signing import load_key

    results_dir = Path(results_dir)
    if not (results_dir / "students").is_dir():
        raise UserError(f"{results_dir}: not a results folder of `autograde` (it has no "
                        "students/ folder). Give the --out folder of an autograde run.")
    key = load_key([results_dir]) if key is None else key
    with _no_cycle_collection():
        report, page = build(read_results_folder(results_dir, key), lang, names)
    return _write(results_dir, report, page)


def write_course_report(course: str | Path, assignment: str | None = None,
                        lang: str | None = None, names: bool = False, *,
                        key: bytes | None = None, out: Path | None = None
                        ) -> tuple[Path, Path]:
    """The report of an nbgrader course's assignment, into ``out`` (default
    ``COURSE/reports/<assignment>/``); returns the two paths."""
    from grader.class_report.sources import read_course
    from grader.outputs.signing import load_key

    course = Path(course)
    # the course holds students' submissions: the key may not lie anywhere in it
    key = load_key([course]) if key is None else key
    with _no_cycle_collection():
        source = read_course(course, assignment, key)
        report, page = build(source, lang, names)
    return _write(out or course / COURSE_REPORTS / str(source.assignment), report, page)


def _cmd_class_report(args: argparse.Namespace) -> int:
    from grader.outputs.escape import terminal

    where = Path(args.folder)
    if not where.is_dir():
        raise UserError(f"{where}: no such folder. Give an autograde results folder (the "
                        "--out of autograde) or an nbgrader course folder.")
    if (where / "students").is_dir():
        if args.assignment:
            raise UserError("--assignment is for an nbgrader course folder; "
                            f"{where} is an autograde results folder.")
        paths = write_class_report(where, args.lang, args.names)
    elif (where / "autograded").is_dir():
        paths = write_course_report(where, args.assignment, args.lang, args.names)
    else:
        raise UserError(f"{where}: neither an autograde results folder (with students/) nor "
                        "an nbgrader course folder (with autograded/).")
    print(terminal(f"class report written: {paths[0]} and {paths[1]}", newlines=False))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("class-report", help=helptext("cli_class_report"),
                       description=helptext("cli_class_report"))
    p.add_argument("folder", metavar="RESULTS_DIR", help=helptext("cli_class_report_folder"))
    add_options(p, "--lang")
    p.add_argument("--names", action="store_true", help=helptext("cli_class_report_names"))
    p.add_argument("--assignment", default=None, metavar="NAME",
                   help=helptext("cli_class_report_assignment"))
    p.set_defaults(func=_cmd_class_report)
