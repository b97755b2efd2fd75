"""Tasks ``lr_sweep`` and ``exploding`` (section 7): learning rate, exploding gradients, clipping.

Probe side only what must run next to student code: the grader's model factory and
optimizer classes, which *spy* on what the student builds (how many models, which rate,
which parameters each optimizer holds, the gradients present at each ``step()``), and the
probes, which report plain data. Every expected value (accuracies of the trained weights,
the float64 gradient norms, the clipped first step) is computed by the verdicts with the
oracles of :mod:`grader.checks.hyper_expect`, which the sandbox child never holds.

Budgets and thresholds were measured over seeds by ``bench/hyperparams.py``; the ranges
are in docs/thresholds.md (section "hyperparams").
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn

from grader.checks import hyper_expect as hx
from grader.checks.base import Check, Context, Fail, ProbeEnv, register, seed_everything
from grader.checks.capture import bad, number, numbers, plain_tensor
from grader.checks.loops import DICT_TYPES
from grader.data import FastLoader, mnist_rows
from grader.probe_side import probe_side

#: at most this many models / optimizers / runs are reported (a sweep of 3 to 4 rates)
MAX_RUNS = 16
SWEEP_KEYS = ("train_loss", "val_acc")
CLIP_KEYS = ("loss", "grad_norm")

# ------------------------------------------------------------------ probe-side spies


@probe_side
def sweep_net(hidden: int) -> nn.Module:
    """The grader's model for ``lr_sweep``: 784 -> hidden (ReLU) -> 10, torch's default init
    from the global RNG (so the seed the student sets decides the initial weights)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


@probe_side
class ModelSpy:
    """``make_model`` for ``lr_sweep``: builds :func:`sweep_net` and remembers every model."""

    def __init__(self, hidden: int) -> None:
        self.hidden = hidden
        self.built: list[nn.Module] = []
        self.initial: list[list[torch.Tensor]] = []

    def __call__(self) -> nn.Module:
        net = sweep_net(self.hidden)
        if len(self.built) < MAX_RUNS:
            self.built.append(net)
            self.initial.append([plain_tensor(p.detach()) for p in net.parameters()])
        return net

    def owner(self, param: Any) -> list[int]:
        """``[model index, parameter index]`` of a parameter, ``[-1, -1]`` if none built it."""
        for i, net in enumerate(self.built):
            for j, p in enumerate(net.parameters()):
                if p is param:
                    return [i, j]
        return [-1, -1]


@probe_side
def total_grad_norm(params: list[Any]) -> float:
    """L2 norm of all the gradients present, in float64 (what ``step()`` is about to use)."""
    total = 0.0
    for p in params:
        g = getattr(p, "grad", None)
        if type(g) is torch.Tensor:
            total += float(torch.Tensor.detach(g).double().pow(2).sum().cpu())
    return math.sqrt(total)


@probe_side
def spy_optimizer(models: ModelSpy | None, log: list[dict[str, Any]],
                  keep_first_grads: bool = False) -> type:
    """A subclass of ``torch.optim.SGD`` that logs each instance: the rate it was given,
    which parameters it holds, and per ``step()`` the total gradient norm it found."""

    class SpySGD(torch.optim.SGD):
        def __init__(self, params: Any, lr: Any = 1e-3, *args: Any, **kwargs: Any) -> None:
            params = list(params)
            entry: dict[str, Any] = {
                "lr": number(lr),
                "built_before": len(models.built) if models is not None else 0,
                "owners": [models.owner(p) if models is not None else [-1, -1]
                           for p in params[:64]],
                "n_params": len(params),
                "steps": 0,
                "norms": [],
            }
            if len(log) < MAX_RUNS:
                log.append(entry)
            self._spy = entry
            self._spy_params = [p for p in params if isinstance(p, torch.Tensor)]
            super().__init__(params, lr, *args, **kwargs)

        @torch.no_grad()
        def step(self, closure: Any = None) -> Any:  # noqa: D102
            entry = self._spy
            entry["steps"] += 1
            if len(entry["norms"]) < 2000:
                entry["norms"].append(total_grad_norm(self._spy_params))
            if keep_first_grads and entry["steps"] == 1:
                entry["first_grads"] = [
                    None if getattr(p, "grad", None) is None else plain_tensor(p.grad)
                    for p in self._spy_params[:64]
                ]
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

#: mechanics: a small synthetic problem, rates out of order on purpose
SWEEP_HIDDEN = 16
SWEEP_BATCH, SWEEP_TRAIN, SWEEP_VAL, SWEEP_EPOCHS = 8, 32, 24, 2


class _SweepCheck(Check):
    task = "lr_sweep"
    needs = ("lr_sweep",)
    cost = 0.3

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("sweep.mechanics")
        # Three distinct rates, not sorted, from the grader's generator.
        base = torch.tensor([0.3, 0.01, 0.08], dtype=torch.float64)
        lrs = (base * (1 + 0.5 * torch.rand(3, generator=gen, dtype=torch.float64))).tolist()
        return {
            "lrs": lrs,
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
                "final": [net_params(net) for net in models.built]}


