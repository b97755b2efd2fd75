"""A CPU hog next to the sample class: does any classmate lose points? And can the CPU
meter be gamed?

    python bench/fairness.py [--kit DIR] [--tasks deep_net,init_schemes,probe_stats]
    python bench/fairness.py --gaming [--before REV] [--after REV] [--modes cgroup,pinned,none]

Builds ``fixtures/class`` (``assemble.py``) plus a student ``hog``: the reference with
``fixtures/isolation/cpu_hog.py`` appended to every ``ex*.py`` (30 busy processes, each in
its own session). Runs ``autograde --jobs 2`` with the kit at ``--kit`` (default: this one;
give an older checkout to compare), and prints every student's score next to what
``class.json`` expects, and the seconds the run took. Run it on an otherwise idle machine.

``--gaming`` grades, with the kits at ``--before`` and ``--after`` (two git revisions,
unpacked with ``git archive``; one case with each in turn, so both see the same load): every meter-gaming check of ``fixtures/isolation/`` (issue 18), a check
that sleeps forever (the baseline: a plain timeout, never extended), and an honest check
that needs 3 s of CPU in its budget beside 2 x cores busy processes (it must still be
extended and pass). For each sandbox mode (cgroup per child; ``pinned``: no cgroup, a CPU
of its own; ``none``: neither) it prints the extensions granted, the extra seconds granted
and the wall time over the sleeper's. Run it on an otherwise idle machine too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GAMING = ("wake_together", "wake_together_threads", "fork_churn", "sleep_then_burst",
          "escape_affinity", "setsid_daemons")
SLEEPER = """
def probe_stats(net, batch_size=64, in_dim=100):
    import time
    while True:
        time.sleep(1)
"""
HONEST = """
_reference_probe_stats = probe_stats
_burned = []


def probe_stats(net, batch_size=64, in_dim=100):
    import time
    if not _burned:  # once per child: 3 s of CPU, then the right answer
        end = time.process_time() + 3
        while time.process_time() < end:
            pass
        _burned.append(1)
    return _reference_probe_stats(net, batch_size, in_dim)
"""


def _environment() -> dict[str, str]:
    return {"CI": "true", "PATH": "/usr/bin:/bin",
            **{k: v for k, v in os.environ.items() if k == "PRACTICO_DATA"}}


def _unpack(rev: str, folder: Path) -> Path:
    folder.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def gaming(before: str, after: str, modes: list[str], timeout: float) -> None:
    """Extensions and extra wall time of each gaming fixture, before and after."""
    reference = (ROOT / "solutions" / "ex5_init.py").read_text()
    with tempfile.TemporaryDirectory(prefix="bench-meter-") as tmp:
        kits = {"before": _unpack(before, Path(tmp) / "before"),
                "after": _unpack(after, Path(tmp) / "after")}
        cases = []
        sources = {"sleeper": SLEEPER, "honest_beside_hogs": HONEST}
        sources.update({name: (ROOT / "fixtures" / "isolation" / f"{name}.py").read_text()
                        for name in GAMING})
        for name, source in sources.items():
            folder = Path(tmp) / "subs" / name
            folder.mkdir(parents=True)
            (folder / "ex5_init.py").write_text(reference + "\n\n" + source)
            cases.append({"name": name, "folder": str(folder),
                          "hogs": name == "honest_beside_hogs"})
        rows: dict[tuple[str, str], dict[str, dict]] = {}
        for mode in modes:
            for case in cases:  # before and after one right after the other: same load
                for label, kit in kits.items():
                    proc = subprocess.run(
                        [sys.executable, str(ROOT / "bench" / "_meter_driver.py"), mode,
                         str(timeout), json.dumps([case])], cwd=kit, capture_output=True,
                        text=True, env=_environment())
                    if proc.returncode != 0:
                        sys.exit(proc.stderr[-3000:])
                    row = json.loads(proc.stdout.strip().splitlines()[-1])
                    rows.setdefault((mode, row["case"]), {})[label] = row
    print(f"budget {timeout:g} s per check; before = {before}, after = {after}. ext: "
          "extensions; extra: extra seconds granted; over: wall - the sleeper's wall; idle: "
          "share of the CPUs idle meanwhile")
    print(f"{'mode':7} {'case':22} {'before: ext extra  over idle score':36} "
          "after:  ext extra  over idle score")
    for mode in modes:
        base = {k: rows[(mode, "sleeper")][k]["wall"] for k in ("before", "after")}
        for name in ["sleeper", *GAMING, "honest_beside_hogs"]:
            cells = []
            for label in ("before", "after"):
                r = rows[(mode, name)][label]
                extra = r["granted"] if r["granted"] is not None else r["extensions"] * timeout
                cells.append(f"{r['extensions']:3d} {extra:5.1f} {r['wall'] - base[label]:5.1f}"
                             f" {r['idle']:4.2f} {r['score']:g} ({','.join(r['status'])})")
            print(f"{mode:7} {name:22} {cells[0]:36} {cells[1]}")

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kit", default=str(ROOT), help="the kit whose grader runs")
    parser.add_argument("--tasks", default="deep_net,init_schemes,probe_stats")
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--gaming", action="store_true",
                        help="the CPU meter's gaming fixtures, before and after")
    parser.add_argument("--before", default="8060e3a", help="the kit before (a git rev)")
    parser.add_argument("--after", default="HEAD", help="the kit after (a git rev)")
    parser.add_argument("--modes", default="cgroup,pinned,none")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    if args.gaming:
        gaming(args.before, args.after, args.modes.split(","), args.timeout)
        return
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
                              env=_environment())
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
