"""Task ``probe_stats``: the student's probe of activation and gradient spreads, layer by layer."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.checks import expect
from grader.checks.base import Check, Context, Fail, ProbeEnv, Stat, register
from grader.checks.capture import linear_layers, numbers, plain_tensor
from grader.checks.nets import mlp_shapes
from grader.checks.weight_stats import (
    SQRT2,
    uniform_bound,
)
from grader.probe_side import probe_side


@probe_side
class ProbeNet(nn.Module):
    """A DeepMLP_i built by the grader from given weights; remembers the inputs it saw.

    Layers sit in ``self.layers`` (input layer first), like the practical's own
    DeepMLP_i, so probe code that walks ``net.layers`` or ``net.modules()`` both work.
    """

    def __init__(self, weights: list[torch.Tensor]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(w.shape[1], w.shape[0]) for w in weights)
        with torch.no_grad():
            for layer, w in zip(self.layers, weights):
                layer.weight.copy_(w)
                layer.bias.zero_()
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[float]]:
        self.seen.append(x.detach().clone())
        stds = []
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
            stds.append(x.detach().std().item())
        return self.layers[-1](x), stds


@probe_side
def student_probe_net(
    cls: Any, scheme: str, weights: list[torch.Tensor]
) -> tuple[nn.Module, list[torch.Tensor]] | None:
    """The student's own ``DeepMLP_i`` carrying the grader's weights and a known-good forward.

    ``probe_stats`` is written for the student's own class and may walk its attributes
    (``net.hidden``, ``net.out``, ...), so it gets an instance of that class. Only its
    structure is used: its ``nn.Linear`` layers (registration order) must have the shapes
    of ``weights``; they receive those weights and zero biases, and the instance's
    ``forward`` is the grader's (ReLU hidden layers, ``(out, stds)``), so a mistake in the
    student's init or forward (graded by ``init_schemes``) cannot change this task's data.
    Returns ``(net, inputs_seen)``, or ``None`` when the class cannot be used that way.
    """
    depth = len(weights) - 1
    try:
        net = cls(init_type=scheme, depth=depth, width=int(weights[0].shape[0]),
                  in_dim=int(weights[0].shape[1]), out_dim=int(weights[-1].shape[0]))
    except Exception:
        return None
    layers = linear_layers(net)
    if len(layers) != len(weights) or any(
        type(layer) is not nn.Linear or tuple(layer.weight.shape) != tuple(w.shape)
        or layer.bias is None for layer, w in zip(layers, weights)
    ):
        return None
    with torch.no_grad():
        for layer, w in zip(layers, weights):
            layer.weight.copy_(w)
            layer.bias.zero_()
    if not hasattr(net, "layers"):
        # The practical's own DeepMLP_i keeps its layers in ``layers``: code written against
        # it keeps working. A plain list, so ``modules()`` does not list the layers twice.
        net.layers = list(layers)
    seen: list[torch.Tensor] = []

    def forward(x: torch.Tensor) -> tuple[torch.Tensor, list[float]]:
        seen.append(x.detach().clone())
        stds = []
        for layer in layers[:-1]:
            x = torch.relu(layer(x))
            stds.append(x.detach().std().item())
        return layers[-1](x), stds

    net.forward = forward  # an instance attribute: nn.Module.__call__ uses it
    return net, seen


@probe_side
def probe_net(mod: Any, scheme: str, weights: list[torch.Tensor]):
    """The net handed to ``probe_stats`` and the list of inputs it will have seen."""
    cls = getattr(mod, "DeepMLP_i", None)
    if isinstance(cls, type) and issubclass(cls, nn.Module):
        built = student_probe_net(cls, scheme, weights)
        if built is not None:
            return built
    net = ProbeNet(weights)
    return net, net.seen


def make_weights(scheme: str, shapes: list[tuple[int, int]], gen: torch.Generator):
    """Weights of one scheme drawn from the grader's generator (not torch's global RNG)."""
    weights = []
    for fan_in, fan_out in shapes:
        if scheme == "orthogonal":
            a = torch.randn(max(fan_in, fan_out), min(fan_in, fan_out), generator=gen,
                            dtype=torch.float64)
            q, r = torch.linalg.qr(a)
            q = q * torch.sign(torch.diagonal(r))
            w = (q if fan_out >= fan_in else q.T) * SQRT2
        else:
            bound = uniform_bound(scheme, fan_in, fan_out)
            w = (torch.rand(fan_out, fan_in, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        weights.append(w.float())
    return weights


#: (scheme, depth, width, in_dim, batch_size) of each probe run
PROBES = (("he", 15, 128, 100, 64), ("xavier", 4, 32, 20, 32))


def probe_expected(weights: list[torch.Tensor], x: torch.Tensor,
                   gates: list[torch.Tensor] | None = None) -> tuple[list[float], list[float]]:
    """Activation and weight-gradient stds of the ProbeNet for input ``x``, in float64.

    ``gates``: per hidden layer, the units whose ReLU lets the signal through (``(B, width)``
    booleans, :func:`relu_gates`); by default where the float64 pre-activation is positive."""
    ws = [w.double().clone().requires_grad_(True) for w in weights]
    h = x.double()
    acts = []
    for i, w in enumerate(ws[:-1]):
        z = h @ w.T
        h = torch.relu(z) if gates is None else z * gates[i].to(torch.float64)
        acts.append(float(h.detach().std()))
    out = h @ ws[-1].T
    grads = torch.autograd.grad(out.pow(2).mean(), ws)
    return acts, [float(g.std()) for g in grads]


def relu_gates(weights: list[torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
    """Where each hidden ReLU of the net the probe ran let the signal through.

    The probe gives the student's ``probe_stats`` a net whose forward is the grader's
    (``nn.Linear`` with zero biases, ReLU, float32, on the CPU); the same float32 operations
    here give the same pre-activations bit for bit (measured the same at 1 to 8 threads), so
    the same gates. A pre-activation within float32 rounding of 0 (about 1e-7 of its terms)
    can have the other sign in float64, and that one gate moves the gradients: in 1 of 200
    hidden variants (``bench/calibrate.py``, docs/calibration.md) a single unit at 1.3e-7
    moved the He net's input-layer gradient std by 1.28e-3, over the 1e-3 the comparison
    allows, and the reference lost ``trends_xavier_he_orthogonal``. The expected values are
    therefore the float64 gradients of the net *with the student's run's gates*."""
    h = x.float()
    gates = []
    for w in weights[:-1]:
        z = F.linear(h, w.float(), torch.zeros(w.shape[0]))
        gates.append(z > 0)
        h = torch.relu(z)
    return gates


#: the input probe_stats feeds the net must look like N(0, 1): its mean within this many
#: standard errors of 0, its std within this of 1
INPUT_MEAN_SE, INPUT_STD_TOL = 5.0, 0.1


class _ProbeCheck(Check):
    task = "probe_stats"
    needs = ("probe_stats",)
    cost = 0.3
    runs: tuple = PROBES

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen(f"probe.{self.name}")
        return {"weights": [make_weights(s, mlp_shapes(d_in, 10, w, depth), gen)
                            for s, depth, w, d_in, _ in self.runs]}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        results = []
        for (scheme, _, _, d_in, batch), weights in zip(self.runs, inp["weights"]):
            net, seen = probe_net(mod, scheme, weights)
            value = mod.probe_stats(net, batch_size=batch, in_dim=d_in)
            pair = list(value) if type(value) in (tuple, list) else None
            results.append({
                "pair": len(pair) if pair is not None else -1,
                "acts": numbers(pair[0]) if pair and len(pair) == 2 else None,
                "grads": numbers(pair[1]) if pair and len(pair) == 2 else None,
                "inputs": [plain_tensor(s) for s in seen[-3:]],
            })
        return {"results": results}

    def each(self, inp: dict[str, Any], out: dict[str, Any]):
        for (scheme, depth, _, d_in, batch), weights, res in zip(
            self.runs, inp["weights"], out["results"]
        ):
            what = f"probe_stats(net, batch_size={batch}, in_dim={d_in}) [depth={depth}]"
            if res["pair"] != 2:
                raise Fail("probe_not_pair", what=what)
            acts = expect.float_list(res["acts"], None, f"{what}: activation_stds")
            grads = expect.float_list(res["grads"], None, f"{what}: grad_stds")
            yield scheme, depth, d_in, batch, weights, res, what, acts, grads

    def seen_input(self, res: dict[str, Any], what: str, batch: int, d_in: int) -> torch.Tensor:
        """The last input the grader's net saw: called, with the asked-for shape."""
        seen = res["inputs"]
        if not isinstance(seen, list) or not seen:
            raise Fail("probe_net_not_called", what=what)
        x = expect.tensor(seen[-1], "x")
        if tuple(x.shape) != (batch, d_in):
            raise Fail("probe_input_shape", what=what, expected=(batch, d_in),
                       found=tuple(x.shape))
        return x

    def verify(self, depth: int, d_in: int, batch: int, weights: list[torch.Tensor],
               res: dict[str, Any], what: str, acts: list[float], grads: list[float]) -> None:
        """Every reported number is the grader's own recomputation, on the grader's weights
        and the input the net saw; else a Fail naming the mistake it looks like."""
        x = self.seen_input(res, what, batch, d_in)
        # x must look like N(0, 1): 5 standard errors on the mean, 10% on the std
        # (bench/thresholds.py, part ``probe``; docs/thresholds.md).
        n = x.numel()
        if abs(float(x.double().mean())) > INPUT_MEAN_SE / math.sqrt(n) or abs(
            float(x.double().std()) - 1
        ) > INPUT_STD_TOL:
            raise Fail("probe_input_dist", what=what, mean=f"{float(x.mean()):.3f}",
                       std=f"{float(x.std()):.3f}")
        want_acts, want_grads = probe_expected(weights, x, relu_gates(weights, x))
        if len(acts) != depth or len(grads) != depth + 1:
            raise Fail("probe_lengths", what=what)
        if not all(expect.rel_close(g, w, 1e-3) for g, w in zip(acts, want_acts)):
            raise Fail("probe_acts_mismatch", what=what)
        if all(expect.rel_close(g, w, 1e-3) for g, w in zip(grads, want_grads)):
            return
        # the float64 gates, where the student's float32 run could not be repeated bit for bit
        # here (another machine's BLAS): the oracle as it was before relu_gates
        if all(expect.rel_close(g, w, 1e-3) for g, w in zip(grads, probe_expected(weights, x)[1])):
            return
        weight_stds = [float(w.double().std()) for w in weights]
        if all(expect.rel_close(g, w, 1e-3) for g, w in zip(grads, weight_stds)):
            raise Fail("probe_weights_not_grads", what=what)
        if all(expect.rel_close(g, w, 1e-3) for g, w in zip(grads, reversed(want_grads))):
            raise Fail("probe_grads_reversed", what=what)
        ratios = [g / w for g, w in zip(grads, want_grads) if w > 0]
        if ratios and max(ratios) - min(ratios) < 1e-3 * abs(ratios[0]):
            raise Fail("probe_grads_scaled", what=what, factor=f"{ratios[0]:.4g}")
        raise Fail("probe_grads_mismatch", what=what)

    def input_statistics(self, inp: dict[str, Any], out: dict[str, Any]) -> list[Stat]:
        """The worst run's input, on the scale of :meth:`verify`'s limits (calibration)."""
        mean_z = std_off = 0.0
        for _, _, d_in, batch, _, res, what, _, _ in self.each(inp, out):
            x = self.seen_input(res, what, batch, d_in).double()
            mean_z = max(mean_z, abs(float(x.mean())) * math.sqrt(x.numel()))
            std_off = max(std_off, abs(float(x.std()) - 1))
        return [Stat("input |mean| x sqrt(n)", mean_z, "<=", INPUT_MEAN_SE, "probe_input_dist"),
                Stat("input |std - 1|", std_off, "<=", INPUT_STD_TOL, "probe_input_dist")]


