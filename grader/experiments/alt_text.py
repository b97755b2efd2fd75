"""The alt text of every figure of the experiments' report: what the figure shows, in words.

``report.md`` and ``report.html`` give each image this text (a screen reader reads it; a reader
whose images did not load sees it), in the report's language, from the numbers in
``results.json``: what is plotted against what, and the values a sighted reader would take
from it (the final accuracy, the best rate, where a curve diverged, the worst confusion).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from grader.i18n import t

from .catalogue import GRID_COLS, GRID_ROWS, MNIST_IDS
from .figures import DIVERGED_LOSS, diverged_at, growth_limit
from .section7 import run_names

#: the implementation's viewer behind each sample grid
_VIEWERS = {"train": "show_example", "test": "show_test_example"}


def _num(value: Any, digits: int = 3) -> str:
    """A number as the report writes it; ``nan`` where the run gave none (diverged)."""
    if value is None or not math.isfinite(value):
        return "nan"
    return f"{value:.{digits}f}"


def figure_alt(name: str, exp_id: str | None, results: dict[str, Any], lang: str | None) -> str:
    """The alt text of figure file ``name`` of experiment ``exp_id`` (``None``: a summary
    figure). Falls back to the figure's title and file name when its numbers are missing
    (an experiment that stopped half way)."""
    label: Callable[..., str] = lambda key, /, **values: t(key, lang, **values)  # noqa: E731
    entry = results.get("experiments", {}).get(exp_id, {}) if exp_id else {}
    data = entry.get("data", {})
    try:
        text = _describe(name, exp_id, data, results, label)
    except (KeyError, IndexError, TypeError, ValueError):
        text = None
    if text is None:
        title = label(f"exp_title_{exp_id}") if exp_id else name
        text = label("exp_alt_fallback", title=title, name=name)
    return text


def _describe(name: str, exp_id: str | None, data: dict[str, Any], results: dict[str, Any],
              label: Callable[..., str]) -> str | None:
    if name.startswith("data_") and name.endswith("_grid.png"):
        which = name[len("data_"):-len("_grid.png")]
        labels = data[f"{which}_labels"]
        return label("exp_alt_grid", count=len(labels), split=label(f"exp_split_{which}"),
                     viewer=_VIEWERS[which], rows=GRID_ROWS, cols=GRID_COLS,
                     labels=", ".join(str(v) for v in labels))
    if name.startswith("curves_") and exp_id in MNIST_IDS:
        history = data["history"]
        return label("exp_alt_curves", title=label(f"exp_title_{exp_id}"),
                     epochs=len(history["val_acc"]), val_acc=_num(history["val_acc"][-1]))
    if name == "parity_curves.png":
        finals = ", ".join(f"{label(f'exp_fig_{kind}')} {_num(data[kind]['final_test_acc'])}"
                           for kind in ("shallow", "deep") if kind in data)
        return label("exp_alt_parity", bits=data["n_bits"], epochs=data["epochs"],
                     finals=finals)
    if name == "parity_scaling.png":
        finals = "; ".join(
            f"{label(f'exp_fig_{kind}')} " + "/".join(_num(v, 2)
                                                      for v in data[f"{kind}_final_test_acc"])
            for kind in ("shallow", "deep"))
        return label("exp_alt_parity_scaling", bits=", ".join(str(b) for b in data["bits"]),
                     finals=finals)
    if name in ("init_activation_std.png", "init_grad_std.png"):
        inits = data["inits"]
        names = ", ".join(label(f"exp_fig_init_{init}") for init in inits)
        if name == "init_activation_std.png":
            last = ", ".join(f"{label(f'exp_fig_init_{init}')} {v['activation_std'][-1]:.2g}"
                             for init, v in inits.items())
            return label("exp_alt_act_std", depth=data["depth"], inits=names, last=last)
        first = ", ".join(f"{label(f'exp_fig_init_{init}')} {v['grad_std'][0]:.2g}"
                          for init, v in inits.items())
        return label("exp_alt_grad_std", inits=names, first=first)
    if name == "lr_sweep.png":
        return _lr_sweep(data, label)
    if name == "exploding_grad_norms.png":
        return _exploding(data, label)
    if name == "mnist_val_acc.png":
        finals = {k: e["data"]["history"]["val_acc"][-1]
                  for k, e in results["experiments"].items()
                  if k in MNIST_IDS and "history" in e.get("data", {})}
        return label("exp_alt_overview", count=len(finals),
                     finals=", ".join(f"{label(f'exp_title_{k}')} {_num(v)}"
                                      for k, v in finals.items()))
    if name == "confusion_matrix.png":
        return _confusion(results["summary"], label)
    return None


def _diverged_sentence(runs: list[str], label: Callable[..., str]) -> str:
    return label("exp_alt_diverged", runs="; ".join(runs)) if runs else label(
        "exp_alt_none_diverged")


def _lr_sweep(data: dict[str, Any], label: Callable[..., str]) -> str:
    lrs, runs = data["lrs"], data["runs"]
    # Recomputed from the curves when an older results.json has no "diverged_epoch".
    epochs = data.get("diverged_epoch") or [diverged_at(r["train_loss"], DIVERGED_LOSS)
                                            for r in runs]
    diverged = [f"lr={lr:g}, {label('exp_diverged_epoch', k=k)}"
                for lr, k in zip(lrs, epochs) if k is not None]
    return label("exp_alt_lr_sweep", epochs=data["epochs"],
                 lrs=", ".join(f"{lr:g}" for lr in lrs), best=f"{data['best_lr']:g}",
                 best_acc=_num(data.get("best_val_acc")),
                 diverged=_diverged_sentence(diverged, label))


def _exploding(data: dict[str, Any], label: Callable[..., str]) -> str:
    names = run_names(label)
    steps = data["step_norms"]
    where = data.get("diverged_step") or {k: diverged_at(v, growth_limit(v))
                                          for k, v in steps.items()}
    diverged = [f"{names[k]}, {label('exp_diverged_step', k=where[k])}"
                for k in steps if where.get(k) is not None]
    accs = ", ".join(f"{names[k]} {_num(v) if v is not None else label('exp_alt_no_value')}"
                     for k, v in data["accuracy_by_run"].items())
    return label("exp_alt_exploding", unclipped=names["unclipped"], clipped=names["clipped"],
                 lr=f"{data['lr']:g}", accs=accs, diverged=_diverged_sentence(diverged, label))


def _confusion(summary: dict[str, Any], label: Callable[..., str]) -> str:
    matrix = summary["confusion_matrix"]
    n, true, pred = max((matrix[i][j], i, j) for i in range(len(matrix))
                        for j in range(len(matrix)) if i != j)
    return label("exp_alt_confusion", model=label(f"exp_title_{summary['best_mnist_model']}"),
                 acc=_num(summary["best_test_acc"]), true=true, pred=pred, n=n)
