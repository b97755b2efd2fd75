"""The statistics of section 7's checks, for ``bench/calibrate.py``.

Every other check carries its own ``statistics(inp, out, ctx)`` (``grader/checks/base.py``,
:class:`~grader.checks.base.Stat`): the numbers its verdict compares with its thresholds. The
section-7 checks (``grader/checks/lr_sweep.py``, ``grader/checks/exploding.py``) are written
here instead, from the same helpers their verdicts use (``replay``, ``expect``) and the same
constants, keyed by check id: their statistics need ``bench/section7_thresholds.py``'s replay
of every segment, which is measurement code, not the grader's. (Moving them into the check
classes is possible now that the section-7 split has landed; not done yet.)

- the checks that replay at the asked rate: the worst segment's landing error
  (``replay.landing_error``, a fraction of the grader's update) against
  ``replay.UPDATE_RTOL``, every segment replayed (not stopping at the first miss), as
  ``bench/section7_thresholds.py`` (part ``replay``) measures it. (``histories_shapes_and_values``
  replays at each run's own rates, so that a run at the wrong rate keeps true histories: its
  replay is ``fresh_model_and_rate_per_run``'s for correct code, and is not repeated here);
- ``mnist_pattern_low_mid_high``: the grader's test accuracy of each run's final weights:
  middle >= ``PATTERN_MIN_BEST``, high <= ``PATTERN_MAX_HIGH`` (or not finite), middle - low >=
  ``PATTERN_GAP`` (or the low run not finite);
- ``deep_norms_grow_toward_input``: input-layer / last-hidden-layer norm >= ``GROWTH_MIN_RATIO``;
- ``clipping_rescues_high_rate``: the final weights' test accuracy >= ``RESCUE_MIN_ACC``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from grader.checks import expect, exploding, lr_sweep, replay  # noqa: E402
from grader.checks.base import Check, Context, Stat  # noqa: E402

Statistic = Callable[[Check, dict[str, Any], dict[str, Any], Context], list[Stat]]


def _landing(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    from section7_thresholds import _segments  # every segment of every run

    errors = _segments(chk, inp, out)
    if not errors:
        return []
    return [Stat("worst segment landing error / update", max(errors), "<=",
                 replay.UPDATE_RTOL, hard=True)]


def _final_accuracy(params: Any) -> float:
    return expect.mnist_test_accuracy(replay.pairs([p.float() for p in params]))


def _pattern(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    low, mid, high = (_final_accuracy(params) for params in out["final"][:3])
    return [
        *_landing(chk, inp, out, ctx),
        Stat(f"lr={lr_sweep.PATTERN_LRS[1]:g} (middle) test accuracy", mid, ">=", lr_sweep.PATTERN_MIN_BEST,
             "sweep_mid_not_learning"),
        Stat(f"lr={lr_sweep.PATTERN_LRS[2]:g} (high) test accuracy, nan passes", high, "<=",
             lr_sweep.PATTERN_MAX_HIGH, "sweep_high_learns", nan_passes=True),
        Stat("middle - low test accuracy, nan low passes", mid - low, ">=", lr_sweep.PATTERN_GAP,
             "sweep_low_not_slow", nan_passes=math.isnan(low) and not math.isnan(mid)),
    ]


def _growth(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    # the verdict's own reading of the reported norms (checked against the grader's first)
    norms = next(iter(chk.each(inp, out)))[2]
    hidden = norms[:-1]
    ratio = hidden[0] / hidden[-1] if hidden[-1] > 0 else math.inf
    return [Stat("input-layer / last hidden-layer gradient norm", ratio, ">=",
                 exploding.GROWTH_MIN_RATIO, "norms_no_growth", log=True)]


def _rescue(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    return [*_landing(chk, inp, out, ctx),
            Stat("clipped run's test accuracy", _final_accuracy(out["final"]), ">=",
                 exploding.RESCUE_MIN_ACC, "clip_did_not_rescue")]


#: check id -> its statistics
SECTION7: dict[str, Statistic] = {
    "lr_sweep::fresh_model_and_rate_per_run": _landing,
    "lr_sweep::mnist_pattern_low_mid_high": _pattern,
    "exploding::deep_norms_grow_toward_input": _growth,
    "exploding::clip_by_norm_before_step": _landing,
    "exploding::clipping_rescues_high_rate": _rescue,
}


def statistics(check: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context
               ) -> list[Stat]:
    """The check's own statistics, or section 7's from here."""
    extra = SECTION7.get(check.id)
    if extra is not None:
        return extra(check, inp, out, ctx)
    return check.statistics(inp, out, ctx)
