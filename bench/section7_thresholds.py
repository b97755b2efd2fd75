"""Re-measure the thresholds of section 7 (``lr_sweep``, ``exploding``) over seeds, and time
the new checks.

    PRACTICO_DATA=... python bench/section7_thresholds.py [--seeds N] [--quick]

Like ``bench/thresholds.py`` (same seeding: seed 0 is the public inputs, seed k > 0 another
input stream), in one process on trusted code, with the checks' own ``inputs``, ``probe`` and
verdict-side oracles:

- ``pattern``: ``SweepPattern``'s test accuracies at the low, middle and high rate (thresholds:
  middle >= 0.5, high <= 0.2 or nan, low <= middle - 0.2); wrong: every rate at 0.01 (the
  rate ignored);
- ``growth``: input / last-hidden gradient norm of the deep tanh net of
  ``NormsGrowTowardInput`` (threshold 5); wrong: the same net at gain 1;
- ``clip``: the raw first-batch gradient norm of ``ClipBeforeStep``'s net (must exceed
  max_norm 0.5, so a missing or late clip shows at step 1);
- ``rescue``: ``ClippingRescues``' test accuracy clipped (threshold 0.4) and, at the same
  rate, without clipping (``max_norm=inf``: must diverge or stay near chance);
- ``replay``: how far each recorded segment of a training run lands from the grader's own
  steps (:mod:`grader.checks.replay`, as a fraction of the grader's update; the tolerance is
  ``UPDATE_RTOL``), per check: worst segment of the correct implementations (the reference,
  ``fixtures/alt_correct``, the ex6 idioms of ``fixtures/alt_variants``, and the reference
  with every weight perturbed by 1e-6 before each segment, a stand-in for another device's
  rounding), and for each wrong or faked run (``fixtures/wrong``, ``fixtures/fakes`` that do
  not rebind the grader's modules) on how many seeds some segment missed, and by how much;
- ``time``: each new check graded in process on the reference (inputs, probe, verdict).

``--quick``: 3 seeds (default 8). Results: docs/thresholds.md, section "Section 7". Nothing
here is asserted.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CHECKS, REFERENCE, ROOT, Seeds, ref, row, run_parts  # noqa: E402

from grader.checks import expect, exploding, lr_sweep, replay  # noqa: E402
from grader.grading import check_in_process  # noqa: E402
from grader.scoring import check_inputs  # noqa: E402

#: the stream keeps the script's first name: it seeds the inputs of seeds k > 0, so the ranges
#: in docs/thresholds.md stay reproducible
_SEEDS = Seeds("bench-hyperparams")
context, probe = _SEEDS.context, _SEEDS.probe


def pattern(seeds: list[int]) -> None:
    chk = lr_sweep.SweepPattern()
    mod = ref(chk)

    def fixed_rate(make_model, lrs, *args, **kwargs):
        return mod.lr_sweep(make_model, [0.01] * len(lrs), *args, **kwargs)

    rows: dict[str, list[float]] = {"low": [], "mid": [], "high": [], "ign_low": [],
                                    "ign_mid": [], "ign_high": []}
    for s in seeds:
        for prefix, impl in (("", mod), ("ign_", type("M", (), {"lr_sweep": fixed_rate}))):
            _, out = probe(chk, impl, s)
            accs = [expect.mnist_test_accuracy(replay.pairs(out["final"][k])) for k in range(3)]
            for key, acc in zip(("low", "mid", "high"), accs):
                rows[prefix + key].append(acc)
    lrs = lr_sweep.PATTERN_LRS
    row(f"reference, lr={lrs[0]:g} (low)", rows["low"], f"<= mid - {lr_sweep.PATTERN_GAP}")
    row(f"reference, lr={lrs[1]:g} (middle)", rows["mid"], f">= {lr_sweep.PATTERN_MIN_BEST}")
    row(f"reference, lr={lrs[2]:g} (high)", rows["high"], f"<= {lr_sweep.PATTERN_MAX_HIGH} or nan")
    gaps = [m - lo for lo, m in zip(rows["low"], rows["mid"])]
    row("reference, middle - low", gaps, f">= {lr_sweep.PATTERN_GAP}")
    row("wrong (rate ignored, all 0.01): high run", rows["ign_high"],
        f"<= {lr_sweep.PATTERN_MAX_HIGH} or nan")


def growth(seeds: list[int]) -> None:
    chk = exploding.NormsGrowTowardInput()
    mod = ref(chk)
    ratios, flat = [], []
    for s in seeds:
        inp, out = probe(chk, mod, s)
        norms = out["results"][0]
        ratios.append(norms[0] / norms[-2])
        case = dict(inp["cases"][0])
        depth, width, d_in, _, _, _ = exploding.NORM_NETS[1]
        gen = torch.Generator().manual_seed(1000 + s)
        case["weights"], case["biases"] = exploding.large_init(depth, width, d_in, 1.0, gen)
        gw, _ = exploding.true_grads(case)
        flat.append(float(gw[0].norm() / gw[-2].norm()))
    row("reference, deep tanh net at gain 4", ratios, f">= {exploding.GROWTH_MIN_RATIO}", ".2f")
    row("the same net at gain 1 (not exploding)", flat, f">= {exploding.GROWTH_MIN_RATIO}", ".2f")


def clip(seeds: list[int]) -> None:
    chk = exploding.ClipBeforeStep()
    raw = []
    for s in seeds:
        inp = check_inputs(chk, context(s))
        b = exploding.CLIP_BATCH
        for k in range(0, inp["X"].shape[0], b):
            case = {"weights": inp["weights"], "biases": inp["biases"], "X": inp["X"][k:k + b],
                    "y": inp["y"][k:k + b], "class_weight": torch.ones(10), "act": "relu"}
            gw, gb = exploding.true_grads(case)
            raw.append(math.sqrt(sum(float(g.pow(2).sum()) for g in [*gw, *gb])))
    row("raw gradient norm of every batch", raw, f"> max_norm {exploding.CLIP_MAX_NORM}")


def rescue(seeds: list[int]) -> None:
    chk = exploding.ClippingRescues()
    mod = ref(chk)

    def unclipped(model, loader, lr, max_norm, *args, **kwargs):
        return mod.train_clipped(model, loader, lr, float("inf"), *args, **kwargs)

    clipped, plain = [], []
    for s in seeds:
        for impl, into in ((mod, clipped), (type("M", (), {"train_clipped": unclipped}), plain)):
            _, out = probe(chk, impl, s)
            pairs = replay.pairs(out["final"])
            into.append(expect.mnist_test_accuracy(pairs))
    row(f"clipped at {exploding.RESCUE_MAX_NORM}, lr={exploding.RESCUE_LR}", clipped, f">= {exploding.RESCUE_MIN_ACC}")
    row(f"not clipped, lr={exploding.RESCUE_LR}", plain, f"< {exploding.RESCUE_MIN_ACC} (must fail)")


def timing(seeds: list[int]) -> None:
    total = 0.0
    for chk in CHECKS:
        if chk.task not in ("lr_sweep", "exploding"):
            continue
        start = time.process_time()
        res = check_in_process(chk, REFERENCE)
        spent = time.process_time() - start
        total += spent
        print(f"  {chk.id:<52} {spent:5.2f} s CPU  ({res.status}, cost {chk.cost})")
    print(f"  {'all section 7 checks':<52} {total:5.2f} s CPU")


def _impls() -> tuple[dict[str, Any], dict[str, Any]]:
    """Correct and wrong ex6 implementations, as modules: (name -> module) each."""
    import importlib.util
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    from patching import build, materialise_alt_correct

    folder = Path(tempfile.mkdtemp(prefix="bench-replay-"))

    def load(name: str, source: str) -> Any:
        path = folder / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module

    alt = materialise_alt_correct(folder / "alt")
    good = {"reference": load("reference", (ROOT / "solutions/ex6_hyperparams.py").read_text()),
            "alt_correct": load("alt_correct", (alt / "ex6_hyperparams.py").read_text())}
    bad = {}
    for kind, into in (("alt_variants", good), ("wrong", bad), ("fakes", bad)):
        for patch in sorted((ROOT / "fixtures" / kind).glob("*/ex6_hyperparams.py.diff")):
            if "grader." in patch.read_text():  # rebinds the grader's modules: sandbox only
                continue
            into[patch.parent.name] = load(patch.parent.name, build(patch, ROOT / "solutions")[1])
    return good, bad


def _segments(chk: Any, inp: dict, out: dict, jitter: float = 0.0) -> list[float]:
    """Every recorded segment's landing error, run by run (not stopping at the first miss)."""
    from grader.data import mnist_rows

    errors = []
    if isinstance(chk, exploding.ClipBeforeStep | exploding.ClippingRescues):
        if "idx" in inp:
            X, y = mnist_rows("train", inp["idx"])
            data, lr, mx = replay.batches(X, y, exploding.RESCUE_BATCH), exploding.RESCUE_LR, exploding.RESCUE_MAX_NORM
        else:
            data, lr, mx = replay.batches(inp["X"], inp["y"], exploding.CLIP_BATCH), exploding.CLIP_LR, \
                exploding.CLIP_MAX_NORM
        shapes = [tuple(t.shape) for pair in zip(inp["weights"], inp["biases"]) for t in pair]
        every = exploding.RESCUE_EVERY if "idx" in inp else 1
        runs = [(out["optimizers"][0], out["final"], lr, mx)] if out["optimizers"] else []
    else:
        if "idx" in inp:
            X, y = mnist_rows("train", inp["idx"])
            data, lrs, hidden = replay.batches(X, y, lr_sweep.PATTERN_BATCH), lr_sweep.PATTERN_LRS, \
                lr_sweep.PATTERN_HIDDEN
            every = lr_sweep.PATTERN_EVERY
        else:
            data, lrs, hidden, every = chk.batches(inp), inp["lrs"], lr_sweep.SWEEP_HIDDEN, 1
        shapes = [(hidden, 784), (hidden,), (10, hidden), (10,)]
        runs = [(e, f, lr, None) for e, f, lr in zip(out["optimizers"], out["final"], lrs)]
    for entry, final, lr, mx in runs:
        try:
            run = replay.read_run(entry, final, shapes, every)
        except replay.Garbled:
            errors.append(math.inf)
            continue
        marks = sorted(run.snapshots)
        for a, b in zip(marks, [*marks[1:], run.steps]):
            here = run.snapshots[a]
            if jitter:
                gen = torch.Generator().manual_seed(a)
                here = [p * (1 + jitter * torch.randn(p.shape, generator=gen)) for p in here]
            there = run.final if b == run.steps else run.snapshots[b]
            want, _, _ = replay.take_steps(here, data, a, b - a, [[lr] * len(shapes)] * run.steps,
                                           mx)
            errors.append(replay.landing_error(here, there, want))
    return errors


