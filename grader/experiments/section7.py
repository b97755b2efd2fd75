"""Section 7's experiments: a learning-rate sweep and exploding gradients with and without
clipping, run with the implementation's own ``lr_sweep``, ``grad_norms`` and ``train_clipped``.

Registered in the catalogue of :mod:`grader.experiments.catalogue` (``EXPERIMENTS``); their
figures are in :mod:`grader.experiments.figures`, their messages in the message catalogue.
Like the other experiments, student code runs through ``Run.call`` (its printing kept, any
exception a reported problem) and nothing here trusts a return value before reading it
(:mod:`grader.experiments.returns`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn

from .figures import DIVERGED_LOSS, diverged_at, growth_limit, norms_figure, sweep_figure
from .harness import FAILED, seed_all
from .returns import BadReturn, read_floats, read_lists

MODULE = "ex6_hyperparams"
#: the rates of the sweep: too low, reasonable, good, too high (SGD, batch 64)
SWEEP_LRS = (0.001, 0.01, 0.1, 1.0, 30.0)
SWEEP_HIDDEN = 64
#: the exploding net: tanh, std 4 / sqrt(fan_in) (too large), 784 -> 8 x 64 -> 10
DEEP_DEPTH, DEEP_WIDTH, DEEP_GAIN = 8, 64, 4.0
#: the clipped run: a ReLU net at 1.5 x He, SGD at a rate that diverges unclipped
CLIP_DEPTH, CLIP_GAIN, CLIP_LR, CLIP_MAX_NORM = 6, 1.5 * math.sqrt(2.0), 0.3, 1.0
SEED = 7


def _sweep_net() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, SWEEP_HIDDEN), nn.ReLU(),
                         nn.Linear(SWEEP_HIDDEN, 10))


def _deep_net(depth: int, width: int, gain: float, act: type[nn.Module],
              gen: torch.Generator) -> nn.Module:
    """784 -> depth x width -> 10 with uniform weights of std gain / sqrt(fan_in), zero bias."""
    layers: list[nn.Module] = [nn.Flatten()]
    sizes = [784] + [width] * depth + [10]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = nn.Linear(a, b)
        with torch.no_grad():
            bound = gain * math.sqrt(3.0 / a)
            layer.weight.copy_((torch.rand(b, a, generator=gen) * 2 - 1) * bound)
            layer.bias.zero_()
        layers.append(layer)
        if i < depth:
            layers.append(act())
    return nn.Sequential(*layers)


def _runs(value: Any, n: int) -> list[dict[str, list[float]]]:
    """What ``lr_sweep`` returned: ``n`` histories (nan and inf allowed: a run diverges)."""
    expected = f"list of {n} dicts with the number lists 'train_loss' and 'val_acc'"
    if type(value) not in (list, tuple) or len(value) != n:
        raise BadReturn("lr_sweep", expected, value)
    return [read_lists(item, ("train_loss", "val_acc"), "lr_sweep", expected, found=value)
            for item in value]


def _clip_log(value: Any) -> list[float]:
    """``train_clipped``'s per-step raw gradient norms, or BadReturn."""
    return read_lists(value, ("grad_norm",), "train_clipped",
                      "dict with the number lists 'loss' and 'grad_norm'")["grad_norm"]


def _json(values: Any) -> Any:
    """nan and inf as ``None``: results.json stays strict JSON (a diverged run is a gap)."""
    if isinstance(values, dict):
        return {k: _json(v) for k, v in values.items()}
    if isinstance(values, list):
        return [_json(v) for v in values]
    if isinstance(values, float) and not math.isfinite(values):
        return None
    return values


def _loader(run: Any, limit: int, batch: int) -> tuple[Any, Any, Any]:
    """Unshuffled train (first ``limit`` images of the split), validation and test loaders:
    every run of a comparison sees the same batches in the same order."""
    from grader.data import FastLoader

    train, val, test = run.mnist_loaders(SEED)
    X, y = train.X[:limit], train.y[:limit]
    return FastLoader(X, y, batch), val, test


def _accuracy(model: nn.Module, test: Any) -> float:
    with torch.no_grad():
        out = model(test.X)
    if not bool(torch.isfinite(out).all()):
        return float("nan")
    return float((out.argmax(dim=1).cpu() == test.y.cpu()).double().mean())


