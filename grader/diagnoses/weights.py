"""Detectors of the initialization checks (``init_schemes``' three schemes and ``DeepMLPI``'s
weights; :mod:`grader.checks.weight_stats`), and of ``DeepMLP_i``'s ``(out, stds)``.

Each layer's weights are fitted against every init a student plausibly wrote instead of the
asked one: the uniform bounds of Xavier, He (fan-in and fan-out) and ``nn.Linear``'s own
default (exact bounds, fill and spread, as :func:`fits_uniform` judges), the normal versions
of those schemes (same standard deviation, Kolmogorov-Smirnov distance to the normal), the
normal clamped to the uniform bound, and orthogonal rows of any gain. A layer is explained
only when the fits left standing all tell the same story: a small layer that fits several
(a square layer has the same fan-in and fan-out) says nothing.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from grader.checks import expect
from grader.checks.weight_stats import SQRT2, fits_uniform, is_orthogonal, uniform_bound
from grader.diagnoses.base import Evidence
from grader.diagnoses.nets import Case, cases, pairs_of

#: spread and shape are judged on layers with at least this many weights (as fits_uniform)
MIN_WEIGHTS = 400


def _phi(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def _ks(v: torch.Tensor, cdf) -> float:
    """Kolmogorov-Smirnov distance of the *sorted* float64 values ``v`` to ``cdf``."""
    n = v.numel()
    c = cdf(v)
    rank = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(rank / n - c, c - (rank - 1) / n).max())


def _sorted(w: torch.Tensor) -> torch.Tensor:
    return w.double().flatten().sort().values


def fits_normal(w: torch.Tensor, std: float, v: torch.Tensor | None = None) -> bool:
    """Could ``w`` come from N(0, std)? Spread within 10 %, KS distance at most 3.3 / sqrt(n)
    (the bands of :func:`fits_uniform`). ``v``: ``w``'s values sorted, if already at hand."""
    n = w.numel()
    if n < MIN_WEIGHTS or abs(float(w.double().std()) / std - 1.0) > 0.1:
        return False
    return _ks(_sorted(w) if v is None else v, lambda x: _phi(x / std)) <= 3.3 / math.sqrt(n)


def fits_clamped_normal(w: torch.Tensor, std: float, bound: float,
                        v: torch.Tensor | None = None) -> bool:
    """Could ``w`` be N(0, std) clamped to +-``bound``? The largest value at the bound, the
    share of values sitting on it as the normal's tails predict (5 standard errors), and the
    others distributed as the normal truncated there."""
    n = w.numel()
    v = _sorted(w) if v is None else v
    top = float(v.abs().max())
    if n < MIN_WEIGHTS or abs(top / bound - 1.0) > 1e-5:
        return False
    at = v.abs() >= top * (1 - 1e-6)
    p = float(2 * _phi(torch.tensor(-bound / std, dtype=torch.float64)))
    if abs(float(at.double().mean()) - p) > 5 * math.sqrt(p * (1 - p) / n):
        return False
    inside = v[~at]  # still sorted
    if inside.numel() < MIN_WEIGHTS:
        return False
    low = float(_phi(torch.tensor(-bound / std, dtype=torch.float64)))
    return _ks(inside, lambda v: (_phi(v / std) - low) / (1 - 2 * low)) <= 3.3 / math.sqrt(
        inside.numel())


#: the schemes a layer's weights are fitted against (``uniform_bound`` names)
SCHEMES = ("xavier", "he", "he_fan_out", "default")


#: a uniform fit tells a scheme on layers of at least this many weights (where
#: :func:`fits_uniform` also checks the fill); a smaller layer only within its bound proves little
MIN_UNIFORM = 200


def _default_bias(w: torch.Tensor, b: torch.Tensor | None) -> bool:
    """A nonzero bias within ``nn.Linear``'s default bound: the layer was left as made."""
    bound = uniform_bound("default", int(w.shape[1]), int(w.shape[0]))
    return b is not None and bool(b.abs().max() > 0) and bool(b.abs().max() <= bound * (1 + 1e-5))


