"""How well the diagnoses name mistakes, and what they cost (issue 20).

    python bench/diagnoses.py [--only SUBSTR] [--repeat N] [--skip-correct] [--skip-unseen]

Four parts, in one run:

1. **Fixtures.** Every ``fixtures/wrong/`` fixture graded in this process as
   ``tests/test_fixtures.py`` grades it (its module's tasks, the declared task's training runs
   left out): does each failing check name exactly the ``Diagnoses:`` of its header (goal: all)?
2. **Mistakes no fixture holds.** ``tests/test_diagnoses.py``'s ``UNSEEN`` mistakes written into
   the reference: is each diagnosed as its class?
3. **Correct code, forced.** Every detector of every check run as if the check had failed, on the
   data of the reference, ``fixtures/alt_correct`` and every ``fixtures/alt_variants`` fixture
   (training runs included): false diagnoses (goal: none).
4. **Cost.** For every failed check of part 1: the time of its verdict and, beside it, the time
   the diagnosis adds (all its detectors, as ``judge`` runs them), median of ``--repeat`` runs
   after a warm-up; each detector alone; and the added time per class of 200 students (each
   student one wrong fixture, in turn; a check that passes costs nothing). The first lookup
   of an MNIST image builds a per-process index of the split: timed apart.

Not a test: the timings depend on the machine and its load (reported at the start and end).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from patching import build, materialise_alt_correct, read_fixture  # noqa: E402
from probe_records import forced_diagnoses  # noqa: E402
from probe_records import record as _record  # noqa: E402

from grader.checks import Context, Fail  # noqa: E402
from grader.impl import DirImpl  # noqa: E402
from grader.tasks import TASKS  # noqa: E402

WRONG = ROOT / "fixtures" / "wrong"
VARIANTS = ROOT / "fixtures" / "alt_variants"
SOLUTIONS = ROOT / "solutions"
TRAINING_RUN_COST = 2.0
CLASS_SIZE = 200


def record(*args, **kwargs):
    """``probe_records.record`` with what the graded code prints kept off this report."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _record(*args, **kwargs)


def _overlay(name: str, source: str, into: Path) -> DirImpl:
    for path in SOLUTIONS.glob("ex*.py"):
        shutil.copy(path, into / path.name)
    (into / name).write_text(source, encoding="utf-8")
    return DirImpl(into)


def _module_tasks(file_name: str) -> list[str]:
    return [t.id for t in TASKS if t.module == file_name.removesuffix(".py")]


def _declared(patch: Path) -> tuple[str, list[str]]:
    fields, _ = read_fixture(patch)
    value = fields.get("Diagnoses", "-").strip()
    return fields["Task"].strip(), [] if value == "-" else [d.strip() for d in value.split(",")]


