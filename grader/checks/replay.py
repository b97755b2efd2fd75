"""Verdict side of section 7's training runs: take the recorded SGD steps again and say whether
they happened.

For one training run the spy optimizer (probe side, :mod:`grader.checks.spies`) hands back
the model's parameters as they were each time ``step()`` was called at every ``every``-th step
(*snapshots*), the learning rate each parameter group held at every step, and the parameters at
the end. All of it comes from the student's process and could be made up, forged spies
included. What cannot be made up is arithmetic: starting from each snapshot the grader takes the
same steps itself (the cross-entropy of the batch the loader gave at that step, its own
backward, the clipping if asked, ``p -= lr * grad``) and compares where it lands with the next
snapshot, or with the final weights. A record passes only if every segment lands where the
grader's own steps land, so it is the trace of a real run from its first snapshot; the losses,
norms and accuracies the verdicts need are then the grader's, computed from those weights.

Segments are short because runs at high rates are chaotic: over a whole run, a difference in
the last bit grows into another run; over one segment (at most 8 steps) an honest run in
another idiom (a hand-written clipping, parameter groups, ``log_softmax`` + ``nll_loss``)
lands within 2e-5 of the grader's update, while a faked step misses by about the size of the
update or more (``bench/section7_thresholds.py``, part ``replay``; ``docs/thresholds.md``). The steps
are taken on the device the student's code ran on, with the operations ``nn.Linear``, the
activation modules, ``torch.optim.SGD`` and ``clip_grad_norm_`` use, so the same code lands
on the same bits; other rounding is what the tolerance is for. (The clipped high-rate run is
the most sensitive: with every weight nudged by 1e-6 before each 4-step segment, a segment
can land 0.34 of the update away, so a replay on another device than the run's would not do.)

Also here, for both tasks' verdicts: the batches an unshuffled loader gave (:func:`batches`),
the spies' optimizer log (:func:`optimizer_log`), and the most likely reason a record is not a
real run, as a teaching Fail (:func:`explain_break`).

Nothing here is copied into the sandbox child (:mod:`grader.sandbox.probe_copy` lists what is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks import expect
from grader.checks.base import Fail

#: a segment's landing point may miss the grader's by this fraction of the grader's update
#: (honest runs: <= 3e-5; a skipped, doubled or unclipped step: >= 0.3)
UPDATE_RTOL = 5e-2
#: float noise floor, relative to the weights' norm, for steps that barely move them
NOISE_FLOOR = 1e-6


@dataclass
class Run:
    """One training run as the spy recorded it, checked for types and shapes.

    - ``snapshots``: step index -> the model's parameters (model order) when that ``step()``
      was called, before it took the step;
    - ``final``: the parameters when the trained function returned;
    - ``lrs[k]``: per parameter (model order), the rate its group held at step ``k``
      (``0.0`` for a parameter no group holds: it is not trained);
    - ``with_grad[k]``: how many of the model's parameters had a ``.grad`` at step ``k``;
    - ``plain[k]``: every group was plain SGD (no momentum, dampening, weight decay,
      nesterov or maximize) at step ``k``;
    - ``grads``: step index -> the gradients ``step()`` found, where the probe kept them.
    """

    steps: int
    snapshots: dict[int, list[torch.Tensor]]
    final: list[torch.Tensor]
    lrs: list[list[float]]
    with_grad: list[int]
    plain: list[bool]
    grads: dict[int, list[torch.Tensor | None]] = field(default_factory=dict)


@dataclass
class Break:
    """Where a record stops being a real run: the segment ``[start, end)`` whose landing
    point missed the grader's by ``error`` (a fraction of the update), or ``why`` when the
    record itself is unusable."""

    start: int
    end: int
    error: float = math.inf
    why: str = "missed"


@dataclass
class Replay:
    """What the grader computed along a run that passed: per step the batch loss and the raw
    total gradient norm (before clipping) at the run's weights, and the verified weights at
    every snapshot and at the end (key ``steps``)."""

    losses: list[float]
    norms: list[float]
    states: dict[int, list[torch.Tensor]]


class Garbled(Exception):
    """The record does not have the shape a spy writes (a forged or damaged report)."""


def _tensor_list(value: Any, shapes: list[tuple[int, ...]]) -> list[torch.Tensor]:
    if not isinstance(value, list) or len(value) != len(shapes):
        raise Garbled
    out = []
    for t, shape in zip(value, shapes):
        if type(t) is not torch.Tensor or tuple(t.shape) != shape or not t.is_floating_point():
            raise Garbled
        out.append(t.float())
    return out


def read_run(entry: Any, final: Any, shapes: list[tuple[int, ...]], every: int = 1) -> Run:
    """A spy's ``entry`` (see ``spies.spy_optimizer``) and the final parameters, as a
    :class:`Run`; :class:`Garbled` when anything is not what a spy writes.

    ``every``: the spy copied the weights at every ``every``-th step, so exactly those copies
    must be there (a record that leaves some out would make one long segment of two, and the
    weights at an epoch's end unknown). Each parameter's rate at a step is its group's
    (:func:`group_of_params`)."""
    if not isinstance(entry, dict):
        raise Garbled
    steps = entry.get("steps")
    if type(steps) is not int or steps < 0:
        raise Garbled
    # steps logged (the spy stops logging past MAX_STEPS_LOGGED); a record without the
    # count logged nothing
    logged = entry.get("logged")
    logged = min(steps, logged) if type(logged) is int else 0
    lrs_raw, with_grad, plain = entry.get("lrs"), entry.get("with_grad"), entry.get("plain")
    if not all(isinstance(v, list) and len(v) == logged for v in (lrs_raw, with_grad, plain)):
        raise Garbled
    groups_of = group_of_params(entry.get("groups"), len(shapes))
    lrs = []
    for per_group in lrs_raw:
        if not isinstance(per_group, list) or not all(isinstance(v, float) for v in per_group):
            raise Garbled
        lrs.append([per_group[g] if 0 <= g < len(per_group) else 0.0 for g in groups_of])
    if not all(type(n) is int for n in with_grad) or not all(type(p) is bool for p in plain):
        raise Garbled
    snaps: dict[int, list[torch.Tensor]] = {}
    for item in entry.get("snaps", []) if isinstance(entry.get("snaps"), list) else []:
        if not isinstance(item, list) or len(item) != 2 or type(item[0]) is not int:
            raise Garbled
        if not 0 <= item[0] < logged or item[0] in snaps:
            raise Garbled
        snaps[item[0]] = _tensor_list(item[1], shapes)
    if set(snaps) != set(range(0, logged, every)):
        raise Garbled
    grads: dict[int, list[torch.Tensor | None]] = {}
    for item in entry.get("grads", []) if isinstance(entry.get("grads"), list) else []:
        if not isinstance(item, list) or len(item) != 2 or type(item[0]) is not int:
            raise Garbled
        if not isinstance(item[1], list) or len(item[1]) != len(shapes):
            raise Garbled
        grads[item[0]] = [None if g is None else _tensor_list([g], [s])[0]
                          for g, s in zip(item[1], shapes)]
    return Run(steps=steps, snapshots=snaps, final=_tensor_list(final, shapes), lrs=lrs,
               with_grad=with_grad, plain=plain, grads=grads)


def recorded_run(entry: dict[str, Any], final: Any, shapes: list[tuple[int, ...]], steps: int,
                 every: int, keys: dict[str, str], /, **values: Any) -> Run:
    """One optimizer's record (an entry of :func:`optimizer_log`) as a :class:`Run` of
    ``steps`` steps, read by :func:`read_run`; else the task's Fail: ``keys["step_count"]``
    (it stepped another number of times) or ``keys["unreadable"]`` (not what a spy writes),
    naming ``values`` first."""
    if entry.get("steps") != steps:
        raise Fail(keys["step_count"], **values, expected=steps, found=entry.get("steps"))
    try:
        return read_run(entry, final, shapes, every)
    except Garbled:
        raise Fail(keys["unreadable"], **values) from None


def group_of_params(groups: Any, n: int) -> list[int]:
    """``groups``: per optimizer group, the ``[model, parameter]`` owners of its tensors (as
    the spy reports them). Returns, per model parameter, its group (``-1``: none)."""
    where = [-1] * n
    if not isinstance(groups, list):
        raise Garbled
    for g, owners in enumerate(groups):
        if not isinstance(owners, list):
            raise Garbled
        for owner in owners:
            if isinstance(owner, list) and len(owner) == 2 and type(owner[1]) is int \
                    and 0 <= owner[1] < n:
                where[owner[1]] = g
    return where


def mlp_logits(params: list[torch.Tensor], X: torch.Tensor, act: str = "relu") -> torch.Tensor:
    """The grader's own forward pass of the recorded MLP ``[W0, b0, W1, b1, ...]`` (input
    flattened, in the parameters' dtype), with the same operations ``nn.Linear`` and the
    activation modules use."""
    h = X.reshape(X.shape[0], -1).to(params[0].dtype)
    n = len(params) // 2
    for i in range(n):
        h = F.linear(h, params[2 * i], params[2 * i + 1])
        if i < n - 1:
            h = torch.relu(h) if act == "relu" else torch.tanh(h)
    return h


def _finite(params: list[torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in params)


def _flat(params: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1).double() for p in params])


def replay_device(device: str) -> str:
    """Where the grader takes the steps again: the student's device when this process can use
    it (the same kernels round alike), else the CPU."""
    return "cuda" if device == "cuda" and torch.cuda.is_available() else "cpu"


def take_steps(start: list[torch.Tensor], batches: list[tuple[torch.Tensor, torch.Tensor]],
               first: int, count: int, lrs: list[list[float]], clip: float | None,
               act: str = "relu", device: str = "cpu",
               ) -> tuple[list[torch.Tensor], list[float], list[float]]:
    """``count`` SGD steps from ``start``, the grader's way: step ``k`` uses batch
    ``k % len(batches)`` and rates ``lrs[k]`` (per parameter); returns the weights reached
    (on the CPU), and per step the batch loss and the raw total gradient norm."""
    params = [p.detach().to(device).clone().requires_grad_(True) for p in start]
    losses, norms = [], []
    for k in range(first, first + count):
        X, y = (t.to(device) for t in batches[k % len(batches)])
        for p in params:
            p.grad = None
        loss = F.cross_entropy(mlp_logits(params, X, act), y)
        loss.backward()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        if clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, clip)
        else:
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g)
                                                         for g in grads]))
        with torch.no_grad():
            for p, lr in zip(params, lrs[k]):
                p.add_(p.grad, alpha=-lr)
        losses.append(float(loss.detach()))
        norms.append(float(norm))
    return [p.detach().cpu() for p in params], losses, norms


def landing_error(start: list[torch.Tensor], got: list[torch.Tensor],
                  want: list[torch.Tensor]) -> float:
    """How far ``got`` (the run's weights after a segment) is from ``want`` (the grader's),
    as a fraction of the grader's update from ``start``; ``0`` when both are non-finite (the
    run diverged, as the grader's own steps did), ``inf`` when only one of them is."""
    if not _finite(got) or not _finite(want):
        return 0.0 if not _finite(got) and not _finite(want) else math.inf
    s, a, b = _flat(start), _flat(got), _flat(want)
    update = float((b - s).norm())
    return float((a - b).norm()) / (update + NOISE_FLOOR * float(s.norm()) + 1e-30)


def replay(run: Run, batches: list[tuple[torch.Tensor, torch.Tensor]], start: list[torch.Tensor],
           lr: float | None = None, clip: float | None = None, act: str = "relu",
           device: str = "cpu") -> Replay | Break:
    """Check that ``run`` is a real SGD run from ``start`` (the weights it must begin with).

    ``lr``: the rate every parameter must be stepped at (the one asked for); ``None`` takes
    the rates the run's groups held at each step (a run at the wrong rate is still a real
    run). ``device``: where the student's code ran (:func:`replay_device`). Returns what the
    grader computed along it, or where it broke."""
    device = replay_device(device)
    if run.steps == 0:
        return Replay([], [], {0: start}) if _close_all(run.final, start) else Break(0, 0)
    if len(run.lrs) != run.steps:
        return Break(0, run.steps, why="unlogged")
    rates = run.lrs if lr is None else [[lr] * len(start) for _ in range(run.steps)]
    # read_run made sure of a copy at every ``every``-th logged step, step 0 included
    marks = sorted(k for k in run.snapshots if 0 < k < run.steps)
    first = run.snapshots[0]
    if not _close_all(first, start):
        return Break(0, 0, why="start")
    states = {0: first}
    losses: list[float] = []
    norms: list[float] = []
    for a, b in zip([0, *marks], [*marks, run.steps]):
        here = run.snapshots[a]
        there = run.final if b == run.steps else run.snapshots[b]
        if not _finite(here):
            # The run had already diverged at its last snapshot: whatever follows is not
            # finite either (a finite landing would be a restart, not a step).
            if _finite(there):
                return Break(a, b)
            losses += [math.nan] * (b - a)
            norms += [math.nan] * (b - a)
            states[b] = there
            continue
        want, seg_losses, seg_norms = take_steps(here, batches, a, b - a, rates, clip, act,
                                                 device)
        error = landing_error(here, there, want)
        if not error <= UPDATE_RTOL:
            return Break(a, b, error)
        losses += seg_losses
        norms += seg_norms
        states[b] = there
    return Replay(losses, norms, states)


def _close_all(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(
        tuple(x.shape) == tuple(y.shape) and bool(torch.equal(x.float(), y.float()))
        for x, y in zip(a, b))


def epoch_means(losses: list[float], per_epoch: int) -> list[float]:
    """The mean batch loss of each epoch (``nan`` where a batch's loss was not finite)."""
    return [math.fsum(losses[i:i + per_epoch]) / per_epoch
            if all(math.isfinite(v) for v in losses[i:i + per_epoch]) else math.nan
            for i in range(0, len(losses), per_epoch)]


def pairs(params: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``[W0, b0, W1, b1, ...]`` -> ``[(W0, b0), (W1, b1), ...]`` for :mod:`expect`'s oracle."""
    return [(params[i], params[i + 1]) for i in range(0, len(params), 2)]


def grad_norm(grads: list[torch.Tensor | None]) -> float:
    """The total L2 norm of recorded gradients (missing ones count as zero), in float64."""
    return math.sqrt(math.fsum(float(g.double().pow(2).sum()) for g in grads if g is not None))


def batches(X: torch.Tensor, y: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The batches an unshuffled loader gives, in order (what the run's step ``k`` saw is
    ``batches[k % len(batches)]``)."""
    return [(X[i:i + size], y[i:i + size]) for i in range(0, X.shape[0], size)]


def optimizer_log(out: dict[str, Any]) -> list[dict[str, Any]]:
    log = out.get("optimizers")
    if not isinstance(log, list) or not all(isinstance(e, dict) for e in log):
        raise Fail("sweep_no_optimizer", found=0, expected="?")
    return log


def same_rate(got: Any, want: float) -> bool:
    if not isinstance(got, float):
        return False
    return got == want if math.isinf(want) else expect.rel_close(got, want, 1e-9, 0.0)


def explain_break(brk: Break, record: Run, rate: float, keys: dict[str, str],
                  rate_asked: bool = True, /, **values: Any) -> None:
    """The most likely reason a run's record is not a real run, as a teaching Fail: the first
    step of the broken segment that ``step()`` found without gradients, at another rate than
    ``rate`` (when ``rate_asked``) or, where ``keys`` has ``options``, not plain SGD; else the
    segment and how far it missed. ``keys``: the task's message keys (``no_grads``,
    ``lr_changed``, ``options`` where asked, ``missed``); ``values``: what every message of
    ``keys`` names (the arguments before them are positional only: messages name ``run`` and
    ``lr`` too)."""
    for s in range(brk.start, min(brk.end, len(record.lrs))):
        if record.with_grad[s] == 0:
            raise Fail(keys["no_grads"], step=s + 1, **values)
        if rate_asked and not all(same_rate(v, rate) for v in record.lrs[s]):
            found = next(v for v in record.lrs[s] if not same_rate(v, rate))
            raise Fail(keys["lr_changed"], step=s + 1, found=f"{found:.6g}",
                       expected=f"{rate:.6g}", **values)
        if "options" in keys and not record.plain[s]:
            raise Fail(keys["options"], **values)
    error = "∞" if math.isinf(brk.error) else f"{brk.error:.2g}"
    raise Fail(keys["missed"], first=brk.start + 1, last=max(brk.end, brk.start + 1),
               error=error, **values)


__all__ = ["UPDATE_RTOL", "Break", "Garbled", "Replay", "Run", "batches", "epoch_means",
           "explain_break", "grad_norm", "group_of_params", "landing_error", "optimizer_log",
           "pairs", "read_run", "recorded_run", "replay", "replay_device", "same_rate",
           "take_steps"]
