"""Detectors of ``exploding`` (``grad_norms`` and ``train_clipped``).

``grad_norms``: the grader computes every layer's weight and bias gradient of the batch itself
(float64, the criterion it handed over) and compares the reported list with what a function
making one mistake would return: another tensor's norm, another statistic, the layers in
reverse, the stale gradients the model held added in, another loss.

``train_clipped``: on the small run the spy kept, at every ``step()``, the weights and the
gradients ``step()`` found; the grader turns the batch's raw gradient at those weights into
the gradient each known mistake would hand to ``step()`` (no clipping before it, clipping
each value or each layer apart, gradients never cleared) and names the rule that matches. On
the MNIST run only every ``RESCUE_EVERY``-th copy of the weights is kept (2): there, the first
steps up to the next copy are taken again under each rule and the rule whose steps land on it
is named.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from grader.checks import exploding as clip_checks
from grader.checks.replay import batches
from grader.diagnoses.base import Detector, Evidence, explained_by
from grader.diagnoses.section7 import (
    CLIP_RULES,
    RULE_MISTAKE,
    grads,
    landing_error,
    run_segment,
    same_vector,
    snapshots,
    tensors,
)

# ------------------------------------------------------------------ grad_norms


def _close_list(got: list[float], want: list[float], rtol: float = 1e-3) -> bool:
    return len(got) == len(want) and all(
        math.isfinite(g) and abs(g - w) <= rtol * abs(w) + 1e-12 for g, w in zip(got, want))


def _norm_cases(ev: Evidence) -> Iterator[tuple[dict[str, Any], list[float]]]:
    results = ev.out.get("results")
    for case, res in zip(ev.inp.get("cases", []), results if isinstance(results, list) else []):
        if isinstance(res, list) and res and all(isinstance(v, float) for v in res):
            yield case, res


def _case_grads(case: dict[str, Any], weighted: bool = True
                ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    params = [t for pair in zip(case["weights"], case["biases"]) for t in pair]
    _, gs = grads(params, case["X"], case["y"], act=case["act"],
                  weight=case["class_weight"] if weighted else None)
    return gs[0::2], gs[1::2]


def _explain_norms(ev: Evidence) -> set[str]:
    """The mistake ids the reported norms show, over the cases whose norms are wrong."""
    def compute() -> set[str]:
        found: set[str] = set()
        for case, norms in _norm_cases(ev):
            gw, gb = _case_grads(case)
            want = [float(g.norm()) for g in gw]
            if _close_list(norms, want):
                continue
            total_w = math.sqrt(math.fsum(w * w for w in want))
            total = math.sqrt(total_w ** 2 + math.fsum(float(g.pow(2).sum()) for g in gb))
            per_param = [v for g, b in zip(gw, gb) for v in (float(g.norm()), float(b.norm()))]
            alternatives = {
                "reversed_layers": [want[::-1]],
                "stale_grads": [[float((g + 1.0).norm()) for g in gw]],
                "norm_of_wrong_tensor": [
                    [float(w.double().norm()) for w in case["weights"]],
                    [math.hypot(float(g.norm()), float(b.norm())) for g, b in zip(gw, gb)],
                    [float(b.norm()) for b in gb],
                    per_param, [total], [total_w], [total] * len(want), [total_w] * len(want),
                ],
                "wrong_norm_statistic": [
                    [float(g.std()) for g in gw], [float(g.var()) for g in gw],
                    [w * w for w in want], [float(g.abs().sum()) for g in gw],
                    [float(g.abs().max()) for g in gw], [float(g.abs().mean()) for g in gw],
                ],
            }
            gw_plain, _ = _case_grads(case, weighted=False)
            alternatives["criterion_ignored"] = [[float(g.norm()) for g in gw_plain]]
            for mistake, lists in alternatives.items():
                if any(_close_list(norms, alt) for alt in lists):
                    found.add(mistake)
        return found

    return ev.memo("norms_explained", compute)


def _norms_detector(mistake: str) -> Detector:
    return explained_by(mistake, _explain_norms, lambda ev: {"fn": "grad_norms"},
                        f"norms_{mistake}",
                        f"``grad_norms`` returns what a function making ``{mistake}`` returns.")


norms_reversed = _norms_detector("reversed_layers")
norms_stale = _norms_detector("stale_grads")
norms_wrong_tensor = _norms_detector("norm_of_wrong_tensor")
norms_wrong_statistic = _norms_detector("wrong_norm_statistic")
norms_criterion_ignored = _norms_detector("criterion_ignored")


# ------------------------------------------------------------------ train_clipped

#: how close the gradients ``step()`` found must be to a rule's: honest steps are within 3e-6 of
#: the right rule; stale gradients (the clipped ones left in ``.grad``, added to a raw gradient
#: 100 times larger, clipped again) land only 4e-3 from it
CLIP_RTOL = 1e-4
#: a replayed segment lands on the next copy of the weights (``grader.checks.replay``'s bound)
LANDING_RTOL = 0.05


def _clip_shapes(inp: dict[str, Any]) -> list[tuple[int, ...]]:
    return [tuple(t.shape) for pair in zip(inp["weights"], inp["biases"]) for t in pair]


def _entry(ev: Evidence) -> dict[str, Any] | None:
    log = ev.out.get("optimizers")
    if isinstance(log, list) and len(log) == 1 and isinstance(log[0], dict):
        return log[0]
    return None


def _kept_grads(entry: dict[str, Any], shapes: list[tuple[int, ...]]
                ) -> dict[int, list[torch.Tensor]]:
    found: dict[int, list[torch.Tensor]] = {}
    items = entry.get("grads")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, list) and len(item) == 2 and type(item[0]) is int:
            gs = tensors(item[1], len(shapes))
            if gs is not None and [tuple(g.shape) for g in gs] == shapes:
                found[item[0]] = gs
    return found


def _explain_clip_steps(ev: Evidence) -> set[str]:
    """From the gradients ``step()`` found: the rule (the right one or a mistaken one) that
    makes them from each batch's raw gradient, at the first step where they are wrong."""
    def compute() -> set[str]:
        entry = _entry(ev)
        if entry is None or "X" not in ev.inp:
            return set()
        max_norm = clip_checks.CLIP_MAX_NORM
        size = clip_checks.CLIP_BATCH
        shapes = _clip_shapes(ev.inp)
        snaps, kept = snapshots(entry, shapes), _kept_grads(entry, shapes)
        data = batches(ev.inp["X"], ev.inp["y"], size)
        held: list[torch.Tensor] | None = None
        steps = entry.get("steps")
        for s in range(min(steps if type(steps) is int else 0, 64)):
            if s not in snaps or s not in kept:
                return set()
            _, raw = grads(snaps[s], *data[s % len(data)])
            found = kept[s]
            if same_vector(found, CLIP_RULES["right"](raw, None, max_norm), CLIP_RTOL):
                held = found
                continue
            # stale gradients show from the second step on (the first finds a clean .grad)
            rules = [r for r in CLIP_RULES if r != "right"
                     and (held is not None or not r.startswith("stale"))]
            matched = {RULE_MISTAKE[r] for r in rules
                       if same_vector(found, CLIP_RULES[r](raw, held, max_norm), CLIP_RTOL)}
            return matched
        return set()

    return ev.memo("clip_steps_explained", compute)


