"""Weight statistics of an initialization: its bound, its shape, the scheme it most resembles.

Weight distributions are judged within statistical bands wide enough that a
correct initialization fails with negligible probability whatever random stream
it used (bounds are exact; spreads are checked only on layers with enough
weights; see ``WeightStats``), and narrow enough to tell the schemes apart:
Xavier and He differ in their bound, normal and uniform differ in their tails,
fan-in and fan-out differ on every non-square layer.
"""

from __future__ import annotations

import math

import torch

from grader.checks.base import Fail, Stat

SQRT2 = math.sqrt(2.0)


def uniform_bound(scheme: str, fan_in: int, fan_out: int) -> float:
    """Half-width of the uniform distribution of that scheme."""
    if scheme == "xavier":
        return math.sqrt(6.0 / (fan_in + fan_out))
    if scheme == "he":  # kaiming_uniform_, nonlinearity="relu": gain sqrt(2) * sqrt(3 / fan_in)
        return math.sqrt(6.0 / fan_in)
    if scheme == "he_fan_out":
        return math.sqrt(6.0 / fan_out)
    if scheme == "default":  # nn.Linear's own init: kaiming_uniform_(a=sqrt(5)) = 1/sqrt(fan_in)
        return 1.0 / math.sqrt(fan_in)
    raise ValueError(scheme)


#: what :func:`fits_uniform` allows (its docstring says why; docs/thresholds.md and
#: docs/calibration.md give the measured margins)
TOP_RTOL = 1e-5  # max |w| above the bound, float32 rounding
FILL_MAX = 25.0  # n (1 - max|w| / bound), layers of n >= 200
STD_RTOL = 0.12  # |std / (bound / sqrt 3) - 1|, layers of n >= 400
KS_MAX = 3.3  # Kolmogorov-Smirnov distance times sqrt(n), layers of n >= 400
#: Gram matrix off the identity (times gain^2) by at most this, times gain^2
ORTHO_RTOL = 1e-3


def _gram_error(w: torch.Tensor, gain: float) -> torch.Tensor:
    w = w.double()
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    eye = torch.eye(gram.shape[0], dtype=torch.float64)
    return (gram - gain**2 * eye).abs().max()


def is_orthogonal(w: torch.Tensor, gain: float) -> bool:
    """Rows (or columns, for tall matrices) orthonormal up to ``gain``."""
    return bool(_gram_error(w, gain) < ORTHO_RTOL * gain**2)


def orthogonality_error(w: torch.Tensor, gain: float) -> float:
    """What :func:`is_orthogonal` compares with ``ORTHO_RTOL``: the Gram matrix's largest
    distance from ``gain^2`` times the identity, over ``gain^2`` (for calibration)."""
    return float(_gram_error(w, gain)) / gain**2


def fits_uniform(w: torch.Tensor, bound: float) -> bool:
    """Could ``w`` come from U(-bound, bound)? Exact bound; fill and spread where n is large.

    - every |w| <= bound (float32 rounding allowed);
    - n >= 200: max |w| >= bound * (1 - 25/n) (P(fail) = (1 - 25/n)^n ≈ e^-25);
    - n >= 400: std within 12% of bound / sqrt(3) (> 5 standard errors for n = 400);
    - n >= 400: the shape: Kolmogorov-Smirnov distance to U(-bound, bound) at most
      3.3 / sqrt(n) (DKW: P(fail) <= 2 e^-21.8 for a true uniform). A normal clamped to the
      bound has the right bound and nearly the right std, but a distance near 0.06: caught
      on the 784-input layers (n = 50,176, limit 0.015).

    What torch's own inits and that clamped normal give on every layer the checks judge:
    ``bench/thresholds.py`` (part ``weights``), ranges in docs/thresholds.md.
    """
    w = w.double()
    n = w.numel()
    top = float(w.abs().max())
    if top > bound * (1 + TOP_RTOL):
        return False
    if n >= 200 and top < bound * (1 - FILL_MAX / n):
        return False
    if n >= 400 and abs(float(w.std()) / (bound / math.sqrt(3.0)) - 1.0) > STD_RTOL:
        return False
    if n >= 400 and ks_uniform(w, bound) > KS_MAX / math.sqrt(n):
        return False
    return True


