"""Grade a synthetic class with the local pool and with a Dask LocalCluster, side by side.

    PRACTICO_DATA=... python bench/class_scale.py [--students 200] [--workers 2]
                                                  [--tasks ID,...] [--estimate 2000]

Builds a class of ``--students`` submissions from the fixtures, in rotation: the seven kinds
of ``fixtures/class`` (reference, stubs, partial, syntax error, missing files and a link,
``os._exit`` plus an endless loop, nothing) interleaved with every ``fixtures/wrong/`` mistake
put into the reference. Grades it twice in this process through
:func:`grader.autograde.autograde`: the local pool with ``--workers`` jobs, then a LocalCluster
of ``--workers`` worker processes; checks both wrote the same results, and prints for each:

- submissions per minute (grading wall time, executor start-up excluded);
- per-phase seconds: ``start-up`` (the executor: nothing for the pool, the LocalCluster, its
  workers and the kit check for Dask), ``import`` (one sandbox's zygote importing torch and
  the harness, measured apart: each worker pays it once), ``checks`` (per student, in the
  sandbox: children running the checks and the verdicts on their data; the sandbox does not
  time those two apart), ``writing`` (the student's four files and the grades.csv rewrite,
  replayed apart on the results);
- an estimate for ``--estimate`` students on N workers of this machine's speed per core.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "fixtures" / "class"))

from run_outputs import comparable_outputs  # noqa: E402


def build_class(dest: Path, count: int) -> list[str]:
    """``count`` student folders under ``dest``; returns the kind of each, in order."""
    from assemble import assemble
    from patching import build

    kinds_dir = dest.parent / "kinds"
    spec = assemble(kinds_dir)
    class_kinds = sorted(spec["students"])
    wrong = sorted((ROOT / "fixtures" / "wrong").glob("*/ex*.py.diff"))
    for patch in wrong:
        folder = kinds_dir / f"wrong_{patch.parent.name}"
        shutil.copytree(ROOT / "solutions", folder,
                        ignore=shutil.ignore_patterns("__pycache__", "test_*"))
        name, source = build(patch, ROOT / "solutions")
        (folder / name).write_text(source, encoding="utf-8")
    wrong_kinds = [f"wrong_{p.parent.name}" for p in wrong]
    rotation = [k for pair in zip(class_kinds, wrong_kinds) for k in pair]
    rotation += class_kinds[len(wrong_kinds):] + wrong_kinds[len(class_kinds):]
    kinds = []
    dest.mkdir(parents=True)
    for i in range(count):
        kind = rotation[i % len(rotation)]
        # symlinks=True: eva's link stays a link (and is refused) in every copy
        shutil.copytree(kinds_dir / kind, dest / f"s{i:04d}_{kind}", symlinks=True)
        kinds.append(kind)
    return kinds


def import_seconds() -> float:
    """Wall seconds one sandbox's zygote takes to import torch and the harness."""
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.spawn import ChildEnv
    from grader.sandbox.supervisor import Sandbox

    with Sandbox(SandboxOptions()) as sandbox:
        start = time.perf_counter()
        sandbox.launcher.zygote(ChildEnv("cpu", 1))
        return time.perf_counter() - start


def writing_seconds(out: Path, results: dict) -> float:
    """Replays what autograde writes per student (four files, the signed result.json,
    grades.csv rewritten, which checks every signature)."""
    from grader.outputs.atomic import write_atomic
    from grader.outputs.feedback import feedback_html, feedback_markdown
    from grader.outputs.grades_csv import write_grades_csv
    from grader.outputs.results import write_json_atomic
    from grader.outputs.signing import load_key, write_signed

    key = load_key()
    names = sorted(results)
    start = time.perf_counter()
    for name in names:
        data = results[name]
        target = out / "students" / name
        target.mkdir(parents=True, exist_ok=True)
        write_atomic(target / "feedback.md", feedback_markdown(name, data, None))
        write_atomic(target / "feedback.html", feedback_html(name, data, None))
        write_json_atomic(target / "results.json", {"score": data["score"]})
        write_signed(target / "result.json", key, name, data)
        write_grades_csv(out, names, key=key)
    return time.perf_counter() - start


