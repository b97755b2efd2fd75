"""Task ``lr_sweep`` (section 7): one fresh model and one optimizer per learning rate.

Probe side: the grader's model (:func:`sweep_net`) behind the spies of
:mod:`grader.checks.spies`, the sweep's inputs, and the histories as plain data. Verdict
side (never copied into the sandbox child): every recorded step taken again
(:mod:`grader.checks.replay`), and every expected value (the histories along the run's own
steps, the seeded initial weights, the MNIST test accuracies of the trained weights)
computed here from those weights.

Budgets and thresholds were measured over seeds by ``bench/section7_thresholds.py``; the
ranges are in docs/thresholds.md (section "Section 7").
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn

from grader.checks import expect, replay
from grader.checks.base import Check, Context, Fail, ProbeEnv, register, seed_everything
from grader.checks.capture import bad, capture_records
from grader.checks.learning import accuracy_range
from grader.checks.spies import MAX_RUNS, ModelSpy, net_params, spy_optimizer
from grader.data import FastLoader, mnist_rows, mnist_subset
from grader.probe_side import probe_side

SWEEP_KEYS = ("train_loss", "val_acc")


# ------------------------------------------------------------------ probe side


@probe_side
def sweep_net(hidden: int) -> nn.Module:
    """The grader's model for ``lr_sweep``: 784 -> hidden (ReLU) -> 10, torch's default init
    from the global RNG (so the seed the student sets decides the initial weights)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


@probe_side
def capture_runs(value: Any) -> Any:
    if type(value) not in (list, tuple):
        return bad(value)
    return [capture_records(v, SWEEP_KEYS) for v in value[:MAX_RUNS]] + (
        [bad(None)] if len(value) > MAX_RUNS else [])


# ------------------------------------------------------------------ checks

