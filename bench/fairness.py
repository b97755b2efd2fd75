"""A CPU hog next to the sample class: does any classmate lose points?

    python bench/fairness.py [--kit DIR] [--tasks deep_net,init_schemes,probe_stats]

Builds ``fixtures/class`` (``assemble.py``) plus a student ``hog``: the reference with
``fixtures/isolation/cpu_hog.py`` appended to every ``ex*.py`` (30 busy processes, each in
its own session). Runs ``autograde --jobs 2`` with the kit at ``--kit`` (default: this one;
give an older checkout to compare), and prints every student's score next to what
``class.json`` expects, and the seconds the run took. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kit", default=str(ROOT), help="the kit whose grader runs")
    parser.add_argument("--tasks", default="deep_net,init_schemes,probe_stats")
    parser.add_argument("--jobs", default="2")
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    expected = json.loads((ROOT / "fixtures" / "class" / "class.json").read_text())["students"]
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as tmp:
        root, out = Path(tmp) / "class", Path(tmp) / "out"
        subprocess.run([sys.executable, str(ROOT / "fixtures" / "class" / "assemble.py"),
                        str(root)], check=True)
        shutil.copytree(ROOT / "solutions", root / "hog",
                        ignore=shutil.ignore_patterns("__pycache__"))
        hog = (ROOT / "fixtures" / "isolation" / "cpu_hog.py").read_text()
        for path in (root / "hog").glob("ex*.py"):
            path.write_text(path.read_text() + "\n" + hog)
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "grader", "autograde", str(root), "--out",
                               str(out), "--jobs", args.jobs, "--tasks", args.tasks],
                              cwd=args.kit, capture_output=True, text=True,
                              env={"CI": "true", "PATH": "/usr/bin:/bin",
                                   **{k: v for k, v in __import__("os").environ.items()
                                      if k == "PRACTICO_DATA"}})
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr[-3000:])
        with open(out / "grades.csv", newline="") as fh:
            rows = {r["student"]: r for r in csv.DictReader(fh)}
    from grader.tasks import TASK_BY_ID

    changed = 0
    print(f"kit {args.kit}, --jobs {args.jobs}, tasks {args.tasks}: {seconds:.0f} s")
    for name, row in sorted(rows.items()):
        got = {t: float(row[t]) for t in tasks}
        want = {}
        for t in tasks:
            spec = expected.get(name, {}).get("expect", {})
            want[t] = spec.get(t, spec.get("*", TASK_BY_ID[t].points))
        ok = name == "hog" or all(w == "partial" or got[t] == w for t, w in want.items())
        changed += not ok
        print(f"  {name:6} {sum(got.values()):5g}  {got}  {'' if ok else 'CHANGED ' + str(want)}")
    print(f"students whose score changed: {changed}")


if __name__ == "__main__":
    main()
