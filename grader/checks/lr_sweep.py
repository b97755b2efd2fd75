"""Tasks ``lr_sweep`` and ``exploding`` (section 7): learning rate, exploding gradients, clipping.

Probe side only what must run next to student code: the grader's model factory and
optimizer classes, which *spy* on what the student builds (how many models, which rate,
which parameters each optimizer holds) and copy the weights as each ``step()`` finds them,
and the probes, which report plain data. Nothing the spies record is believed as such: the
verdicts take every recorded step again themselves (:mod:`grader.checks.replay`) and pay only
for runs whose weights moved as SGD at the asked rate moves them; every expected value
(losses, accuracies of the trained weights, the float64 gradient norms, the clipped steps) is
computed there and in :mod:`grader.checks.hyper_expect`, which the sandbox child never holds.

Budgets and thresholds were measured over seeds by ``bench/section7_thresholds.py``; the ranges
are in docs/thresholds.md (section "Section 7").
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn

from grader.checks import hyper_expect as hx
from grader.checks.base import Check, Context, ProbeEnv, register, seed_everything
from grader.checks.capture import bad, number, numbers, plain_tensor
from grader.checks.loops import DICT_TYPES
from grader.data import FastLoader, mnist_rows
from grader.probe_side import probe_side

#: at most this many models / optimizers / runs are reported (a sweep of 3 to 5 rates)
MAX_RUNS = 16
SWEEP_KEYS = ("train_loss", "val_acc")
CLIP_KEYS = ("loss", "grad_norm")
#: per optimizer: steps whose rates and gradient counts are logged, weight snapshots kept
MAX_STEPS_LOGGED = 2000
MAX_SNAPSHOTS = 80
#: forward calls a model logs (a sweep of 3 rates over 63 batches makes about 200)
MAX_CALLS = 600
#: parameter groups and tensors per group that an optimizer's record lists
MAX_GROUPS, MAX_GROUP_PARAMS = 8, 64

# ------------------------------------------------------------------ probe-side spies


@probe_side
def sweep_net(hidden: int) -> nn.Module:
    """The grader's model for ``lr_sweep``: 784 -> hidden (ReLU) -> 10, torch's default init
    from the global RNG (so the seed the student sets decides the initial weights)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


