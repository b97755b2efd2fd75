"""Properties of the weight-statistics helpers behind the init checks (``grader/checks/weight_stats.py``).

- ``uniform_bound`` is torch's own bound (from ``calculate_gain`` and the fans), with the
  symmetry and scaling laws of the formulas;
- weights drawn by torch's own initializers, of any shape, pass ``fits_uniform`` /
  ``is_orthogonal`` for their scheme, and their max, mean and std sit where sampling theory
  puts them (tolerances derived from the sample size ``n``, at about 6 standard errors);
- the schemes are told apart: another scheme's bound, or a normal law with the same std,
  is refused once ``n`` is large;
- the verdicts are invariant under sign flips and exact (power-of-two) rescaling;
- ``make_weights`` is deterministic, leaves torch's global RNG alone, and draws each scheme;
- ``probe_expected`` obeys ReLU's homogeneity and agrees with autograd on ``ProbeNet``;
  ``relu_gates`` are the gates of the float32 net the student's code ran, and judging with
  them keeps the reference's full marks on a variant where a unit sits at 0 within rounding.

Examples are derandomized (the same every run), each draw from an explicit
``torch.Generator``; the file takes seconds.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.checks.probe_stats import ProbeNet, make_weights, probe_expected, relu_gates
from grader.checks.weight_stats import SQRT2, fits_uniform, is_orthogonal, uniform_bound

ROOT = Path(__file__).resolve().parent.parent
BOUNDED = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
SCHEMES = ("xavier", "he", "he_fan_out", "default")
fans = st.integers(1, 4096)
seeds = st.integers(0, 2**32 - 1)
#: layer shapes (fan_in, fan_out) large enough for every band of ``fits_uniform``
big_shapes = st.tuples(st.integers(20, 300), st.integers(20, 300))


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def torch_init(scheme: str, fan_in: int, fan_out: int, seed: int) -> torch.Tensor:
    """Weights of an ``nn.Linear(fan_in, fan_out)`` initialized by torch itself."""
    w = torch.empty(fan_out, fan_in)
    g = gen(seed)
    if scheme == "xavier":
        return nn.init.xavier_uniform_(w, generator=g)
    if scheme == "he":
        return nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=g)
    if scheme == "he_fan_out":
        return nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", generator=g)
    # nn.Linear's own reset_parameters, run on torch's global RNG seeded here
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(fan_in, fan_out).weight.detach()


# ------------------------------------------------------------------ uniform_bound


@BOUNDED
@given(fans, fans)
def test_uniform_bound_is_torchs_bound(fan_in, fan_out):
    w = torch.empty(fan_out, fan_in)
    t_in, t_out = nn.init._calculate_fan_in_and_fan_out(w)
    assert (t_in, t_out) == (fan_in, fan_out)
    want = {
        "xavier": nn.init.calculate_gain("linear") * math.sqrt(6.0 / (t_in + t_out)),
        "he": nn.init.calculate_gain("relu") * math.sqrt(3.0 / t_in),
        "he_fan_out": nn.init.calculate_gain("relu") * math.sqrt(3.0 / t_out),
        "default": nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3.0 / t_in),
    }
    for scheme in SCHEMES:
        assert math.isclose(uniform_bound(scheme, fan_in, fan_out), want[scheme], rel_tol=1e-12)


@BOUNDED
@given(fans, fans)
def test_uniform_bound_symmetry_and_scaling_laws(a, b):
    assert uniform_bound("xavier", a, b) == uniform_bound("xavier", b, a)
    assert uniform_bound("he_fan_out", a, b) == uniform_bound("he", b, a)
    assert math.isclose(uniform_bound("he", 4 * a, b), uniform_bound("he", a, b) / 2,
                        rel_tol=1e-12)
    assert math.isclose(uniform_bound("default", a, b) * math.sqrt(6),
                        uniform_bound("he", a, b), rel_tol=1e-12)
    # Xavier's bound lies between He's bound over fan_in and over fan_in + fan_out
    assert uniform_bound("xavier", a, b) <= uniform_bound("he", a, b)
    assert math.isclose(uniform_bound("xavier", a, b), uniform_bound("he", a + b, 1),
                        rel_tol=1e-12)


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError):
        uniform_bound("lecun", 3, 4)


# ------------------------------------------------- agreement with torch's init


@pytest.mark.slow
@BOUNDED
@given(st.sampled_from(SCHEMES), big_shapes, seeds)
def test_torchs_own_init_fits_its_scheme_within_sampling_error(scheme, shape, seed):
    fan_in, fan_out = shape
    w = torch_init(scheme, fan_in, fan_out, seed)
    bound = uniform_bound(scheme, fan_in, fan_out)
    x = w.double()
    n = x.numel()
    sigma = bound / math.sqrt(3.0)  # std of U(-b, b)
    top = float(x.abs().max())
    # bound: exact (float32 rounding only); fill: P(max|w| < b(1 - t/n)) = (1 - t/n)^n ~ e^-t
    assert top <= bound * (1 + 1e-6)
    assert top >= bound * (1 - 30.0 / n)
    # mean: standard error sigma/sqrt(n); std: relative standard error 1/sqrt(5n) for a
    # uniform law (Var(s^2) = (mu4 - sigma^4)/n = 4 b^4 / 45n), so 6 standard errors each
    assert abs(float(x.mean())) <= 6 * sigma / math.sqrt(n)
    assert abs(float(x.std()) / sigma - 1) <= 6 / math.sqrt(5 * n)
    assert fits_uniform(w, bound)


@pytest.mark.slow
@BOUNDED
@given(st.integers(1, 96), st.integers(1, 96), st.sampled_from([1.0, SQRT2, 0.5]), seeds)
def test_torchs_orthogonal_init_is_orthogonal_for_any_shape(rows, cols, gain, seed):
    w = nn.init.orthogonal_(torch.empty(rows, cols), gain=gain, generator=gen(seed))
    assert is_orthogonal(w, gain)
    assert not is_orthogonal(w * 1.01, gain)  # 1% off the gain is not float rounding
    assert not is_orthogonal(w, gain * SQRT2)  # orthogonal_'s default gain 1 vs sqrt(2)


# -------------------------------------------------------- schemes told apart


@BOUNDED
@given(st.sampled_from(SCHEMES), st.sampled_from(SCHEMES), big_shapes, seeds)
def test_another_schemes_bound_is_refused_when_far_enough(drawn, judged, shape, seed):
    fan_in, fan_out = shape
    ratio = uniform_bound(drawn, fan_in, fan_out) / uniform_bound(judged, fan_in, fan_out)
    w = torch_init(drawn, fan_in, fan_out, seed)
    n = w.numel()
    if ratio < 1 - 30.0 / n or ratio > 1.15:
        # too small: max|w| cannot fill the bound; too large: P(all n inside) <= 1.15^-n
        assert not fits_uniform(w, uniform_bound(judged, fan_in, fan_out))


@BOUNDED
@given(st.sampled_from(SCHEMES), big_shapes, st.floats(0.0, 1.0), seeds)
def test_a_bound_too_large_by_a_few_percent_is_caught_by_the_fill(scheme, shape, t, seed):
    """U(-rb, rb) judged against b, for r between 0.9 (std only 10% off: the spread band
    lets it through) and 1 - 30/n: no weight comes near b, which is what gives it away."""
    fan_in, fan_out = shape
    w = torch_init(scheme, fan_in, fan_out, seed).double()
    n = w.numel()
    r = 0.9 + t * (0.1 - 30.0 / n)
    assert not fits_uniform(w * r, uniform_bound(scheme, fan_in, fan_out))


@BOUNDED
@given(big_shapes, seeds)
def test_a_normal_law_with_the_same_std_is_refused(shape, seed):
    """kaiming_normal_ has He's std, but ~8% of its weights lie beyond He's uniform bound."""
    fan_in, fan_out = shape
    w = nn.init.kaiming_normal_(torch.empty(fan_out, fan_in), nonlinearity="relu",
                                generator=gen(seed))
    assert not fits_uniform(w, uniform_bound("he", fan_in, fan_out))


@pytest.mark.slow
@BOUNDED
@given(st.tuples(st.integers(50, 300), st.integers(50, 300)), seeds)
def test_a_truncated_normal_filling_the_bound_is_refused_by_its_spread(shape, seed):
    """trunc_normal_ with He's std, cut at He's bound, stays inside the bound and nearly
    fills it, but its std is ~19% short of the uniform's: with n >= 2500 that is six
    standard errors beyond the 12% band."""
    fan_in, fan_out = shape
    bound = uniform_bound("he", fan_in, fan_out)
    w = nn.init.trunc_normal_(torch.empty(fan_out, fan_in), std=bound / math.sqrt(3.0),
                              a=-bound, b=bound, generator=gen(seed))
    assert not fits_uniform(w, bound)


# -------------------------------------------------------------- invariances


@pytest.mark.slow
@BOUNDED
@given(st.sampled_from(SCHEMES), st.sampled_from(SCHEMES), st.tuples(
    st.integers(1, 80), st.integers(1, 80)), st.floats(0.8, 1.2), st.integers(-8, 8), seeds)
def test_verdicts_are_invariant_under_sign_and_exact_rescaling(drawn, judged, shape, factor,
                                                               k, seed):
    fan_in, fan_out = shape
    w = torch_init(drawn, fan_in, fan_out, seed) * factor  # both verdicts occur
    bound = uniform_bound(judged, fan_in, fan_out)
    verdict = fits_uniform(w, bound)
    assert fits_uniform(-w, bound) == verdict
    assert fits_uniform(w * 2.0**k, bound * 2.0**k) == verdict
    q = nn.init.orthogonal_(torch.empty(fan_out, fan_in), gain=SQRT2, generator=gen(seed))
    q = q * factor
    assert is_orthogonal(q * 2.0**k, SQRT2 * 2.0**k) == is_orthogonal(q, SQRT2)
    assert is_orthogonal(-q, SQRT2) == is_orthogonal(q, SQRT2)


# ------------------------------------------------------------- make_weights


@pytest.mark.slow
@BOUNDED
@given(st.sampled_from(("xavier", "he", "orthogonal")),
       st.lists(big_shapes, min_size=1, max_size=3), seeds)
def test_make_weights_draws_its_scheme_from_its_generator_only(scheme, shapes, seed):
    before = torch.get_rng_state()
    first = make_weights(scheme, shapes, gen(seed))
    assert torch.equal(torch.get_rng_state(), before), "the global RNG was used"
    again = make_weights(scheme, shapes, gen(seed))
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    for (fan_in, fan_out), w in zip(shapes, first):
        assert tuple(w.shape) == (fan_out, fan_in) and w.dtype == torch.float32
        if scheme == "orthogonal":
            assert is_orthogonal(w, SQRT2)
        else:
            assert fits_uniform(w, uniform_bound(scheme, fan_in, fan_out))


# ------------------------------------------------------------- probe_expected


@st.composite
def probe_nets(draw):
    depth = draw(st.integers(1, 5))
    width, d_in, batch = draw(st.integers(2, 24)), draw(st.integers(1, 24)), draw(
        st.integers(2, 16))
    g = gen(draw(seeds))
    weights = make_weights(draw(st.sampled_from(("xavier", "he", "orthogonal"))),
                           [(d_in, width)] + [(width, width)] * (depth - 1) + [(width, 10)], g)
    return weights, torch.randn(batch, d_in, generator=g)


def _close_lists(a, b, rel):
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=rel, abs_tol=1e-300)
                                    for x, y in zip(a, b))


@pytest.mark.slow
@BOUNDED
@given(probe_nets(), st.integers(-4, 4))
def test_probe_expected_follows_relu_homogeneity(net, k):
    """ReLU nets are positively homogeneous: x -> c x scales every activation by c and, with
    a mean-squared loss, every gradient by c^2; doubling the last layer doubles its own
    gradient and quadruples every earlier one (the loss's gradient and the back-propagated
    signal both double)."""
    weights, x = net
    acts, grads = probe_expected(weights, x)
    c = 2.0**k
    acts_c, grads_c = probe_expected(weights, x * c)
    assert _close_lists(acts_c, [a * c for a in acts], 1e-12)
    assert _close_lists(grads_c, [g * c * c for g in grads], 1e-12)
    acts_l, grads_l = probe_expected([*weights[:-1], weights[-1] * 2], x)
    assert _close_lists(acts_l, acts, 1e-12)
    assert _close_lists(grads_l, [g * 4 for g in grads[:-1]] + [grads[-1] * 2], 1e-12)


@pytest.mark.slow
@BOUNDED
@given(probe_nets())
def test_probe_expected_agrees_with_autograd_on_probe_net(net):
    weights, x = net
    acts, grads = probe_expected(weights, x)
    model = ProbeNet([w.double() for w in weights]).double()
    out, stds = model(x.double())
    out.pow(2).mean().backward()
    assert _close_lists(stds, acts, 1e-9)
    assert _close_lists([float(layer.weight.grad.std()) for layer in model.layers], grads, 1e-9)


@BOUNDED
@given(probe_nets())
def test_relu_gates_are_those_of_the_float32_probe_net(net):
    """``relu_gates`` opens exactly the units the float32 ProbeNet the student's code runs
    opened (the same operations, the same bits), and with them ``probe_expected`` agrees with
    the float64 net gated the same way."""
    weights, x = net
    model = ProbeNet(weights)
    seen: list[torch.Tensor] = []
    hooks = [layer.register_forward_hook(lambda m, i, o: seen.append(o.detach() > 0))
             for layer in model.layers[:-1]]
    model(x)
    for hook in hooks:
        hook.remove()
    gates = relu_gates(weights, x)
    assert len(gates) == len(seen) and all(torch.equal(a, b) for a, b in zip(gates, seen))
    h, gates64 = x.double(), []
    for w in weights[:-1]:
        z = h @ w.double().T
        gates64.append(z > 0)
        h = torch.relu(z)
    if all(torch.equal(a, b) for a, b in zip(gates, gates64)):  # no unit at 0 within rounding
        acts, grads = probe_expected(weights, x, gates)
        acts64, grads64 = probe_expected(weights, x)
        assert _close_lists(acts, acts64, 1e-12) and _close_lists(grads, grads64, 1e-12)


def test_probe_stats_judges_the_gradient_of_the_net_the_student_ran(monkeypatch):
    """Hidden variant 59 under the calibration secret (``bench/calibrate.py``): one unit of the
    He net's float32 forward sits at 1.3e-7, on the other side of 0 in float64, and its gate
    moves the input layer's gradient std by 1.28e-3. Judged against the float64 gates the
    reference lost ``trends_xavier_he_orthogonal`` there; with the run's own gates it passes."""
    from grader.checks import CHECKS
    from grader.grading import check_in_process
    from grader.impl import DirImpl
    from grader.request import GradeRequest

    monkeypatch.setenv("PRACTICO_SECRET", "practico2-calibration-secret-1")
    check = next(c for c in CHECKS if c.id == "probe_stats::trends_xavier_he_orthogonal")
    result = check_in_process(check, DirImpl(ROOT / "solutions"), GradeRequest(variant=59))
    assert result.status == "passed", result.message
