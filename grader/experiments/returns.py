"""What student code returned, as the experiments read it: :class:`BadReturn`, the problem
reported when it is not what the practical asks for, and the one reader of number lists
(a loss history, a sweep's runs, a clipped run's log, the probe's standard deviations).

The numbers are read with the checks' own capture (:mod:`grader.checks.capture`), so the
experiments and the grading agree on what a list of numbers is: a list or tuple of ints and
floats (``numpy.float64`` too), where a one-element tensor or a numpy scalar counts by its
value (a loop that appends ``loss`` instead of ``loss.item()`` still gets its curves; the
checks tell it what to fix). Anything else is a :class:`BadReturn`.

Below every other module of the experiments (the harness, the catalogue, the figures all
raise it), so none of them imports another to report one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from grader.checks.capture import TYPE_TAG, capture_records, numbers


class BadReturn(Exception):
    """Student code ran but returned something of the wrong kind."""

    def __init__(self, name: str, expected: str, found: Any) -> None:
        text = type(found).__name__ if not isinstance(found, (int, float, str)) else repr(found)
        super().__init__(f"{name}: expected {expected}, got {text}")
        self.values = {"name": name, "expected": expected, "found": text[:200]}


def _number(item: Any) -> float | None:
    """One captured item as a float: a plain one, or the value its type tag carries."""
    if type(item) is float:
        return item
    if isinstance(item, dict) and TYPE_TAG in item and type(item.get("value")) is float:
        return item["value"]
    return None


def _floats(captured: Any, finite: bool) -> list[float] | None:
    """A :func:`grader.checks.capture.numbers` capture as floats; None if it is not one."""
    if not isinstance(captured, list):
        return None
    values = [_number(item) for item in captured]
    if any(v is None for v in values):
        return None
    if finite and not all(math.isfinite(v) for v in values):  # type: ignore[arg-type]
        return None
    return values  # type: ignore[return-value]


def read_floats(value: Any, name: str, expected: str, *, finite: bool = False,
                found: Any = None) -> list[float]:
    """``value``, a list of numbers student code returned, as floats (``finite``: no nan or
    inf either); else ``BadReturn(name, expected, found)``, ``found`` being ``value`` unless
    given (what the returned value as a whole was)."""
    values = _floats(numbers(value), finite)
    if values is None:
        raise BadReturn(name, expected, value if found is None else found)
    return values


def read_lists(value: Any, keys: Sequence[str], name: str, expected: str, *,
               finite: bool = False, found: Any = None) -> dict[str, list[float]]:
    """``value``, a dict of number lists (a history, a log), as ``{key: floats}`` for
    ``keys``; else ``BadReturn(name, expected, found)`` (``found``: ``value`` unless given)."""
    report = capture_records(value, tuple(keys))
    shown = value if found is None else found
    if TYPE_TAG in report or any(k not in report for k in keys):
        raise BadReturn(name, expected, shown)
    out = {}
    for key in keys:
        values = _floats(report[key], finite)
        if values is None:
            raise BadReturn(name, expected, shown)
        out[key] = values
    return out


def read_float_pair(value: Any, name: str, expected: str) -> tuple[list[float], list[float]]:
    """``value``, two lists of numbers (``(losses, accs)``, ``(activation_stds, grad_stds)``),
    as floats; else ``BadReturn(name, expected, value)``."""
    try:
        first, second = value
    except (TypeError, ValueError):
        raise BadReturn(name, expected, value) from None
    return (read_floats(first, name, expected, found=value),
            read_floats(second, name, expected, found=value))


__all__ = ["BadReturn", "read_float_pair", "read_floats", "read_lists"]