@register
class ProbeLengths(_ProbeCheck):
    """Lengths and types of what ``probe_stats`` returns, for a call that did use the net:
    lists that never came from the net (hard-coded) earn nothing here either."""

    name = "lengths_and_types"
    points = 3

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for _, depth, d_in, batch, _, res, what, acts, grads in self.each(inp, out):
            self.seen_input(res, what, batch, d_in)
            if len(acts) != depth:
                raise Fail("wrong_length", what=f"{what}: activation_stds", expected=depth,
                           found=len(acts))
            if len(grads) != depth + 1:
                raise Fail("wrong_length", what=f"{what}: grad_stds", expected=depth + 1,
                           found=len(grads))


@register
class ProbeValues(_ProbeCheck):
    name = "values_match_independent_computation"
    points = 6

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for _, depth, d_in, batch, weights, res, what, acts, grads in self.each(inp, out):
            self.verify(depth, d_in, batch, weights, res, what, acts, grads)

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        return self.input_statistics(inp, out)


#: trend bands on last/first activation std over 15 ReLU layers; re-measured by
#: bench/thresholds.py (part ``probe``), ranges in docs/thresholds.md
XAVIER_MAX_RATIO = 0.05
STABLE_RATIO = (0.25, 4.0)


def trend_ratio(acts: list[float]) -> float:
    """Last over first activation std (``inf`` when the first is 0)."""
    return acts[-1] / acts[0] if acts[0] > 0 else float("inf")


