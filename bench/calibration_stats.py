"""The statistics of section 7's checks, for ``bench/calibrate.py``.

Every other check carries its own ``statistics(inp, out, ctx)`` (``grader/checks/base.py``,
:class:`~grader.checks.base.Stat`): the numbers its verdict compares with its thresholds. The
section-7 checks live in ``grader/checks/hyperparams.py``, which is being split into
``checks/lr_sweep.py`` and ``checks/exploding.py``; until that lands their statistics are
written here, from the same helpers their verdicts use (``hyper_expect``, ``replay``) and the
same constants, keyed by check id. Move each into its check class after the split.

- the checks that replay at the asked rate: the worst segment's landing error
  (``replay.landing_error``, a fraction of the grader's update) against
  ``replay.UPDATE_RTOL``, every segment replayed (not stopping at the first miss), as
  ``bench/hyperparams.py`` (part ``replay``) measures it. (``histories_shapes_and_values``
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

from grader.checks import expect, replay  # noqa: E402
from grader.checks import hyper_expect as hx  # noqa: E402
from grader.checks import hyperparams as hp  # noqa: E402
from grader.checks.base import Check, Context, Stat  # noqa: E402

Statistic = Callable[[Check, dict[str, Any], dict[str, Any], Context], list[Stat]]


def _landing(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    from hyperparams import _segments  # bench/hyperparams.py: every segment of every run

    errors = _segments(chk, inp, out)
    if not errors:
        return []
    return [Stat("worst segment landing error / update", max(errors), "<=",
                 replay.UPDATE_RTOL, hard=True)]


def _final_accuracy(params: Any) -> float:
    return hx.test_accuracy(replay.pairs([p.float() for p in params]))


def _pattern(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    low, mid, high = (_final_accuracy(params) for params in out["final"][:3])
    return [
        *_landing(chk, inp, out, ctx),
        Stat(f"lr={hp.PATTERN_LRS[1]:g} (middle) test accuracy", mid, ">=", hp.PATTERN_MIN_BEST,
             "sweep_mid_not_learning"),
        Stat(f"lr={hp.PATTERN_LRS[2]:g} (high) test accuracy, nan passes", high, "<=",
             hp.PATTERN_MAX_HIGH, "sweep_high_learns", nan_passes=True),
        Stat("middle - low test accuracy, nan low passes", mid - low, ">=", hp.PATTERN_GAP,
             "sweep_low_not_slow", nan_passes=math.isnan(low) and not math.isnan(mid)),
    ]


def _growth(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    norms = expect.float_list(out["results"][0], None, "grad_norms")
    hidden = norms[:-1]
    ratio = hidden[0] / hidden[-1] if hidden[-1] > 0 else math.inf
    return [Stat("input-layer / last hidden-layer gradient norm", ratio, ">=",
                 hp.GROWTH_MIN_RATIO, "norms_no_growth", log=True)]


def _rescue(chk: Check, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
    return [*_landing(chk, inp, out, ctx),
            Stat("clipped run's test accuracy", _final_accuracy(out["final"]), ">=",
                 hp.RESCUE_MIN_ACC, "clip_did_not_rescue")]


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
