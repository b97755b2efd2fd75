"""Detectors of ``one_hot``'s checks (:mod:`grader.checks.onehot`).

The probe reports what ``one_hot`` returned for each case of labels the grader drew; a
detector reads those values back: their dtype, their width, and where each row's 1 is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from grader.diagnoses.base import Evidence


def _cases(ev: Evidence) -> Iterator[tuple[torch.Tensor, int, torch.Tensor]]:
    """``(labels, num_classes, value)`` of every case whose value is a plain tensor."""
    labels, classes = ev.inp.get("labels", []), ev.inp.get("classes", [])
    results = ev.out.get("results")
    if not isinstance(results, list):
        return
    for y, c, res in zip(labels, classes, results):
        value = res.get("value") if isinstance(res, dict) else None
        if type(value) is torch.Tensor:
            yield y, int(c) or 10, value


def not_float32(ev: Evidence) -> dict[str, Any] | None:
    """A value of the right shape whose dtype is not float32 (int64 from ``F.one_hot``,
    float64 from ``torch.eye(..., dtype=float64)`` or numpy, bool, half, ...)."""
    for y, c, value in _cases(ev):
        if tuple(value.shape) == (y.shape[0], c) and value.dtype != torch.float32:
            return {"dtype": str(value.dtype).removeprefix("torch.")}
    return None


def wrong_num_classes(ev: Evidence) -> dict[str, Any] | None:
    """One row per label, but not ``num_classes`` columns (a fixed 10, the largest label
    plus one, the default ignored)."""
    for y, c, value in _cases(ev):
        if value.dim() == 2 and value.shape[0] == y.shape[0] and value.shape[1] != c:
            return {}
    return None


def wrong_class(ev: Evidence) -> dict[str, Any] | None:
    """Every row holds a single 1, each label always in the same column, and some label is
    not in its own column: the classes are shifted or mis-indexed."""
    moved = False
    for y, c, value in _cases(ev):
        if tuple(value.shape) != (y.shape[0], c):
            return None
        v = value.double()
        ones = v == 1
        if not bool(((v == 0) | ones).all()) or not bool((ones.sum(dim=1) == 1).all()):
            return None
        column = ones.double().argmax(dim=1)
        where: dict[int, int] = {}
        for label, col in zip(y.tolist(), column.tolist()):
            if where.setdefault(label, col) != col:
                return None  # not a mapping of classes: the values checks say what is off
        moved |= any(label != col for label, col in where.items())
    return {} if moved else None
