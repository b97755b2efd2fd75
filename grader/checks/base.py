"""The shape of a task check, and how one runs.

A check is split in three so the same check can run against the stubs, the
reference, any folder, a notebook's namespace, or an isolated child process:

- ``inputs(ctx)`` runs in the grader: builds every input from the grader's own
  seeded generators;
- ``probe(mod, inp, env)`` runs wherever the student's code runs: calls it on the
  inputs and reports *plain data* (tensors, floats, lists), never a verdict;
- ``verdict(inp, out, ctx)`` runs in the grader: decides pass/fail from that data,
  computing every expected value itself, and raises :class:`Fail` with a message key.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from grader.hidden import variant_token
from grader.i18n import t
from grader.probe_side import probe_side
from grader.tasks import TASK_BY_ID


class Fail(Exception):
    """A verdict: the check failed. ``key`` names a message in both languages."""

    # ``key`` is positional-only: messages may themselves have a ``{key}`` placeholder.
    def __init__(self, key: str, /, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def render(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.values)


def stable_seed(*parts: object) -> int:
    """A 31-bit seed derived from ``parts``; the same on every machine and run."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


# Kept at import time, before any student module is imported: a submission that
# replaces ``torch.manual_seed`` with a no-op does not change how probes are seeded.
_torch_seed = torch.manual_seed
_numpy_seed = np.random.seed
_random_seed = random.seed


@probe_side
def seed_everything(seed: int) -> None:
    """Seed torch, numpy and random: every probe starts from the same state."""
    _torch_seed(seed)
    _numpy_seed(seed % (2**32))
    _random_seed(seed)


@dataclass
class Context:
    """What the grader side knows while grading: device, language, input variant.

    ``variant`` 0 gives the public inputs; other values (nbgrader's hidden tests)
    give different seeded inputs for the same checks, derived from the course secret
    (:mod:`grader.hidden`): without it they raise :class:`~grader.hidden.MissingSecretError`.
    """

    device: str = "cpu"
    lang: str | None = None
    variant: int = 0
    _token: str | None = field(default=None, repr=False, compare=False)

    def seed(self, label: str) -> int:
        if self._token is None:
            self._token = variant_token(self.variant)
        return stable_seed("practico2", self._token, label)

    def gen(self, label: str) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed(label))


@dataclass
class ProbeEnv:
    """What a probe may use besides the inputs: the device to run on."""

    device: str = "cpu"


@dataclass(frozen=True)
class Stat:
    """One number a verdict compares with a threshold, as ``bench/calibrate.py`` reports it.

    ``op`` says which side passes: ``">="`` (``value >= limit``) or ``"<="``; ``nan_passes``
    when a NaN is on the passing side (a diverged run's accuracy where the check wants "no
    better than a guess, or not finite"). ``key``: the message key the verdict raises when
    this number is on the wrong side (``None`` where several keys can), so calibration can
    tell a statistic that disagrees with its verdict. ``hard``: correct code cannot cross the
    limit but by rounding (an exact bound, a float tolerance), so a margin in standard
    deviations of the correct values means nothing for it. ``log``: a positive ratio that
    spans factors (norms, spreads), whose margin is measured in standard deviations of its
    logarithm. Reporting only: a Stat decides nothing.
    """

    name: str
    value: float
    op: str
    limit: float
    key: str | None = None
    nan_passes: bool = False
    hard: bool = False
    log: bool = False

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"Stat {self.name!r}: op must be '>=' or '<=', not {self.op!r}")

    @property
    def margin(self) -> float:
        """Distance from the limit, positive on the passing side (NaN for a NaN value)."""
        return self.value - self.limit if self.op == ">=" else self.limit - self.value

    @property
    def inside(self) -> bool:
        """On the passing side of the limit (the limit itself included)."""
        if math.isnan(self.value):
            return self.nan_passes
        return self.margin >= 0


class Check:
    """One check of one task. Subclasses set the class attributes and the three methods."""

    task: ClassVar[str] = ""
    name: ClassVar[str] = ""
    points: ClassVar[int] = 1
    #: names the probe uses from the task's module (a missing one fails only this check)
    needs: ClassVar[tuple[str, ...]] = ()
    #: rough seconds on 2 CPU cores, for timeouts and progress estimates
    cost: ClassVar[float] = 0.5

    @property
    @probe_side
    def id(self) -> str:
        return f"{self.task}::{self.name}"

    @property
    @probe_side
    def module(self) -> str:
        return TASK_BY_ID[self.task].module

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        raise NotImplementedError

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        raise NotImplementedError

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        """The numbers this check's verdict compares with its thresholds, for calibration only
        (``bench/calibrate.py``: false-fail rates and margins, docs/calibration.md).

        Computed from the same data and with the same helpers as :meth:`verdict`, and never
        deciding anything: grading does not call it. May raise on data a verdict would
        refuse (the caller then has no number for that run). Default: none, for checks
        judged exactly or within rounding (shapes, keys, recomputed values)."""
        return []


CHECKS: list[Check] = []


@probe_side
def register(cls: type[Check]) -> type[Check]:
    """Class decorator: add one instance of the check to the registry."""
    if cls.task not in TASK_BY_ID:
        raise ValueError(f"{cls.__name__}: unknown task {cls.task!r}")
    if any(c.task == cls.task and c.name == cls.name for c in CHECKS):
        raise ValueError(f"duplicate check {cls.task}::{cls.name}")
    CHECKS.append(cls())
    return cls
