"""Re-measure every threshold of the checks: min–max over seeds next to the threshold.

    PRACTICO_DATA=... python bench/thresholds.py [--seeds N] [--quick] [--only PART ...]

The numbers behind ``grader/checks/*`` thresholds, measured the way the checks measure them
(their own ``inputs``, ``probe`` and float64 oracle, run in this process on trusted code):
the reference (``solutions/``) over several seeds, and, where a threshold must separate it
from something, the plausible wrong alternative beside it. Seed 0 is the public inputs
(what ``grade`` uses); seed k > 0 draws the checks' inputs from another stream, and reseeds
torch. Parts (``--only``):

- ``weights``: ``fits_uniform`` on every layer ``init_schemes`` and ``he_init`` check (torch's
  own inits in the reference): the fill ``n (1 - max|w| / bound)`` (fails above 25), the
  std's relative error (above 0.12) and the Kolmogorov-Smirnov distance times ``sqrt(n)``
  (above 3.3); wrong: a normal of the same std clamped to the bound.
- ``probe``: the input ``probe_stats`` draws, ``|mean| sqrt(n)`` (limit 5) and ``|std - 1|``
  (limit 0.1); the last/first activation std over 15 ReLU layers per scheme (Xavier below
  0.05; He and orthogonal within 0.25..4).
- ``grads``: first-layer gradient norm of ``DeepMLPR``, ReLU / the same weights with
  sigmoids (at least 10).
- ``parity``: ``DeepNet(8, 32, 4)`` test accuracy on 8-bit parity (at least 0.95); wrong:
  the same net without its ReLUs.
- ``mnist``: test accuracy of the four short MNIST runs (0.25, 0.75, 0.75, 0.80); wrong: the
  net before training (a loop that never steps), and for ``relu_net`` the sigmoid
  ``DeepMLP`` on the same budget.

``--quick`` uses 3 seeds (default 8). Results are recorded in docs/thresholds.md; rerun after
changing a check, a budget or the reference. Nothing here is asserted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import REFERENCE, Seeds, check, row, run_parts  # noqa: E402

from grader.checks import expect, nets, weight_stats  # noqa: E402
from grader.checks import learning as runs  # noqa: E402
from grader.checks import probe_stats as probe_checks  # noqa: E402
from grader.training import accuracy  # noqa: E402

_SEEDS = Seeds("bench-thresholds")
context, probe = _SEEDS.context, _SEEDS.probe


# ------------------------------------------------------------------------------- parts


def weights(seeds: list[int]) -> None:
    print("weights (fits_uniform):")
    layers: list[tuple[torch.Tensor, float]] = []
    for seed in seeds:
        for scheme in ("xavier", "he"):
            chk = check("init_schemes", f"{scheme}_init")
            _, out = probe(chk, REFERENCE.names(chk.module, chk.needs), seed)
            for report in out["reports"]:
                for w, _ in expect.linears(report, scheme):
                    layers.append((w, weight_stats.uniform_bound(scheme, w.shape[1], w.shape[0])))
        chk = check("he_init", "kaiming_uniform_weights")
        _, out = probe(chk, REFERENCE.names(chk.module, chk.needs), seed)
        for report in out["reports"]:
            for w, _ in expect.linears(report, "he"):
                layers.append((w, weight_stats.uniform_bound("he", w.shape[1], w.shape[0])))
    fill, std_err, ks, std_wrong = [], [], [], []
    ks_wrong: dict[bool, list[float]] = {False: [], True: []}
    gen = torch.Generator().manual_seed(5)
    for w, bound in layers:
        n, w64 = w.numel(), w.double()
        if n >= 200:
            fill.append(n * (1 - float(w64.abs().max()) / bound))
        if n >= 400:
            std_err.append(abs(float(w64.std()) / (bound / math.sqrt(3)) - 1))
            ks.append(weight_stats.ks_uniform(w64, bound) * math.sqrt(n))
            clamped = (torch.randn(w.shape, generator=gen, dtype=torch.float64)
                       * bound / math.sqrt(3)).clamp(-bound, bound)
            ks_wrong[n >= 10_000].append(weight_stats.ks_uniform(clamped, bound) * math.sqrt(n))
            std_wrong.append(abs(float(clamped.std()) / (bound / math.sqrt(3)) - 1))
    row(f"reference, fill n(1 - max|w|/bound), n >= 200 ({len(fill)} layers)", fill, "<= 25",
        ".2f")
    row(f"reference, |std / (bound/sqrt 3) - 1|, n >= 400 ({len(std_err)})", std_err, "<= 0.12")
    row(f"reference, KS * sqrt(n), n >= 400 ({len(ks)})", ks, "<= 3.3", ".2f")
    row("wrong: N(0, bound/sqrt 3) clamped to ±bound, KS * sqrt(n), n >= 10^4",
        ks_wrong[True], "<= 3.3", ".2f")
    row("wrong: the same, KS * sqrt(n), 400 <= n < 10^4", ks_wrong[False], "<= 3.3", ".2f")
    row("wrong: the same, |std / (bound/sqrt 3) - 1|", std_wrong, "<= 0.12")


def probe_stats(seeds: list[int]) -> None:
    print("probe_stats (input distribution, trends):")
    mean_z: list[float] = []
    std_off: list[float] = []
    ratios: dict[str, list[float]] = {}
    chk = check("probe_stats", "trends_xavier_he_orthogonal")
    mod = REFERENCE.names(chk.module, chk.needs)
    for seed in seeds:
        for name in ("values_match_independent_computation", "trends_xavier_he_orthogonal"):
            c = check("probe_stats", name)
            inp, out = probe(c, mod, seed)
            for (scheme, *_), res in zip(c.runs, out["results"]):
                x = expect.tensor(res["inputs"][-1], "x").double()
                mean_z.append(abs(float(x.mean())) * math.sqrt(x.numel()))
                std_off.append(abs(float(x.std()) - 1))
                if name.startswith("trends"):
                    ratios.setdefault(scheme, []).append(res["acts"][-1] / res["acts"][0])
    row("reference input, |mean| * sqrt(n)", mean_z, "<= 5")
    row("reference input, |std - 1|", std_off, "<= 0.1")
    wrong = torch.rand(64, 100, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    print(f"  {'wrong: torch.rand input, |mean| * sqrt(n) / |std - 1|':<58} "
          f"{abs(float(wrong.mean())) * 80:.1f} / {abs(float(wrong.std()) - 1):.3f}")
    lo, hi = probe_checks.STABLE_RATIO
    for scheme, values in ratios.items():
        limit = f"< {probe_checks.XAVIER_MAX_RATIO}" if scheme == "xavier" else f"in [{lo}, {hi}]"
        row(f"last/first activation std, {scheme}, depth 15", values, limit, ".4f")


def grads(seeds: list[int]) -> None:
    print("relu_net gradients:")
    chk = check("relu_net", "first_layer_gradients")
    mod = REFERENCE.names(chk.module, chk.needs)
    values = []
    for seed in seeds:
        inp, out = probe(chk, mod, seed)
        pairs = expect.expect_forward(out["report"], inp["x"], "relu", "none", "DeepMLPR")
        relu = nets.first_layer_grad(pairs, inp["x"], inp["y"], "relu").norm()
        sigmoid = nets.first_layer_grad(pairs, inp["x"], inp["y"], "sigmoid").norm()
        values.append(float(relu / sigmoid))
    row("reference, |grad relu| / |grad sigmoid|, first layer", values,
        f">= {nets.MIN_GRAD_RATIO:g}", ".1f")


def without_relu(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """The reference net with every ``nn.ReLU`` module replaced by the identity."""
    def build(*args: Any, **kwargs: Any) -> nn.Module:
        net = factory(*args, **kwargs)
        for parent in net.modules():
            for key, child in parent.named_children():
                if isinstance(child, nn.ReLU):
                    setattr(parent, key, nn.Identity())
        return net
    return build


def parity(seeds: list[int]) -> None:
    print("deep_net parity:")
    chk = check("deep_net", "parity_8_bits")
    ref = REFERENCE.names(chk.module, chk.needs)
    wrong = types.SimpleNamespace(DeepNet=without_relu(ref.DeepNet))
    budget = runs.PARITY
    results: dict[str, list[float]] = {"reference": [], "fixed": [], "wrong": []}
    cases = (("reference", ref, "relu", True), ("fixed", ref, "relu", False),
             ("wrong", wrong, "identity", True))
    try:
        for seed in seeds:
            for label, mod, hidden, reseed in cases:
                if label == "fixed" and seed == 0:
                    continue  # the same run as the reference's seed 0
                # the probe reads the module's PARITY: its seed gives the initial weights
                runs.PARITY = dataclasses.replace(budget, seed=budget.seed + seed * reseed)
                inp, out = probe(chk, mod, seed)
                pairs = expect.expect_forward(out["model"], inp["X_test"], hidden, "none", "net")
                results[label].append(accuracy(
                    lambda xb, p=pairs, h=hidden: expect.mlp_forward(p, xb, h, "none"),
                    inp["X_test"], inp["y_test"]))
    finally:
        runs.PARITY = budget
    row(f"reference DeepNet(8, 32, 4), {budget.epochs} epochs", results["reference"],
        f">= {budget.threshold}")
    print("    per seed: " + " ".join(f"{a:.3f}" for a in results["reference"]))
    row(f"the same, net seed fixed at {budget.seed} (as hidden variants)", results["fixed"],
        f">= {budget.threshold}")
    print("    per seed: " + " ".join(f"{a:.3f}" for a in results["fixed"]))
    row("wrong: the same without ReLUs", results["wrong"], f">= {budget.threshold}")


def mnist_accuracy(chk: Any, mod: Any, seed: int, hidden: str, train: bool = True) -> float:
    from grader.data import mnist_tensors

    inst = type(chk)()
    inst.budget = dataclasses.replace(chk.budget, seed=chk.budget.seed + seed)
    if not train:
        inst.train = lambda *args, **kwargs: None
    with contextlib.redirect_stdout(io.StringIO()):  # the reference loops print each epoch
        inp, out = probe(inst, mod, seed)
    pairs = expect.expect_forward(out["model"], inp["x"], hidden, inst.output, inst.what)
    X, y = mnist_tensors("test")
    return accuracy(lambda xb: expect.mlp_forward(pairs, xb, hidden, inst.output), X, y)


def mnist(seeds: list[int]) -> None:
    print("MNIST short runs (test accuracy of the float64 oracle on the trained weights):")
    for name, cls in (("onehot_mse", runs.OneHotMnist), ("ce_net", runs.CrossEntropyMnist),
                      ("relu_net", runs.ReluMnist), ("he_init", runs.HeMnist)):
        chk = cls()
        ref = REFERENCE.names(chk.module, chk.needs)
        b = chk.budget
        start = time.monotonic()
        trained = [mnist_accuracy(chk, ref, s, chk.hidden) for s in seeds]
        untrained = [mnist_accuracy(chk, ref, s, chk.hidden, train=False) for s in seeds]
        limit = f">= {b.threshold}"
        row(f"{name}: reference, {b.epochs} epoch(s) x {b.train_limit:,}", trained, limit)
        row(f"{name}: wrong: never steps (untrained)", untrained, limit)
        if name == "relu_net":
            ex4 = REFERENCE.names("ex4_activations", ("DeepMLP",))
            sig = types.SimpleNamespace(DeepMLPR=ex4.DeepMLP)
            row(f"{name}: wrong: sigmoid DeepMLP, same budget",
                [mnist_accuracy(chk, sig, s, "sigmoid") for s in seeds], limit)
        print(f"  ({time.monotonic() - start:.0f} s)")


PARTS = {"weights": weights, "probe": probe_stats, "grads": grads, "parity": parity,
         "mnist": mnist}


def main() -> None:
    run_parts(PARTS, __doc__)


if __name__ == "__main__":
    main()