@probe_side
class ForwardLog(nn.Module):
    """An identity layer in front of the grader's sweep model that logs, per forward call,
    ``[training, autograd on, sum of the batch, rows]``: the verdict tells validation batches
    by their sum (as :class:`grader.checks.loops.FrozenNet` does) and sees the mode each ran in.
    The sweep model has no dropout, so forgetting ``eval()`` changes no number: only this
    log can tell."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[Any]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.calls) < MAX_CALLS:
            self.calls.append([bool(self.training), torch.is_grad_enabled(),
                               float(torch.Tensor.detach(x).double().sum().cpu()),
                               int(x.shape[0])])
        return x


@probe_side
class ModelSpy:
    """``make_model`` for ``lr_sweep``: builds :func:`sweep_net` behind a :class:`ForwardLog`
    and remembers every model."""

    def __init__(self, hidden: int, keep_initial: bool = True) -> None:
        self.hidden = hidden
        self.keep_initial = keep_initial
        self.built: list[nn.Module] = []
        self.logs: list[ForwardLog] = []
        self.initial: list[list[torch.Tensor]] = []

    def __call__(self) -> nn.Module:
        log = ForwardLog()
        net = nn.Sequential(log, *sweep_net(self.hidden))
        if len(self.built) < MAX_RUNS:
            self.built.append(net)
            self.logs.append(log)
            if self.keep_initial:
                self.initial.append([plain_tensor(p.detach()) for p in net.parameters()])
        return net

    def owner(self, param: Any) -> list[int]:
        """``[model index, parameter index]`` of a parameter, ``[-1, -1]`` if none built it."""
        return owner_among(self.built, param)


@probe_side
def owner_among(models: list[nn.Module], param: Any) -> list[int]:
    """``[model index, parameter index]`` of ``param`` among ``models``, ``[-1, -1]`` if it is
    none of their parameters (compared by identity)."""
    for i, net in enumerate(models):
        for j, p in enumerate(net.parameters()):
            if p is param:
                return [i, j]
    return [-1, -1]


@probe_side
def _plain_sgd(group: dict[str, Any]) -> bool:
    """The group steps as plain SGD: no momentum, dampening, weight decay, nesterov or
    maximize (only ``lr`` is asked for)."""
    return bool(group.get("momentum", 0) == 0 and group.get("dampening", 0) == 0
                and group.get("weight_decay", 0) == 0 and not group.get("nesterov", False)
                and not group.get("maximize", False))


@probe_side
def spy_optimizer(models: ModelSpy | None, log: list[dict[str, Any]], *,
                  model: nn.Module | None = None, every: int = 1,
                  keep_grads: bool = False) -> type:
    """A subclass of ``torch.optim.SGD`` that records each instance for the verdicts.

    At construction: the rate it was given and, per parameter group (however the student
    built them: a generator, a list, a list of dicts), which model parameter each tensor is.
    At every ``step()``: the rate each group holds *then*, whether the groups are still plain
    SGD, how many of the model's parameters have a gradient, and every ``every``-th step a
    copy of the model's parameters before the step (``keep_grads``: the gradients too). The
    verdicts take the steps again from those copies (:mod:`grader.checks.replay`): what is
    judged is what the weights did, not what this record says.

    ``models``: the sweep's model factory (which model each tensor belongs to); ``model``: the
    one model being trained (``train_clipped``)."""

    class SpySGD(torch.optim.SGD):
        def __init__(self, params: Any, lr: Any = 1e-3, *args: Any, **kwargs: Any) -> None:
            super().__init__(params, lr, *args, **kwargs)
            candidates = (models.built if models is not None
                          else [model] if model is not None else [])
            held = [p for g in self.param_groups for p in g["params"]]
            groups = [[owner_among(candidates, p) for p in g["params"][:MAX_GROUP_PARAMS]]
                      for g in self.param_groups[:MAX_GROUPS]]
            entry: dict[str, Any] = {
                "lr": number(lr),
                "built_before": len(models.built) if models is not None else 0,
                "groups": groups,
                "owners": [o for g in groups for o in g],
                "n_params": len(held),
                "steps": 0, "logged": 0, "lrs": [], "plain": [], "with_grad": [],
                "snaps": [], "grads": [],
            }
            if len(log) < MAX_RUNS:
                log.append(entry)
            self._spy = entry
            # Whose weights to copy: the model the first tensor belongs to (or the one given).
            target = model
            if target is None and models is not None and groups and groups[0]:
                index = groups[0][0][0]
                target = models.built[index] if index >= 0 else None
            self._spy_params = list(target.parameters()) if target is not None else held

        @torch.no_grad()
        def step(self, closure: Any = None) -> Any:  # noqa: D102
            entry = self._spy
            k = entry["steps"]
            entry["steps"] = k + 1
            if k < MAX_STEPS_LOGGED:
                tracked = self._spy_params
                entry["lrs"].append([number(g.get("lr"))
                                     for g in self.param_groups[:MAX_GROUPS]])
                entry["plain"].append(all(_plain_sgd(g) for g in self.param_groups))
                entry["with_grad"].append(sum(1 for p in tracked
                                              if getattr(p, "grad", None) is not None))
                if k % every == 0 and len(entry["snaps"]) < MAX_SNAPSHOTS:
                    # float32 whatever the student made of the model: the frame stays bounded
                    entry["snaps"].append([k, [plain_tensor(p.detach().float())
                                               for p in tracked]])
                if keep_grads and len(entry["grads"]) < MAX_SNAPSHOTS:
                    entry["grads"].append([k, [None if getattr(p, "grad", None) is None
                                               else plain_tensor(p.grad.float())
                                               for p in tracked]])
                entry["logged"] = k + 1
            return super().step(closure)

    return SpySGD


@probe_side
def capture_records(value: Any, keys: tuple[str, ...]) -> Any:
    """A dict (or list of dicts) of float lists as plain data: each key's :func:`numbers`."""
    if type(value) not in DICT_TYPES:
        return bad(value)
    present = list(dict.keys(value))
    report: dict[str, Any] = {"__keys__": sorted(str(k) for k in present[:20])}
    for key in keys:
        if dict.__contains__(value, key):
            report[key] = numbers(dict.__getitem__(value, key))
    return report


