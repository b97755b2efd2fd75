"""``results.json``, ``report.md`` and a self-contained ``report.html`` from a run's records.

The three are rewritten after every experiment, so an interrupted or crashed run
still leaves a report of everything that finished. Student text (exception and issue
messages, what the code printed, the implementation's path) reaches each through that
output's escaper, applied here: code spans in ``report.md`` (:func:`md_code`), entities in
``report.html`` (:func:`escape`), spelled-out controls on the terminal (:func:`terminal`).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from grader.experiments.alt_text import figure_alt
from grader.experiments.catalogue import MNIST_IDS, SEED_TEST_ACC
from grader.experiments.section7 import run_names
from grader.i18n import t
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import md_code, md_text, terminal
from grader.outputs.html import escape, page
from grader.outputs.results import write_json_atomic

NO_VALUE = "—"


def _fmt(value: float | None, digits: int = 3) -> str:
    return NO_VALUE if value is None else f"{value:.{digits}f}"


def status_label(status: str, lang: str | None) -> str:
    return t(f"exp_status_{status}", lang)


def our_result(exp_id: str, entry: dict[str, Any], lang: str | None) -> str:
    """The 'our test accuracy' cell of one experiment."""
    data = entry.get("data", {})
    if exp_id == "lr_sweep" and "best_lr" in data:
        return f"lr={data['best_lr']:g}: {_fmt(data.get('best_val_acc'))}"
    if exp_id == "exploding" and "accuracy_by_run" in data:
        return _exploding_result(data, lang)
    if exp_id in MNIST_IDS:
        return _fmt(data.get("test_acc"))
    if exp_id == "parity":
        parts = [f"{t(f'exp_fig_{k}', lang)} {_fmt(data[k]['final_test_acc'])}"
                 for k in ("shallow", "deep") if k in data]
        return " · ".join(parts) or NO_VALUE
    if exp_id == "parity_scaling" and data.get("bits"):
        parts = []
        for kind in ("shallow", "deep"):
            values = data.get(f"{kind}_final_test_acc") or []
            if any(v is not None for v in values):
                parts.append(f"{t(f'exp_fig_{kind}', lang)} "
                             + "/".join(_fmt(v, 2) for v in values))
        bits = "/".join(str(b) for b in data["bits"])
        return " · ".join(parts) + f" ({t('exp_bits_suffix', lang, bits=bits)})"
    return NO_VALUE


def _exploding_result(data: dict[str, Any], lang: str | None) -> str:
    """Each run's test accuracy, or where it diverged when it ended without one."""
    names = run_names(lambda key, /, **values: t(key, lang, **values))
    where = data.get("diverged_step") or {}
    parts = []
    for key, acc in data["accuracy_by_run"].items():
        if acc is None and where.get(key) is not None:
            shown = t("exp_diverged_step", lang, k=where[key])
        else:
            shown = _fmt(acc)
        parts.append(f"{names.get(key, key)}: {shown}")
    return " · ".join(parts)


def table_rows(results: dict[str, Any], lang: str | None) -> list[list[str]]:
    """Header then one row per experiment: title, ours, the seed's, seconds, status."""
    rows = [[t("exp_col_experiment", lang), t("exp_col_ours", lang), t("exp_col_seed", lang),
             t("exp_col_time", lang), t("exp_col_status", lang)]]
    for exp_id, entry in results["experiments"].items():
        seed = SEED_TEST_ACC.get(exp_id)
        rows.append([t(f"exp_title_{exp_id}", lang), our_result(exp_id, entry, lang),
                     _fmt(seed), f"{entry['seconds']:.1f}",
                     status_label(entry["status"], lang)])
    return rows


