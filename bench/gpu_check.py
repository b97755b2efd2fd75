"""The same verdicts on the GPU as on the CPU: ``grade`` and ``pytest exercises``, both devices.

    PRACTICO_DATA=... python bench/gpu_check.py [--jobs N] [--only SUBSTR ...] [--cpu-only]
                                                [--keep DIR]

Grades, with the real commands in subprocesses, the reference (``solutions/``), two correct
alternatives (``fixtures/alt_correct`` and ``fixtures/alt_correct_b``, every task) and every
``fixtures/wrong`` patch over the reference (its declared task only):

- ``python -m grader grade FOLDER --device D --json OUT [--tasks T]`` (the sandbox);
- ``python -m pytest exercises/test_exN.py::test_<task> --impl FOLDER --device D --junitxml
  OUT`` (in process, a test per check),

for D = ``cpu`` and ``cuda``, ``--jobs`` at once (default: every core, at most 16), and prints
per check the four verdicts (status and points), whether they agree, and pytest's time for the
check on each device; per submission, the wall time of each of the four runs. A check agrees
when ``grade`` gives the same status and points on both devices, pytest the same outcome on
both, and all four the same points (``grade`` and ``pytest`` are the same checks: official and
local must not differ either).

Exit status: 0 when every check agrees; 1 on any disagreement, or a run that gave no result;
77 when this machine has no CUDA device (``torch.cuda.is_available()`` is false): one line says
so and nothing runs (77 is the "skipped" code of automake's test harness; ``--cpu-only`` runs
the CPU half anyway, comparing ``grade`` with ``pytest`` there); 2 on a usage error or when
MNIST is not where ``PRACTICO_DATA`` says.

Where the sandbox refuses to run student code as root without Linux namespaces (a container
run as root), each ``grade`` is run again with ``--unsafe-no-isolation`` (these are the kit's
own fixtures) and the report says so. Sized for one H100 and 16 cores: 3 whole submissions and
67 single-task fixtures, each graded 4 times, about 300 subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from patching import ALT_CORRECTS, build, materialise_alt_correct, read_fixture  # noqa: E402

SKIPPED = 77
#: the correct alternatives besides the reference
ALTERNATIVES = ("alt_correct", "alt_correct_b")
NO_GPU_LINE = ("gpu_check: no CUDA device on this machine (torch.cuda.is_available() is false): "
               "nothing compared; run it where there is one, or with --cpu-only for the CPU half")
ISOLATION_HINT = "--unsafe-no-isolation"
#: wall seconds allowed to one grade or pytest run (a whole submission takes well under one)
RUN_TIMEOUT = 300


@dataclass
class Submission:
    name: str
    folder: Path
    tasks: tuple[str, ...]  # empty: every task


@dataclass
class Verdict:
    status: str
    points: float


@dataclass
class Outcome:
    """One command on one submission and device: per check its verdict (and pytest's time)."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    error: str = ""
    unisolated: bool = False


def submissions(work: Path, only: list[str] | None) -> list[Submission]:
    from grader.tasks import TASK_BY_ID

    found = [Submission("reference", ROOT / "solutions", ())]
    for source in ALT_CORRECTS:
        if source.name in ALTERNATIVES:
            found.append(Submission(source.name,
                                    materialise_alt_correct(work / source.name, source), ()))
    for folder in sorted(p for p in (ROOT / "fixtures" / "wrong").iterdir() if p.is_dir()):
        (patch,) = sorted(folder.glob("ex*.py.diff"))
        task = read_fixture(patch)[0]["Task"].strip()
        assert task in TASK_BY_ID, (folder, task)
        dest = work / "wrong" / folder.name
        dest.mkdir(parents=True)
        for path in (ROOT / "solutions").glob("ex*.py"):
            shutil.copy(path, dest / path.name)
        name, text = build(patch, ROOT / "solutions")
        (dest / name).write_text(text, encoding="utf-8")
        found.append(Submission(f"wrong/{folder.name}", dest, (task,)))
    return [s for s in found if not only or any(o in s.name for o in only)]


#: torch threads of each run (set by main): the cores shared among the runs at once
THREADS = [1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    # pytest and grade's own process take torch's thread count from here (grade's sandbox
    # children set theirs); 16 runs of 16 threads each on 16 cores would mostly wait
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(THREADS[0])
    return env


def run_grade(sub: Submission, device: str, work: Path, unsafe: bool = False) -> Outcome:
    out_json = work / "json" / f"{sub.name.replace('/', '__')}.{device}.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "grader", "grade", str(sub.folder), "--device", device,
           "--json", str(out_json)]
    for task in sub.tasks:
        cmd += ["--tasks", task]
    if unsafe:
        cmd.append(ISOLATION_HINT)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    outcome = Outcome(wall=time.monotonic() - start, unisolated=unsafe)
    if proc.returncode != 0 or not out_json.exists():
        if not unsafe and ISOLATION_HINT in proc.stderr:
            return run_grade(sub, device, work, unsafe=True)
        outcome.error = f"grade exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
        return outcome
    data = json.loads(out_json.read_text(encoding="utf-8"))
    for task_id, task in data["tasks"].items():
        for name, check in (task.get("checks") or {}).items():
            outcome.verdicts[f"{task_id}::{name}"] = Verdict(check["status"], check["score"])
    return outcome


def _test_nodes(sub: Submission) -> list[str]:
    """pytest node ids of the submission's tasks: ``exercises/test_exN.py::test_<task>``."""
    from grader.tasks import TASKS

    nodes = []
    for task in TASKS:
        if sub.tasks and task.id not in sub.tasks:
            continue
        nodes.append(f"exercises/test_{task.module}.py::test_{task.id}")
    return nodes


def run_pytest(sub: Submission, device: str, work: Path) -> Outcome:
    from grader.scoring import checks_for

    points = {c.id: c.points for c in checks_for()}
    task_of = {f"test_{c.task}[{c.name}]": c.id for c in checks_for()}
    junit = work / "junit" / f"{sub.name.replace('/', '__')}.{device}.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", *_test_nodes(sub), "--impl", str(sub.folder),
           "--device", device, "--junitxml", str(junit), "-q", "-p", "no:cacheprovider"]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    outcome = Outcome(wall=time.monotonic() - start)
    if proc.returncode not in (0, 1) or not junit.exists():  # 1: some check failed
        outcome.error = f"pytest exit {proc.returncode}: {proc.stdout.strip()[-300:]}"
        return outcome
    for case in ET.parse(junit).getroot().iter("testcase"):
        check = task_of.get(case.get("name", ""))
        if check is None:
            continue
        failed = any(child.tag in ("failure", "error") for child in case)
        skipped = any(child.tag == "skipped" for child in case)
        status = "failed" if failed else "skipped" if skipped else "passed"
        outcome.verdicts[check] = Verdict(status, points[check] if status == "passed" else 0)
        outcome.seconds[check] = float(case.get("time", 0.0))
    return outcome