#: mechanics: a small synthetic problem, rates out of order on purpose, one of them infinite:
#: that run diverges at its first step on every input (a ReLU net under cross-entropy stalls
#: rather than overflows at any finite rate we tried, up to 1e9), so a loop that drops or
#: zeroes non-finite losses instead of reporting them is seen on every variant.
SWEEP_HIDDEN = 16
SWEEP_BATCH, SWEEP_TRAIN, SWEEP_VAL, SWEEP_EPOCHS = 8, 32, 24, 2
SWEEP_STEPS = SWEEP_EPOCHS * (SWEEP_TRAIN // SWEEP_BATCH)


class _SweepCheck(Check):
    task = "lr_sweep"
    needs = ("lr_sweep",)
    cost = 0.3

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("sweep.mechanics")
        # Three distinct finite rates, not sorted, from the grader's generator; the infinite
        # one second, so a model reused after it shows as well.
        base = torch.tensor([0.3, 0.01, 0.08], dtype=torch.float64)
        finite = (base * (1 + 0.5 * torch.rand(3, generator=gen, dtype=torch.float64))).tolist()
        return {
            "lrs": [finite[0], math.inf, finite[1], finite[2]],
            "seed": int(torch.randint(1, 10_000, (1,), generator=gen)),
            "X_train": torch.rand(SWEEP_TRAIN, 1, 28, 28, generator=gen),
            "y_train": torch.randint(0, 10, (SWEEP_TRAIN,), generator=gen),
            "X_val": torch.rand(SWEEP_VAL, 1, 28, 28, generator=gen),
            "y_val": torch.randint(0, 10, (SWEEP_VAL,), generator=gen),
        }

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        models, log = ModelSpy(lambda: sweep_net(SWEEP_HIDDEN)), []
        train = FastLoader(inp["X_train"].to(env.device), inp["y_train"].to(env.device),
                           SWEEP_BATCH)
        val = FastLoader(inp["X_val"].to(env.device), inp["y_val"].to(env.device), SWEEP_BATCH)
        seed_everything(12345)  # not the seed asked for: the student must set it
        value = mod.lr_sweep(models, list(inp["lrs"]), train, val, epochs=SWEEP_EPOCHS,
                             seed=int(inp["seed"]), optimizer_cls=spy_optimizer(models, log),
                             device=env.device)
        return {"runs": capture_runs(value), "optimizers": log, "initial": models.initial,
                "final": [net_params(net) for net in models.built],
                "calls": [entry.calls for entry in models.logs]}

    def batches(self, inp: dict[str, Any]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return replay.batches(inp["X_train"], inp["y_train"], SWEEP_BATCH)


@register
class SweepFreshModels(_SweepCheck):
    """One fresh model per rate, its own optimizer built with that rate, and every step of
    every run really taken at that rate (the weights after each step are the grader's)."""

    name = "fresh_model_and_rate_per_run"
    points = 3

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        sweep_mechanics(inp["lrs"], out, SWEEP_STEPS)
        batches = self.batches(inp)
        for k, lr in enumerate(inp["lrs"]):
            sweep_replay(out, k, lr, batches, SWEEP_HIDDEN, asked=True, steps=SWEEP_STEPS,
                         device=ctx.device)


@register
class SweepSameSeed(_SweepCheck):
    name = "same_seed_each_run"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        sweep_models(len(inp["lrs"]), out)
        sweep_same_seed(out, int(inp["seed"]), SWEEP_HIDDEN)


@register
class SweepHistories(_SweepCheck):
    """The histories are those of the runs that happened: each epoch's ``train_loss`` the
    mean of the batch losses the grader computes along the run's own steps, each
    ``val_acc`` that of the weights at the end of that epoch, measured in ``eval()`` without
    gradients on ``val_loader``."""

    name = "histories_shapes_and_values"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        runs = sweep_histories(out["runs"], len(inp["lrs"]), SWEEP_EPOCHS)
        sweep_models(len(inp["lrs"]), out)
        per_epoch = SWEEP_TRAIN // SWEEP_BATCH
        batches = self.batches(inp)
        for k, run in enumerate(runs):
            lr = inp["lrs"][k]
            # The run's own rates: a run at the wrong rate has true histories too (the rate is
            # fresh_model_and_rate_per_run's business).
            done = sweep_replay(out, k, lr, batches, SWEEP_HIDDEN, asked=False,
                                steps=SWEEP_STEPS, device=ctx.device)
            sweep_train_loss(run["train_loss"], done.losses, per_epoch, k, lr)
            for epoch in range(SWEEP_EPOCHS):
                sweep_val_acc(run["val_acc"][epoch], done.states.get((epoch + 1) * per_epoch),
                              inp["X_val"], inp["y_val"], k, epoch, lr)
        sweep_modes(out.get("calls"), inp["X_val"], SWEEP_BATCH, len(inp["lrs"]))


#: MNIST budget of the pattern check: 2,000 training images, 1 epoch, batch 32, SGD.
#: Measured over seeds (bench/section7_thresholds.py, docs/thresholds.md): test accuracy of the
#: reference 0.14-0.19 at the low rate, 0.76-0.82 in the middle, 0.10-0.11 (or nan) high.
PATTERN_LRS = (0.003, 0.1, 30.0)
PATTERN_N, PATTERN_BATCH, PATTERN_HIDDEN = 2000, 32, 64
PATTERN_MIN_BEST = 0.5  # the middle rate learns
PATTERN_MAX_HIGH = 0.2  # the too-high rate is no better than a guess (or not finite)
PATTERN_GAP = 0.2  # the low rate is at least this far behind the middle one
#: a copy of the weights every this many steps: segments short enough that the chaotic
#: high-rate run is taken again within rounding (grader.checks.replay)
PATTERN_EVERY = 8


@register
class SweepPattern(_SweepCheck):
    name = "mnist_pattern_low_mid_high"
    points = 3
    cost = 2.0

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("sweep.pattern")
        return {"idx": torch.randperm(54_000, generator=gen)[:PATTERN_N],
                "seed": int(torch.randint(1, 10_000, (1,), generator=gen))}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        models, log = ModelSpy(lambda: sweep_net(PATTERN_HIDDEN), keep_initial=False), []
        train = mnist_subset(inp["idx"], PATTERN_BATCH, env.device)
        val = mnist_subset(inp["idx"][:256], 256, env.device)
        value = mod.lr_sweep(models, list(PATTERN_LRS), train, val, epochs=1,
                             seed=int(inp["seed"]),
                             optimizer_cls=spy_optimizer(models, log, every=PATTERN_EVERY),
                             device=env.device)
        return {"runs": capture_runs(value), "optimizers": log, "built": len(models.built),
                "final": [net_params(net) for net in models.built]}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        sweep_models(len(PATTERN_LRS), out)
        X, y = mnist_rows("train", inp["idx"])
        batches = replay.batches(X, y, PATTERN_BATCH)
        accs = []
        for k, lr in enumerate(PATTERN_LRS):
            done = sweep_replay(out, k, lr, batches, PATTERN_HIDDEN, asked=True,
                                steps=len(batches), device=ctx.device, every=PATTERN_EVERY)
            final = done.states[max(done.states)]
            accs.append(expect.mnist_test_accuracy(replay.pairs(final)))
        sweep_pattern(PATTERN_LRS, accs, PATTERN_MIN_BEST, PATTERN_MAX_HIGH, PATTERN_GAP)


# ------------------------------------------------------------------ verdict side


def accuracy_bounds(pairs: list, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy of the ReLU MLP of ``pairs`` on ``(X, y)``, as a range allowing argmax ties;
    ``(0, 1)`` (anything goes) when the weights are not finite."""
    if not expect.finite_pairs(pairs):
        return 0.0, 1.0
    try:
        return accuracy_range(lambda xb: expect.mlp_forward(pairs, xb, "relu"), X, y)
    except RuntimeError:
        raise Fail("layers_do_not_chain", what="lr_sweep",
                   shapes=expect.layer_shapes(pairs)) from None


def sweep_models(n: int, out: dict[str, Any]) -> None:
    """``make_model()`` was called once per rate: the runs can be told apart and compared.
    (What each optimizer got is :func:`sweep_mechanics`' business, one check only.)"""
    built = out.get("built")
    if type(built) is not int:
        initial = out.get("initial")
        built = len(initial) if isinstance(initial, list) else 0
    final = out.get("final")
    if built != n or not isinstance(final, list) or len(final) != n:
        raise Fail("sweep_models_count", expected=n, found=built)


def sweep_mechanics(lrs: list[float], out: dict[str, Any], steps: int) -> None:
    """One fresh model per rate, each with its own optimizer built with exactly that rate
    over exactly that model's parameters (however grouped), stepped ``steps`` times. What
    those steps did is :func:`sweep_replay`'s to say."""
    n = len(lrs)
    sweep_models(n, out)
    log = replay.optimizer_log(out)
    if len(log) != n:
        raise Fail("sweep_no_optimizer", expected=n, found=len(log))
    for k, (lr, entry) in enumerate(zip(lrs, log)):
        got = entry.get("lr")
        if not replay.same_rate(got, lr):
            shown = got if isinstance(got, float) else (
                got.get("__type__", "?") if isinstance(got, dict) else "?")
            raise Fail("sweep_wrong_lr", run=k + 1, expected=f"{lr:.6g}", found=shown)
        owners = entry.get("owners")
        # The k-th optimizer holds all 4 parameters of the k-th model, built just before it,
        # in any order and any grouping.
        want = [[k, j] for j in range(4)]
        held = sorted(owners) if isinstance(owners, list) and all(
            isinstance(o, list) and all(type(i) is int for i in o) for o in owners) else None
        if held != want or entry.get("n_params") != 4 or entry.get("built_before") != k + 1:
            raise Fail("sweep_optimizer_params", run=k + 1, lr=f"{lr:.6g}")
        if entry.get("steps") != steps:
            raise Fail("sweep_step_count", run=k + 1, expected=steps, found=entry.get("steps"))


def _sweep_shapes(hidden: int) -> list[tuple[int, ...]]:
    return [(hidden, 784), (hidden,), (10, hidden), (10,)]


def sweep_replay(out: dict[str, Any], k: int, lr: float,
                 steps_batches: list[tuple[torch.Tensor, torch.Tensor]], hidden: int,
                 asked: bool, steps: int, device: str = "cpu", every: int = 1
                 ) -> replay.Replay:
    """Run ``k`` of a sweep was a real SGD run from its first recorded weights: at ``lr``
    (``asked``) or at the rates its optimizer's groups held (not ``asked``). Returns what the
    grader computed along it; a Fail naming the first step that did not happen as recorded."""
    log = replay.optimizer_log(out)
    final = out.get("final")
    if k >= len(log) or not isinstance(final, list) or k >= len(final):
        raise Fail("sweep_no_optimizer", expected=k + 1, found=len(log))
    run = replay.recorded_run(log[k], final[k], _sweep_shapes(hidden), steps, every,
                              SWEEP_RECORD_KEYS, run=k + 1)
    done = replay.replay(run, steps_batches, run.snapshots[0], lr if asked else None,
                         device=device)
    if isinstance(done, replay.Break):
        replay.explain_break(done, run, lr, SWEEP_RECORD_KEYS, asked, run=k + 1, lr=f"{lr:.6g}")
    if not all(run.plain):
        # Landed within the replay's tolerance, yet not plain SGD: a small weight decay
        # (1e-4) moves each step by lr * 1e-4 * w, far inside 5 % of the step, so the
        # optimizer's own record of its options decides (read from param_groups at step()).
        raise Fail(SWEEP_RECORD_KEYS["options"], run=k + 1, lr=f"{lr:.6g}")
    return done  # type: ignore[return-value]


#: message keys of a run's record that is not a real run (:func:`grader.checks.replay.
#: recorded_run`, :func:`grader.checks.replay.explain_break`; ``missed``: nothing it shows)
SWEEP_RECORD_KEYS = {"step_count": "sweep_step_count", "unreadable": "sweep_record_unreadable",
                     "no_grads": "sweep_step_without_grads", "lr_changed": "sweep_lr_changed",
                     "options": "sweep_optimizer_options", "missed": "sweep_steps_not_sgd"}


def seeded_sweep_init(seed: int, hidden: int) -> list[torch.Tensor]:
    """The parameters ``torch.manual_seed(seed); sweep_net(hidden)`` gives, drawn the way
    ``nn.Linear`` draws them (``reset_parameters``: Kaiming-uniform weights with
    ``a=sqrt(5)``, biases uniform in +-1/sqrt(fan_in), layer by layer) but from a generator of
    its own. Seeding torch's global generator here would race with every other verdict of
    this process: ``autograde`` judges several students at once in threads, and one of them
    drawing between another's ``manual_seed`` and its draws gave the reference "seed not
    used" (seen once in a class of 20). ``tests/test_replay.py`` checks these equal
    ``sweep_net``'s under the global seed."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in ((784, hidden), (hidden, 10)):
        weight, bias = torch.empty(fan_out, fan_in), torch.empty(fan_out)
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(fan_in)
        nn.init.uniform_(bias, -bound, bound, generator=gen)
        params += [weight, bias]
    return params


def sweep_same_seed(out: dict[str, Any], seed: int, hidden: int) -> None:
    """Every run starts training from the weights ``torch.manual_seed(seed); make_model()``
    gives: the weights the optimizer found at its first ``step()`` (or, for a run that never
    stepped, those the model was built with)."""
    want = seeded_sweep_init(seed, hidden)
    shapes = [tuple(w.shape) for w in want]
    initial = out.get("initial") if isinstance(out.get("initial"), list) else []
    log = out.get("optimizers") if isinstance(out.get("optimizers"), list) else []
    first = None
    for k, params in enumerate(initial):
        entry = log[k] if k < len(log) and isinstance(log[k], dict) else {}
        snaps = entry.get("snaps")
        if isinstance(snaps, list) and snaps and isinstance(snaps[0], list) and len(
                snaps[0]) == 2 and snaps[0][0] == 0:
            params = snaps[0][1]
        if not isinstance(params, list) or len(params) != len(want) or any(
            type(p) is not torch.Tensor or tuple(p.shape) != s for p, s in zip(params, shapes)
        ):
            raise Fail("sweep_models_count", expected=len(initial), found="?")
        if first is None:
            first = params
        elif not all(torch.equal(a, b) for a, b in zip(first, params)):
            raise Fail("sweep_init_differs", run=k + 1)
    if first is not None and not all(torch.equal(a, b) for a, b in zip(first, want)):
        raise Fail("sweep_seed_not_used", seed=seed)


def sweep_train_loss(reported: list[float], losses: list[float], per_epoch: int, k: int,
                     lr: float) -> None:
    """Each epoch's ``train_loss`` is the mean of that epoch's batch losses (the grader's,
    along the run's own steps); a diverged epoch is reported as not finite."""
    for epoch, (got, want) in enumerate(zip(reported, replay.epoch_means(losses, per_epoch))):
        if not math.isfinite(want):
            if math.isfinite(got):
                raise Fail("sweep_diverged_not_reported", run=k + 1, lr=f"{lr:.6g}",
                           epoch=epoch + 1, found=f"{got:.6g}")
            continue
        if not expect.rel_close(got, want, 1e-4, 1e-6):
            raise Fail("sweep_train_loss_wrong", run=k + 1, lr=f"{lr:.6g}", epoch=epoch + 1,
                       found=f"{got:.6g}", expected=f"{want:.6g}")


def sweep_val_acc(got: float, params: list[torch.Tensor] | None, X: torch.Tensor,
                  y: torch.Tensor, k: int, epoch: int, lr: float) -> None:
    """``val_acc`` of an epoch is the accuracy of the weights at its end (ties allowed)."""
    if params is None:  # no copy at the epoch's end: not a record the spy wrote
        raise Fail("sweep_record_unreadable", run=k + 1)
    low, high = accuracy_bounds(replay.pairs(params), X, y)
    if not low - 1e-6 <= got <= high + 1e-6:
        raise Fail("sweep_val_acc_wrong", run=k + 1, lr=f"{lr:.6g}", epoch=epoch + 1,
                   found=f"{got:.4f}", expected=f"{(low + high) / 2:.4f}")


def sweep_modes(calls: Any, X_val: torch.Tensor, batch: int, n: int) -> None:
    """Every forward pass over a validation batch ran in ``eval()`` with autograd off, and
    each run saw the validation set."""
    val = [float(X_val[i:i + batch].double().sum()) for i in range(0, X_val.shape[0], batch)]
    if not isinstance(calls, list):
        return
    for k, model_calls in enumerate(calls[:n]):
        seen = 0
        for call in model_calls if isinstance(model_calls, list) else []:
            if not (isinstance(call, list) and len(call) == 4 and isinstance(call[2], float)):
                continue
            if not any(abs(call[2] - f) <= 1e-6 * abs(f) for f in val):
                continue
            seen += 1
            if call[0] is True:
                raise Fail("sweep_val_train_mode", run=k + 1)
            if call[1] is True:
                raise Fail("sweep_val_with_grad", run=k + 1)
        if seen == 0:
            raise Fail("sweep_val_not_measured", run=k + 1)


def sweep_histories(value: Any, n: int, epochs: int) -> list[dict[str, list[float]]]:
    """The list ``lr_sweep`` returned: ``n`` dicts of ``epochs`` floats per key."""
    if expect.is_bad(value) or not isinstance(value, list):
        found = value.get("__type__", "?") if isinstance(value, dict) else type(value).__name__
        raise Fail("expected_list", what="lr_sweep(...)", found=found)
    if len(value) != n:
        raise Fail("wrong_length", what="lr_sweep(...)", expected=n, found=len(value))
    runs = []
    for k, item in enumerate(value):
        run = expect.float_lists(item, SWEEP_KEYS, f"lr_sweep(...)[{k}]", finite=False)
        for key in ("train_loss", "val_acc"):
            if len(run[key]) != epochs:
                raise Fail("wrong_length", what=f'lr_sweep(...)[{k}]["{key}"]',
                           expected=epochs, found=len(run[key]))
        if not all(math.isfinite(a) and 0.0 <= a <= 1.0 for a in run["val_acc"]):
            raise Fail("sweep_val_acc_range", run=k + 1)
        runs.append(run)
    return runs


def sweep_pattern(lrs: tuple[float, ...], accs: list[float], min_best: float,
                  max_high: float, gap: float) -> None:
    """Low rate slow, middle best, high rate diverged or no better than a guess."""
    low, mid, high = accs
    shown = ", ".join(f"lr={lr:g}: {'nan' if math.isnan(a) else f'{a:.3f}'}"
                      for lr, a in zip(lrs, accs))
    if not mid >= min_best:  # nan fails too
        raise Fail("sweep_mid_not_learning", lr=f"{lrs[1]:g}", accs=shown,
                   threshold=f"{min_best:.2f}")
    if not (math.isnan(high) or high <= max_high):
        raise Fail("sweep_high_learns", lr=f"{lrs[2]:g}", accs=shown)
    if not (math.isnan(low) or low <= mid - gap):
        raise Fail("sweep_low_not_slow", lr=f"{lrs[0]:g}", accs=shown)
