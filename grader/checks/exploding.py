"""Task ``exploding`` (section 7): per-layer gradient norms, and training clipped by norm.

Probe side: the nets the grader builds from its own weights (:func:`deep_net`), the
optimizer spy of :mod:`grader.checks.spies` for ``train_clipped``, and the norms, gradients
and logs as plain data. Verdict side (never copied into the sandbox child): the float64
gradients and their norms, every clipped step taken again (:mod:`grader.checks.replay`),
and the MNIST test accuracy of the weights the clipped run ended with.

Budgets and thresholds were measured over seeds by ``bench/section7_thresholds.py``; the
ranges are in docs/thresholds.md (section "Section 7").
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.checks import expect, replay
from grader.checks.base import Check, Context, Fail, ProbeEnv, register
from grader.checks.capture import bad, capture_records, number, numbers, plain_tensor
from grader.checks.spies import net_params, spy_optimizer
from grader.data import FastLoader, mnist_rows, mnist_subset
from grader.probe_side import probe_side

CLIP_KEYS = ("loss", "grad_norm")


# ------------------------------------------------------------------ probe side


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


# ------------------------------------------------------------------ checks

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
            weights, biases = large_init(depth, width, d_in, gain, gen)
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
            yield depth, case, verify_norms(case, res, what), what


@register
class NormValues(_NormsCheck):
    name = "norms_match_independent_computation"
    points = 4

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for _ in self.each(inp, out):
            pass
        for case, kept in zip(inp["cases"], out.get("grads") or []):
            verify_grads_kept(case, kept)


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
            growth(norms, GROWTH_MIN_RATIO)


#: the clipped loop: a deep net with a large init, rate and max_norm chosen so that every
#: batch's raw gradient norm is above max_norm (so each step must be clipped)
CLIP_NET = (6, 32, 40, 1.5 * math.sqrt(2.0))  # 1.5 x He, ReLU
CLIP_BATCH, CLIP_TRAIN, CLIP_LR, CLIP_MAX_NORM = 8, 32, 0.01, 0.5


class _ClipCheck(Check):
    """``train_clipped`` trains the grader's deep ReLU net (``net``: depth, width, inputs and
    gain of its large init) with the optimizer spy; subclasses say on what and judge."""

    task = "exploding"
    needs = ("train_clipped",)
    net: tuple = CLIP_NET

    def start(self, gen: torch.Generator) -> dict[str, Any]:
        """The net's initial weights and biases, from the grader's generator."""
        depth, width, d_in, gain = self.net
        weights, biases = large_init(depth, width, d_in, gain, gen)
        return {"weights": weights, "biases": biases}

    @probe_side
    def train(self, mod: Any, inp: dict[str, Any], loader: Any, lr: float, max_norm: float,
              env: ProbeEnv, **spy: Any) -> dict[str, Any]:
        """One epoch of the student's ``train_clipped`` on ``loader`` (``spy``: what the
        optimizer spy keeps); the log, the spy's record and the final weights, plain."""
        net = deep_net(inp["weights"], inp["biases"])
        log: list[dict[str, Any]] = []
        value = mod.train_clipped(net, loader, lr, max_norm, epochs=1,
                                  optimizer_cls=spy_optimizer(None, log, model=net, **spy),
                                  device=env.device)
        net.to("cpu")
        return {"log": capture_records(value, CLIP_KEYS), "optimizers": log,
                "final": net_params(net)}


@register
class ClipBeforeStep(_ClipCheck):
    """Every step of ``train_clipped`` is the grader's: the weights after it are those before
    it minus ``lr`` times the raw gradient scaled to ``max_norm`` (checked step by step from
    copies of the weights), and the log holds each batch's loss and raw norm."""

    name = "clip_by_norm_before_step"
    points = 2
    cost = 0.3

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("exploding.clip")
        d_in = self.net[2]
        return {**self.start(gen), "X": torch.randn(CLIP_TRAIN, d_in, generator=gen) * 2,
                "y": torch.randint(0, 10, (CLIP_TRAIN,), generator=gen)}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        train = FastLoader(inp["X"].to(env.device), inp["y"].to(env.device), CLIP_BATCH)
        return self.train(mod, inp, train, CLIP_LR, CLIP_MAX_NORM, env, keep_grads=True)

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        verify_clipping(inp, out, CLIP_BATCH, CLIP_LR, CLIP_MAX_NORM, ctx.device)