def fits(w: torch.Tensor, b: torch.Tensor | None = None) -> set[tuple[str, str]]:
    """Every ``(scheme, distribution)`` the weights fit: distributions ``uniform``, ``normal``,
    ``clamped`` (normal clamped to the uniform bound), and ``("orthogonal", gain)``. A small
    layer fits a uniform scheme only with more evidence: ``nn.Linear``'s default, when its
    bias is the default's too."""
    fan_in, fan_out = int(w.shape[1]), int(w.shape[0])
    found: set[tuple[str, str]] = set()
    v = _sorted(w) if w.numel() >= MIN_WEIGHTS else None
    for scheme in SCHEMES:
        bound = uniform_bound(scheme, fan_in, fan_out)
        std = bound / math.sqrt(3.0)
        big = w.numel() >= MIN_UNIFORM or (scheme == "default" and _default_bias(w, b))
        if big and fits_uniform(w, bound):
            found.add((scheme, "uniform"))
        if scheme != "default" and v is not None:
            if fits_normal(w, std, v):
                found.add((scheme, "normal"))
            if fits_clamped_normal(w, std, bound, v):
                found.add((scheme, "clamped"))
    gain = orthogonal_gain(w)
    if gain is not None:
        found.add(("orthogonal", f"{gain:.3g}"))
    return found


def orthogonal_gain(w: torch.Tensor) -> float | None:
    """The gain ``g`` with which ``w``'s rows (or columns, if tall) are orthonormal times ``g``,
    or ``None`` when they are not orthogonal."""
    w = w.double()
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    g2 = float(torch.diagonal(gram).mean())
    if not g2 > 0:
        return None
    gain = math.sqrt(g2)
    return gain if is_orthogonal(w, gain) else None


def _ids(asked: str, scheme: str, dist: str) -> frozenset[str]:
    """What one fit says is wrong with a layer whose asked scheme is ``asked``."""
    ids: set[str] = set()
    if scheme == "orthogonal":
        if asked == "orthogonal" and abs(float(dist) - SQRT2) > 1e-3 * SQRT2:
            ids.add("orthogonal_no_gain")
        return frozenset(ids)
    if scheme == "default":
        return frozenset({"init_missing_layer"})
    if dist in ("normal", "clamped") and asked != "orthogonal":
        ids.add("normal_not_uniform")
    if asked == "he":
        if scheme == "he_fan_out":
            ids.add("fan_out_mode")
        elif scheme == "xavier":
            ids.add("xavier_instead_of_he")
    elif asked == "xavier" and scheme in ("he", "he_fan_out"):
        ids.add("he_instead_of_xavier")
        if scheme == "he_fan_out":
            ids.add("fan_out_mode")
    return frozenset(ids)


def _asked(ev: Evidence) -> str:
    return getattr(ev.check, "scheme", "") or "he"


def _fits_asked(w: torch.Tensor, asked: str) -> bool:
    if asked == "orthogonal":
        return is_orthogonal(w, SQRT2)
    return fits_uniform(w, uniform_bound(asked, int(w.shape[1]), int(w.shape[0])))


def layer_story(w: torch.Tensor, asked: str, b: torch.Tensor | None = None
                ) -> frozenset[str] | None:
    """The mistake ids that explain one layer's weights (empty: they are right); ``None``
    when the fits left standing disagree or none stands. Of several stories the one naming
    fewest mistakes is told (a 784 x 64 He-normal layer also fits Xavier-normal within the
    bands: one mistake, not two)."""
    if _fits_asked(w, asked):
        return frozenset()
    stories = {_ids(asked, scheme, dist) for scheme, dist in fits(w, b)}
    stories.discard(frozenset())
    if len(stories) != 1:
        fewest = min((len(s) for s in stories), default=0)
        stories = {s for s in stories if len(s) == fewest}
        if len(stories) != 1:
            return None
    return next(iter(stories))


def _layers(ev: Evidence) -> list[tuple[Case, int, torch.Tensor, torch.Tensor | None]]:
    found = []
    for case in cases(ev):
        pairs = pairs_of(case)
        for i, (w, b) in enumerate(pairs or []):
            found.append((case, i, w, b))
    return found