def text_table(results: dict[str, Any], lang: str | None) -> str:
    """The table for the terminal, columns padded, every cell escaped for a terminal."""
    rows = [[terminal(cell, newlines=False) for cell in row]
            for row in table_rows(results, lang)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _intro(results: dict[str, Any], lang: str | None) -> str:
    meta = results["meta"]
    budget = meta["budget"]
    key = "exp_budget_quick" if budget["quick"] else "exp_budget_full"
    train = budget["train_limit"] or 54000
    budget_text = t(key, lang, epochs=budget["mnist_epochs"], train=train,
                    parity_epochs=budget["parity_epochs"])
    state = "" if meta["finished"] else " " + t("exp_unfinished", lang)
    # The run's wall time, start to end: with --jobs N the experiments' own times add up to
    # more (they overlap), and the table shows each of them.
    return t("exp_report_intro", lang, impl=meta["impl"], device=meta["device"],
             budget=budget_text, seconds=f"{meta['total_seconds']:.0f}",
             jobs=meta.get("jobs", 1)) + state


#: a figure file name as the kit writes them: the only thing report.md links to
_FIGURE_NAME = re.compile(r"[a-z0-9_]+\.png")


def markdown(results: dict[str, Any], lang: str | None) -> str:
    """``report.md``: the table, the problems, then every figure (relative links).

    The intro (which names the implementation's folder), every problem and note (which hold
    exception texts and values) are code spans; the kit's labels and numbers are escaped
    text; the only links are the kit's own figure files.
    """
    m = md_text
    lines = [f"# {m(t('exp_report_title', lang))}", "", md_code(_intro(results, lang)), ""]
    rows = table_rows(results, lang)
    lines.append("| " + " | ".join(m(c) for c in rows[0]) + " |")
    lines.append("|" + "|".join(["---", "---:", "---:", "---:", "---"]) + "|")
    for row in rows[1:]:
        lines.append("| " + " | ".join(m(c) for c in row) + " |")
    lines += ["", f"## {m(t('exp_section_tasks', lang))}", ""]
    lines.append(f"| {m(t('exp_col_task', lang))} | {m(t('exp_col_status', lang))} |")
    lines.append("|---|---|")
    for task_id, info in results["tasks"].items():
        lines.append(f"| {md_code(task_id, in_table=True)} | "
                     f"{m(status_label(info['status'], lang))} |")
    lines += ["", m(t("exp_tasks_note", lang), line_start=True)]
    problems = [(exp_id, issue) for exp_id, entry in results["experiments"].items()
                for issue in entry["issues"]]
    if problems:
        lines += ["", f"## {m(t('exp_section_problems', lang))}", ""]
        for exp_id, issue in problems:
            lines.append(f"- **{m(t(f'exp_title_{exp_id}', lang))}**: "
                         f"{md_code(issue['message'])}")
    notes = [(exp_id, n) for exp_id, e in results["experiments"].items() for n in e["notes"]]
    if notes:
        lines += ["", f"## {m(t('exp_section_notes', lang))}", ""]
        lines += [f"- **{m(t(f'exp_title_{e}', lang))}**: {md_code(n)}" for e, n in notes]
    lines += ["", f"## {m(t('exp_section_figures', lang))}", ""]
    figures = [(exp_id, name)
               for exp_id, entry in results["experiments"].items() for name in entry["figures"]]
    figures += [(None, name) for name in results["summary"].get("figures", [])]
    for exp_id, name in figures:
        if _FIGURE_NAME.fullmatch(name):
            lines.append(f"![{m(figure_alt(name, exp_id, results, lang))}]({name})")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; } .partial { color: #9a6700; } .not_implemented { color: #6e7781; }
.error { color: #cf222e; } .not_run { color: #6e7781; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
pre { background: #f6f8fa; padding: 0.7em; overflow-x: auto; font-size: 85%; }
li.issue { margin: 0.3em 0; }
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}" />'


def html_report(results: dict[str, Any], out: Path, lang: str | None) -> str:
    """``report.html``: one file, every figure inlined as a base64 PNG, all text escaped.

    Written as well-formed XHTML-compatible markup (every tag closed), so any XML
    parser can read it as well as a browser.
    """
    e = escape
    rows = table_rows(results, lang)
    parts = [
        f"<h1>{e(t('exp_report_title', lang))}</h1>",
        f"<p>{e(_intro(results, lang))}</p>",
        '<table id="summary">',
        "<tr>" + "".join(f"<th>{e(c)}</th>" for c in rows[0]) + "</tr>",
    ]
    for (exp_id, entry), row in zip(results["experiments"].items(), rows[1:]):
        cells = [f'<td><a href="#{exp_id}">{e(row[0])}</a></td>']
        cells += [f'<td class="num">{e(c)}</td>' for c in row[1:4]]
        cells.append(f'<td class="{entry["status"]}">{e(row[4])}</td>')
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    parts.append(f"<h2>{e(t('exp_section_tasks', lang))}</h2>")
    parts.append('<table id="tasks">')
    parts.append(f"<tr><th>{e(t('exp_col_task', lang))}</th>"
                 f"<th>{e(t('exp_col_status', lang))}</th></tr>")
    for task_id, info in results["tasks"].items():
        parts.append(f"<tr><td><code>{e(task_id)}</code></td><td class=\"{info['status']}\">"
                     f"{e(status_label(info['status'], lang))}</td></tr>")
    parts.append("</table>")
    parts.append(f"<p>{e(t('exp_tasks_note', lang))}</p>")
    for exp_id, entry in results["experiments"].items():
        parts.append(f'<section id="{exp_id}">')
        parts.append(f"<h2>{e(t(f'exp_title_{exp_id}', lang))} "
                     f'<small class="{entry["status"]}">'
                     f"({e(status_label(entry['status'], lang))}, {entry['seconds']:.1f} s)"
                     "</small></h2>")
        if entry["issues"] or entry["notes"]:
            parts.append("<ul>")
            parts += [f'<li class="issue">{e(i["message"])}</li>' for i in entry["issues"]]
            parts += [f"<li>{e(n)}</li>" for n in entry["notes"]]
            parts.append("</ul>")
        for name in entry["figures"]:
            if (out / name).is_file():
                parts.append(_img(out / name, figure_alt(name, exp_id, results, lang)))
        if entry.get("output_tail"):
            parts.append(f"<details><summary>{e(t('exp_output_title', lang))}</summary>"
                         f"<pre>{e(entry['output_tail'])}</pre></details>")
        parts.append("</section>")
    summary = results["summary"]
    if summary.get("figures"):
        parts.append('<section id="summary-figures">')
        parts.append(f"<h2>{e(t('exp_section_summary', lang))}</h2>")
        for name in summary["figures"]:
            if (out / name).is_file():
                parts.append(_img(out / name, figure_alt(name, None, results, lang)))
        parts.append("</section>")
    return page(t("exp_report_title", lang), parts, lang, _CSS)


def write_all(results: dict[str, Any], out: Path, lang: str | None) -> None:
    """Write ``results.json``, ``report.md`` and ``report.html`` into ``out`` (atomically)."""
    write_json_atomic(out / "results.json", results)
    write_atomic(out / "report.md", markdown(results, lang))
    write_atomic(out / "report.html", html_report(results, out, lang))
