"""``class_report.html``: the report's plain data (:mod:`grader.class_report.aggregate`) as one
self-contained page.

Every figure is a PNG data URI, the style sheet is inline, there is no script, and a
``Content-Security-Policy`` forbids scripts and every load but those data images: the page
opens offline, from a mail attachment or a shared drive, and fetches nothing. Every string it
shows goes through :func:`grader.outputs.html.escape` here, where it is written: student names
and example messages (which hold exception texts) are student text.
"""

from __future__ import annotations

from typing import Any

from grader.i18n import current_lang, t
from grader.messages import MESSAGES
from grader.outputs.html import escape, page

#: no script runs, nothing loads but the inlined figures and the inline style sheet
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")
NO_VALUE = "—"

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #111; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #999; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
img { max-width: 100%; border: 1px solid #ccc; }
.note { color: #333; font-size: 95%; }
.rule { border-left: 4px solid #555; padding-left: 0.8em; }
details summary { cursor: pointer; }
nav ul { list-style: none; padding: 0; } nav li { display: inline; margin-right: 1em; }
@media print { nav { display: none; } section { page-break-inside: avoid; } }
"""


def _num(value: Any) -> str:
    if value is None:
        return NO_VALUE
    return f"{value:g}" if isinstance(value, (int, float)) else escape(value)


def _status(status: str, lang: str) -> str:
    key = f"label_{status}"
    return t(key, lang) if key in MESSAGES else status


def _statuses(counts: dict[str, int], lang: str) -> str:
    return escape(", ".join(f"{_status(s, lang)} {n}" for s, n in counts.items()))


def _who(entry: dict[str, Any], lang: str) -> str:
    """A cell with how many students and, when the report has names, who (folded)."""
    count = str(entry["students"])
    names = entry.get("names")
    if not names:
        return count
    items = "".join(f"<li>{escape(name)}</li>" for name in names)
    return f"<details><summary>{count}</summary><ul>{items}</ul></details>"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """``rows`` of cell markup under ``headers`` (plain text)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(figures: dict[str, tuple[str, str]], anchor: str) -> str:
    if anchor not in figures:
        return ""
    uri, alt = figures[anchor]
    return f'<figure><img src="{uri}" alt="{escape(alt)}" /></figure>'


def html_page(report: dict[str, Any], figures: dict[str, tuple[str, str]]) -> str:
    """The whole page, in the report's language."""
    lang = current_lang(report["lang"])
    e = escape
    source = report["source"]
    where = (t("cr_source_nbgrader", lang, assignment=source["assignment"])
             if source["kind"] == "nbgrader" else t("cr_source_autograde", lang))
    sections = [("revisit", "cr_section_revisit", _revisit(report, lang)),
                ("total", "cr_section_total", _total(report, figures, lang)),
                ("tasks", "cr_section_tasks", _tasks(report, figures, lang)),
                ("checks", "cr_section_checks", _checks(report, figures, lang)),
                ("diagnoses", "cr_section_diagnoses", _diagnoses(report, figures, lang)),
                ("lost", "cr_section_lost", _lost(report, lang)),
                ("not-counted", "cr_section_not_counted", _not_counted(report, lang))]
    body = [
        f"<h1>{e(t('cr_title', lang))}</h1>",
        f"<p><strong>{e(t('cr_summary', lang, source=where, **report['students']))}"
        "</strong></p>",
        f'<p class="note">{e(t("cr_names_shown" if report["names"] else "cr_names_hidden", lang))}'
        f" {e(t('cr_signed_only', lang))}</p>",
        "<nav><ul>" + "".join(f'<li><a href="#{anchor}">{e(t(key, lang))}</a></li>'
                              for anchor, key, _ in sections) + "</ul></nav>",
    ]
    for anchor, key, content in sections:
        body.append(f'<section id="{anchor}"><h2>{e(t(key, lang))}</h2>{content}</section>')
    return page(t("cr_title", lang), body, lang, _CSS,
                head=[f'<meta http-equiv="Content-Security-Policy" content="{CSP}" />'])


def _revisit(report: dict[str, Any], lang: str) -> str:
    revisit = report["revisit"]
    parts = [f'<p class="rule">{escape(revisit["rule"])}</p>']
    if not revisit["items"]:
        return "".join(parts) + f"<p>{escape(t('cr_no_revisit', lang))}</p>"
    rows = []
    for rank, item in enumerate(revisit["items"], start=1):
        what = (f"<code>{escape(item['id'])}</code>: {escape(item['what'])}"
                if item["kind"] == "diagnosis" else escape(item["what"]))
        if item.get("example_message"):
            what += (f'<br /><span class="note">{escape(t("cr_example_message", lang))}: '
                     f"{escape(item['example_message'])}</span>")
        rows.append([str(rank), what, escape(", ".join(item["tasks"])),
                     _num(item["points_lost"]), _who(item, lang)])
    parts.append(_table([t("cr_col_rank", lang), t("cr_col_what", lang),
                         t("cr_col_tasks", lang), t("cr_col_points_lost", lang),
                         t("cr_col_students", lang)], rows, {0, 3}))
    return "".join(parts)


def _total(report: dict[str, Any], figures: dict[str, tuple[str, str]], lang: str) -> str:
    total = report["total"]
    if not report["students"]["counted"]:
        return f"<p>{escape(t('cr_no_students', lang))}</p>"
    table = _table([t("cr_col_students", lang), t("cr_col_mean", lang),
                    t("cr_col_median", lang), t("cr_col_min", lang), t("cr_col_max", lang),
                    t("cr_col_out_of", lang)],
                   [[_num(report["students"]["counted"]), _num(total["mean"]),
                     _num(total["median"]), _num(total["min"]), _num(total["max"]),
                     _num(total["max_score"])]], {0, 1, 2, 3, 4, 5})
    return _figure(figures, "total") + table


def _tasks(report: dict[str, Any], figures: dict[str, tuple[str, str]], lang: str) -> str:
    rows = []
    for task in report["tasks"]:
        name = f"<code>{escape(task['id'])}</code> {escape(task['title'])}"
        if not task["graded"]:
            rows.append([name, _num(task["max_score"]), "0",
                         escape(t("cr_task_not_graded", lang)), "", "", "", ""])
            continue
        rows.append([name, _num(task["max_score"]), _num(task["graded"]), _num(task["mean"]),
                     _num(task["median"]), _num(task["full_marks"]), _num(task["zero"]),
                     _statuses(task["statuses"], lang)])
    table = _table([t("cr_col_task", lang), t("cr_col_max", lang), t("cr_col_graded", lang),
                    t("cr_col_mean", lang), t("cr_col_median", lang), t("cr_col_full", lang),
                    t("cr_col_zero", lang), t("cr_col_statuses", lang)], rows,
                   {1, 2, 3, 4, 5, 6})
    return _figure(figures, "tasks") + table


def _checks(report: dict[str, Any], figures: dict[str, tuple[str, str]], lang: str) -> str:
    rows = [[f"<code>{escape(task['id'])}</code>", f"<code>{escape(check['name'])}</code>",
             _num(check["max_score"]), _num(check["students"]), _num(check["passed"]),
             f"{100 * check['pass_rate']:.0f}%", _statuses(check["statuses"], lang)]
            for task in report["tasks"] for check in task["checks"]]
    if not rows:
        return f"<p>{escape(t('cr_no_students', lang))}</p>"
    table = _table([t("cr_col_task", lang), t("cr_col_check", lang), t("cr_col_max", lang),
                    t("cr_col_students", lang), t("cr_col_passed", lang),
                    t("cr_col_pass_rate", lang), t("cr_col_statuses", lang)], rows,
                   {2, 3, 4, 5})
    return _figure(figures, "checks") + table


def _diagnoses(report: dict[str, Any], figures: dict[str, tuple[str, str]], lang: str) -> str:
    if not report["diagnoses"]:
        return f"<p>{escape(t('cr_no_diagnoses', lang))}</p>"
    rows = [[f"<code>{escape(row['id'])}</code>", escape(row["description"]),
             escape(", ".join(row["tasks"])), _num(row["occurrences"]), _who(row, lang)]
            for row in report["diagnoses"]]
    table = _table([t("cr_col_diagnosis", lang), t("cr_col_description", lang),
                    t("cr_col_tasks", lang), t("cr_col_occurrences", lang),
                    t("cr_col_students", lang)], rows, {3})
    return _figure(figures, "diagnoses") + table


def _lost(report: dict[str, Any], lang: str) -> str:
    if not report["lost_runs"]:
        return f"<p>{escape(t('cr_no_lost', lang))}</p>"
    rows = [[f"<code>{escape(row['task'])}</code>", escape(_status(row["status"], lang)),
             escape(row["reason"]),
             ", ".join(f"<code>{escape(c['name'])}</code> ({c['count']})" for c in row["checks"]),
             _who(row, lang)] for row in report["lost_runs"]]
    return _table([t("cr_col_task", lang), t("cr_col_status", lang), t("cr_col_reason", lang),
                   t("cr_col_checks", lang), t("cr_col_students", lang)], rows)


def _not_counted(report: dict[str, Any], lang: str) -> str:
    if not report["not_counted"]:
        return f"<p>{escape(t('cr_none_not_counted', lang))}</p>"
    rows = [[escape(t(f"cr_nc_{row['reason']}", lang)), _who(row, lang)]
            for row in report["not_counted"]]
    return _table([t("cr_col_reason", lang), t("cr_col_students", lang)], rows)