def replay_margins(seeds: list[int]) -> None:

    good, bad = _impls()
    for chk in (lr_sweep.SweepFreshModels(), lr_sweep.SweepPattern(), exploding.ClipBeforeStep(),
                exploding.ClippingRescues()):
        print(f"  {chk.id} (tolerance {replay.UPDATE_RTOL:g} of the update):")
        worst = {name: 0.0 for name in [*good, "reference, weights jittered 1e-6"]}
        missed: dict[str, list[float]] = {}  # per seed: the run's largest miss
        for s in seeds:
            for name, mod in good.items():
                _, out = probe(chk, mod, s)
                worst[name] = max(worst[name], *_segments(chk, _, out) or [0.0])
            inp, out = probe(chk, good["reference"], s)
            jittered = _segments(chk, inp, out, 1e-6)
            worst["reference, weights jittered 1e-6"] = max(
                worst["reference, weights jittered 1e-6"], *jittered or [0.0])
            for name, mod in bad.items():
                try:
                    inp, out = probe(chk, mod, s)
                except Exception:  # a fixture of the other function's task may raise here
                    continue
                errs = _segments(chk, inp, out)
                if errs and max(errs) > 0:  # a fixture of the other task changes nothing here
                    missed.setdefault(name, []).append(max(errs))
        for name, value in worst.items():
            print(f"    correct  {name:<40} worst segment {value:.2e}")
        for name, values in sorted(missed.items()):
            caught = sum(v > replay.UPDATE_RTOL for v in values)
            print(f"    wrong    {name:<40} caught on {caught}/{len(values)} seeds, largest "
                  f"miss {min(values):.2e} or more")


PARTS = {"pattern": pattern, "growth": growth, "clip": clip, "rescue": rescue,
         "replay": replay_margins, "time": timing}


def main() -> None:
    run_parts(PARTS, __doc__)


if __name__ == "__main__":
    main()
