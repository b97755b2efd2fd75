"""How fast does the autograder grade a class? Seconds per submission, submissions per minute.

Grades N copies of the reference and N copies of the stubs with ``autograde`` (isolated
children, as in production) with ``--jobs 1`` and ``--jobs 2``, side by side in one run,
and prints a Markdown table (also written to ``--out`` if given).

    python bench/grading.py [--copies 4] [--jobs 1 2] [--out bench_grading.md]

Speed is measured here, never asserted in tests: machines are shared and noisy, so read
the ratios between rows of one run, not the absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from grader.autograde import autograde  # noqa: E402
from grader.data import ensure_mnist  # noqa: E402


def make_root(base: Path, source: str, copies: int) -> Path:
    root = base / source
    for i in range(copies):
        folder = root / f"{source}_{i:02d}"
        folder.mkdir(parents=True)
        for path in (KIT / source).glob("ex*.py"):
            shutil.copy(path, folder / path.name)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="submissions per kind")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    ensure_mnist()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp)
        roots = {kind: make_root(base, kind, args.copies) for kind in ("solutions", "exercises")}
        for kind, root in roots.items():
            for jobs in args.jobs:
                out = base / f"out-{kind}-{jobs}"
                start = time.perf_counter()
                results = autograde(root, out, jobs=jobs, force=True)
                seconds = time.perf_counter() - start
                scores = sorted({r["score"] for r in results.values()})
                rows.append((kind, jobs, args.copies, seconds, scores))
                print(f"{kind} jobs={jobs}: {seconds:.1f} s", file=sys.stderr, flush=True)
    lines = [
        f"Grading speed on {os.cpu_count()} CPU(s), {args.copies} submissions per row",
        "",
        "| submissions | jobs | wall s | s / submission | submissions / min | speed-up vs jobs=1 |"
        " scores |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, jobs, n, seconds, scores in rows:
        first = next(s for k, j, _, s, _ in rows if k == kind and j == args.jobs[0])
        lines.append(f"| {'reference' if kind == 'solutions' else 'stubs'} | {jobs} | "
                     f"{seconds:.1f} | {seconds / n:.1f} | {60 * n / seconds:.1f} | "
                     f"{first / seconds:.2f}x | {scores} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")


if __name__ == "__main__":
    main()