#: MNIST, 2,000 images, batch 32, 1 epoch, a 6-layer ReLU net at 1.5x He: at this rate SGD
#: without clipping ends in nan on every measured seed, clipped at 1.0 it learns
#: (bench/section7_thresholds.py, docs/thresholds.md).
RESCUE_NET = (6, 64, 784, 1.5 * math.sqrt(2.0))  # 1.5 x He, ReLU
RESCUE_N, RESCUE_BATCH, RESCUE_LR, RESCUE_MAX_NORM = 2000, 32, 0.3, 1.0
RESCUE_MIN_ACC = 0.4
#: a copy of the weights every this many steps (grader.checks.replay: this clipped run is
#: chaotic over its 63 steps). 2, not 4: over 200 variants (bench/calibrate.py --full,
#: docs/calibration.md) hand-written clipping (alt_correct_c, alt_variants/clip_by_hand),
#: whose rounding differs from clip_grad_norm_'s by an ulp, missed a 4-step segment by up
#: to 0.29 of an update on 10 of 400 runs (false fails at UPDATE_RTOL 0.05); on the 17
#: worst of those variants 2-step segments miss by 0.039 at most. The result frame grows
#: from 6.5 to 12.7 MB (the wire's limit is 16 MiB); one step per copy would not fit.
RESCUE_EVERY = 2


@register
class ClippingRescues(_ClipCheck):
    name = "clipping_rescues_high_rate"
    points = 2
    cost = 2.0
    net = RESCUE_NET

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("exploding.rescue")
        return {**self.start(gen), "idx": torch.randperm(54_000, generator=gen)[:RESCUE_N]}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        train = mnist_subset(inp["idx"], RESCUE_BATCH, env.device)
        return self.train(mod, inp, train, RESCUE_LR, RESCUE_MAX_NORM, env, every=RESCUE_EVERY)

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        X, y = mnist_rows("train", inp["idx"])
        verify_rescue(inp, out, replay.batches(X, y, RESCUE_BATCH), RESCUE_LR,
                      RESCUE_MAX_NORM, RESCUE_MIN_ACC, ctx.device, RESCUE_EVERY)


# ------------------------------------------------------------------ verdict side


def large_init(depth: int, width: int, d_in: int, gain: float,
               gen: torch.Generator) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Uniform weights of std ``gain / sqrt(fan_in)``, small nonzero biases, grader's generator.

    ``gain`` sqrt(2) is He's for ReLU. With tanh and a gain well above 1 the forward signal
    stays bounded (tanh saturates) while each layer's Jacobian still stretches the backward
    signal: the gradient norms grow geometrically toward the input. Biases are nonzero so a
    norm that includes them differs from the weight-gradient norm asked for.
    """
    sizes = [d_in] + [width] * depth + [10]
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = gain * math.sqrt(3.0 / fan_in)
        weights.append(((torch.rand(fan_out, fan_in, generator=gen, dtype=torch.float64) * 2
                         - 1) * bound).float())
        biases.append(((torch.rand(fan_out, generator=gen) * 2 - 1) * 0.1).float())
    return weights, biases


def _forward64(weights: list[torch.Tensor], biases: list[torch.Tensor], X: torch.Tensor,
               act: str):
    h = X.double().reshape(X.shape[0], -1)
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w.T + b
        if i < len(weights) - 1:
            h = expect.HIDDEN[act](h)
    return h


def true_grads(case: dict[str, Any]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Weight and bias gradients of the weighted cross-entropy, float64, grader's own."""
    ws = [w.double().clone().requires_grad_(True) for w in case["weights"]]
    bs = [b.double().clone().requires_grad_(True) for b in case["biases"]]
    loss = F.cross_entropy(_forward64(ws, bs, case["X"], case["act"]), case["y"],
                           weight=case["class_weight"].double())
    grads = torch.autograd.grad(loss, [*ws, *bs])
    return list(grads[: len(ws)]), list(grads[len(ws):])