def csv_rewrite_seconds(out: Path, results: dict, students: int) -> float:
    """One grades.csv rewrite with ``students`` finished results on disk (it reads them all;
    autograde rewrites it after every student)."""
    from grader.outputs.grades_csv import write_grades_csv
    from grader.outputs.signing import load_key, write_signed

    key = load_key()
    sample = list(results.values())
    names = [f"x{i:05d}" for i in range(students)]
    for i, name in enumerate(names):
        target = out / "students" / name
        target.mkdir(parents=True, exist_ok=True)
        write_signed(target / "result.json", key, name, sample[i % len(sample)])
    start = time.perf_counter()
    write_grades_csv(out, names, key=key)
    return time.perf_counter() - start




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", default=None, help="grade only these tasks (ID,ID)")
    parser.add_argument("--estimate", type=int, default=2000, metavar="STUDENTS")
    args = parser.parse_args()
    os.environ.setdefault("CI", "true")  # one line per student, not a bar
    from grader.autograde import autograde
    from grader.cluster import Cluster, ClusterSpec
    from grader.options import parse_task_ids, require_data
    from grader.request import GradeRequest

    require_data()
    tasks = parse_task_ids([args.tasks] if args.tasks else None)
    with tempfile.TemporaryDirectory(prefix="class-scale-") as tmp:
        root = Path(tmp) / "class"
        kinds = build_class(root, args.students)
        print(f"class: {args.students} submissions, {len(set(kinds))} kinds; "
              f"{args.workers} workers; tasks: {args.tasks or 'all'}; "
              f"{os.cpu_count()} CPUs here", flush=True)
        imports = import_seconds()
        runs = {}
        for label in ("pool", "dask"):
            out = Path(tmp) / f"out-{label}"
            start = time.perf_counter()
            if label == "pool":
                startup = 0.0
                results = autograde(root, out, GradeRequest(tasks=tasks), jobs=args.workers)
            else:
                with Cluster(ClusterSpec(kind="local"), args.workers) as cluster:
                    startup = time.perf_counter() - start
                    start = time.perf_counter()
                    results = autograde(root, out, GradeRequest(tasks=tasks),
                                        jobs=cluster.slots, cluster=cluster)
            wall = time.perf_counter() - start
            per_student = [r["seconds"] for r in results.values()]
            writing = writing_seconds(Path(tmp) / f"replay-{label}", results)
            runs[label] = {"out": out, "wall": wall, "startup": startup, "results": results,
                           "checks": per_student, "writing": writing}
        same = comparable_outputs(runs["pool"]["out"]) == comparable_outputs(runs["dask"]["out"])
        print(f"\nresults identical (run-specific seconds/uid/temp path aside): "
              f"{'yes' if same else 'NO'}")
        print(f"import (zygote: torch + harness, once per worker): {imports:.1f} s")
        n, w = args.students, args.workers
        csv_last = csv_rewrite_seconds(Path(tmp) / "csv", runs["pool"]["results"],
                                       args.estimate)
        print(f"one grades.csv rewrite with {args.estimate} results on disk: "
              f"{csv_last * 1000:.0f} ms")
        for label, run in runs.items():
            checks = run["checks"]
            print(f"\n{label}: {n / run['wall'] * 60:.1f} submissions/min "
                  f"({run['wall']:.1f} s wall for {n})")
            print(f"  start-up {run['startup']:.1f} s | checks per student: mean "
                  f"{statistics.mean(checks):.1f} s, median {statistics.median(checks):.1f} s, "
                  f"max {max(checks):.1f} s | writing {run['writing'] / n * 1000:.0f} ms per "
                  f"student ({run['writing']:.1f} s in all)")
            # Worker-seconds per student as measured (everything but start-up), scaled to
            # more workers of the same speed; grades.csv is rewritten after each student
            # and reads every finished result, so writing grows with the square of the class.
            per = run["wall"] * w / n
            # the four files per student, plus the rewrites of grades.csv: the k-th reads k
            # results, so all of them together cost about half the last one times the class
            writing_big = (run["writing"] / n * args.estimate
                           + csv_last * args.estimate / 2)
            for workers in (w, 8, 32, 128):
                total = run["startup"] + imports + per * args.estimate / workers
                print(f"  estimate, {args.estimate} students on {workers:>3} workers: "
                      f"{total / 60:.0f} min grading + {writing_big / 60:.1f} min writing "
                      f"on the client (overlaps grading)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
