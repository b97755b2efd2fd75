"""The same verdict on any load (issue 21 item 4).

``autograde --jobs 2`` grades four students twice: on the machine as it is, then with
``2 x cores`` CPU hogs running beside it (plain busy processes, started and killed here, each
also stopping itself at a deadline). Every check's verdict (status, points, message key,
diagnoses, message) must be the same in both runs: a check that needs more wall time when the
CPUs are taken must get it (the sandbox extends a starved check's deadline,
:mod:`grader.sandbox.cpuwatch`), and nothing in a verdict may depend on timing.

The students: the reference and the first independent correct submission (whole, every
task, every training run) and two wrong fixtures whose failing checks include a training run
(``mse_no_step``: ``onehot_mse``' MNIST run; ``clip_by_value``: ``exploding``' clipped
training), each as its module and the stubs (``tests/fixture_students.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_py
from fixture_students import alt_corrects, reference, wrongs

pytestmark = [pytest.mark.slow, pytest.mark.serial]

WRONG = ("w_mse_no_step", "w_clip_by_value")
#: seconds a hog lives at most, whatever happens to this test
HOG_DEADLINE = 900


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def start_hogs(count: int) -> list[subprocess.Popen]:
    """``count`` processes that burn a CPU each until killed or ``HOG_DEADLINE``."""
    code = ("import time\n"
            f"end = time.monotonic() + {HOG_DEADLINE}\n"
            "while time.monotonic() < end:\n"
            "    sum(range(1000))\n")
    return [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(count)]


def stop_hogs(hogs: list[subprocess.Popen]) -> None:
    for hog in hogs:
        if hog.poll() is None:
            hog.kill()
    for hog in hogs:
        hog.wait(timeout=30)


def verdicts(out: Path, names: list[str]) -> dict[str, dict[str, tuple]]:
    """Per student and check: (status, points, key, diagnoses, message)."""
    found = {}
    for name in names:
        data = json.loads((out / "students" / name / "result.json").read_text())
        found[name] = {f"{task}::{check}": (c["status"], c["score"], c["key"],
                                           tuple(c["diagnoses"]), c["message"])
                       for task, entry in data["tasks"].items()
                       for check, c in (entry.get("checks") or {}).items()}
    return found


def autograde(root: Path, out: Path) -> float:
    start = time.monotonic()
    proc = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
                  cwd=ROOT, env={"CI": "true"}, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return time.monotonic() - start


def test_verdicts_under_cpu_hogs_equal_the_quiet_ones(tmp_path):
    by_name = {s.name: s for s in wrongs()}
    students = [reference(), alt_corrects()[0], *(by_name[n] for n in WRONG)]
    root = tmp_path / "class"
    for s in students:
        s.write(root / s.name)
    names = [s.name for s in students]

    quiet_seconds = autograde(root, tmp_path / "quiet")
    quiet = verdicts(tmp_path / "quiet", names)

    hogs = start_hogs(2 * _cores())
    try:
        time.sleep(1)  # every hog on a CPU before grading starts
        assert all(h.poll() is None for h in hogs)
        loaded_seconds = autograde(root, tmp_path / "loaded")
        assert all(h.poll() is None for h in hogs), "a hog stopped: the load was not there"
    finally:
        stop_hogs(hogs)
    loaded = verdicts(tmp_path / "loaded", names)

    print(f"\nautograde of {len(names)} students: {quiet_seconds:.1f} s quiet, "
          f"{loaded_seconds:.1f} s beside {len(hogs)} CPU hogs")
    differ = [(name, check, quiet[name][check], loaded[name].get(check))
              for name in names for check in quiet[name]
              if loaded[name].get(check) != quiet[name][check]]
    assert differ == [], "\n".join(map(str, differ))
    assert set(loaded) == set(quiet) and all(set(loaded[n]) == set(quiet[n]) for n in names)
    # the fixtures stand for what they should: full marks, and a training run lost
    assert all(v[0] == "passed" for n in names[:2] for v in quiet[n].values())
    for name, check in (("w_mse_no_step", "onehot_mse::mnist_short_run"),
                        ("w_clip_by_value", "exploding::clipping_rescues_high_rate")):
        assert quiet[name][check][0] == "failed", (name, quiet[name][check])
