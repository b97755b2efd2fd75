"""Detectors of ``probe_stats`` (:mod:`grader.checks.probe_stats`).

The probe hands ``probe_stats`` a net carrying the grader's weights and a known forward, and
reports the two lists it returned and the inputs the net saw. From the weights and the last
input seen, the grader computes every layer's weight gradient and bias gradient itself
(float64), and each detector compares the reported ``grad_stds`` (and ``activation_stds``)
with what a probe making one mistake would report: the weights' stds, another statistic of the
gradients, a summed loss, layers left out or listed backwards, the biases' stds among them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from grader.checks import expect
from grader.diagnoses.base import Evidence


def _close_all(got: list[float], want: list[float], rtol: float = 1e-3) -> bool:
    return len(got) == len(want) and all(expect.rel_close(g, w, rtol) for g, w in zip(got, want))


def _floats(value: Any) -> list[float] | None:
    if isinstance(value, list) and all(isinstance(v, float) and math.isfinite(v) for v in value):
        return value
    return None


def gradients(weights: list[torch.Tensor], x: torch.Tensor
              ) -> tuple[list[float], list[torch.Tensor], list[torch.Tensor]]:
    """Activation stds, weight gradients and bias gradients of the probe net (ReLU hidden
    layers, zero biases) on ``x``, for the asked loss, the mean of out**2. (A summed loss's
    gradients are these times the number of values summed.) In float32, as the student's
    own: their stds agree to about 1e-6, far inside the 1e-3 the comparisons allow, at half
    the cost of the verdict's float64."""
    ws = [w.float().clone().requires_grad_(True) for w in weights]
    bs = [torch.zeros(w.shape[0], requires_grad=True) for w in weights]
    h = x.float()
    acts = []
    for w, b in zip(ws[:-1], bs[:-1]):
        h = torch.relu(h @ w.T + b)
        acts.append(float(h.detach().std()))
    out = h @ ws[-1].T + bs[-1]
    grads = torch.autograd.grad(out.pow(2).mean(), [*ws, *bs])
    return acts, list(grads[: len(ws)]), list(grads[len(ws):])


def runs(ev: Evidence) -> Iterator[tuple[int, list[torch.Tensor], torch.Tensor, dict[str, Any]]]:
    """``(depth, weights, last input seen, result)`` of each probe run with a usable input."""
    results = ev.out.get("results")
    if not isinstance(results, list):
        return
    for (_, depth, _, d_in, batch), weights, res in zip(ev.check.runs, ev.inp["weights"],
                                                         results):
        seen = res.get("inputs") if isinstance(res, dict) else None
        if not isinstance(seen, list) or not seen or type(seen[-1]) is not torch.Tensor:
            continue
        x = seen[-1]
        if tuple(x.shape) != (batch, d_in) or not x.is_floating_point():
            continue
        yield depth, weights, x, res


def _memo_grads(ev: Evidence, k: int, weights, x
                ) -> tuple[list[float], list[torch.Tensor], list[torch.Tensor]]:
    return ev.memo(f"probe_grads_{k}", lambda: gradients(weights, x))


def _grad_stds(ev: Evidence, k: int, weights, x) -> tuple[list[float], list[float]]:
    """The stds of run ``k``'s weight gradients and bias gradients (computed once)."""
    def compute() -> tuple[list[float], list[float]]:
        _, gw, gb = _memo_grads(ev, k, weights, x)
        return _stds(gw), _stds(gb)

    return ev.memo(f"probe_grad_stds_{k}", compute)


def _each(ev: Evidence) -> Iterator[tuple[int, int, list[torch.Tensor], torch.Tensor,
                                          list[float] | None, list[float] | None]]:
    for k, (depth, weights, x, res) in enumerate(runs(ev)):
        yield k, depth, weights, x, _floats(res.get("acts")), _floats(res.get("grads"))


def _fn(ev: Evidence) -> dict[str, Any]:
    return {"fn": "probe_stats"}


def _stds(tensors: list[torch.Tensor]) -> list[float]:
    return [float(t.double().std()) for t in tensors]


def weight_std_not_grad(ev: Evidence) -> dict[str, Any] | None:
    """``grad_stds`` holds the stds of the weights themselves, not of their gradients."""
    for _, _, weights, _, _, grads in _each(ev):
        if grads and _close_all(grads, [float(w.double().std()) for w in weights]):
            return _fn(ev)
    return None


