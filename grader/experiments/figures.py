"""The experiments' figures, drawn on ``matplotlib.figure.Figure`` with the Agg canvas.

No pyplot: nothing here opens a window or depends on the backend a user has
configured, and figures are freed as soon as they are saved. Each function takes
plain numbers (what ``results.json`` stores: a nan or inf there is ``None``) and a
``label(key, **values)`` function that gives every text, legends included, in the report's
language from the message catalogue.

A curve that diverges is not cut silently: where it first leaves the plot (a value that is not
finite) or blows up (:func:`diverged_at`), a cross of its colour marks the point, with a legend
entry saying at which epoch or step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from grader.outputs.atomic import atomic_path

from .returns import BadReturn

Label = Callable[..., str]
#: a curve's values as ``results.json`` has them: ``None`` where the run gave nan or inf
Values = Sequence[float | None]
COLORS = {"xavier": "#d62728", "he": "#1f77b4", "orthogonal": "#2ca02c",
          "shallow": "#ff7f0e", "deep": "#1f77b4"}


def save_png(fig: Figure, path: Path, dpi: int = 100) -> None:
    """Write ``fig`` as PNG to ``path`` (through a temp file, so no half-written image)."""
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)


def render_rgba(fig: Any, name: str) -> np.ndarray:
    """Pixels of a figure returned by the implementation: uint8 ``(H, W, 4)``.

    Raises ``BadReturn`` if ``fig`` is not a matplotlib Figure (e.g. ``None`` from a
    viewer that called ``plt.show()`` and returned nothing).
    """
    if not isinstance(fig, Figure):
        raise BadReturn(name, "a matplotlib Figure", fig)
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(50)  # small tiles: the grid shows many of them
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def image_grid(images: Sequence[np.ndarray], cols: int, title: str) -> Figure:
    """Tiles of already-rendered images, ``cols`` per row, under one title."""
    rows = (len(images) + cols - 1) // cols
    fig = Figure(figsize=(1.7 * cols, 1.8 * rows + 0.4), layout="constrained")
    fig.suptitle(title)
    for i, image in enumerate(images):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(image)
        ax.axis("off")
    return fig


#: The cross-entropy of a uniform guess over the 10 digits is ln 10 = 2.3; a training loss ten
#: times that has left learning behind. (The sweep's rate 30: 5,344 in its first epoch on the
#: quick budget, against 0.4 to 2.3 for the other rates.)
DIVERGED_LOSS = 10 * math.log(10)
#: A gradient norm this many times its first step's has blown up. (The unclipped run: 27.6 at
#: step 1, 5,453 at step 3, 6.6e9 at step 4, then nan; the clipped one stays between 5 and 28.)
DIVERGED_GROWTH = 1e3


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def diverged_at(values: Values, limit: float = math.inf) -> int | None:
    """Where a curve diverged: the position (from 1) of its first value that is ``None``,
    not finite, or above ``limit``; ``None`` when no value is."""
    for i, value in enumerate(values, start=1):
        if not _finite(value) or value > limit:
            return i
    return None


def growth_limit(values: Values) -> float:
    """:data:`DIVERGED_GROWTH` times the first value of a curve of norms (inf when there is
    no finite, positive first value: then only a missing value counts as diverged)."""
    first = values[0] if len(values) else None
    return DIVERGED_GROWTH * first if _finite(first) and first > 0 else math.inf


def _masked(values: Values, log: bool = False) -> list[float]:
    """nan for what the axis cannot show (``None``, nan, inf; and <= 0 on a log axis):
    matplotlib leaves a gap there."""
    return [v if _finite(v) and (v > 0 or not log) else float("nan") for v in values]


def _curve(ax: Any, values: Values, name: str, label: Label, *, limit: float = math.inf,
           where: str = "exp_diverged_epoch", log: bool = False, **style: Any) -> int | None:
    """Plot one curve (x from 1) named ``name`` in the legend; where it diverged
    (:func:`diverged_at` with ``limit``), a cross of its colour and a legend entry
    "``name``: diverged at epoch k" (``where``: the message with ``{k}``). Returns k or None."""
    (line,) = ax.plot(range(1, len(values) + 1), _masked(values, log), label=name, **style)
    k = diverged_at(values, limit)
    if k is not None:
        _mark(ax, k, values[k - 1], line.get_color(), f"{name}: {label(where, k=k)}", log)
    return k


def _mark(ax: Any, x: int, y: float | None, color: str, text: str, log: bool) -> None:
    """A cross at ``(x, y)``; at the top of the axes when ``y`` cannot be drawn (nan, inf,
    or not positive on a log axis), since the value itself is off every scale."""
    style = {"marker": "X", "ms": 10, "ls": "none", "color": color, "mec": "black",
             "mew": 0.6, "label": text, "zorder": 5}
    if _finite(y) and (y > 0 or not log):
        ax.plot([x], [y], **style)
    else:
        ax.plot([x], [0.95], transform=ax.get_xaxis_transform(), clip_on=False, **style)


def learning_curves(history: dict[str, list[float]], title: str, label: Label) -> Figure:
    """Train/validation loss and validation accuracy per epoch (epochs counted from 1)."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    fig.suptitle(title)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for key, text in (("train_loss", "exp_fig_train"), ("val_loss", "exp_fig_val")):
        _curve(ax_loss, history.get(key, []), label(text), label, marker="o", ms=3)
    ax_loss.set_xlabel(label("exp_fig_epoch"))
    ax_loss.set_ylabel(label("exp_fig_loss"))
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    _curve(ax_acc, history.get("val_acc", []), label("exp_fig_val"), label, marker="o", ms=3,
           color="#2ca02c")
    ax_acc.set_xlabel(label("exp_fig_epoch"))
    ax_acc.set_ylabel(label("exp_fig_accuracy"))
    ax_acc.legend()
    ax_acc.grid(alpha=0.3)
    return fig


