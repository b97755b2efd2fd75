"""How fast does the kit grade? One submission with ``grade``, a class with ``autograde``.

Two parts, each measured side by side in one run (rows of one part alternate, so a burst
of load elsewhere hits both), printed as Markdown tables (also written to ``--out``):

- ``grade``: wall seconds of ``python -m grader grade solutions`` as a user runs it (a fresh
  interpreter each time: start-up, imports, zygote, checks, verdicts), with ``--children 1``
  and ``--children 2``, ``--repeat`` times each; and, for the same runs, how many seconds
  went where (read from the grader's own timeline, see ``timeline`` below);
- ``autograde``: N copies of the reference and N of the stubs through ``autograde`` with
  ``--jobs 1`` and ``--jobs 2``: seconds per submission and the speed-up.

    python bench/grading.py [--parts grade autograde] [--repeat 3] [--copies 6] [--out F]

Speed is measured here, never asserted in tests: machines are shared and noisy, so read
the ratios between rows of one run, not the absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from grader.data import ensure_mnist  # noqa: E402


def _grade_once(children: int) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "solutions", "--children",
                           str(children)], cwd=KIT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    total = next((line.split()[1] for line in proc.stdout.splitlines()
                  if line.split()[:1] == ["TOTAL"]), f"exit {proc.returncode}")
    return seconds, total


def timeline(children: int) -> dict[str, float]:
    """Seconds from the start of one in-process ``grade`` to: the checks imported, the first
    result back from a child (the zygote started and forked), the last result."""
    code = f"""
import time
t0 = time.perf_counter()
from grader.sandbox.limits import SandboxOptions
from grader.sandbox.supervisor import Sandbox
threads = max(1, {os.cpu_count() or 1} // {children})
sandbox = Sandbox(SandboxOptions(children={children}))
sandbox.start_zygote("cpu", threads)
from grader.grading import grade
from grader.request import GradeRequest
from grader.submission import Submission
t1 = time.perf_counter()
seen = []
request = GradeRequest(Submission.from_folder("solutions"), threads=threads)
results = grade(request, sandbox, lambda r: seen.append(time.perf_counter())).results
t2 = time.perf_counter()
sandbox.close()
print(t1 - t0, min(seen) - t0, t2 - t0)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=KIT, capture_output=True, text=True)
    imported, first, last = (float(x) for x in proc.stdout.split())
    return {"imports": imported, "first result": first, "all results": last}


def part_grade(repeat: int) -> list[str]:
    runs: dict[int, list[float]] = {1: [], 2: []}
    phases: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    totals = set()
    for _ in range(repeat):
        for children in (1, 2):
            seconds, total = _grade_once(children)
            runs[children].append(seconds)
            totals.add(total)
            phases[children].append(timeline(children))
            print(f"grade --children {children}: {seconds:.1f} s ({total})", file=sys.stderr,
                  flush=True)
    lines = [f"`grade solutions`, {repeat} runs each, {os.cpu_count()} CPU(s); totals {sorted(totals)}",
             "", "| children | wall s, each run | median | imports done | first result |"
             " last result |", "|---|---|---|---|---|---|"]
    for children in (1, 2):
        med = {k: statistics.median(p[k] for p in phases[children])
               for k in ("imports", "first result", "all results")}
        lines.append(f"| {children} | {' '.join(f'{s:.1f}' for s in runs[children])} | "
                     f"{statistics.median(runs[children]):.1f} | {med['imports']:.1f} | "
                     f"{med['first result']:.1f} | {med['all results']:.1f} |")
    lines.append("")
    lines.append("(The last three columns: median seconds from the start of an in-process grade "
                 "with the same children, so the ``grade`` command's own start-up is not in "
                 "them.)")
    return lines


def _make_root(base: Path, source: str, copies: int) -> Path:
    root = base / source
    for i in range(copies):
        folder = root / f"{source}_{i:02d}"
        folder.mkdir(parents=True)
        for path in (KIT / source).glob("ex*.py"):
            shutil.copy(path, folder / path.name)
    return root


def part_autograde(copies: int, jobs_list: list[int]) -> list[str]:
    from grader.autograde import autograde

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp)
        roots = {kind: _make_root(base, kind, copies) for kind in ("solutions", "exercises")}
        for kind, root in roots.items():
            for jobs in jobs_list:
                out = base / f"out-{kind}-{jobs}"
                start = time.perf_counter()
                results = autograde(root, out, jobs=jobs, force=True)
                seconds = time.perf_counter() - start
                scores = sorted({r["score"] for r in results.values()})
                rows.append((kind, jobs, seconds, scores))
                print(f"autograde {kind} jobs={jobs}: {seconds:.1f} s", file=sys.stderr,
                      flush=True)
    lines = [f"`autograde`, {copies} submissions per row, {os.cpu_count()} CPU(s)", "",
             "| submissions | jobs | wall s | s / submission | submissions / min |"
             " speed-up vs jobs=1 | scores |", "|---|---|---|---|---|---|---|"]
    for kind, jobs, seconds, scores in rows:
        first = next(s for k, j, s, _ in rows if k == kind and j == jobs_list[0])
        lines.append(f"| {'reference' if kind == 'solutions' else 'stubs'} | {jobs} | "
                     f"{seconds:.1f} | {seconds / copies:.1f} | {60 * copies / seconds:.1f} | "
                     f"{first / seconds:.2f}x | {scores} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=("grade", "autograde"),
                        default=["grade", "autograde"])
    parser.add_argument("--repeat", type=int, default=3, help="grade runs per row")
    parser.add_argument("--copies", type=int, default=6, help="submissions per kind")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", help="also write the tables to this file")
    args = parser.parse_args()
    ensure_mnist()
    lines: list[str] = []
    if "grade" in args.parts:
        lines += part_grade(args.repeat) + [""]
    if "autograde" in args.parts:
        lines += part_autograde(args.copies, args.jobs)
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")


if __name__ == "__main__":
    main()