#: statistics of a gradient that are not its std, by the name a message shows
STATISTICS = {
    ".norm()": lambda g: float(g.norm()),
    ".var()": lambda g: float(g.var()),
    ".abs().mean()": lambda g: float(g.abs().mean()),
    ".abs().max()": lambda g: float(g.abs().max()),
}


def grad_norm_not_std(ev: Evidence) -> dict[str, Any] | None:
    """``grad_stds`` holds another statistic of each weight gradient (its norm, variance,
    mean or largest absolute value) instead of its standard deviation."""
    for k, _, weights, x, _, grads in _each(ev):
        if not grads:
            continue
        if all(g == 0.0 for g in grads):
            continue  # nothing measured at all: probe_no_backward's case
        _, gw, _ = _memo_grads(ev, k, weights, x)
        if _close_all(grads, _grad_stds(ev, k, weights, x)[0]):
            continue
        for name, stat in STATISTICS.items():
            if _close_all(grads, [stat(g) for g in gw]):
                return {"fn": "probe_stats", "statistic": name}
    return None


def loss_sum_not_mean(ev: Evidence) -> dict[str, Any] | None:
    """The gradients are those of a summed loss (over every output, or over each example's
    outputs) instead of the mean of out**2."""
    for k, _, weights, x, _, grads in _each(ev):
        if not grads:
            continue
        want = _grad_stds(ev, k, weights, x)[0]
        batch, outputs = int(x.shape[0]), int(weights[-1].shape[0])
        for factor in (batch * outputs, outputs):  # summed over everything, or per example
            if _close_all(grads, [factor * v for v in want]):
                return _fn(ev)
    return None


def _subsequence(got: list[float], want: list[float]) -> bool:
    """``got`` is ``want`` with some items left out, the rest in order."""
    i = 0
    for value in want:
        if i < len(got) and expect.rel_close(got[i], value, 1e-3):
            i += 1
    return i == len(got)


def grads_missing_layers(ev: Evidence) -> dict[str, Any] | None:
    """``grad_stds`` leaves out some ``nn.Linear`` layers (the output layer, the first one...):
    what it holds are the right values of the others, in order."""
    for k, depth, weights, x, _, grads in _each(ev):
        if not grads or len(grads) >= depth + 1:
            continue
        if _subsequence(grads, _grad_stds(ev, k, weights, x)[0]):
            return _fn(ev)
    return None


def grads_include_biases(ev: Evidence) -> dict[str, Any] | None:
    """``grad_stds`` has one std per parameter, the biases' gradients among the weights'."""
    for k, depth, weights, x, _, grads in _each(ev):
        if not grads or len(grads) != 2 * (depth + 1):
            continue
        w, b = _grad_stds(ev, k, weights, x)
        interleaved = [v for pair in zip(w, b) for v in pair]
        if _close_all(grads, interleaved) or _close_all(grads, w + b):
            return _fn(ev)
    return None


def no_backward(ev: Evidence) -> dict[str, Any] | None:
    """The activations are right, but ``grad_stds`` is empty or all zeros: no gradient was
    ever computed (``backward`` never called, or the forward ran without autograd)."""
    for k, _, weights, x, acts, grads in _each(ev):
        if grads is None or acts is None or (grads and any(g != 0.0 for g in grads)):
            continue
        want_acts, _, _ = _memo_grads(ev, k, weights, x)
        if _close_all(acts, want_acts):
            return _fn(ev)
    return None


def reversed_layers(ev: Evidence) -> dict[str, Any] | None:
    """The stds are listed from the output layer back to the input layer."""
    for k, _, weights, x, acts, grads in _each(ev):
        want_acts, _, _ = _memo_grads(ev, k, weights, x)
        want = _grad_stds(ev, k, weights, x)[0]
        if grads and len(grads) > 1 and not _close_all(grads, want) and _close_all(
                grads, want[::-1]):
            return {"fn": "probe_stats"}
        if acts and len(acts) > 1 and not _close_all(acts, want_acts) and _close_all(
                acts, want_acts[::-1]):
            return {"fn": "probe_stats"}
    return None


def input_not_gaussian(ev: Evidence) -> dict[str, Any] | None:
    """The net's input does not look N(0, 1) (uniform, all ones, integers, scaled...), with
    the bands the verdict uses."""
    for _, _, _, x, _, _ in _each(ev):
        n = x.numel()
        mean, std = float(x.double().mean()), float(x.double().std())
        if abs(mean) > 5 / math.sqrt(n) or abs(std - 1) > 0.1:
            return _fn(ev)
    return None
