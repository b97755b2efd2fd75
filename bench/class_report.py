"""Time the class report of a large synthetic class, phase by phase.

    python bench/class_report.py [--students 200,2000] [--repeat 3] [--seed 0]

For each class size, writes that many signed ``result.json`` files into a temporary results
folder (the kit's real tasks and checks with their points; each check passed, failed with
one or two diagnoses, raised, unfinished, timed out or crashed, drawn from a seeded
``random.Random``; messages of a realistic length), then builds the report ``--repeat``
times and prints the median seconds of each phase, wall and CPU of this process (on a
shared machine the CPU time is the steadier figure):

- ``read``: listing the folder, reading and verifying every signature (sources.py);
- ``aggregate``: the counts (aggregate.py);
- ``figures``: drawing and encoding the four PNGs (figures.py);
- ``render+write``: the page, and both files written atomically;

plus the sizes of ``class_report.html`` and ``class_report.json``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: plausible ids (the diagnoses catalogue's, issue 20), drawn for failed checks
MISTAKES = ("onehot_wrong_class", "onehot_not_float32", "grad_not_cleared", "wrong_loss",
            "loss_not_averaged", "val_in_train_mode", "softmax_before_ce",
            "activation_on_output", "depth_off_by_one", "missing_activation",
            "layers_not_registered", "fan_out_mode", "bias_not_zero", "xavier_instead_of_he",
            "grad_norm_not_std", "seed_per_run", "clip_after_step", "clip_by_value")
#: check outcome -> weight
OUTCOMES = {"passed": 70, "failed": 15, "error": 4, "not_implemented": 6, "timeout": 2,
            "crashed": 1, "missing_file": 2}


def kit_checks() -> dict[str, list[tuple[str, int]]]:
    """task -> [(check name, points)], from the kit's registry (imports torch once)."""
    from grader.checks import CHECKS

    found: dict[str, list[tuple[str, int]]] = {}
    for check in CHECKS:
        found.setdefault(check.task, []).append((check.name, check.points))
    return found


def synthetic_result(rng: random.Random, checks: dict[str, list[tuple[str, int]]],
                     student: str) -> dict:
    from grader.tasks import TASKS

    tasks = {}
    for task in TASKS:
        entries = {}
        for name, points in checks.get(task.id, []):
            status = rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
            entry = {"score": points if status == "passed" else 0, "max_score": points,
                     "status": status, "message": "", "key": "", "values": {}}
            if status == "failed":
                entry.update(key="accuracy_low", message="x" * rng.randint(120, 400),
                             values={"what": "SimpleNet", "acc": "0.10", "threshold": "0.25",
                                     "epochs": 2, "n": 30000},
                             diagnoses=rng.sample(MISTAKES, rng.choice((0, 1, 1, 2))))
            elif status == "error":
                entry.update(key="status_error", message="ValueError: " + "y" * 200,
                             values={"task": task.id, "module": task.module, "where": "",
                                     "exc_type": "ValueError", "exc_msg": "y" * 200})
            elif status == "timeout":
                entry.update(key="status_timeout", values={"seconds": "33", "task": task.id})
            elif status == "crashed":
                entry.update(key="status_crashed", values={
                    "reason": rng.choice(({"key": "reason_SIGSEGV", "signal": "SIGSEGV"},
                                          {"key": "reason_exit_code", "code": 1})),
                    "task": task.id})
            elif status != "passed":
                entry.update(key=f"status_{status}", values={"task": task.id,
                                                             "module": task.module})
            if status != "failed":
                entry["diagnoses"] = []
            entries[name] = entry
        score = sum(e["score"] for e in entries.values())
        statuses = {e["status"] for e in entries.values()}
        status = ("passed" if statuses == {"passed"} else "partial" if score
                  else next(iter(statuses)) if len(statuses) == 1 else "failed")
        tasks[task.id] = {"score": score, "max_score": task.points, "status": status,
                          "message": "\n".join(e["message"] for e in entries.values()
                                               if e["message"]), "checks": entries}
    return {"score": sum(t["score"] for t in tasks.values()),
            "max_score": sum(t["max_score"] for t in tasks.values()), "tasks": tasks,
            "student": student, "fingerprint": "0" * 64, "seconds": 50.0,
            "files": ["ex0_data.py"], "unusable_files": {}, "ignored_files": []}


def build_class(results: Path, count: int, seed: int, key: bytes) -> None:
    from grader.outputs.signing import write_signed

    rng = random.Random(seed)
    checks = kit_checks()
    for i in range(count):
        folder = f"s{i:05d}"
        write_signed(results / "students" / folder / "result.json", key, folder,
                     synthetic_result(rng, checks, folder))


def time_report(results: Path, key: bytes, lang: str) -> dict[str, float]:
    from grader.class_report import _no_cycle_collection, _write
    from grader.class_report.aggregate import aggregate
    from grader.class_report.figures import draw_all
    from grader.class_report.render import html_page
    from grader.class_report.sources import read_results_folder
    from grader.i18n import t

    phases: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, function, *args):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = function(*args)
        phases[name] = time.perf_counter() - start
        cpu[name] = time.process_time() - start_cpu
        return value

    with _no_cycle_collection():  # as write_class_report reads and counts
        source = timed("read", read_results_folder, results, key)
        report = timed("aggregate", aggregate, source, lang)
        figures = timed("figures", draw_all, report, lambda k, **v: t(k, lang, **v))
    timed("render+write", lambda: _write(results, report, html_page(report, figures)))
    phases["total"], cpu["total"] = sum(phases.values()), sum(cpu.values())
    return {**phases, **{f"{k} cpu": v for k, v in cpu.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", default="200,2000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    import secrets

    key = secrets.token_bytes(32)
    phases = ("read", "aggregate", "figures", "render+write", "total")
    print("median seconds of each phase, wall (CPU of this process)")
    print(f"{'students':>8} " + " ".join(f"{p:>15}" for p in phases)
          + f" {'html KiB':>9} {'json KiB':>9}")
    for count in (int(n) for n in args.students.split(",")):
        with tempfile.TemporaryDirectory(prefix="class-report-bench-") as tmp:
            results = Path(tmp)
            build_class(results, count, args.seed, key)
            runs = [time_report(results, key, args.lang) for _ in range(args.repeat)]
            median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            html = os.path.getsize(results / "class_report.html") / 1024
            data = os.path.getsize(results / "class_report.json") / 1024
            cells = " ".join(f"{median[p]:>7.2f} ({median[p + ' cpu']:5.2f})" for p in phases)
            print(f"{count:>8} {cells} {html:>9.0f} {data:>9.0f}")


if __name__ == "__main__":
    main()
