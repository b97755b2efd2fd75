"""Detectors of the short training runs (:mod:`grader.checks.learning`) whose loop is the
student's (``train_model0`` for ``onehot_mse``, ``train_model`` for ``ce_net``).

What the run leaves is the trained weights (reported in call order) and the loop's history;
the grader's float64 oracle gives the predictions of those weights.
"""

from __future__ import annotations

from typing import Any

import torch

from grader.checks import expect
from grader.checks.loops import read_history
from grader.data import mnist_tensors
from grader.diagnoses.base import Evidence

#: test images the predictions are measured on (enough to tell 0.2 from 0.1 by far)
PROBE_IMAGES = 1000
#: the least share of test digits predicted as one mapped class that is told as a mapping
MIN_MAPPED = 0.2


def _trained_pairs(ev: Evidence) -> list[tuple[torch.Tensor, torch.Tensor | None]] | None:
    """The trained weights, when they are exactly the net the check expects (else the
    forward checks say what is off, and predictions would mean nothing)."""
    check = ev.check
    try:
        return expect.expect_forward(ev.out.get("model"), ev.inp["x"], check.hidden,
                                     check.output, check.what)
    except Exception:
        return None


def learned_other_classes(ev: Evidence) -> dict[str, Any] | None:
    """The trained net predicts the digits mapped to other classes (a shift, or the order
    reversed) far better than the digits themselves and than any other mapping: it learned
    from targets at the wrong class (``one_hot``'s 1 in another column)."""
    pairs = _trained_pairs(ev)
    if pairs is None:
        return None
    X, y = mnist_tensors("test")
    X, y = X[:PROBE_IMAGES], y[:PROBE_IMAGES]
    with torch.no_grad():
        pred = expect.mlp_forward(pairs, X, ev.check.hidden, ev.check.output).argmax(dim=1)
    right = float((pred == y).double().mean())
    maps = [(y + k) % 10 for k in range(1, 10)] + [9 - y]
    hits = sorted((float((pred == m).double().mean()) for m in maps), reverse=True)
    # One mapping stands out: well above chance, three times the right classes' hits and
    # twice any other mapping's (a shift by one learned for 2 epochs: 0.34, against 0.03 for
    # the digits themselves and at most 0.13 for any other shift).
    if hits[0] >= max(MIN_MAPPED, 3 * right) and hits[0] >= 2 * hits[1]:
        return {"fn": getattr(ev.check, "loop_fn", "")}
    return None


def weights_never_stepped(ev: Evidence) -> dict[str, Any] | None:
    """Every bias is still exactly zero after the loop's epochs: the zero biases the run starts
    from (``init_normal``, or the grader's N(0, 1) init) were never moved by any step."""
    if "history" not in ev.out:
        return None
    report = ev.out.get("model")
    try:
        pairs = expect.linears(report, "model")
    except Exception:
        return None
    biases = [b for _, b in pairs]
    if biases and all(b is not None and not bool(b.abs().max() > 0) for b in biases):
        return {"fn": getattr(ev.check, "loop_fn", "")}
    return None


def acc_over_one(ev: Evidence) -> dict[str, Any] | None:
    """The loop's last ``val_acc`` is above 1: a count or a percentage, not a fraction."""
    if "history" not in ev.out:
        return None
    try:
        hist = read_history(ev.out["history"], ev.check.budget.epochs)
    except Exception:
        return None
    if hist["val_acc"] and hist["val_acc"][-1] > 1.0 + 1e-9:
        return {"fn": getattr(ev.check, "loop_fn", "")}
    return None
