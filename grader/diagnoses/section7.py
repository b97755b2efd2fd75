"""What section 7's detectors need of their own: the cross-entropy gradients of the MLP
``[W0, b0, W1, b1, ...]`` in float64, and SGD steps taken under a rule (the right clipping, or
a known mistaken one).

The batches and the MLP's forward pass are the replay's own (:mod:`grader.checks.replay`), so a
detector's alternative step and the verdict's step start from the same logits; the run's
constants are the checks' own (:mod:`grader.checks.lr_sweep`, :mod:`grader.checks.exploding`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks.replay import mlp_logits


def tensors(value: Any, count: int | None = None) -> list[torch.Tensor] | None:
    """A list of plain float tensors (``None`` entries refused), or ``None``."""
    if not isinstance(value, list) or (count is not None and len(value) != count):
        return None
    if not all(type(t) is torch.Tensor and t.is_floating_point() for t in value):
        return None
    return value


def grads(params: list[torch.Tensor], X: torch.Tensor, y: torch.Tensor, act: str = "relu",
          weight: torch.Tensor | None = None, reduction: str = "mean"
          ) -> tuple[float, list[torch.Tensor]]:
    """The batch's cross-entropy and its gradient w.r.t. every parameter, in float64."""
    ps = [p.detach().double().clone().requires_grad_(True) for p in params]
    loss = F.cross_entropy(mlp_logits(ps, X, act), y,
                           weight=None if weight is None else weight.double(),
                           reduction=reduction)
    gs = list(torch.autograd.grad(loss, ps))
    return float(loss.detach()), gs


def total_norm(gs: list[torch.Tensor]) -> float:
    return math.sqrt(math.fsum(float(g.double().pow(2).sum()) for g in gs))


def clip_total(gs: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    """``clip_grad_norm_``: every gradient scaled by one factor to a total norm of ``max_norm``."""
    scale = min(1.0, max_norm / (total_norm(gs) + 1e-6))
    return [g * scale for g in gs]


def clip_each(gs: list[torch.Tensor], max_norm: float, per_layer: bool = False
              ) -> list[torch.Tensor]:
    """Each parameter's gradient (or each layer's weight and bias together) clipped apart."""
    if not per_layer:
        return [g * min(1.0, max_norm / (float(g.norm()) + 1e-6)) for g in gs]
    out: list[torch.Tensor] = []
    for i in range(0, len(gs), 2):
        out += clip_total(gs[i:i + 2], max_norm)
    return out


def clip_value(gs: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    """``clip_grad_value_``: every entry clamped to +-``max_norm``."""
    return [g.clamp(-max_norm, max_norm) for g in gs]


#: how a clipped loop turns the batch's raw gradient into the one ``step()`` uses:
#: ``(raw, what .grad held before backward, max_norm) -> used``
CLIP_RULES: dict[str, Callable[[list[torch.Tensor], list[torch.Tensor] | None, float],
                               list[torch.Tensor]]] = {
    "right": lambda raw, held, m: clip_total(raw, m),
    "clip_after_step": lambda raw, held, m: raw,
    "clip_by_value": lambda raw, held, m: clip_value(raw, m),
    "clip_per_layer": lambda raw, held, m: clip_each(raw, m),
    "clip_per_linear": lambda raw, held, m: clip_each(raw, m, per_layer=True),
    "stale_grads": lambda raw, held, m: clip_total(
        raw if held is None else [h + r for h, r in zip(held, raw)], m),
    "stale_unclipped": lambda raw, held, m: raw if held is None else [
        h + r for h, r in zip(held, raw)],
}
#: the mistake id each rule stands for
RULE_MISTAKE = {"clip_after_step": "clip_after_step", "clip_by_value": "clip_by_value",
                "clip_per_layer": "clip_per_layer", "clip_per_linear": "clip_per_layer",
                "stale_grads": "stale_grads", "stale_unclipped": "stale_grads"}


def same_vector(a: list[torch.Tensor], b: list[torch.Tensor], rtol: float = 1e-3) -> bool:
    """The two lists of tensors agree as one vector, within ``rtol`` of its norm."""
    if len(a) != len(b) or any(tuple(x.shape) != tuple(y.shape) for x, y in zip(a, b)):
        return False
    va = torch.cat([x.double().flatten() for x in a])
    vb = torch.cat([x.double().flatten() for x in b])
    if not bool(torch.isfinite(va).all()):
        return False
    return float((va - vb).norm()) <= rtol * float(vb.norm()) + 1e-12


def run_segment(start: list[torch.Tensor], data: list[tuple[torch.Tensor, torch.Tensor]],
                first: int, count: int, lr: float, rule: str, max_norm: float,
                act: str = "relu") -> list[torch.Tensor]:
    """``count`` SGD steps from ``start`` (batch ``k % len(data)`` at step ``k``), the gradient
    each step uses made by ``CLIP_RULES[rule]``; float64."""
    params = [p.double().clone() for p in start]
    held: list[torch.Tensor] | None = None
    for k in range(first, first + count):
        _, raw = grads(params, *data[k % len(data)], act=act)
        used = CLIP_RULES[rule](raw, held, max_norm)
        held = used
        params = [p - lr * g for p, g in zip(params, used)]
    return params


def landing_error(start: list[torch.Tensor], got: list[torch.Tensor],
                  want: list[torch.Tensor]) -> float:
    """How far ``got`` lands from ``want``, as a fraction of ``want``'s move from ``start``."""
    s = torch.cat([p.double().flatten() for p in start])
    a = torch.cat([p.double().flatten() for p in got])
    b = torch.cat([p.double().flatten() for p in want])
    if not (bool(torch.isfinite(a).all()) and bool(torch.isfinite(b).all())):
        return math.inf
    return float((a - b).norm()) / (float((b - s).norm()) + 1e-6 * float(s.norm()) + 1e-30)


def snapshots(entry: Any, shapes: list[tuple[int, ...]]) -> dict[int, list[torch.Tensor]]:
    """Step -> the parameters ``step()`` found, from a spy's record (what reads as such)."""
    found: dict[int, list[torch.Tensor]] = {}
    snaps = entry.get("snaps") if isinstance(entry, dict) else None
    for item in snaps if isinstance(snaps, list) else []:
        if isinstance(item, list) and len(item) == 2 and type(item[0]) is int:
            params = tensors(item[1], len(shapes))
            if params is not None and [tuple(p.shape) for p in params] == shapes:
                found[item[0]] = params
    return found


def seeded_init(seed: int, hidden: int) -> list[torch.Tensor]:
    """``torch.manual_seed(seed)`` then the sweep's ``784 -> hidden -> 10`` net: ``nn.Linear``'s
    own draws (Kaiming-uniform with ``a = sqrt(5)``, biases in +-1/sqrt(fan_in)), from a
    generator of this function's own (the global one belongs to every thread)."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in ((784, hidden), (hidden, 10)):
        weight, bias = torch.empty(fan_out, fan_in), torch.empty(fan_out)
        torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(fan_in)
        torch.nn.init.uniform_(bias, -bound, bound, generator=gen)
        params += [weight, bias]
    return params
