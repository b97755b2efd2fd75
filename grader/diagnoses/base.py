"""What a detector sees and what it answers.

A detector is a function ``detect(ev: Evidence) -> dict | None``: ``None`` when the data do
not show its mistake, else the values its message names (possibly none). It decides from the
failing check's own data only: the inputs the grader built (``ev.inp``), the plain data the
probe reported (``ev.out``) and the verdict's :class:`~grader.checks.base.Fail` (``ev.fail``;
``None`` when a test runs it *forced* on data that passed). Everything in ``ev.out`` came from
student code: read it as the verdicts do (:mod:`grader.checks.expect`), never trust a type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.checks.base import Check, Fail


@dataclass
class Evidence:
    """One failed check's data, as the verdict had it, plus a cache detectors share (an
    oracle two detectors of the same check both need is computed once)."""

    check: Check
    inp: dict[str, Any]
    out: dict[str, Any]
    fail: Fail | None = None
    device: str = "cpu"
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def fail_key(self) -> str:
        """The verdict's message key (``""`` when forced)."""
        return self.fail.key if self.fail is not None else ""

    @property
    def fail_values(self) -> dict[str, Any]:
        """The verdict's message values (empty when forced)."""
        return self.fail.values if self.fail is not None else {}

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per check: later detectors get the same object. An exception is
        remembered too, so a failing oracle is not run again by every detector."""
        if name not in self.cache:
            try:
                self.cache[name] = (True, compute())
            except Exception as exc:  # re-raised for each caller, computed once
                self.cache[name] = (False, exc)
        ok, value = self.cache[name]
        if not ok:
            raise value
        return value


Detector = Callable[[Evidence], "dict[str, Any] | None"]


def explained_by(mistake: str, explain: Callable[[Evidence], Any],
                 values: Callable[[Evidence], dict[str, Any]], name: str, doc: str) -> Detector:
    """The detector of ``mistake`` among several that share one explanation of the data:
    ``explain(ev)`` names every mistake the data show (computed once per check, memoised by
    the caller), this one answers ``values(ev)`` when ``mistake`` is among them."""

    def detect(ev: Evidence) -> dict[str, Any] | None:
        return values(ev) if mistake in explain(ev) else None

    detect.__name__ = name
    detect.__doc__ = doc
    return detect


@dataclass(frozen=True)
class Diagnosis:
    """A mistake that explains a failed check, with the values its message names."""

    id: str
    values: dict[str, Any]
