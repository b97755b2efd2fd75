"""Detectors of ``lr_sweep`` (the checks of section 7's sweep).

The probe reports what the grader's spies saw: every model ``make_model()`` built (with its
first weights), every optimizer built with ``optimizer_cls`` (its rate, which model's
parameters it holds, whether its groups stayed plain SGD, and copies of the weights at each
``step()``), the forward calls each model logged, and the histories. A detector reads the
record as a pattern (fewer models than rates, another rate, another seed), or, where the
weights were copied at every step, recovers the gradient each step used from two copies and
compares it with the batch's own gradient (summed, accumulated).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from grader.checks import lr_sweep as sweep_checks
from grader.checks.replay import batches
from grader.diagnoses.base import Evidence
from grader.diagnoses.section7 import grads, same_vector, seeded_init, snapshots

#: the largest run the step-by-step detectors look at (the mechanics check has 8 steps)
MAX_STEPS = 16
#: what every message of this task names
_FN = {"fn": "lr_sweep"}
#: how close the gradient a step used (recovered from two float32 copies of the weights) must
#: be to a mistake's: honest steps land within 1.2e-7 of the batch's gradient; momentum 0.9
#: lands 3e-2 from two batches' sum (0.99 would land 3e-3)
STEP_RTOL = 1e-4


def _rates(ev: Evidence) -> list[float]:
    lrs = ev.inp.get("lrs")
    if isinstance(lrs, list):
        return [float(v) for v in lrs]
    return [float(v) for v in sweep_checks.PATTERN_LRS]


def _hidden(ev: Evidence) -> int:
    if "lrs" in ev.inp:
        return sweep_checks.SWEEP_HIDDEN
    return sweep_checks.PATTERN_HIDDEN


def _log(ev: Evidence) -> list[dict[str, Any]]:
    log = ev.out.get("optimizers")
    return [e for e in log if isinstance(e, dict)] if isinstance(log, list) else []


def _built(ev: Evidence) -> int | None:
    built = ev.out.get("built")
    if type(built) is int:
        return built
    initial = ev.out.get("initial")
    return len(initial) if isinstance(initial, list) else None


def _owner_models(entry: dict[str, Any]) -> set[int]:
    owners = entry.get("owners")
    return {o[0] for o in owners if isinstance(o, list) and len(o) == 2 and type(o[0]) is int} \
        if isinstance(owners, list) else set()


def model_reused(ev: Evidence) -> dict[str, Any] | None:
    """Fewer models than rates were built, or a run's optimizer holds an earlier run's model:
    one model is trained at every rate, each run starting where the last one ended."""
    n, built = len(_rates(ev)), _built(ev)
    if built is not None and 1 <= built < n:
        return _FN
    for k, entry in enumerate(_log(ev)):
        models = _owner_models(entry)
        if k > 0 and models and max(models) < k and min(models) >= 0:
            return _FN
    return None


def _starts(ev: Evidence) -> list[list[torch.Tensor]] | None:
    """Each run's first weights: those its optimizer found at its first ``step()``, or those
    its model was built with."""
    initial = ev.out.get("initial")
    if not isinstance(initial, list):
        return None
    hidden = _hidden(ev)
    shapes = [(hidden, 784), (hidden,), (10, hidden), (10,)]
    log = _log(ev)
    starts = []
    for k, params in enumerate(initial):
        snaps = snapshots(log[k], shapes) if k < len(log) else {}
        params = snaps.get(0, params)
        if not isinstance(params, list) or len(params) != 4 or any(
                type(p) is not torch.Tensor or tuple(p.shape) != s
                for p, s in zip(params, shapes)):
            return None
        starts.append(params)
    return starts


def seed_per_run(ev: Evidence) -> dict[str, Any] | None:
    """Every rate got a model, but the runs start from different weights: the seed is not
    set again right before each model is built."""
    starts = _starts(ev)
    if not starts or len(starts) < 2 or len(starts) != len(_rates(ev)):
        return None
    first = starts[0]
    if any(not all(torch.equal(a, b) for a, b in zip(first, s)) for s in starts[1:]):
        return _FN
    return None


def seed_arg_ignored(ev: Evidence) -> dict[str, Any] | None:
    """The runs start from the same weights, but not those of the ``seed`` argument: the
    seed set is another (a fixed number), or the model is seeded before ``seed`` is."""
    starts = _starts(ev)
    seed = ev.inp.get("seed")
    if not starts or type(seed) is not int or len(starts) != len(_rates(ev)):
        return None
    first = starts[0]
    if any(not all(torch.equal(a, b) for a, b in zip(first, s)) for s in starts[1:]):
        return None
    want = seeded_init(seed, _hidden(ev))
    if not all(torch.equal(a, b) for a, b in zip(first, want)):
        return _FN
    return None


def _same_rate(got: Any, want: float) -> bool:
    if not isinstance(got, float):
        return False
    return got == want if math.isinf(want) else abs(got - want) <= 1e-9 * abs(want)


def lr_not_used(ev: Evidence) -> dict[str, Any] | None:
    """An optimizer was built with another rate than its run's (a fixed one, the first one,
    ``optimizer_cls``' default)."""
    rates, log = _rates(ev), _log(ev)
    if len(log) != len(rates):
        return None
    if any(not _same_rate(e.get("lr"), lr) for e, lr in zip(log, rates)):
        return _FN
    return None