def exp_lr_sweep(run: Any, rec: Any) -> None:
    sweep = run.name(rec, "lr_sweep", MODULE, "lr_sweep")
    if sweep is FAILED:
        return
    limit = 6000 if run.budget.quick else 20_000
    epochs = 2 if run.budget.quick else 4
    train, val, _ = _loader(run, limit, 64)
    seed_all(SEED)
    value = run.call(rec, "lr_sweep", lambda: _runs(
        sweep(_sweep_net, list(SWEEP_LRS), train, val, epochs, SEED, torch.optim.SGD,
              run.device), len(SWEEP_LRS)))
    if value is FAILED:
        return
    finals = [r["val_acc"][-1] if r["val_acc"] else float("nan") for r in value]
    best = max(range(len(finals)), key=lambda i: finals[i] if math.isfinite(finals[i]) else -1)
    # Where each rate diverged, by the figure's own rule, so the report can say it in words.
    diverged = [diverged_at(r["train_loss"], DIVERGED_LOSS) for r in value]
    rec.data.update(_json({"produced": True, "lrs": list(SWEEP_LRS), "runs": value,
                           "epochs": epochs, "train_size": limit, "best_lr": SWEEP_LRS[best],
                           "best_val_acc": finals[best], "diverged_epoch": diverged}))
    fig = sweep_figure(SWEEP_LRS, value, run.label("exp_title_lr_sweep"), run.label)
    run.save(rec, fig, "lr_sweep.png")


def exp_exploding(run: Any, rec: Any) -> None:
    norms_fn = run.name(rec, "exploding", MODULE, "grad_norms")
    clipped_fn = run.name(rec, "exploding", MODULE, "train_clipped")
    if norms_fn is FAILED or clipped_fn is FAILED:
        return
    limit = 2000 if run.budget.quick else 6000
    train, _, test = _loader(run, limit, 32)
    X, y = next(iter(train))
    gen = torch.Generator().manual_seed(SEED)
    deep = _deep_net(DEEP_DEPTH, DEEP_WIDTH, DEEP_GAIN, nn.Tanh, gen).to(run.device)
    at_init = run.call(rec, "exploding", lambda: read_floats(
        norms_fn(deep, X, y, nn.CrossEntropyLoss()), "grad_norms", "list of finite floats",
        finite=True))
    if at_init is FAILED:
        return
    # What the optimizer receives at the first step, per layer, with and without clipping:
    # one batch, lr 0 (nothing moves), an SGD that records the weight-gradient norms.
    seen: dict[float, list[float]] = {}

    def recorder(max_norm: float) -> type:
        class Recording(torch.optim.SGD):
            def step(self, closure: Any = None) -> Any:
                layers = [m for m in deep.modules() if isinstance(m, nn.Linear)]
                seen.setdefault(max_norm, [float(m.weight.grad.norm()) for m in layers])
                return super().step(closure)
        return Recording

    one_batch = [(X, y)]
    for max_norm in (float("inf"), CLIP_MAX_NORM):
        done = run.call(rec, "exploding", lambda m=max_norm: clipped_fn(
            deep, one_batch, 0.0, m, 1, recorder(m), run.device))
        if done is FAILED:
            return
    # Training at a rate that diverges without clipping, same start both times. The runs are
    # keyed by what they are, not by a label: results.json is the same in every language.
    steps: dict[str, list[float]] = {}
    accs: dict[str, float] = {}
    for key, max_norm in (("unclipped", float("inf")), ("clipped", CLIP_MAX_NORM)):
        seed_all(SEED)
        net = _deep_net(CLIP_DEPTH, DEEP_WIDTH, CLIP_GAIN, nn.ReLU,
                        torch.Generator().manual_seed(SEED)).to(run.device)
        log = run.call(rec, "exploding", lambda n=net, m=max_norm: _clip_log(clipped_fn(
            n, train, CLIP_LR, m, 1, torch.optim.SGD, run.device)))
        if log is FAILED:
            return
        steps[key] = log
        accs[key] = _accuracy(net, test)
    per_layer = {"unclipped": seen.get(float("inf"), []),
                 "clipped": seen.get(CLIP_MAX_NORM, [])}
    diverged = {key: diverged_at(values, growth_limit(values)) for key, values in steps.items()}
    rec.data.update(_json({"produced": True, "grad_norms_at_init": at_init,
                           "first_step_per_layer": per_layer, "step_norms": steps,
                           "accuracy_by_run": accs, "diverged_step": diverged, "lr": CLIP_LR,
                           "max_norm": CLIP_MAX_NORM, "train_size": limit}))
    fig = norms_figure(per_layer, steps, run_names(run.label), run.label("exp_title_exploding"),
                       run.label)
    run.save(rec, fig, "exploding_grad_norms.png")


def run_names(label: Any) -> dict[str, str]:
    """The exploding experiment's two runs as the figure and the report name them."""
    return {"unclipped": label("exp_fig_unclipped"),
            "clipped": label("exp_fig_clipped", max_norm=f"{CLIP_MAX_NORM:g}")}
