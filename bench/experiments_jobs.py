"""Wall time of ``python -m grader experiments``, serial (``--jobs 1``) vs ``--jobs N``.

    python bench/experiments_jobs.py                 # --quick, --jobs 1 and 2
    python bench/experiments_jobs.py --full          # + the full default run, both ways
    python bench/experiments_jobs.py --jobs 1 2 4 --repeats 2

Runs each configuration as the user would (a subprocess, CPU, log progress), alternating
them so a machine that gets busier half-way hurts both alike, and prints the best wall
time of each, the speed-up over ``--jobs 1``, and whether every number of
``results.json`` (timings aside) matched the serial run. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent


def _numbers(path: Path) -> dict:
    results = json.loads(path.read_text())
    for key in ("total_seconds", "started_at", "jobs"):
        results["meta"].pop(key, None)
    for entry in results["experiments"].values():
        entry.pop("seconds", None)
    return results


def _run(budget: list[str], jobs: int, out: Path) -> float:
    env = {**os.environ, "CI": "true"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", "experiments", *budget, "--device",
                           "cpu", "--jobs", str(jobs), "--out", str(out)], cwd=KIT, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"--jobs {jobs} {' '.join(budget)} failed:\n{proc.stderr[-2000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--full", action="store_true", help="also the full default budgets")
    args = parser.parse_args()
    jobs = sorted(set([1, *args.jobs]))
    budgets = [("--quick", ["--quick"])] + ([("full", [])] if args.full else [])
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        for name, budget in budgets:
            best: dict[int, float] = {}
            for _ in range(args.repeats):
                for n in jobs:
                    wall = _run(budget, n, Path(tmp) / f"{name}-{n}")
                    best[n] = min(best.get(n, wall), wall)
            serial = _numbers(Path(tmp) / f"{name}-1" / "results.json")
            for n in jobs:
                same = _numbers(Path(tmp) / f"{name}-{n}" / "results.json") == serial
                print(f"{name:8} --jobs {n}: {best[n]:6.1f} s wall  x{best[1] / best[n]:.2f}  "
                      f"numbers {'identical' if same else 'DIFFER'} to --jobs 1")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
