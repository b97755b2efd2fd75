"""What each hostile submission costs the grader itself: peak memory, CPU seconds, wall time.

Every case of ``fixtures/hostile/`` named below (plus the reference, and 400 extra 1 MiB
``ex*.py`` files) is graded by a fresh process through the real sandbox; that process reports
its own peak RSS and CPU time (children excluded: the sandbox child's cost is capped by its
own limits). ``--kit`` grades with another checkout of the grader (e.g. an older commit
unpacked with ``git archive``) to compare before and after.

    PRACTICO_DATA=... python bench/hostile_cost.py [--kit DIR] [CASE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ("reference", "net_wide_2_20", "net_zero_width", "net_many_layers", "frame_64mib",
         "message_50mb", "deep_list_frame", "huge_int_outcome", "many_files")
TASKS = {"net_wide_2_20": "init_schemes", "net_zero_width": "init_schemes",
         "net_many_layers": "init_schemes"}


def build(case: str, folder: Path) -> None:
    folder.mkdir(parents=True)
    fixture = ROOT / "fixtures" / "hostile" / case
    if (fixture / "ex5_init.py").exists():
        import runpy

        assemble = runpy.run_path(str(fixture.parent / "assemble.py"))
        (folder / "ex5_init.py").write_text(assemble["submission_source"](fixture))
    else:  # the reference itself, or a case made of extra files only
        shutil.copy2(ROOT / "solutions" / "ex5_init.py", folder / "ex5_init.py")
    if case == "many_files":
        for i in range(400):
            with open(folder / f"ex{i + 10}_extra.py", "wb") as fh:
                fh.truncate(1024 * 1024)


def one(case: str, kit: Path) -> dict:
    """Grade one case in this process and measure it (run in a fresh process per case)."""
    sys.path.insert(0, str(kit))
    from grader.grading import grade
    from grader.request import GradeRequest
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox
    from grader.submission import Submission

    task = TASKS.get(case, "probe_stats")
    with tempfile.TemporaryDirectory(prefix="hostile-cost-") as tmp:
        folder = Path(tmp) / case
        build(case, folder)
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.monotonic()
        outcome = "graded"
        try:
            with Sandbox(SandboxOptions()) as sandbox:
                result = grade(GradeRequest(Submission.from_folder(folder), tasks=[task],
                                            threads=1, lang="en", timeout=60), sandbox).results
            res = result[task]
            outcome = f"{task} {res.score:g}/{res.max_score:g} {res.status}"
            json.dumps(res.message, ensure_ascii=False).encode("utf-8")
            message_chars = len(res.message)
        except BaseException as exc:  # the point: did the grader crash?
            outcome = f"GRADER CRASH {type(exc).__name__}: {str(exc)[:80]}"
            message_chars = -1
        after = resource.getrusage(resource.RUSAGE_SELF)
    return {"case": case, "outcome": outcome,
            "peak_rss_mb": round(after.ru_maxrss / 1024),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
                           1),
            "wall_s": round(time.monotonic() - start, 1), "message_chars": message_chars}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--kit", default=str(ROOT))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    kit = Path(args.kit).resolve()
    if args.one:
        print(json.dumps(one(args.one, kit)))
        return
    print(f"kit: {kit}")
    print(f"{'case':<18} {'peak RSS MB':>11} {'CPU s':>6} {'wall s':>7} {'msg chars':>9}  outcome")
    for case in args.cases:
        proc = subprocess.run([sys.executable, __file__, "--kit", str(kit), "--one", case],
                              capture_output=True, text=True, env={**os.environ, "CI": "true"})
        try:
            row = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            print(f"{case:<18} failed to run: {proc.stderr[-300:]}")
            continue
        print(f"{row['case']:<18} {row['peak_rss_mb']:>11} {row['cpu_s']:>6} {row['wall_s']:>7} "
              f"{row['message_chars']:>9}  {row['outcome']}", flush=True)


if __name__ == "__main__":
    main()
