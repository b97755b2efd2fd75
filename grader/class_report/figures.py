"""The class report's figures, drawn from its plain data (:mod:`grader.class_report.aggregate`).

Each function returns ``(figure, alt text)`` or None when there is nothing to draw. Readable in
grayscale: every bar is gray with a black edge and a hatch, every bar carries its number, the
mean and median are told apart by their line style, and tasks alternate hatches; no meaning
rests on colour. Figures use ``matplotlib.figure.Figure`` with the Agg canvas (no pyplot, no
window, nothing depends on the user's backend), and are inlined as PNG data URIs
(:func:`data_uri`): the page needs no other file.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

Label = Callable[..., str]
BAR = {"color": "0.78", "edgecolor": "black", "linewidth": 0.8}
DPI = 100
#: diagnoses drawn (the table lists them all)
MAX_DIAGNOSES_DRAWN = 15


def plain(text: str) -> str:
    """Text matplotlib shows as written: a ``$`` would start mathtext."""
    return text.replace("$", r"\$")


def _num(value: float) -> str:
    return f"{value:g}"


def data_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI of a grayscale PNG: the figures hold
    no colour, and one byte a pixel makes the page a third of the size. No metadata: the same
    report gives the same bytes."""
    from PIL import Image

    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    gray = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("L")
    buffer = io.BytesIO()
    gray.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def total_figure(report: dict[str, Any], label: Label) -> tuple[Figure, str] | None:
    """Histogram of the total score (bins of a tenth of the maximum, at least 1 point), with
    the mean (dashed) and median (dotted)."""
    total = report["total"]
    counts = total["score_counts"]
    if not counts:
        return None
    top = float(total["max_score"]) or max(score for score, _ in counts) or 1.0
    bins = max(1, min(12, math.ceil(top)))
    width = top / bins
    heights = [0] * bins
    for score, n in counts:
        heights[min(bins - 1, int(score // width))] += n
    lows = [i * width for i in range(bins)]
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.bar(lows, heights, width=width, align="edge", hatch="//", **BAR)
    ax.bar_label(bars, labels=[str(h) if h else "" for h in heights], padding=2, fontsize=8)
    ax.axvline(total["mean"], color="black", linestyle="--", linewidth=1.6,
               label=plain(label("cr_fig_mean", value=_num(total["mean"]))))
    ax.axvline(total["median"], color="black", linestyle=":", linewidth=2.2,
               label=plain(label("cr_fig_median", value=_num(total["median"]))))
    ax.set_xlim(0, top)
    ax.set_xticks([round(low, 2) for low in lows] + [top])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(heights) * 1.18 + 0.5)
    ax.set_xlabel(plain(label("cr_fig_score")))
    ax.set_ylabel(plain(label("cr_fig_students")))
    ax.set_title(plain(label("cr_fig_total_title")))
    ax.legend(loc="upper left", frameon=True)
    ax.grid(axis="y", alpha=0.3)
    described = [label("cr_alt_bin", count=h, low=_num(round(lo, 2)),
                       high=_num(round(lo + width, 2)))
                 for lo, h in zip(lows, heights) if h]
    alt = label("cr_alt_total", n=sum(heights), max=_num(top), mean=_num(total["mean"]),
                median=_num(total["median"]), bins="; ".join(described))
    return fig, alt


def tasks_figure(report: dict[str, Any], label: Label) -> tuple[Figure, str] | None:
    """One small bar chart per graded task: how many students got each score."""
    tasks = [task for task in report["tasks"] if task["graded"]]
    if not tasks:
        return None
    cols = min(5, len(tasks))
    rows = math.ceil(len(tasks) / cols)
    # fixed margins: the constrained layout costs more than the drawing itself here
    fig = Figure(figsize=(2.3 * cols + 0.6, 2.3 * rows + 0.7))
    fig.suptitle(plain(label("cr_fig_tasks_title")))
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14 if rows == 1 else 0.08,
                        top=0.86 if rows == 1 else 0.9, wspace=0.3, hspace=0.45)
    tallest = max(n for task in tasks for _, n in task["score_counts"])
    described = []
    for ax, task in zip(axes.flat, tasks):
        scores = [score for score, _ in task["score_counts"]]
        heights = [n for _, n in task["score_counts"]]
        width = max(0.6, task["max_score"] / 14)
        bars = ax.bar(scores, heights, width=width, hatch="//", **BAR)
        ax.bar_label(bars, labels=[str(h) for h in heights], padding=1, fontsize=7)
        ax.set_xlim(-width, task["max_score"] + width)
        ax.set_xticks(sorted({0, task["max_score"], *scores}))
        ax.tick_params(labelsize=7)
        ax.set_ylim(0, tallest * 1.25 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(plain(task["id"]), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        described.append(f"{task['id']}: " + ", ".join(
            label("cr_alt_count", count=n, score=_num(s)) for s, n in task["score_counts"]))
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.supxlabel(plain(label("cr_fig_score")), fontsize=9)
    fig.supylabel(plain(label("cr_fig_students")), fontsize=9)
    return fig, label("cr_alt_tasks", tasks="; ".join(described))


def pass_rate_figure(report: dict[str, Any], label: Label) -> tuple[Figure, str] | None:
    """Horizontal bars: every check's pass rate in percent, tasks in the practical's order,
    every other task on a light band (hatching forty bars would triple the PNG)."""
    rows = [(task["id"], check) for task in report["tasks"] for check in task["checks"]]
    if not rows:
        return None
    fig = Figure(figsize=(8, 0.24 * len(rows) + 1.3), layout="constrained")
    ax = fig.add_subplot()
    ys = list(range(len(rows)))[::-1]
    task_ids = list(dict.fromkeys(task_id for task_id, _ in rows))
    for task_id in task_ids[1::2]:
        mine = [y for y, (tid, _) in zip(ys, rows) if tid == task_id]
        ax.axhspan(min(mine) - 0.5, max(mine) + 0.5, color="0.92", zorder=0)
    rates = [100 * check["pass_rate"] for _, check in rows]
    bars = ax.barh(ys, rates, height=0.7, zorder=2, **BAR)
    ax.bar_label(bars, labels=[f"{r:.0f}%" for r in rates], padding=2, fontsize=7)
    ax.set_yticks(ys, [plain(f"{task_id} · {check['name']}") for task_id, check in rows],
                  fontsize=7)
    ax.set_ylim(-0.5, len(rows) - 0.5)
    ax.set_xlim(0, 112)
    ax.set_xlabel(plain(label("cr_fig_pass_rate")))
    ax.set_title(plain(label("cr_fig_pass_title")))
    ax.grid(axis="x", alpha=0.3, zorder=1)
    lowest = sorted(rows, key=lambda r: (r[1]["pass_rate"], r[0], r[1]["name"]))[:3]
    alt = label("cr_alt_pass", n=len(rows), lowest=", ".join(
        f"{task_id} · {check['name']} {100 * check['pass_rate']:.0f}%"
        for task_id, check in lowest))
    return fig, alt


def diagnoses_figure(report: dict[str, Any], label: Label) -> tuple[Figure, str] | None:
    """Horizontal bars: how many students got each diagnosis, the most frequent on top."""
    rows = report["diagnoses"][:MAX_DIAGNOSES_DRAWN]
    if not rows:
        return None
    fig = Figure(figsize=(8, 0.32 * len(rows) + 1.3), layout="constrained")
    ax = fig.add_subplot()
    ys = list(range(len(rows)))[::-1]
    counts = [row["students"] for row in rows]
    bars = ax.barh(ys, counts, height=0.7, hatch="//", **BAR)
    ax.bar_label(bars, labels=[str(c) for c in counts], padding=2, fontsize=8)
    ax.set_yticks(ys, [plain(row["id"]) for row in rows], fontsize=8)
    ax.set_xlim(0, max(counts) * 1.15 + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(plain(label("cr_fig_students")))
    ax.set_title(plain(label("cr_fig_diag_title")))
    ax.grid(axis="x", alpha=0.3)
    alt = label("cr_alt_diag", items=", ".join(f"{row['id']} {row['students']}"
                                               for row in rows))
    return fig, alt


#: (anchor, figure function), in the order the page shows them
FIGURES = (("total", total_figure), ("tasks", tasks_figure), ("checks", pass_rate_figure),
           ("diagnoses", diagnoses_figure))


def draw_all(report: dict[str, Any], label: Label) -> dict[str, tuple[str, str]]:
    """anchor -> (PNG data URI, alt text) of every figure there is something to draw for."""
    drawn = {}
    for anchor, function in FIGURES:
        made = function(report, label)
        if made is not None:
            fig, alt = made
            drawn[anchor] = (data_uri(fig), alt)
    return drawn