#: the four runs of a submission, in column order
RUNS = (("grade", "cpu"), ("grade", "cuda"), ("pytest", "cpu"), ("pytest", "cuda"))


def compare(outcomes: dict[tuple[str, str], Outcome], check: str) -> list[str]:
    """What disagrees for one check among the runs there are (empty: all agree)."""
    got = {run: o.verdicts.get(check) for run, o in outcomes.items()}
    problems = []
    for run, verdict in got.items():
        if verdict is None:
            problems.append(f"no verdict from {run[0]} on {run[1]}")
    g_cpu, g_cuda = got.get(("grade", "cpu")), got.get(("grade", "cuda"))
    p_cpu, p_cuda = got.get(("pytest", "cpu")), got.get(("pytest", "cuda"))
    if g_cpu and g_cuda and (g_cpu.status, g_cpu.points) != (g_cuda.status, g_cuda.points):
        problems.append("grade: cpu != cuda")
    if p_cpu and p_cuda and (p_cpu.status, p_cpu.points) != (p_cuda.status, p_cuda.points):
        problems.append("pytest: cpu != cuda")
    for device in ("cpu", "cuda"):
        g, p = got.get(("grade", device)), got.get(("pytest", device))
        if g and p and g.points != p.points:
            problems.append(f"grade != pytest on {device}")
    return problems


def _cell(verdict: Verdict | None) -> str:
    return "—" if verdict is None else f"{verdict.status} {verdict.points:g}"


