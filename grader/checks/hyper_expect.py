"""Verdict side of ``lr_sweep`` and ``exploding``: oracles and judgements, grader process only.

Nothing here is copied into the sandbox child (:mod:`grader.sandbox.probe_copy` lists the modules it
copies; this one is not among them), so a submission cannot ask it for the expected
gradient norms, the clipped first step or the accuracies of the trained weights. Every
value the probe reported is read defensively (exact types, sizes bounded by
:func:`grader.checks.expect.linears`) before anything is computed from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.checks import expect
from grader.checks.base import Fail
from grader.checks.learning import accuracy_range
from grader.data import mnist_tensors
from grader.training import accuracy

# ------------------------------------------------------------------ shared


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


def pairs_of(params: Any, what: str) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """``[W0, b0, W1, b1, ...]`` as reported by the probe -> checked ``(W, b)`` pairs."""
    if not isinstance(params, list) or not params or len(params) % 2:
        raise Fail("no_linear_layers", what=what)
    report = {"model": "ok", "linears": [[params[i], params[i + 1]]
                                         for i in range(0, len(params), 2)]}
    return expect.linears(report, what)


def finite_pairs(pairs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> bool:
    return all(bool(torch.isfinite(w).all()) and (b is None or bool(torch.isfinite(b).all()))
               for w, b in pairs)


def accuracy_bounds(pairs: list, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy of the ReLU MLP of ``pairs`` on ``(X, y)``, as a range allowing argmax ties;
    ``(0, 1)`` (anything goes) when the weights are not finite."""
    if not finite_pairs(pairs):
        return 0.0, 1.0
    try:
        return accuracy_range(lambda xb: expect.mlp_forward(pairs, xb, "relu"), X, y)
    except RuntimeError:
        raise Fail("layers_do_not_chain", what="lr_sweep",
                   shapes=expect.layer_shapes(pairs)) from None


def test_accuracy(pairs: list) -> float:
    """MNIST test accuracy of the ReLU MLP of ``pairs`` in float64; ``nan`` if it diverged."""
    if not finite_pairs(pairs):
        return float("nan")
    X, y = mnist_tensors("test")
    try:
        return accuracy(lambda xb: expect.mlp_forward(pairs, xb, "relu"), X, y)
    except RuntimeError:
        raise Fail("layers_do_not_chain", what="model", shapes=expect.layer_shapes(pairs)) from None


def _records(value: Any, keys: tuple[str, ...], what: str) -> dict[str, list[float]]:
    """A probe's :func:`capture_records`: each key a list of floats (nan/inf allowed)."""
    if expect.is_bad(value) or not isinstance(value, dict):
        found = value.get("__type__", "?") if isinstance(value, dict) else type(value).__name__
        raise Fail("expected_dict", what=what, found=found)
    missing = [k for k in keys if k not in value]
    if missing:
        raise Fail("dict_missing_keys", what=what, missing=", ".join(missing),
                   found=", ".join(str(k) for k in value.get("__keys__", [])) or "-")
    out = {}
    for key in keys:
        items = value[key]
        label = f'{what}["{key}"]'
        if expect.is_bad(items) or not isinstance(items, list):
            found = items["__type__"] if expect.is_bad(items) else type(items).__name__
            raise Fail("expected_list", what=label, found=found)
        for item in items:
            if expect.is_bad(item):
                if "Tensor" in item["__type__"]:
                    raise Fail("list_of_tensors", what=label)
                raise Fail("expected_float_items", what=label, found=item["__type__"])
            if not isinstance(item, float):
                raise Fail("expected_float_items", what=label, found=type(item).__name__)
        out[key] = items
    return out


# ------------------------------------------------------------------ lr_sweep


def _optimizers(out: dict[str, Any]) -> list[dict[str, Any]]:
    log = out.get("optimizers")
    if not isinstance(log, list) or not all(isinstance(e, dict) for e in log):
        raise Fail("sweep_no_optimizer", found=0, expected="?")
    return log