@register
class ProbeTrends(_ProbeCheck):
    """The three schemes on 15 layers. Only numbers that are the grader's own recomputation
    count: the trend of hard-coded lists, or of activations measured without the gradients
    the function must also return, earns nothing."""

    name = "trends_xavier_he_orthogonal"
    points = 6
    runs = (("xavier", 15, 128, 100, 64), ("he", 15, 128, 100, 64),
            ("orthogonal", 15, 128, 100, 64))

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        for scheme, depth, d_in, batch, weights, res, what, acts, grads in self.each(inp, out):
            if len(acts) != depth:
                raise Fail("wrong_length", what=f"{what}: activation_stds", expected=depth,
                           found=len(acts))
            self.verify(depth, d_in, batch, weights, res, what, acts, grads)
            ratio = trend_ratio(acts)
            if scheme == "xavier" and not ratio < XAVIER_MAX_RATIO:
                raise Fail("trend_xavier", ratio=f"{ratio:.3g}")
            if scheme != "xavier" and not STABLE_RATIO[0] <= ratio <= STABLE_RATIO[1]:
                raise Fail("trend_stable", scheme=scheme, ratio=f"{ratio:.3g}")

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        ratios = {scheme: trend_ratio(acts) for scheme, *_, acts, _ in self.each(inp, out)}
        stable = [ratios["he"], ratios["orthogonal"]]
        return [*self.input_statistics(inp, out),
                Stat("xavier: last/first activation std", ratios["xavier"], "<=",
                     XAVIER_MAX_RATIO, "trend_xavier", log=True),
                Stat("he, orthogonal: last/first activation std, lowest", min(stable), ">=",
                     STABLE_RATIO[0], "trend_stable", log=True),
                Stat("he, orthogonal: last/first activation std, highest", max(stable), "<=",
                     STABLE_RATIO[1], "trend_stable", log=True)]