def verify_norms(case: dict[str, Any], res: Any, what: str) -> list[float]:
    """The student's norms equal the grader's, one per layer; else a Fail naming the mistake."""
    gw, gb = true_grads(case)
    want = [float(g.norm()) for g in gw]
    n = len(want)
    if expect.is_bad(res):
        raise Fail("norms_not_list", what=what, found=res["__type__"])
    if isinstance(res, list) and len(res) == 1 and expect.is_bad(res[0]):
        raise Fail("norms_not_list", what=what, found=res[0]["__type__"])
    norms = expect.float_list(res, None, what)
    total = math.sqrt(sum(float(g.pow(2).sum()) for g in [*gw, *gb]))
    total_w = math.sqrt(sum(w * w for w in want))
    if norms and all(expect.rel_close(v, t, 1e-3) for v in norms for t in (total,)) or (
        norms and all(expect.rel_close(v, total_w, 1e-3) for v in norms)
    ):
        raise Fail("norms_whole_model", what=what, layers=n)
    if len(norms) != n:
        raise Fail("wrong_length", what=what, expected=n, found=len(norms))
    if all(expect.rel_close(v, w, 1e-3) for v, w in zip(norms, want)):
        return norms
    stale = [float((g + 1.0).norm()) for g in gw]
    alternatives = (
        ("norms_of_weights", [float(w.double().norm()) for w in case["weights"]]),
        ("norms_with_bias", [math.hypot(float(g.norm()), float(b.norm()))
                             for g, b in zip(gw, gb)]),
        ("norms_reversed", list(reversed(want))),
        ("norms_grads_not_cleared", stale),
        ("norms_squared", [w * w for w in want]),
    )
    for key, alt in alternatives:
        if all(expect.rel_close(v, a, 1e-3) for v, a in zip(norms, alt)):
            raise Fail(key, what=what)
    raise Fail("norms_mismatch", what=what)


def growth(norms: list[float], min_ratio: float) -> None:
    """Hidden-layer norms grow toward the input: input layer >= ``min_ratio`` x last hidden,
    and no hidden layer below the one after it by more than rounding."""
    hidden = norms[:-1]
    ratio = hidden[0] / hidden[-1] if hidden[-1] > 0 else float("inf")
    if not ratio >= min_ratio:
        raise Fail("norms_no_growth", ratio=f"{ratio:.3g}", threshold=f"{min_ratio:g}")


def verify_grads_kept(case: dict[str, Any], kept: Any) -> None:
    """After ``grad_norms`` the model's weights hold the gradients of that loss in ``.grad``
    (``backward()`` puts them there; ``torch.autograd.grad`` does not, and the notebook's next
    cells read them)."""
    gw, gb = true_grads(case)
    order = [g for pair in zip(gw, gb) for g in pair]
    if not isinstance(kept, list) or len(kept) != len(order):
        raise Fail("norms_grads_not_kept", found="?")
    weights = kept[0::2]
    if all(g is None for g in weights):
        raise Fail("norms_grads_not_kept", found="None")
    for g, want in zip(weights, gw):
        # Compared as vectors: float32 rounding of exploding gradients is large next to
        # their smallest entries.
        if type(g) is not torch.Tensor or tuple(g.shape) != tuple(want.shape) or not float(
                (g.double() - want).norm()) <= 1e-3 * float(want.norm()) + 1e-9:
            raise Fail("norms_grads_not_kept", found="≠")


#: message keys of the clipped run's record when it is not a real run
#: (:func:`grader.checks.replay.recorded_run`, :func:`grader.checks.replay.explain_break`;
#: ``missed``: nothing it shows); the sweep's are ``lr_sweep.SWEEP_RECORD_KEYS``
CLIP_RECORD_KEYS = {"step_count": "clip_step_count", "unreadable": "clip_record_unreadable",
                    "no_grads": "clip_no_grads", "lr_changed": "clip_lr_changed",
                    "options": "clip_optimizer_options", "missed": "clip_steps_not_sgd"}


def plain_steps(run: replay.Run) -> None:
    """A run that landed within the replay's tolerance still fails when its optimizer was
    not plain SGD at some step: weight_decay=1e-4 moves each step by lr * 1e-4 * w, far
    inside 5 % of a step, so the optimizer's own record of its options (param_groups read at
    every ``step()``) decides, as in ``lr_sweep``."""
    if not all(run.plain):
        raise Fail(CLIP_RECORD_KEYS["options"])


def _clip_start(inp: dict[str, Any]) -> list[torch.Tensor]:
    """The weights ``train_clipped`` was handed, ``[W0, b0, W1, b1, ...]``, float32."""
    return [t.float() for pair in zip(inp["weights"], inp["biases"]) for t in pair]


def _clip_run(inp: dict[str, Any], out: dict[str, Any], steps: int, every: int) -> replay.Run:
    log = replay.optimizer_log(out)
    if len(log) != 1:
        raise Fail("clip_optimizer_count", found=len(log))
    return replay.recorded_run(log[0], out.get("final"),
                               [tuple(t.shape) for t in _clip_start(inp)], steps, every,
                               CLIP_RECORD_KEYS)


