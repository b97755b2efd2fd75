"""The similarity report on synthetic classes: time with and without the pre-filter, and recall.

    python bench/similarity.py [--students 200,2000] [--jobs 2] [--sample 20000] [--seed 0]

For each class size, builds a synthetic class (tests/similarity_class.py: independent students
made from the two independent solutions of every TODO, edited; ``n/40`` disguised copies,
renamed, reordered and commented; ``n/200`` byte-identical copies) and runs
:func:`grader.similarity.engine.find_pairs` as ``python -m grader similarity`` does:

- with the MinHash LSH pre-filter: wall seconds per phase, pairs compared, pairs flagged;
- without it (every pair compared): measured when the class has at most ``--all-pairs-max``
  pairs; above that, estimated: the fingerprinting time of the run above plus the comparing
  cost per pair, timed on ``--sample`` random pairs in one process, times the number of
  pairs, divided by ``--jobs`` (the comparing phase splits evenly across processes);
- recall: of the planted pairs that comparing every pair flags (at 2,000 students: the
  planted pairs compared directly), the share the pre-filtered run flags; and the flagged
  pairs that were not planted (the generator's independent students are made from two
  solutions only, so they are more alike than real ones: reference vs fixtures/alt_correct
  scores 0.14).

The machine is shared: the load average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.similarity import engine  # noqa: E402
from grader.similarity.collect import read_starter, read_student  # noqa: E402

THRESHOLD, MIN_TOKENS = 0.5, 100


def _flagged(result, names) -> set[frozenset[str]]:
    return {frozenset((names[p.a], names[p.b])) for p in result.pairs if p.flagged}


def one_size(n: int, jobs: int, sample: int, all_pairs_max: int, seed: int) -> dict:
    from similarity_class import build_class

    tmp = Path(tempfile.mkdtemp(prefix="sim-bench-"))
    try:
        start = time.monotonic()
        planted = build_class(tmp / "class", n, seed=seed, copies=max(3, n // 40),
                              identical=max(2, n // 200))
        built = time.monotonic() - start
        start = time.monotonic()
        starter = read_starter(ROOT / "exercises")
        students = [read_student(f, starter, "en") for f in sorted((tmp / "class").iterdir())]
        read = time.monotonic() - start
        names = [s.name for s in students]
        plant = planted.copied | planted.identical

        fast = engine.find_pairs(students, starter, threshold=THRESHOLD, min_tokens=MIN_TOKENS,
                                 prefilter=True, jobs=jobs)
        flagged_fast = _flagged(fast, names)
        total_pairs = n * (n - 1) // 2
        row = {"students": n, "pairs": total_pairs, "build_s": built, "read_s": read,
               "prefilter": {**fast.seconds, "compared": fast.compared,
                             "flagged": len(flagged_fast)},
               "planted": len(plant)}
        if total_pairs <= all_pairs_max:
            full = engine.find_pairs(students, starter, threshold=THRESHOLD,
                                     min_tokens=MIN_TOKENS, prefilter=False, jobs=jobs)
            flagged_full = _flagged(full, names)
            row["all_pairs"] = {**full.seconds, "compared": full.compared,
                                "flagged": len(flagged_full), "measured": True}
            truth = flagged_full & plant
        else:
            # the fingerprints of the pre-filtered run are still loaded: time the comparison
            # of random pairs in this one process
            rng = random.Random(seed)
            pairs = {tuple(sorted(rng.sample(range(n), 2))) for _ in range(sample)}
            mark = time.monotonic()
            for i, j in pairs:
                engine.compare(i, j)
            per_pair = (time.monotonic() - mark) / len(pairs)
            estimate = fast.seconds["fingerprint"] + per_pair * total_pairs / jobs
            row["all_pairs"] = {"total": estimate, "per_pair_ms": 1000 * per_pair,
                                "sampled": len(pairs), "measured": False}
            index = {name: k for k, name in enumerate(names)}
            truth = set()
            for pair in plant:
                i, j = sorted(index[x] for x in pair)
                p = engine.compare(i, j)
                if p and p.tokens >= MIN_TOKENS and (p.score >= THRESHOLD or p.identical):
                    truth.add(pair)
        row["planted_flagged_all_pairs"] = len(truth)
        row["recall_prefilter"] = len(truth & flagged_fast) / len(truth) if truth else None
        row["not_planted_flagged_prefilter"] = len(flagged_fast - plant)
        row["load_average"] = os.getloadavg()
        return row
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", default="200,2000")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=20000)
    parser.add_argument("--all-pairs-max", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for n in (int(x) for x in args.students.split(",")):
        row = one_size(n, args.jobs, args.sample, args.all_pairs_max, args.seed)
        pre, full = row["prefilter"], row["all_pairs"]
        print(f"\n== {n} students ({row['pairs']} pairs), {args.jobs} jobs, load average "
              f"{', '.join(f'{x:.1f}' for x in row['load_average'])}")
        print(f"class built in {row['build_s']:.1f} s, read in {row['read_s']:.1f} s")
        print(f"pre-filter (MinHash LSH): {pre['total']:.1f} s total = fingerprint+MinHash "
              f"{pre['fingerprint']:.1f} s + LSH {pre['prefilter']:.1f} s + compare "
              f"{pre['compare']:.1f} s; {pre['compared']} pairs compared; "
              f"{pre['flagged']} flagged")
        if full["measured"]:
            print(f"all pairs (measured): {full['total']:.1f} s total = fingerprint "
                  f"{full['fingerprint']:.1f} s + compare {full['compare']:.1f} s; "
                  f"{full['compared']} pairs; {full['flagged']} flagged")
        else:
            print(f"all pairs (estimated): {full['total']:.0f} s = fingerprint + "
                  f"{full['per_pair_ms']:.2f} ms/pair (timed on {full['sampled']} pairs) x "
                  f"{row['pairs']} / {args.jobs} jobs")
        recall = row["recall_prefilter"]
        print(f"planted pairs: {row['planted']}; flagged when every pair is compared: "
              f"{row['planted_flagged_all_pairs']}; recall with the pre-filter: "
              + (f"{100 * recall:.1f}%" if recall is not None else "n/a")
              + f"; flagged but not planted (pre-filter run): "
                f"{row['not_planted_flagged_prefilter']}")


if __name__ == "__main__":
    main()