def parity_curves(data: dict[str, Any], label: Label) -> Figure:
    """Training loss and test accuracy per epoch of the shallow and the deep parity nets."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    fig.suptitle(label("exp_title_parity"))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for kind in ("shallow", "deep"):
        if kind not in data:
            continue
        name = label(f"exp_fig_{kind}")
        _curve(ax_loss, data[kind]["train_loss"], name, label, color=COLORS[kind])
        _curve(ax_acc, data[kind]["test_acc"], name, label, color=COLORS[kind])
    ax_loss.set_xlabel(label("exp_fig_epoch"))
    ax_loss.set_ylabel(label("exp_fig_train_loss"))
    ax_acc.set_xlabel(label("exp_fig_epoch"))
    ax_acc.set_ylabel(label("exp_fig_test_acc"))
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    return fig


def parity_scaling(data: dict[str, Any], label: Label) -> Figure:
    """Final test accuracy against the number of bits, shallow vs deep."""
    fig = Figure(figsize=(5.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(label("exp_title_parity_scaling"))
    for kind in ("shallow", "deep"):
        pairs = [(b, a) for b, a in zip(data["bits"], data[f"{kind}_final_test_acc"])
                 if a is not None]
        if pairs:
            xs, ys = zip(*pairs)
            ax.plot(xs, ys, marker="o", color=COLORS[kind], label=label(f"exp_fig_{kind}"))
    ax.axhline(0.5, color="gray", ls=":", lw=1, label=label("exp_fig_chance"))
    ax.set_xticks(list(data["bits"]))
    ax.set_ylim(0.4, 1.02)
    ax.set_xlabel(label("exp_fig_bits"))
    ax.set_ylabel(label("exp_fig_final_acc"))
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def per_layer_std(results: dict[str, dict[str, list[float]]], key: str, title: str,
                  xlabel: str, ylabel: str, label: Label) -> Figure:
    """One line per init of ``results[init][key]`` against the layer (from 1), log scale;
    each init named by ``label("exp_fig_init_<init>")``."""
    fig = Figure(figsize=(6, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for init, values in results.items():
        ys = values[key]
        ax.plot(range(1, len(ys) + 1), _masked(ys, log=True), marker="o", ms=3,
                color=COLORS.get(init), label=label(f"exp_fig_init_{init}"))
    # Xavier + ReLU shrinks by orders of magnitude: only a log axis shows all three.
    ax.set_yscale("log", nonpositive="mask")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig


def confusion(matrix: list[list[int]], title: str, label: Label) -> Figure:
    """A 10x10 confusion matrix (rows: true digit, columns: predicted), counts written in."""
    m = np.asarray(matrix)
    fig = Figure(figsize=(6, 5.4), layout="constrained")
    ax = fig.add_subplot()
    # Log colours: the diagonal (~1000) would otherwise wash out the few mistakes.
    image = ax.imshow(np.log1p(m), cmap="Blues")
    threshold = np.log1p(m).max() / 2
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if np.log1p(m[i, j]) > threshold else "black")
    ax.set_xticks(range(m.shape[1]))
    ax.set_yticks(range(m.shape[0]))
    ax.set_xlabel(label("exp_fig_predicted"))
    ax.set_ylabel(label("exp_fig_true"))
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=label("exp_fig_log_count"))
    return fig


def mnist_overview(histories: dict[str, dict[str, list[float]]], titles: dict[str, str],
                   label: Label) -> Figure:
    """Validation accuracy per epoch of every MNIST model on one plot."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for key, history in histories.items():
        _curve(ax, history["val_acc"], titles[key], label, marker="o", ms=3)
    ax.set_xlabel(label("exp_fig_epoch"))
    ax.set_ylabel(label("exp_fig_val_acc"))
    ax.set_title(label("exp_fig_overview_title"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def sweep_figure(lrs: Sequence[float], runs: Sequence[dict[str, Values]], title: str,
                 label: Label) -> Figure:
    """One curve per rate: training loss (log scale) and validation accuracy per epoch.

    A rate whose loss goes above :data:`DIVERGED_LOSS` or stops being a number is marked on
    both panels at that epoch ("lr=30: diverged at epoch 1").
    """
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    fig.suptitle(title)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for lr, run in zip(lrs, runs):
        name = f"lr={lr:g}"
        k = _curve(ax_loss, run["train_loss"], name, label, limit=DIVERGED_LOSS, log=True,
                   marker="o", ms=3)
        (line,) = ax_acc.plot(range(1, len(run["val_acc"]) + 1), _masked(run["val_acc"]),
                              marker="o", ms=3, label=name)
        if k is not None:
            value = run["val_acc"][k - 1] if k <= len(run["val_acc"]) else None
            _mark(ax_acc, k, value, line.get_color(),
                  f"{name}: {label('exp_diverged_epoch', k=k)}", log=False)
    # A diverging rate's loss is orders of magnitude above the others (or nan: a gap).
    ax_loss.set_yscale("log", nonpositive="mask")
    ax_loss.set_xlabel(label("exp_fig_epoch"))
    ax_loss.set_ylabel(label("exp_fig_loss"))
    ax_acc.set_xlabel(label("exp_fig_epoch"))
    ax_acc.set_ylabel(label("exp_fig_accuracy"))
    for ax in (ax_loss, ax_acc):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    return fig


def norms_figure(per_layer: dict[str, Values], steps: dict[str, Values],
                 names: dict[str, str], title: str, label: Label) -> Figure:
    """Left: gradient norm per linear layer at the first step, with and without clipping.
    Right: total gradient norm per training step, clipped and not (log scales); a run whose
    norm grows :data:`DIVERGED_GROWTH` times its first step's, or stops being a number, is
    marked at that step. ``names``: the legend text of each run's key."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    fig.suptitle(title)
    ax_layers, ax_steps = fig.subplots(1, 2)
    for key, values in per_layer.items():
        ax_layers.plot(range(1, len(values) + 1), _masked(values, log=True), marker="o", ms=3,
                       label=names.get(key, key))
    ax_layers.set_xlabel(label("exp_fig_linear_layer"))
    ax_layers.set_ylabel(label("exp_fig_grad_norm"))
    for key, values in steps.items():
        _curve(ax_steps, values, names.get(key, key), label, limit=growth_limit(values),
               where="exp_diverged_step", log=True)
    ax_steps.set_xlabel(label("exp_fig_step"))
    ax_steps.set_ylabel(label("exp_fig_total_grad_norm"))
    for ax in (ax_layers, ax_steps):
        ax.set_yscale("log", nonpositive="mask")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    return fig