def _explain_clip_step(run: replay.Run, step: int, X: torch.Tensor, y: torch.Tensor,
                       max_norm: float) -> None:
    """Why the gradients a step used were not the clipped ones, from what ``step()`` found
    (only to say what is wrong: passing takes the weights to move as the grader's do)."""
    found = run.grads.get(step)
    if found is None:
        return
    if any(g is None for g in found):
        raise Fail("clip_no_grads", step=step + 1)
    params = run.snapshots[step]
    gw, gb = true_grads({"weights": params[0::2], "biases": params[1::2], "X": X, "y": y,
                         "class_weight": torch.ones(10), "act": "relu"})
    raw = [g for pair in zip(gw, gb) for g in pair]
    raw_norm = replay.grad_norm(raw)
    v = replay.grad_norm(found)  # type: ignore[arg-type]
    if not v <= max_norm * (1 + 1e-4):  # nan fails too
        if expect.rel_close(v, raw_norm, 1e-3):
            raise Fail("clip_not_before_step", step=step + 1, found=f"{v:.4g}",
                       max_norm=f"{max_norm:g}")
        raise Fail("clip_norm_over", step=step + 1, found=f"{v:.4g}", max_norm=f"{max_norm:g}")
    got = torch.cat([g.double().flatten() for g in found])  # type: ignore[union-attr]
    want = torch.cat([g.flatten() for g in raw]) * min(1.0, max_norm / (raw_norm + 1e-6))
    if not expect.close(got, want, 1e-3, 1e-6 * max_norm):
        cos = float(got @ want / (got.norm() * want.norm() + 1e-30))
        if cos < 1 - 1e-4:
            raise Fail("clip_direction_changed", cos=f"{cos:.4f}")
        raise Fail("clip_wrong_scale", found=f"{float(got.norm()):.4g}",
                   max_norm=f"{max_norm:g}")


def verify_clipping(inp: dict[str, Any], out: dict[str, Any], batch: int, lr: float,
                    max_norm: float, device: str = "cpu") -> None:
    """Every ``step()`` found the raw gradient scaled to ``max_norm`` (same direction), the
    weights moved by ``lr`` times that and nothing else (checked step by step from the
    weights copied at each ``step()``), and the log reports each batch's loss and raw norm."""
    steps = inp["X"].shape[0] // batch
    run = _clip_run(inp, out, steps, every=1)
    data = replay.batches(inp["X"], inp["y"], batch)
    start = _clip_start(inp)
    # What step() found first, to name the mistake; then what the weights did, to pay.
    for s in range(steps):
        if s in run.snapshots:
            _explain_clip_step(run, s, *data[s % len(data)], max_norm)
    done = replay.replay(run, data, start, lr, max_norm, device=device)
    if isinstance(done, replay.Break):
        replay.explain_break(done, run, lr, CLIP_RECORD_KEYS)
    plain_steps(run)
    rec = expect.float_lists(out.get("log"), CLIP_KEYS, "train_clipped(...)", finite=False)
    for key in ("loss", "grad_norm"):
        if len(rec[key]) != steps:
            raise Fail("wrong_length", what=f'train_clipped(...)["{key}"]', expected=steps,
                       found=len(rec[key]))
    for s, (loss, norm) in enumerate(zip(done.losses, done.norms)):  # type: ignore[union-attr]
        if not expect.rel_close(rec["grad_norm"][s], norm, 1e-3):
            raise Fail("clip_reported_norm", step=s + 1, found=f"{rec['grad_norm'][s]:.4g}",
                       expected=f"{norm:.4g}")
        if not expect.rel_close(rec["loss"][s], loss, 1e-4, 1e-6):
            raise Fail("clip_reported_loss", step=s + 1, found=f"{rec['loss'][s]:.6g}",
                       expected=f"{loss:.6g}")


def verify_rescue(inp: dict[str, Any], out: dict[str, Any],
                  data: list[tuple[torch.Tensor, torch.Tensor]], lr: float, max_norm: float,
                  min_acc: float, device: str = "cpu", every: int = 1) -> None:
    """The high-rate run really was clipped SGD at ``lr`` from the given weights (every
    segment between the copies taken again by the grader), and the weights it ended with
    learned (grader-measured test accuracy)."""
    run = _clip_run(inp, out, len(data), every)
    done = replay.replay(run, data, _clip_start(inp), lr, max_norm, device=device)
    if isinstance(done, replay.Break):
        replay.explain_break(done, run, lr, CLIP_RECORD_KEYS)
    plain_steps(run)
    acc = expect.mnist_test_accuracy(replay.pairs(run.final))
    if not acc >= min_acc:
        raise Fail("clip_did_not_rescue", acc="nan" if math.isnan(acc) else f"{acc:.3f}",
                   threshold=f"{min_acc:.2f}")