def optimizer_not_asked(ev: Evidence) -> dict[str, Any] | None:
    """The models were trained by an optimizer not built with ``optimizer_cls``, or built with
    more than the rate (momentum, weight decay, nesterov)."""
    built, log = _built(ev), _log(ev)
    if built and not log:
        return _FN
    for entry in log:
        plain = entry.get("plain")
        if isinstance(plain, list) and any(p is False for p in plain):
            return _FN
    return None


def _val_sums(ev: Evidence) -> list[float]:
    size = sweep_checks.SWEEP_BATCH
    X = ev.inp["X_val"]
    return [float(X[i:i + size].double().sum()) for i in range(0, X.shape[0], size)]


def _train_sums(ev: Evidence) -> list[float]:
    size = sweep_checks.SWEEP_BATCH
    X = ev.inp["X_train"]
    return [float(X[i:i + size].double().sum()) for i in range(0, X.shape[0], size)]


def _calls(ev: Evidence) -> list[list[list[Any]]]:
    calls = ev.out.get("calls")
    if not isinstance(calls, list):
        return []
    return [[c for c in model if isinstance(c, list) and len(c) == 4
             and isinstance(c[2], float)] if isinstance(model, list) else [] for model in calls]


def _is(value: float, sums: list[float]) -> bool:
    return any(abs(value - f) <= 1e-6 * abs(f) for f in sums)


def val_in_train_mode(ev: Evidence) -> dict[str, Any] | None:
    """A validation batch went through a run's model in ``train()`` mode."""
    if "X_val" not in ev.inp:
        return None
    val = _val_sums(ev)
    if any(c[0] is True and _is(c[2], val) for model in _calls(ev) for c in model):
        return _FN
    return None


def val_with_grad(ev: Evidence) -> dict[str, Any] | None:
    """A validation batch went through a run's model with autograd on."""
    if "X_val" not in ev.inp:
        return None
    val = _val_sums(ev)
    if any(c[1] is True and _is(c[2], val) for model in _calls(ev) for c in model):
        return _FN
    return None


def val_on_train_set(ev: Evidence) -> dict[str, Any] | None:
    """No validation batch ever went through a model, but training batches did in ``eval()``
    without autograd: the accuracy is measured on ``train_loader``."""
    if "X_val" not in ev.inp:
        return None
    val, train = _val_sums(ev), _train_sums(ev)
    calls = [c for model in _calls(ev) for c in model]
    if not calls or any(_is(c[2], val) for c in calls):
        return None
    if any(c[0] is False and c[1] is False and _is(c[2], train) for c in calls):
        return _FN
    return None