def grade_fixture(patch: Path, task: str, skip_training: bool = True):
    from grader.checks import CHECKS

    name, source = build(patch, SOLUTIONS)
    with tempfile.TemporaryDirectory() as d:
        impl = _overlay(name, source, Path(d))
        skip = [c for c in CHECKS if c.task == task and c.cost >= TRAINING_RUN_COST] \
            if skip_training else []
        return record(impl, Context(), _module_tasks(name), skip=skip)


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up: caches, lazy imports, the MNIST index
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def part_fixtures(only: str | None, repeat: int):
    from grader.diagnoses.catalogue import BY_CHECK
    from grader.diagnoses.engine import diagnose

    print("\n## 1. Fixtures of fixtures/wrong: does each failing check name the declared ids?\n")
    print("| fixture | declared | named (per failing check) | ok | verdict ms | diagnosis ms |")
    print("|---|---|---|---|---:|---:|")
    ok = total = 0
    per_fixture_ms: list[float] = []
    detector_ms: dict[str, list[float]] = {}
    check_rows: list[tuple[str, float, float]] = []
    for folder in sorted(p for p in WRONG.iterdir() if p.is_dir()):
        if only and only not in folder.name:
            continue
        patch = next(folder.glob("ex*.py.diff"))
        task, declared = _declared(patch)
        records = grade_fixture(patch, task)
        # a crash of the student's code ("error") can be diagnosed too (catalogue.CRASHES)
        failing = [r for r in records if r.result.status in ("failed", "error")]
        named = [r.result.diagnoses for r in failing]
        good = all(n in ([], declared) for n in named) and set().union(
            *map(set, named)) == set(declared)
        ok += good
        total += 1
        verdict_total = diag_total = 0.0
        for r in failing:
            if r.result.status != "failed":
                continue  # a crash's detectors read one exception's text: not timed
            out = r.outcome["out"]

            def verdict(r=r, out=out):
                try:
                    r.check.verdict(r.inp, out, Context())
                except Fail as caught:
                    return caught
                return None

            fail = verdict()
            v_ms = _median_ms(verdict, repeat)
            d_ms = _median_ms(lambda r=r, out=out, fail=fail: diagnose(r.check, r.inp, out, fail),
                              repeat)
            verdict_total += v_ms
            diag_total += d_ms
            check_rows.append((f"{folder.name}: {r.check.id}", v_ms, d_ms))
            for mistake in BY_CHECK.get(r.check.id, []):
                ms = _median_ms(lambda r=r, out=out, fail=fail, m=mistake.id: diagnose(
                    r.check, r.inp, out, fail, only=(m,)), max(1, repeat // 2))
                detector_ms.setdefault(f"{mistake.id} on {r.check.id}", []).append(ms)
        per_fixture_ms.append(diag_total)
        shown = "; ".join(",".join(n) or "-" for n in named) or "(nothing failed)"
        print(f"| {folder.name} | {', '.join(declared) or '-'} | {shown} | "
              f"{'yes' if good else '**NO**'} | {verdict_total:.1f} | {diag_total:.1f} |")
    print(f"\nFixtures whose failing checks name exactly the declared ids: **{ok} / {total}**")
    return per_fixture_ms, detector_ms, check_rows


def part_unseen(only: str | None) -> None:
    from test_diagnoses import UNSEEN

    from grader.checks import CHECKS

    print("\n## 2. Mistakes no fixture holds (tests/test_diagnoses.py UNSEEN)\n")
    print("| mistake | expected | named | ok |")
    print("|---|---|---|---|")
    ok = total = 0
    for name, (file, replacements, task, expected) in sorted(UNSEEN.items()):
        if only and only not in name:
            continue
        from patching import strip_markers

        source = strip_markers((SOLUTIONS / file).read_text(encoding="utf-8"))
        for old, new in replacements:
            source = source.replace(old, new)
        with tempfile.TemporaryDirectory() as d:
            impl = _overlay(file, source, Path(d))
            skip = [c for c in CHECKS if c.task == task and c.cost >= TRAINING_RUN_COST]
            records = record(impl, Context(), [task], skip=skip)
        named = {d for r in records if r.result.status in ("failed", "error")
                 for d in r.result.diagnoses}
        good = named == expected
        ok += good
        total += 1
        print(f"| {name} | {', '.join(sorted(expected))} | {', '.join(sorted(named)) or '-'} | "
              f"{'yes' if good else '**NO**'} |")
    print(f"\nDiagnosed as their class: **{ok} / {total}**")


def part_correct(only: str | None) -> None:
    print("\n## 3. Correct code, every detector forced (training runs included)\n")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        subjects = [("reference", lambda: record(DirImpl(SOLUTIONS), Context())),
                    ("alt_correct", lambda: record(DirImpl(materialise_alt_correct(
                        Path(d) / "alt")), Context()))]
        for folder in sorted(p for p in VARIANTS.iterdir() if p.is_dir()):
            patch = next(folder.glob("ex*.py.diff"))

            def variant(patch=patch, folder=folder):
                name, source = build(patch, SOLUTIONS)
                into = Path(d) / folder.name
                into.mkdir()
                return record(_overlay(name, source, into), Context(), _module_tasks(name))

            subjects.append((f"alt_variants/{folder.name}", variant))
        false = checks = 0
        for label, make in subjects:
            if only and only not in label:
                continue
            records = make()
            found = forced_diagnoses(records)
            checks += sum(1 for r in records if r.outcome.get("status") == "ok")
            false += len(found)
            rows.append((label, len(records), found))
    print("| submission | checks | false diagnoses |")
    print("|---|---:|---|")
    for label, n, found in rows:
        print(f"| {label} | {n} | {found or 'none'} |")
    print(f"\nFalse diagnoses on correct code: **{false}** (over {checks} checks forced)")


def part_cost(per_fixture_ms, detector_ms, check_rows) -> None:
    print("\n## 4. Cost (ms, median after a warm-up)\n")
    if not check_rows:
        print("(no failed check)")
        return
    verdict = [v for _, v, _ in check_rows]
    diag = [d for _, _, d in check_rows]
    print(f"- per failed check: diagnosis median {statistics.median(diag):.1f} ms, "
          f"max {max(diag):.1f} ms; its verdict median {statistics.median(verdict):.1f} ms, "
          f"max {max(verdict):.1f} ms ({len(check_rows)} failed checks)")
    slowest = sorted(check_rows, key=lambda r: -r[2])[:5]
    print("- slowest diagnoses: " + "; ".join(f"{n} {d:.1f} (verdict {v:.1f})"
                                             for n, v, d in slowest))
    each = sorted(((statistics.median(v), k) for k, v in detector_ms.items()), reverse=True)
    print(f"- each detector alone: median {statistics.median(m for m, _ in each):.2f} ms, "
          f"{sum(1 for m, _ in each if m <= 5)} of {len(each)} at most 5 ms; slowest: "
          + "; ".join(f"{k} {m:.1f}" for m, k in each[:5]))
    mean = statistics.mean(per_fixture_ms)
    print(f"- per submission with one of these mistakes: {mean:.1f} ms on average; a class of "
          f"{CLASS_SIZE} such submissions: {CLASS_SIZE * mean / 1000:.2f} s "
          f"(grading one submission takes seconds: docs in the README)")
    from grader.diagnoses import viewer

    viewer._masks.clear()
    start = time.perf_counter()
    viewer._split_masks("train")
    print(f"- once per process: the training set's image index, "
          f"{(time.perf_counter() - start) * 1000:.0f} ms (the test set's is a sixth)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="fixtures / mistakes / submissions whose name holds this")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-correct", action="store_true")
    parser.add_argument("--skip-unseen", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    print(f"# bench/diagnoses.py: load average {os.getloadavg()[0]:.1f} at the start, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, 1 thread")
    per_fixture_ms, detector_ms, check_rows = part_fixtures(args.only, args.repeat)
    if not args.skip_unseen:
        part_unseen(args.only)
    if not args.skip_correct:
        part_correct(args.only)
    part_cost(per_fixture_ms, detector_ms, check_rows)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
