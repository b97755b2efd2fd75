"""Time ``nbgrader autograde`` of one submission: the reference solution, in a copy of the course.

    PRACTICO_DATA=... python bench/bench_autograde.py [--students N] [--jobs J]

Copies ``course/`` to a temporary folder, runs ``nbgrader generate_assignment``, submits
the source notebook (solutions filled in) as N students, and times one ``nbgrader
autograde`` call for all of them. Prints the wall and CPU time per submission and the
score each one got from the gradebook. With ``--jobs J`` it then times
``python -m grader nbgrader-autograde --jobs J`` on a copy of the course taken before
the serial run (same submissions), and says whether both gradebooks hold the same scores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.authoring.course_notebook import ASSIGNMENT  # noqa: E402


def run(*args: str, cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=0,
                        help="also time nbgrader-autograde --jobs J on the same submissions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "course"
        root.mkdir()
        shutil.copy2(ROOT / "course" / "nbgrader_config.py", root)
        shutil.copytree(ROOT / "course" / "source", root / "source")
        os.environ["JUPYTER_CONFIG_DIR"] = str(Path(tmp) / "jupyter")
        print(f"generate_assignment: {run('generate_assignment', ASSIGNMENT, cwd=root):.1f} s")
        nb = root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        for i in range(args.students):
            folder = root / "submitted" / f"ref{i}" / ASSIGNMENT
            folder.mkdir(parents=True)
            shutil.copy2(nb, folder)
        if args.jobs:
            shutil.copytree(root, Path(tmp) / "parallel", symlinks=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = run("autograde", ASSIGNMENT, cwd=root)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"autograde of {args.students} submission(s): {wall:.1f} s wall, {cpu:.1f} s CPU; "
              f"per submission {wall / args.students:.1f} s wall, {cpu / args.students:.1f} s CPU")
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            for i in range(args.students):
                sub = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, f"ref{i}")
                print(f"  ref{i}: {sub.score:g}/{sub.max_score:g}")
        if args.jobs:
            parallel_run(Path(tmp) / "parallel", args.students, args.jobs, wall)
    return 0


def _scores(root: Path, students: int) -> list[float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return [gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, f"ref{i}").score
                for i in range(students)]


def parallel_run(copy: Path, students: int, jobs: int, serial_wall: float) -> None:
    """``nbgrader-autograde --jobs`` on the copy taken before the serial run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", "nbgrader-autograde", str(copy),
                           "--jobs", str(jobs)], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"nbgrader-autograde failed:\n{proc.stdout}\n{proc.stderr}")
    same = _scores(copy, students) == _scores(copy.parent / "course", students)
    print(f"nbgrader-autograde --jobs {jobs}: {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({serial_wall / wall:.2f}x the serial run's speed); same scores: {same}")


if __name__ == "__main__":
    raise SystemExit(main())