def sweep_models(n: int, out: dict[str, Any]) -> None:
    """``make_model()`` was called once per rate: the runs can be told apart and compared.
    (What each optimizer got is :func:`sweep_mechanics`' business, one check only.)"""
    initial = out.get("initial")
    built = len(initial) if isinstance(initial, list) else 0
    final = out.get("final")
    if built != n or not isinstance(final, list) or len(final) != n:
        raise Fail("sweep_models_count", expected=n, found=built)


def sweep_mechanics(lrs: list[float], out: dict[str, Any], steps: int) -> None:
    """One fresh model per rate, each with its own optimizer built with exactly that rate,
    stepped ``steps`` times."""
    n = len(lrs)
    sweep_models(n, out)
    log = _optimizers(out)
    if len(log) != n:
        raise Fail("sweep_no_optimizer", expected=n, found=len(log))
    for k, (lr, entry) in enumerate(zip(lrs, log)):
        got = entry.get("lr")
        if not isinstance(got, float) or not expect.rel_close(got, lr, 1e-9, 0.0):
            shown = got if isinstance(got, float) else (
                got.get("__type__", "?") if isinstance(got, dict) else "?")
            raise Fail("sweep_wrong_lr", run=k + 1, expected=f"{lr:.6g}", found=shown)
        owners = entry.get("owners")
        n_params = entry.get("n_params")
        # The k-th optimizer holds all 4 parameters of the k-th model, built just before it.
        want = [[k, j] for j in range(4)]
        if owners != want or n_params != 4 or entry.get("built_before") != k + 1:
            raise Fail("sweep_optimizer_params", run=k + 1, lr=f"{lr:.6g}")
        if entry.get("steps") != steps:
            raise Fail("sweep_step_count", run=k + 1, expected=steps, found=entry.get("steps"))