def _explain_clip_landing(ev: Evidence) -> set[str]:
    """On a run copied every few steps: the rule whose first steps, taken again by the grader
    from the first copy, land nearest the second (when the right rule does not land there,
    and the nearest one does)."""
    def compute() -> set[str]:
        entry = _entry(ev)
        if entry is None or "idx" not in ev.inp:
            return set()
        from grader.data import mnist_rows

        lr = clip_checks.RESCUE_LR
        max_norm = clip_checks.RESCUE_MAX_NORM
        size = clip_checks.RESCUE_BATCH
        every = clip_checks.RESCUE_EVERY
        shapes = _clip_shapes(ev.inp)
        snaps = snapshots(entry, shapes)
        if 0 not in snaps or every not in snaps:
            return set()
        X, y = mnist_rows("train", ev.inp["idx"][: size * every])
        data = batches(X, y, size)
        start, there = snaps[0], snaps[every]
        errors = {rule: landing_error(start, there,
                                      run_segment(start, data, 0, every, lr, rule, max_norm))
                  for rule in CLIP_RULES}
        if errors["right"] <= LANDING_RTOL:
            return set()
        best = min((err, rule) for rule, err in errors.items() if rule != "right")
        return {RULE_MISTAKE[best[1]]} if best[0] <= LANDING_RTOL else set()

    return ev.memo("clip_landing_explained", compute)


def _explain_clip(ev: Evidence) -> set[str]:
    """The mistakes a clipped run's steps show: step by step where the gradients were kept,
    else by landing."""
    return _explain_clip_steps(ev) | _explain_clip_landing(ev)


def _clip_detector(mistake: str) -> Detector:
    return explained_by(mistake, _explain_clip, lambda ev: {"fn": "train_clipped"},
                        f"clip_{mistake}",
                        f"``train_clipped``'s steps are those of a loop making ``{mistake}``.")


clip_after_step = _clip_detector("clip_after_step")
clip_by_value = _clip_detector("clip_by_value")
clip_per_layer = _clip_detector("clip_per_layer")
clip_stale_grads = _clip_detector("stale_grads")


def clip_optimizer_not_asked(ev: Evidence) -> dict[str, Any] | None:
    """``train_clipped`` built its optimizer with more than the rate (momentum, weight decay,
    nesterov...): the spy's record of the groups' options at some ``step()``."""
    entry = _entry(ev)
    plain = entry.get("plain") if entry is not None else None
    if isinstance(plain, list) and any(p is False for p in plain):
        return {"fn": "train_clipped"}
    return None
