"""``similarity.html`` and ``similarity.csv``: what :mod:`grader.similarity.engine` found.

The page is one file with its style inline and no script, image, font or link to load: it
opens offline, from a mail attachment or a USB stick. Student names (folder names) and their
code are text everywhere: through :func:`grader.outputs.html.escape` in the page (markup,
quotes, hidden and bidi characters spelled out), :func:`grader.outputs.escape.csv_row` in the
CSV (no formula), :func:`grader.outputs.escape.terminal` on the terminal.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.i18n import t
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import csv_row
from grader.outputs.html import escape, page
from grader.similarity.collect import FILES, Student
from grader.similarity.engine import Pair, Result, with_regions

_CSS = ("body{font-family:sans-serif;max-width:90em;margin:2em auto;padding:0 1em}"
        "td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}"
        "tr.flag td{background:#fde8e8}.num{text-align:right}"
        ".note{background:#f3f3f3;padding:.6em 1em}"
        ".side{display:grid;grid-template-columns:1fr 1fr;gap:1em}"
        ".side pre{overflow-x:auto;background:#fafafa;border:1px solid #ddd;padding:.5em;"
        "font-size:85%;white-space:pre}mark{background:#ffd34d}"
        "details{margin:.8em 0}summary{cursor:pointer;font-weight:bold}")


@dataclass
class Context:
    """What the report says besides the pairs."""

    students: list[Student]
    shown: dict[str, str]  # folder name -> display name
    links: list[str]  # class-folder entries that are links (display names)
    threshold: float
    min_tokens: int
    lang: str | None


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _marked(text: str, regions: list[tuple[int, int]]) -> str:
    """``text`` escaped, its ``regions`` (character ranges) in ``<mark>``."""
    merged: list[list[int]] = []
    for start, end in sorted(regions):
        start, end = max(0, start), min(len(text), end)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out.append(escape(text[at:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def _name(ctx: Context, index: int) -> str:
    return ctx.shown[ctx.students[index].name]


def _file_scores(pair: Pair) -> dict[str, float]:
    return {m.file: (m.score_a + m.score_b) / 2 for m in pair.files}


def html_report(result: Result, ctx: Context, fps: list[dict[str, Any]], top: int,
                detail: int) -> str:
    """The whole page."""
    lang = ctx.lang
    esc = escape
    flagged = [p for p in result.pairs if p.flagged]
    shown_pairs = result.pairs[:top]
    n = len(ctx.students)
    method = (t("sim_method_prefilter", lang, compared=result.compared,
                total=n * (n - 1) // 2) if result.prefilter
              else t("sim_method_all", lang, compared=result.compared))
    body = [
        f"<h1>{esc(t('sim_title', lang))}</h1>",
        f"<p class=\"note\">{esc(t('sim_not_a_grade', lang))}</p>",
        "<ul>",
        f"<li>{esc(t('sim_students', lang, count=n, coding=sum(1 for c in result.coverage if c > 0)))}</li>",
        f"<li>{esc(method)}</li>",
        f"<li>{esc(t('sim_rule', lang, threshold=_pct(ctx.threshold), tokens=ctx.min_tokens))}</li>",
        f"<li><strong>{esc(t('sim_flagged', lang, count=len(flagged)))}</strong></li>",
        "</ul>",
    ]
    notes = []
    if ctx.links:
        notes.append(esc(t("sim_links", lang, names=", ".join(ctx.links))))
    for s in ctx.students:
        for file, why in sorted(s.problems.items()):
            notes.append(esc(t("sim_file_refused", lang, student=ctx.shown[s.name], file=file,
                               reason=why)))
        if s.not_utf8:
            notes.append(esc(t("sim_not_utf8", lang, student=ctx.shown[s.name],
                               files=", ".join(s.not_utf8))))
    if notes:
        body.append(f"<h2>{esc(t('sim_notes', lang))}</h2><ul>"
                    + "".join(f"<li>{x}</li>" for x in notes) + "</ul>")

    heads = [t("sim_col_rank", lang), t("sim_col_a", lang), t("sim_col_b", lang),
             t("sim_col_score", lang), t("sim_col_a_in_b", lang), t("sim_col_b_in_a", lang),
             t("sim_col_tokens", lang), t("sim_col_flag", lang), *(f[:3] for f in FILES)]
    body.append(f"<h2>{esc(t('sim_top_pairs', lang, count=len(shown_pairs)))}</h2>")
    if not shown_pairs:
        body.append(f"<p>{esc(t('sim_no_pairs', lang))}</p>")
    else:
        rows = ["<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in heads) + "</tr>"]
        for rank, p in enumerate(shown_pairs, 1):
            per_file = _file_scores(p)
            flag = (t("sim_identical", lang) if p.identical and p.flagged
                    else t("sim_yes", lang) if p.flagged else "")
            cells = [str(rank), esc(_name(ctx, p.a)), esc(_name(ctx, p.b)), _pct(p.score),
                     _pct(p.score_a), _pct(p.score_b), str(p.tokens), esc(flag),
                     *(_pct(per_file[f]) if f in per_file else "" for f in FILES)]
            anchor = f"<a href=\"#pair-{rank}\">{cells[0]}</a>" if rank <= detail else cells[0]
            cells[0] = anchor
            rows.append(f"<tr class=\"{'flag' if p.flagged else ''}\">"
                        + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        rows.append("</table>")
        body.append("".join(rows))
        body.append(f"<h2>{esc(t('sim_details', lang))}</h2>")
        for rank, p in enumerate(shown_pairs[:detail], 1):
            flagged_here = p.flagged
            p = with_regions(p)
            a, b = _name(ctx, p.a), _name(ctx, p.b)
            opened = ' open="open"' if flagged_here else ""
            part = [f"<details id=\"pair-{rank}\"{opened}>",
                    f"<summary>{rank}. {esc(a)} — {esc(b)}: {_pct(p.score)}</summary>"]
            for m in p.files:
                left = fps[p.a][m.file].raw_code
                right = fps[p.b][m.file].raw_code
                part.append(f"<h3>{esc(m.file)}: {esc(a)} {_pct(m.score_a)} · {esc(b)} "
                            f"{_pct(m.score_b)}</h3><div class=\"side\">"
                            f"<pre>{_marked(left, m.regions_a)}</pre>"
                            f"<pre>{_marked(right, m.regions_b)}</pre></div>")
            part.append("</details>")
            body.append("".join(part))
    return page(t("sim_title", lang), body, lang, _CSS)


def csv_report(result: Result, ctx: Context) -> str:
    """One row per compared pair with code in common: the scores, per file too."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_row(["student_a", "student_b", "score", "score_a", "score_b",
                             "matched_tokens", "identical", "flagged", *FILES]))
    for p in result.pairs:
        per_file = _file_scores(p)
        writer.writerow(csv_row([_name(ctx, p.a), _name(ctx, p.b), f"{p.score:.4f}",
                                 f"{p.score_a:.4f}", f"{p.score_b:.4f}", p.tokens,
                                 int(p.identical), int(p.flagged),
                                 *(f"{per_file[f]:.4f}" if f in per_file else "" for f in FILES)]))
    return buffer.getvalue()


def write_reports(out: Path, result: Result, ctx: Context, fps: list[dict[str, Any]],
                  top: int, detail: int) -> tuple[Path, Path]:
    html_path, csv_path = out / "similarity.html", out / "similarity.csv"
    write_atomic(html_path, html_report(result, ctx, fps, top, detail))
    write_atomic(csv_path, csv_report(result, ctx))
    return html_path, csv_path
