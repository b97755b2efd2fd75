"""The experiments' figures, drawn on ``matplotlib.figure.Figure`` with the Agg canvas.

No pyplot: nothing here opens a window or depends on the backend a user has
configured, and figures are freed as soon as they are saved. Each function takes
plain numbers (what ``results.json`` stores) and a ``label(key)`` function that
gives axis texts in the report's language.
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


def learning_curves(history: dict[str, list[float]], title: str, label: Label) -> Figure:
    """Train/validation loss and validation accuracy per epoch (epochs counted from 1)."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    fig.suptitle(title)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for key, text in (("train_loss", "exp_fig_train"), ("val_loss", "exp_fig_val")):
        values = history.get(key, [])
        ax_loss.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=label(text))
    ax_loss.set_xlabel(label("exp_fig_epoch"))
    ax_loss.set_ylabel(label("exp_fig_loss"))
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    values = history.get("val_acc", [])
    ax_acc.plot(range(1, len(values) + 1), values, marker="o", ms=3, color="#2ca02c",
                label=label("exp_fig_val"))
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
        losses, accs = data[kind]["train_loss"], data[kind]["test_acc"]
        name = label(f"exp_fig_{kind}")
        ax_loss.plot(range(1, len(losses) + 1), losses, color=COLORS[kind], label=name)
        ax_acc.plot(range(1, len(accs) + 1), accs, color=COLORS[kind], label=name)
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
                  xlabel: str, ylabel: str) -> Figure:
    """One line per init of ``results[init][key]`` against the layer (from 1), log scale."""
    fig = Figure(figsize=(6, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for init, values in results.items():
        ys = values[key]
        ax.plot(range(1, len(ys) + 1), ys, marker="o", ms=3, color=COLORS.get(init), label=init)
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
    fig.colorbar(image, ax=ax, label="log(1 + n)")
    return fig


def mnist_overview(histories: dict[str, dict[str, list[float]]], titles: dict[str, str],
                   label: Label) -> Figure:
    """Validation accuracy per epoch of every MNIST model on one plot."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for key, history in histories.items():
        values = history["val_acc"]
        ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=titles[key])
    ax.set_xlabel(label("exp_fig_epoch"))
    ax.set_ylabel(label("exp_fig_val_acc"))
    ax.set_title(label("exp_fig_overview_title"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _masked(values: list[float]) -> list[float]:
    """nan for what a log axis cannot show (nan, inf, <= 0): matplotlib leaves a gap."""
    return [v if math.isfinite(v) and v > 0 else float("nan") for v in values]


def sweep_figure(lrs: tuple[float, ...], runs: list[dict[str, list[float]]], title: str,
                 label: Label) -> Figure:
    """One curve per rate: training loss (log scale) and validation accuracy per epoch."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    fig.suptitle(title)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for lr, run in zip(lrs, runs):
        xs = range(1, len(run["train_loss"]) + 1)
        ax_loss.plot(xs, _masked(run["train_loss"]), marker="o", ms=3, label=f"lr={lr:g}")
        ax_acc.plot(range(1, len(run["val_acc"]) + 1), run["val_acc"], marker="o", ms=3,
                    label=f"lr={lr:g}")
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


def norms_figure(per_layer: dict[str, list[float]], steps: dict[str, list[float]],
                 title: str, label: Label) -> Figure:
    """Left: gradient norm per linear layer at the first step, with and without clipping.
    Right: total gradient norm per training step, clipped and not (log scales)."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    fig.suptitle(title)
    ax_layers, ax_steps = fig.subplots(1, 2)
    for name, values in per_layer.items():
        ax_layers.plot(range(1, len(values) + 1), _masked(values), marker="o", ms=3, label=name)
    ax_layers.set_xlabel(label("exp_fig_linear_layer"))
    ax_layers.set_ylabel(label("exp_fig_grad_norm"))
    for name, values in steps.items():
        ax_steps.plot(range(1, len(values) + 1), _masked(values), label=name)
    ax_steps.set_xlabel(label("exp_fig_step"))
    ax_steps.set_ylabel(label("exp_fig_total_grad_norm"))
    for ax in (ax_layers, ax_steps):
        ax.set_yscale("log", nonpositive="mask")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    return fig
