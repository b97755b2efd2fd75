"""Detectors of ``one_hot``'s checks (:mod:`grader.checks.onehot`).

The probe reports what ``one_hot`` returned for each case of labels the grader drew; a
detector reads those values back: their dtype, their width, and where each row's 1 is.
"""

from __future__ import annotations

import re
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


#: what torch says when a label lands past a fixed width: indexing or scatter into
#: ``(B, width)`` / ``eye(width)``, and ``F.one_hot(y, width)``
_OUT_OF_BOUNDS = re.compile(r"out of bounds for dimension \d+ with size (\d+)")
_ONE_HOT_CLASSES = "Class values must be smaller than num_classes"


def wrong_num_classes_crash(ev: Evidence) -> dict[str, Any] | None:
    """``one_hot`` crashed on a case that asks for more classes than a width it fixed (a
    ``zeros(B, 10)``, ``eye(10)``, ``F.one_hot(y, 10)``): torch's own error says the size it
    indexed into, smaller than the largest ``num_classes`` the check asked for. Reads the
    exception's text only to pick this id (``ev.out["crash"]``, never shown from here)."""
    crash = ev.out.get("crash")
    text = crash.get("exc_msg") if isinstance(crash, dict) else None
    if not isinstance(text, str):
        return None
    asked = [int(c) or 10 for c in ev.inp.get("classes", [])]
    if not asked:
        return None
    if _ONE_HOT_CLASSES in text[:200]:
        return {}
    found = _OUT_OF_BOUNDS.search(text[:300])
    if found and int(found.group(1)) < max(asked):
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