# ------------------------------------------------------------------ steps, from the copies


def _step_gradients(ev: Evidence) -> list[tuple[list[torch.Tensor], list[torch.Tensor]]] | None:
    """For the first finite-rate run copied at every step: per step, the gradient the step
    used (recovered from the copies before and after it) and the batch's own gradient at the
    weights it started from."""
    def compute():
        if "X_train" not in ev.inp:
            return None
        hidden, size = _hidden(ev), sweep_checks.SWEEP_BATCH
        shapes = [(hidden, 784), (hidden,), (10, hidden), (10,)]
        data = batches(ev.inp["X_train"], ev.inp["y_train"], size)
        for lr, entry in zip(_rates(ev), _log(ev)):
            plain = entry.get("plain")
            if not math.isfinite(lr) or lr <= 0 or not isinstance(plain, list) or not all(
                    p is True for p in plain):
                continue  # momentum and the like move weights by more than a gradient
            snaps = snapshots(entry, shapes)
            steps = [k for k in range(min(len(snaps), MAX_STEPS)) if k in snaps and k + 1 in snaps]
            if len(steps) < 2:
                continue
            found = []
            for k in steps:
                before, after = snaps[k], snaps[k + 1]
                used = [(b.double() - a.double()) / lr for b, a in zip(before, after)]
                _, raw = grads(before, *data[k % len(data)])
                found.append((used, raw))
            return found
        return None

    return ev.memo("sweep_step_gradients", compute)


def grad_not_cleared(ev: Evidence) -> dict[str, Any] | None:
    """The second step used the first two batches' gradients added up: ``.grad`` is never
    cleared, so each ``backward()`` adds to what the last batches left."""
    steps = _step_gradients(ev)
    if not steps or len(steps) < 2:
        return None
    (u0, g0), (u1, g1) = steps[0], steps[1]
    if same_vector(u0, g0, STEP_RTOL) and same_vector(u1, [a + b for a, b in zip(g0, g1)],
                                                     STEP_RTOL):
        return _FN
    return None


def loss_not_averaged(ev: Evidence) -> dict[str, Any] | None:
    """Each step used the batch's gradient times the batch size (a summed loss), or each
    epoch's ``train_loss`` is the sum (or last value) of its batch losses, not their mean."""
    size = sweep_checks.SWEEP_BATCH
    steps = _step_gradients(ev)
    if steps and all(same_vector(u, [size * g for g in raw], STEP_RTOL) for u, raw in steps[:2]):
        return _FN
    return _train_loss_summed(ev)


def _train_loss_summed(ev: Evidence) -> dict[str, Any] | None:
    runs = ev.out.get("runs")
    if not isinstance(runs, list) or "X_train" not in ev.inp:
        return None
    hidden, size = _hidden(ev), sweep_checks.SWEEP_BATCH
    per_epoch = ev.inp["X_train"].shape[0] // size
    shapes = [(hidden, 784), (hidden,), (10, hidden), (10,)]
    data = batches(ev.inp["X_train"], ev.inp["y_train"], size)
    for lr, entry, run in zip(_rates(ev), _log(ev), runs):
        reported = run.get("train_loss") if isinstance(run, dict) else None
        snaps = snapshots(entry, shapes)
        if not math.isfinite(lr) or not isinstance(reported, list) or not reported \
                or not all(k in snaps for k in range(per_epoch)):
            continue
        losses = [grads(snaps[k], *data[k % len(data)])[0] for k in range(per_epoch)]
        got = reported[0]
        if not isinstance(got, float) or not math.isfinite(got):
            continue
        mean = math.fsum(losses) / per_epoch
        if abs(got - mean) <= 1e-4 * abs(mean):
            return None
        for wrong in (math.fsum(losses), losses[-1], mean / size):
            if abs(got - wrong) <= 1e-4 * abs(wrong):
                return _FN
        return None
    return None