def report(sub: Submission, outcomes: dict[tuple[str, str], Outcome]) -> tuple[list[str], int]:
    """The submission's lines and how many of its checks disagree."""
    lines = [f"{sub.name}: " + ", ".join(
        f"{tool} {device} {o.wall:.1f} s" + (" (no isolation)" if o.unisolated else "")
        for (tool, device), o in outcomes.items())]
    bad = 0
    for (tool, device), o in outcomes.items():
        if o.error:
            lines.append(f"  {tool} on {device} gave no result: {o.error}")
            bad += 1
    checks = list(dict.fromkeys(c for o in outcomes.values() for c in o.verdicts))
    for check in checks:
        problems = compare(outcomes, check)
        bad += bool(problems)
        cells = "  ".join(f"{_cell(o.verdicts.get(check)):<14}" for o in outcomes.values())
        times = " / ".join(f"{outcomes[('pytest', d)].seconds.get(check, float('nan')):.2f} s"
                           for d in ("cpu", "cuda") if ("pytest", d) in outcomes)
        lines.append(f"  {check:<56} {cells}  {'agree' if not problems else 'DIFFER: '}"
                     f"{'; '.join(problems)}  pytest {times}")
    return lines, bad


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    p.add_argument("--jobs", type=int, default=min(16, os.cpu_count() or 1),
                   help="runs at once (default: every core, at most 16)")
    p.add_argument("--only", nargs="+", metavar="SUBSTR",
                   help="only submissions whose name contains one of these")
    p.add_argument("--cpu-only", action="store_true",
                   help="only the CPU half (grade against pytest), for a machine without a GPU")
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="write the submissions, JSON and JUnit files here (kept)")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs: at least 1")

    import torch

    if not args.cpu_only and not torch.cuda.is_available():
        print(NO_GPU_LINE)
        return SKIPPED
    from grader.settings import data_folder, mnist_missing

    if mnist_missing():
        # every run would fail the same way: say it once (no download here: the machine
        # that has the GPU may have no network)
        print(f"gpu_check: MNIST is not in {data_folder()}/MNIST/raw: set PRACTICO_DATA to the "
              "folder that holds MNIST/raw/", file=sys.stderr)
        return 2
    devices = ("cpu",) if args.cpu_only else ("cpu", "cuda")
    THREADS[0] = max(1, (os.cpu_count() or 1) // args.jobs)
    work = args.keep or Path(tempfile.mkdtemp(prefix="gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        subs = submissions(work / "submissions", args.only)
        if not subs:
            p.error(f"--only {args.only}: no submission matches")
        gpu = torch.cuda.get_device_name(0) if "cuda" in devices else "none (--cpu-only)"
        print(f"gpu_check: {len(subs)} submissions x {len(devices)} devices x grade and pytest, "
              f"{args.jobs} at once; GPU {gpu}; torch {torch.__version__}", flush=True)
        started = time.monotonic()
        jobs = [(sub, tool, device) for sub in subs for tool, device in RUNS if device in devices]
        # the whole submissions first: they take longest
        jobs.sort(key=lambda j: (bool(j[0].tasks), j[0].name))

        def one(job: tuple[Submission, str, str]) -> Outcome:
            sub, tool, device = job
            try:
                if tool == "grade":
                    return run_grade(sub, device, work)
                return run_pytest(sub, device, work)
            except subprocess.TimeoutExpired:
                return Outcome(error=f"{tool} on {device} ran past {RUN_TIMEOUT} s")

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(one, jobs))
        by_sub: dict[str, dict[tuple[str, str], Outcome]] = {}
        for (sub, tool, device), outcome in zip(jobs, results):
            by_sub.setdefault(sub.name, {})[(tool, device)] = outcome
        header = "  ".join(f"{t + ' ' + d:<14}" for t, d in RUNS if d in devices)
        print(f"  {'check':<56} {header}")
        disagreements = 0
        for sub in subs:
            ordered = {run: by_sub[sub.name][run] for run in RUNS if run in by_sub[sub.name]}
            lines, bad = report(sub, ordered)
            disagreements += bad
            print("\n".join(lines), flush=True)
        print(f"gpu_check: {disagreements} disagreement(s) in {len(subs)} submissions; "
              f"{time.monotonic() - started:.0f} s wall")
        return 1 if disagreements else 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