@probe_side
def capture_runs(value: Any) -> Any:
    if type(value) not in (list, tuple):
        return bad(value)
    return [capture_records(v, SWEEP_KEYS) for v in value[:MAX_RUNS]] + (
        [bad(None)] if len(value) > MAX_RUNS else [])


@probe_side
def deep_net(weights: list[torch.Tensor], biases: list[torch.Tensor],
             act: str = "relu") -> nn.Module:
    """Linear, act, ..., Linear (an ``nn.Sequential``, flattening first) with given parameters;
    ``act`` is ``"relu"`` or ``"tanh"``."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (w, b) in enumerate(zip(weights, biases)):
        layer = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        layers.append(layer)
        if i < len(weights) - 1:
            layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
    return nn.Sequential(*layers)


@probe_side
def net_params(net: nn.Module) -> list[Any]:
    return [plain_tensor(p.detach()) for p in list(net.parameters())[:128]]


@probe_side
def mnist_subset(seed_idx: torch.Tensor, batch: int, device: str) -> FastLoader:
    X, y = mnist_rows("train", seed_idx)
    return FastLoader(X.to(device), y.to(device), batch)


# ------------------------------------------------------------------ lr_sweep

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
        models, log = ModelSpy(SWEEP_HIDDEN), []
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
        return hx.batches(inp["X_train"], inp["y_train"], SWEEP_BATCH)


@register
class SweepFreshModels(_SweepCheck):
    """One fresh model per rate, its own optimizer built with that rate, and every step of
    every run really taken at that rate (the weights after each step are the grader's)."""

    name = "fresh_model_and_rate_per_run"
    points = 3

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.sweep_mechanics(inp["lrs"], out, SWEEP_STEPS)
        batches = self.batches(inp)
        for k, lr in enumerate(inp["lrs"]):
            hx.sweep_replay(out, k, lr, batches, SWEEP_HIDDEN, asked=True, steps=SWEEP_STEPS,
                            device=ctx.device)


@register
class SweepSameSeed(_SweepCheck):
    name = "same_seed_each_run"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.sweep_models(len(inp["lrs"]), out)
        hx.sweep_same_seed(out, int(inp["seed"]), SWEEP_HIDDEN)


@register
class SweepHistories(_SweepCheck):
    """The histories are those of the runs that happened: each epoch's ``train_loss`` the
    mean of the batch losses the grader computes along the run's own steps, each
    ``val_acc`` that of the weights at the end of that epoch, measured in ``eval()`` without
    gradients on ``val_loader``."""

    name = "histories_shapes_and_values"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        runs = hx.sweep_histories(out["runs"], len(inp["lrs"]), SWEEP_EPOCHS)
        hx.sweep_models(len(inp["lrs"]), out)
        per_epoch = SWEEP_TRAIN // SWEEP_BATCH
        batches = self.batches(inp)
        for k, run in enumerate(runs):
            lr = inp["lrs"][k]
            # The run's own rates: a run at the wrong rate has true histories too (the rate is
            # fresh_model_and_rate_per_run's business).
            done = hx.sweep_replay(out, k, lr, batches, SWEEP_HIDDEN, asked=False,
                                   steps=SWEEP_STEPS, device=ctx.device)
            hx.sweep_train_loss(run["train_loss"], done.losses, per_epoch, k, lr)
            for epoch in range(SWEEP_EPOCHS):
                hx.sweep_val_acc(run["val_acc"][epoch], done.states.get((epoch + 1) * per_epoch),
                                 inp["X_val"], inp["y_val"], k, epoch, lr)
        hx.sweep_modes(out.get("calls"), inp["X_val"], SWEEP_BATCH, len(inp["lrs"]))


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
        models, log = ModelSpy(PATTERN_HIDDEN, keep_initial=False), []
        train = mnist_subset(inp["idx"], PATTERN_BATCH, env.device)
        val = mnist_subset(inp["idx"][:256], 256, env.device)
        value = mod.lr_sweep(models, list(PATTERN_LRS), train, val, epochs=1,
                             seed=int(inp["seed"]),
                             optimizer_cls=spy_optimizer(models, log, every=PATTERN_EVERY),
                             device=env.device)
        return {"runs": capture_runs(value), "optimizers": log, "built": len(models.built),
                "final": [net_params(net) for net in models.built]}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.sweep_models(len(PATTERN_LRS), out)
        X, y = mnist_rows("train", inp["idx"])
        batches = hx.batches(X, y, PATTERN_BATCH)
        accs = []
        for k, lr in enumerate(PATTERN_LRS):
            done = hx.sweep_replay(out, k, lr, batches, PATTERN_HIDDEN, asked=True,
                                   steps=len(batches), device=ctx.device,
                                   every=PATTERN_EVERY)
            final = done.states[max(done.states)]
            accs.append(hx.test_accuracy(hx.replay.pairs(final)))
        hx.sweep_pattern(PATTERN_LRS, accs, PATTERN_MIN_BEST, PATTERN_MAX_HIGH, PATTERN_GAP)


# ------------------------------------------------------------------ exploding

#: (depth, width, in_dim, gain, batch, activation): a shallow He-initialized ReLU net, and a
#: deep tanh net whose init is too large (std 4 / sqrt(fan_in)): its gradients explode
NORM_NETS = ((2, 24, 30, math.sqrt(2.0), 16, "relu"), (10, 32, 20, 4.0, 32, "tanh"))


class _NormsCheck(Check):
    task = "exploding"
    needs = ("grad_norms",)
    cost = 0.3
    nets: tuple = NORM_NETS

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen(f"exploding.{self.name}")
        cases = []
        for depth, width, d_in, gain, batch, act in self.nets:
            weights, biases = hx.large_init(depth, width, d_in, gain, gen)
            cases.append({"weights": weights, "biases": biases, "act": act,
                          "X": torch.randn(batch, d_in, generator=gen),
                          "y": torch.randint(0, 10, (batch,), generator=gen),
                          "class_weight": torch.rand(10, generator=gen) + 0.5})
        return {"cases": cases}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        results, grads = [], []
        for case in inp["cases"]:
            net = deep_net(case["weights"], case["biases"], case["act"])
            # Stale gradients from "an earlier batch": grad_norms must clear them first.
            for p in net.parameters():
                p.grad = torch.ones_like(p)
            criterion = nn.CrossEntropyLoss(weight=case["class_weight"])
            value = mod.grad_norms(net, case["X"].clone(), case["y"].clone(), criterion)
            results.append(numbers(value) if type(value) in (list, tuple) else
                           [number(value)] if type(value) is not dict else bad(value))
            # What the model holds afterwards: the notebook's next cells read these .grad.
            grads.append([None if getattr(p, "grad", None) is None else plain_tensor(p.grad)
                          for p in list(net.parameters())[:128]])
        return {"results": results, "grads": grads}

    def each(self, inp: dict[str, Any], out: dict[str, Any]):
        for (depth, *_), case, res in zip(self.nets, inp["cases"], out["results"]):
            what = f"grad_norms(model, X, y, criterion) [{depth + 1} nn.Linear]"
            yield depth, case, hx.verify_norms(case, res, what), what


@register
class NormValues(_NormsCheck):
    name = "norms_match_independent_computation"
    points = 4

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for _ in self.each(inp, out):
            pass
        for case, kept in zip(inp["cases"], out.get("grads") or []):
            hx.verify_grads_kept(case, kept)


#: input layer / last hidden layer gradient norm in the deep tanh net: measured over seeds by
#: bench/section7_thresholds.py (docs/thresholds.md)
GROWTH_MIN_RATIO = 5.0


@register
class NormsGrowTowardInput(_NormsCheck):
    name = "deep_norms_grow_toward_input"
    points = 2
    nets = (NORM_NETS[1],)

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for _, _, norms, _ in self.each(inp, out):
            hx.growth(norms, GROWTH_MIN_RATIO)


#: the clipped loop: a deep net with a large init, rate and max_norm chosen so that every
#: batch's raw gradient norm is above max_norm (so each step must be clipped)
CLIP_NET = (6, 32, 40, 1.5 * math.sqrt(2.0))  # 1.5 x He, ReLU
CLIP_BATCH, CLIP_TRAIN, CLIP_LR, CLIP_MAX_NORM = 8, 32, 0.01, 0.5


@register
class ClipBeforeStep(Check):
    """Every step of ``train_clipped`` is the grader's: the weights after it are those before
    it minus ``lr`` times the raw gradient scaled to ``max_norm`` (checked step by step from
    copies of the weights), and the log holds each batch's loss and raw norm."""

    task = "exploding"
    name = "clip_by_norm_before_step"
    points = 2
    needs = ("train_clipped",)
    cost = 0.3

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("exploding.clip")
        depth, width, d_in, gain = CLIP_NET
        weights, biases = hx.large_init(depth, width, d_in, gain, gen)
        return {"weights": weights, "biases": biases,
                "X": torch.randn(CLIP_TRAIN, d_in, generator=gen) * 2,
                "y": torch.randint(0, 10, (CLIP_TRAIN,), generator=gen)}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        net = deep_net(inp["weights"], inp["biases"])
        log: list[dict[str, Any]] = []
        train = FastLoader(inp["X"].to(env.device), inp["y"].to(env.device), CLIP_BATCH)
        value = mod.train_clipped(net, train, CLIP_LR, CLIP_MAX_NORM, epochs=1,
                                  optimizer_cls=spy_optimizer(None, log, model=net,
                                                              keep_grads=True),
                                  device=env.device)
        net.to("cpu")
        return {"log": capture_records(value, CLIP_KEYS), "optimizers": log,
                "final": net_params(net)}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.verify_clipping(inp, out, CLIP_BATCH, CLIP_LR, CLIP_MAX_NORM, ctx.device)


#: MNIST, 2,000 images, batch 32, 1 epoch, a 6-layer ReLU net at 1.5x He: at this rate SGD
#: without clipping ends in nan on every measured seed, clipped at 1.0 it learns
#: (bench/section7_thresholds.py, docs/thresholds.md).
RESCUE_NET = (6, 64, 784, 1.5 * math.sqrt(2.0))  # 1.5 x He, ReLU
RESCUE_N, RESCUE_BATCH, RESCUE_LR, RESCUE_MAX_NORM = 2000, 32, 0.3, 1.0
RESCUE_MIN_ACC = 0.4
#: a copy of the weights every this many steps (grader.checks.replay: this clipped run is
#: chaotic over its 63 steps, not over 4)
RESCUE_EVERY = 4


@register
class ClippingRescues(Check):
    task = "exploding"
    name = "clipping_rescues_high_rate"
    points = 2
    needs = ("train_clipped",)
    cost = 2.0

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("exploding.rescue")
        depth, width, d_in, gain = RESCUE_NET
        weights, biases = hx.large_init(depth, width, d_in, gain, gen)
        return {"weights": weights, "biases": biases,
                "idx": torch.randperm(54_000, generator=gen)[:RESCUE_N]}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        net = deep_net(inp["weights"], inp["biases"])
        log: list[dict[str, Any]] = []
        value = mod.train_clipped(net, mnist_subset(inp["idx"], RESCUE_BATCH, env.device),
                                  RESCUE_LR, RESCUE_MAX_NORM, epochs=1,
                                  optimizer_cls=spy_optimizer(None, log, model=net,
                                                              every=RESCUE_EVERY),
                                  device=env.device)
        net.to("cpu")
        return {"log": capture_records(value, CLIP_KEYS), "optimizers": log,
                "final": net_params(net)}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        X, y = mnist_rows("train", inp["idx"])
        hx.verify_rescue(inp, out, hx.batches(X, y, RESCUE_BATCH), RESCUE_LR, RESCUE_MAX_NORM,
                         RESCUE_MIN_ACC, ctx.device, RESCUE_EVERY)