def sweep_same_seed(out: dict[str, Any], seed: int, build: Callable[[], nn.Module]) -> None:
    """Every run starts from the weights ``torch.manual_seed(seed); make_model()`` gives."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        want = [p.detach().clone() for p in build().parameters()]
    first = None
    for k, params in enumerate(out["initial"]):
        if not isinstance(params, list) or len(params) != len(want) or any(
            type(p) is not torch.Tensor or tuple(p.shape) != tuple(w.shape)
            for p, w in zip(params, want)
        ):
            raise Fail("sweep_models_count", expected=len(out["initial"]), found="?")
        if first is None:
            first = params
        elif not all(torch.equal(a, b) for a, b in zip(first, params)):
            raise Fail("sweep_init_differs", run=k + 1)
    if first is not None and not all(torch.equal(a, b) for a, b in zip(first, want)):
        raise Fail("sweep_seed_not_used", seed=seed)


def sweep_histories(value: Any, n: int, epochs: int) -> list[dict[str, list[float]]]:
    """The list ``lr_sweep`` returned: ``n`` dicts of ``epochs`` floats per key."""
    if expect.is_bad(value) or not isinstance(value, list):
        found = value.get("__type__", "?") if isinstance(value, dict) else type(value).__name__
        raise Fail("expected_list", what="lr_sweep(...)", found=found)
    if len(value) != n:
        raise Fail("wrong_length", what="lr_sweep(...)", expected=n, found=len(value))
    runs = []
    for k, item in enumerate(value):
        run = _records(item, ("train_loss", "val_acc"), f"lr_sweep(...)[{k}]")
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


# ------------------------------------------------------------------ exploding


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


def verify_clipping(inp: dict[str, Any], out: dict[str, Any], batch: int, max_norm: float) -> None:
    """Every ``step()`` saw a total gradient norm <= max_norm; the first step's gradient is
    the raw one scaled to norm max_norm (same direction); the log reports raw norms."""
    log = _optimizers(out)
    if len(log) != 1:
        raise Fail("clip_optimizer_count", found=len(log))
    entry = log[0]
    n_batches = inp["X"].shape[0] // batch
    steps = entry.get("steps")
    if steps != n_batches:
        raise Fail("clip_step_count", expected=n_batches, found=steps)
    norms = entry.get("norms")
    if not isinstance(norms, list) or len(norms) != n_batches or not all(
        isinstance(v, float) for v in norms
    ):
        raise Fail("clip_step_count", expected=n_batches, found="?")
    case = {"weights": inp["weights"], "biases": inp["biases"], "X": inp["X"][:batch],
            "y": inp["y"][:batch], "class_weight": torch.ones(10), "act": "relu"}
    gw, gb = true_grads(case)
    raw = torch.cat([g.flatten() for g in [*gw, *gb]])
    raw_norm = float(raw.norm())
    for s, v in enumerate(norms):
        if not v <= max_norm * (1 + 1e-4):  # nan fails too
            if s == 0 and expect.rel_close(v, raw_norm, 1e-3):
                raise Fail("clip_not_before_step", step=s + 1, found=f"{v:.4g}",
                           max_norm=f"{max_norm:g}")
            raise Fail("clip_norm_over", step=s + 1, found=f"{v:.4g}", max_norm=f"{max_norm:g}")
    first = entry.get("first_grads")
    # The optimizer's parameters are the net's, in order: weights and biases interleaved.
    order = [g for pair in zip(gw, gb) for g in pair]
    if not isinstance(first, list) or len(first) != len(order) or any(
        type(g) is not torch.Tensor or tuple(g.shape) != tuple(w.shape)
        for g, w in zip(first, order)
    ):
        raise Fail("clip_no_grads", step=1)
    got = torch.cat([g.double().flatten() for g in first])
    want = torch.cat([g.flatten() for g in order]) * (max_norm / raw_norm)
    if not expect.close(got, want, 1e-3, 1e-6 * max_norm):
        cos = float(got @ want / (got.norm() * want.norm() + 1e-30))
        if cos < 1 - 1e-4:
            raise Fail("clip_direction_changed", cos=f"{cos:.4f}")
        raise Fail("clip_wrong_scale", found=f"{float(got.norm()):.4g}",
                   max_norm=f"{max_norm:g}")
    rec = _records(out.get("log"), ("loss", "grad_norm"), "train_clipped(...)")
    for key in ("loss", "grad_norm"):
        if len(rec[key]) != n_batches:
            raise Fail("wrong_length", what=f'train_clipped(...)["{key}"]', expected=n_batches,
                       found=len(rec[key]))
    if not expect.rel_close(rec["grad_norm"][0], raw_norm, 1e-3):
        raise Fail("clip_reported_norm", found=f"{rec['grad_norm'][0]:.4g}",
                   expected=f"{raw_norm:.4g}")


def verify_rescue(out: dict[str, Any], n_layers: int, steps: int, max_norm: float,
                  min_acc: float) -> None:
    """With clipping, the high-rate run stayed finite and learned (grader-measured)."""
    log = _optimizers(out)
    if len(log) != 1 or log[0].get("steps") != steps:
        found = log[0].get("steps") if len(log) == 1 else f"{len(log)} optimizers"
        raise Fail("clip_step_count", expected=steps, found=found)
    norms = log[0].get("norms")
    if isinstance(norms, list):
        for s, v in enumerate(norms):
            if not (isinstance(v, float) and v <= max_norm * (1 + 1e-4)):
                raise Fail("clip_norm_over", step=s + 1, found=f"{v}", max_norm=f"{max_norm:g}")
    pairs = pairs_of(out.get("final"), "train_clipped: model")
    if len(pairs) != n_layers:
        raise Fail("layer_count", what="train_clipped: model", expected=n_layers,
                   found=len(pairs))
    acc = test_accuracy(pairs)
    if not acc >= min_acc:
        raise Fail("clip_did_not_rescue", acc="nan" if math.isnan(acc) else f"{acc:.3f}",
                   threshold=f"{min_acc:.2f}")