#: wrong layers of one net whose story is told (a 16-layer net with the wrong init everywhere
#: tells the same story 16 times: the first few say it)
MAX_TOLD = 3


def weight_stories(ev: Evidence) -> dict[str, tuple[str, int]]:
    """Mistake id -> the first ``(what, layer)`` whose weights show it (layers counted from
    1, in the order the report lists them)."""
    def compute() -> dict[str, tuple[str, int]]:
        asked = _asked(ev)
        found: dict[str, tuple[str, int]] = {}
        told: dict[str, int] = {}
        for case, i, w, b in _layers(ev):
            if told.get(case.what, 0) >= MAX_TOLD:
                continue
            story = layer_story(w, asked, b)
            if story:
                told[case.what] = told.get(case.what, 0) + 1
            for mistake in story or ():
                found.setdefault(mistake, (case.what, i + 1))
        return found

    return ev.memo("weight_stories", compute)


def _weights_detector(mistake: str):
    def detect(ev: Evidence) -> dict[str, Any] | None:
        where = weight_stories(ev).get(mistake)
        return None if where is None else {"what": where[0], "layer": where[1]}

    detect.__name__ = mistake
    detect.__doc__ = f"A layer's weights fit the init ``{mistake}`` stands for, not the asked one."
    return detect


normal_not_uniform = _weights_detector("normal_not_uniform")
fan_out_mode = _weights_detector("fan_out_mode")
xavier_instead_of_he = _weights_detector("xavier_instead_of_he")
he_instead_of_xavier = _weights_detector("he_instead_of_xavier")
init_missing_layer = _weights_detector("init_missing_layer")


def orthogonal_no_gain(ev: Evidence) -> dict[str, Any] | None:
    """Orthogonal rows, but scaled by another gain than sqrt(2) (ReLU's)."""
    if _asked(ev) != "orthogonal":
        return None
    for case, i, w, _ in _layers(ev):
        if is_orthogonal(w, SQRT2):
            continue
        gain = orthogonal_gain(w)
        if gain is not None:
            return {"what": case.what, "layer": i + 1, "gain": f"{gain:.3g}"}
    return None


def bias_not_zero(ev: Evidence) -> dict[str, Any] | None:
    """A layer whose weights were initialized (they are not ``nn.Linear``'s default) still
    has a nonzero bias: the biases were left as ``nn.Linear`` made them."""
    for case, i, w, b in _layers(ev):
        if b is None or not bool(b.abs().max() > 0):
            continue
        if fits_uniform(w, uniform_bound("default", int(w.shape[1]), int(w.shape[0]))):
            continue  # the whole layer kept its default: init_missing_layer
        return {"what": case.what, "layer": i + 1}
    return None


# ------------------------------------------------------------------ forward (out, stds)


def stds_before_activation(ev: Evidence) -> dict[str, Any] | None:
    """The stds ``DeepMLP_i.forward`` returns are those of each hidden layer's output before
    its activation."""
    for case in cases(ev):
        report = case.report
        out = report.get("out") if isinstance(report, dict) else None
        pairs = pairs_of(case)
        if (case.x is None or pairs is None or not isinstance(out, list) or len(out) != 2
                or not isinstance(out[1], list)
                or not all(isinstance(s, float) for s in out[1])):
            continue
        stds = out[1]
        hidden: list[torch.Tensor] = []
        try:
            expect.mlp_forward(pairs, case.x, case.hidden, "none", collect=hidden)
        except RuntimeError:
            continue
        after = [float(h.std()) for h in hidden]
        if len(stds) != len(after) or all(expect.rel_close(g, a, 1e-3)
                                           for g, a in zip(stds, after)):
            continue
        before = [float((h @ w.double().T + (0 if b is None else b.double())).std())
                  for h, (w, b) in zip([case.x.double(), *hidden[:-1]], pairs[:-1])]
        if all(expect.rel_close(g, p, 1e-3) for g, p in zip(stds, before)):
            return {"what": case.what}
    return None
