"""Spread over seeds of the test accuracy of the MNIST models of the practical.

    python bench/seed_spread.py [--seeds 123 124 125] [--models onehot_mse cross_entropy]
                                [--epochs 15] [--impl solutions]

The two nets initialised with N(0, 1) weights (one-hot + MSE and cross-entropy)
land several points apart from one seed to the next, so one run says little about
how close we are to the seed notebook's 0.951. This trains each chosen model once
per seed, exactly as ``python -m grader experiments`` does (same code path, the
kit's fast loader), and prints every accuracy, the mean and the range.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from grader.experiments import Progress  # noqa: E402
from grader.experiments.catalogue import EXPERIMENTS, MNIST_IDS, SEED_TEST_ACC  # noqa: E402
from grader.experiments.harness import Run, make_budget, run_experiment  # noqa: E402
from grader.impl import DirImpl, resolve_impl_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[123, 124, 125])
    parser.add_argument("--models", nargs="+", default=["onehot_mse", "cross_entropy"],
                        choices=MNIST_IDS)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--impl", default="solutions")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    impl = DirImpl(resolve_impl_dir(args.impl, Path.cwd()))
    by_id = {e.id: e for e in EXPERIMENTS}
    with tempfile.TemporaryDirectory() as out:
        for model in args.models:
            accs = []
            for seed in args.seeds:
                run = Run(impl, Path(out), make_budget(False, args.epochs), "cpu", "en",
                          Progress(1, enabled=False))
                run.seeds[model] = seed
                start = time.perf_counter()
                rec = run_experiment(run, by_id[model])
                if "test_acc" not in rec.data:
                    print(f"{model} seed {seed}: {rec.status} {rec.issues}")
                    continue
                accs.append(rec.data["test_acc"])
                print(f"{model:<14} seed {seed:>5}: test acc {accs[-1]:.4f} "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
            if accs:
                print(f"{model:<14} over {len(accs)} seeds: mean {statistics.mean(accs):.4f}, "
                      f"min {min(accs):.4f}, max {max(accs):.4f} "
                      f"(seed notebook: {SEED_TEST_ACC[model]:.3f})", flush=True)


if __name__ == "__main__":
    main()