@register
class SweepFreshModels(_SweepCheck):
    name = "fresh_model_and_rate_per_run"
    points = 3

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.sweep_mechanics(inp["lrs"], out, SWEEP_EPOCHS * (SWEEP_TRAIN // SWEEP_BATCH))


@register
class SweepSameSeed(_SweepCheck):
    name = "same_seed_each_run"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.sweep_models(len(inp["lrs"]), out)
        hx.sweep_same_seed(out, int(inp["seed"]), lambda: sweep_net(SWEEP_HIDDEN))


@register
class SweepHistories(_SweepCheck):
    name = "histories_shapes_and_values"
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        runs = hx.sweep_histories(out["runs"], len(inp["lrs"]), SWEEP_EPOCHS)
        hx.sweep_models(len(inp["lrs"]), out)
        for k, run in enumerate(runs):
            pairs = hx.pairs_of(out["final"][k], f"lr_sweep: modelo/model #{k + 1}")
            low, high = hx.accuracy_bounds(pairs, inp["X_val"], inp["y_val"])
            got = run["val_acc"][-1]
            if not low - 1e-6 <= got <= high + 1e-6:
                raise Fail("sweep_val_acc_wrong", run=k + 1, lr=f"{inp['lrs'][k]:.4g}",
                           found=f"{got:.4f}", expected=f"{(low + high) / 2:.4f}")


#: MNIST budget of the pattern check: 2,000 training images, 1 epoch, batch 32, SGD.
#: Measured over seeds (bench/hyperparams.py, docs/thresholds.md): test accuracy of the
#: reference 0.14-0.19 at the low rate, 0.76-0.82 in the middle, 0.10-0.11 (or nan) high.
PATTERN_LRS = (0.003, 0.1, 30.0)
PATTERN_N, PATTERN_BATCH, PATTERN_HIDDEN = 2000, 32, 64
PATTERN_MIN_BEST = 0.5  # the middle rate learns
PATTERN_MAX_HIGH = 0.2  # the too-high rate is no better than a guess (or not finite)
PATTERN_GAP = 0.2  # the low rate is at least this far behind the middle one


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
        models, log = ModelSpy(PATTERN_HIDDEN), []
        train = mnist_subset(inp["idx"], PATTERN_BATCH, env.device)
        val = mnist_subset(inp["idx"][:256], 256, env.device)
        value = mod.lr_sweep(models, list(PATTERN_LRS), train, val, epochs=1,
                             seed=int(inp["seed"]), optimizer_cls=spy_optimizer(models, log),
                             device=env.device)
        return {"runs": capture_runs(value), "optimizers": log, "initial": models.initial,
                "final": [net_params(net) for net in models.built]}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.sweep_models(len(PATTERN_LRS), out)
        accs = [hx.test_accuracy(hx.pairs_of(out["final"][k], f"lr_sweep: lr={lr:g}"))
                for k, lr in enumerate(PATTERN_LRS)]
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
        results = []
        for case in inp["cases"]:
            net = deep_net(case["weights"], case["biases"], case["act"])
            # Stale gradients from "an earlier batch": grad_norms must clear them first.
            for p in net.parameters():
                p.grad = torch.ones_like(p)
            criterion = nn.CrossEntropyLoss(weight=case["class_weight"])
            value = mod.grad_norms(net, case["X"].clone(), case["y"].clone(), criterion)
            results.append(numbers(value) if type(value) in (list, tuple) else
                           [number(value)] if type(value) is not dict else bad(value))
        return {"results": results}

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


#: input layer / last hidden layer gradient norm in the deep tanh net: measured over seeds by
#: bench/hyperparams.py (docs/thresholds.md)
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
                                  optimizer_cls=spy_optimizer(None, log, keep_first_grads=True),
                                  device=env.device)
        return {"log": capture_records(value, CLIP_KEYS), "optimizers": log}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.verify_clipping(inp, out, CLIP_BATCH, CLIP_MAX_NORM)


#: MNIST, 2,000 images, batch 32, 1 epoch, a 6-layer ReLU net at 1.5x He: at this rate SGD
#: without clipping ends in nan on every measured seed, clipped at 1.0 it learns
#: (bench/hyperparams.py, docs/thresholds.md).
RESCUE_NET = (6, 64, 784, 1.5 * math.sqrt(2.0))  # 1.5 x He, ReLU
RESCUE_N, RESCUE_BATCH, RESCUE_LR, RESCUE_MAX_NORM = 2000, 32, 0.3, 1.0
RESCUE_MIN_ACC = 0.4


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
                                  optimizer_cls=spy_optimizer(None, log), device=env.device)
        net.to("cpu")
        return {"log": capture_records(value, CLIP_KEYS), "optimizers": log,
                "final": net_params(net)}

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hx.verify_rescue(out, RESCUE_NET[0] + 1, RESCUE_N // RESCUE_BATCH
                         + (1 if RESCUE_N % RESCUE_BATCH else 0), RESCUE_MAX_NORM,
                         RESCUE_MIN_ACC)