def uniform_measures(w: torch.Tensor, bound: float) -> dict[str, float]:
    """What :func:`fits_uniform` compares, each on the scale of its limit (for calibration):
    ``top`` max|w| / bound (limit 1 + TOP_RTOL), ``fill`` n (1 - max|w| / bound) (FILL_MAX),
    ``std`` the std's relative error (STD_RTOL), ``ks`` the KS distance times sqrt(n)
    (KS_MAX); a measure the layer is too small for is left out."""
    w = w.double()
    n = w.numel()
    top = float(w.abs().max())
    found = {"top": top / bound}
    if n >= 200:
        found["fill"] = n * (1 - top / bound)
    if n >= 400:
        found["std"] = abs(float(w.std()) / (bound / math.sqrt(3.0)) - 1.0)
        found["ks"] = ks_uniform(w, bound) * math.sqrt(n)
    return found


def ks_uniform(w: torch.Tensor, bound: float) -> float:
    """Kolmogorov-Smirnov distance between the values of ``w`` and U(-bound, bound)."""
    n = w.numel()
    cdf = ((w.double().flatten() / bound + 1.0) / 2.0).clamp(0.0, 1.0).sort().values
    rank = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(rank / n - cdf, cdf - (rank - 1) / n).max())


def guess_scheme(w: torch.Tensor) -> str:
    """A short description of what ``w`` looks like, for failure messages."""
    fan_in, fan_out = w.shape[1], w.shape[0]
    for scheme in ("xavier", "he", "he_fan_out", "default"):
        if fits_uniform(w, uniform_bound(scheme, fan_in, fan_out)):
            return {"xavier": "xavier_uniform_", "he": "kaiming_uniform_(relu)",
                    "he_fan_out": "kaiming_uniform_(mode='fan_out')",
                    "default": "init por defecto de nn.Linear / nn.Linear default"}[scheme]
    if is_orthogonal(w, SQRT2) or is_orthogonal(w, 1.0):
        return "orthogonal_"
    std = float(w.double().std())
    top = float(w.double().abs().max())
    if top > 0 and float((w.double().abs() >= top * (1 - 1e-6)).double().mean()) > 0.01:
        return f"recortados / clipped at ±{top:.3g}"
    if top > 2.5 * std:
        return f"normal (std={std:.3g})"
    return f"std={std:.3g}, max|w|={float(w.abs().max()):.3g}"


def check_layer(w: torch.Tensor, b: torch.Tensor | None, scheme: str, what: str, i: int) -> None:
    """Fail unless layer ``i`` (weight ``w``, bias ``b``) follows ``scheme`` with zero bias."""
    fan_in, fan_out = w.shape[1], w.shape[0]
    if b is not None and bool(b.abs().max() > 0):
        raise Fail("bias_not_zero", what=what, layer=i)
    if scheme == "orthogonal":
        ok = is_orthogonal(w, SQRT2)
    else:
        ok = fits_uniform(w, uniform_bound(scheme, fan_in, fan_out))
    if not ok:
        expected = {"xavier": "xavier_uniform_", "he": "kaiming_uniform_(relu)",
                    "orthogonal": "orthogonal_(gain=sqrt(2))"}[scheme]
        raise Fail("wrong_init", what=what, layer=i, expected=expected, found=guess_scheme(w))


def layer_statistics(layers: list[tuple[torch.Tensor, str]]) -> list[Stat]:
    """Over ``(weight, scheme)`` layers, the worst of each measure :func:`check_layer` judges
    them by, as :class:`~grader.checks.base.Stat` (for calibration; the verdict is
    :func:`check_layer`'s)."""
    worst: dict[str, float] = {}
    for w, scheme in layers:
        if scheme == "orthogonal":
            found = {"gram": orthogonality_error(w, SQRT2)}
        else:
            found = uniform_measures(w, uniform_bound(scheme, w.shape[1], w.shape[0]))
        for name, value in found.items():
            worst[name] = max(worst.get(name, -math.inf), value)
    # (label, limit, hard): the bound and the Gram matrix are exact up to rounding
    stats = {
        "top": ("max|w| / bound", 1 + TOP_RTOL, True),
        "fill": ("fill n(1 - max|w|/bound), n >= 200", FILL_MAX, False),
        "std": ("|std / (bound/sqrt 3) - 1|, n >= 400", STD_RTOL, False),
        "ks": ("KS distance x sqrt(n), n >= 400", KS_MAX, False),
        "gram": ("|W W^T - 2 I| / 2 (orthogonal, gain sqrt 2)", ORTHO_RTOL, True),
    }
    return [Stat(f"{label} (worst layer)", worst[name], "<=", limit, "wrong_init", hard=hard)
            for name, (label, limit, hard) in stats.items() if name in worst]
