"""``bench/gpu_check.py`` (issue 21): on a machine without CUDA it says so in one line, exit 77,
and runs nothing; its CPU half grades a fixture with ``grade`` and ``pytest exercises`` and
finds every check agreeing; its comparison flags each kind of disagreement.

The GPU half runs only where there is a GPU (its figures go into README when it has run);
these tests hide any GPU (``CUDA_VISIBLE_DEVICES=""``), so they run the same everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import run_py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import gpu_check  # noqa: E402
from gpu_check import NO_GPU_LINE, SKIPPED, Outcome, Verdict, compare  # noqa: E402

NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}


@pytest.mark.slow  # a subprocess that imports torch (12 s at load 30)
def test_without_a_gpu_it_says_so_in_one_line_and_exits_77():
    proc = run_py("bench/gpu_check.py", env=NO_GPU, timeout=120)
    assert proc.returncode == SKIPPED == 77, proc.stderr
    assert proc.stdout.splitlines() == [NO_GPU_LINE]
    assert "Traceback" not in proc.stderr


def _outcome(**verdicts: tuple[str, float]) -> Outcome:
    return Outcome(verdicts={check: Verdict(*v) for check, v in verdicts.items()})


def test_compare_names_each_disagreement():
    agree = {run: _outcome(c=("passed", 3)) for run in gpu_check.RUNS}
    assert compare(agree, "c") == []
    # the same failure on both devices, from both tools, agrees too
    failed = {run: _outcome(c=(("failed" if run[0] == "pytest" else "timeout"), 0))
              for run in agree}
    assert compare(failed, "c") == []

    gpu_fails = {**agree, ("grade", "cuda"): _outcome(c=("failed", 0))}
    assert compare(gpu_fails, "c") == ["grade: cpu != cuda", "grade != pytest on cuda"]
    other_status = dict(agree)
    other_status[("grade", "cpu")] = _outcome(c=("error", 0))
    other_status[("grade", "cuda")] = _outcome(c=("timeout", 0))
    assert "grade: cpu != cuda" in compare(other_status, "c")
    pytest_only = {**agree, ("pytest", "cuda"): _outcome(c=("failed", 0))}
    assert compare(pytest_only, "c") == ["pytest: cpu != cuda", "grade != pytest on cuda"]
    local = {**agree, ("pytest", "cpu"): _outcome(c=("failed", 0)),
             ("pytest", "cuda"): _outcome(c=("failed", 0))}
    assert compare(local, "c") == ["grade != pytest on cpu", "grade != pytest on cuda"]
    missing = {**agree, ("grade", "cuda"): _outcome()}
    assert compare(missing, "c") == ["no verdict from grade on cuda"]


@pytest.mark.slow
def test_cpu_half_grades_a_fixture_both_ways_and_they_agree(tmp_path):
    """One wrong fixture, its task only (onehot_mse: a short MNIST run included), through the
    real ``grade`` (sandbox) and ``pytest exercises``, on the CPU."""
    proc = run_py("bench/gpu_check.py", "--cpu-only", "--only", "wrong/onehot_int64",
                  "--jobs", "2", "--keep", str(tmp_path), env=NO_GPU, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("gpu_check: 1 submissions x 1 devices"), lines[0]
    from grader.scoring import checks_for

    rows = [line for line in lines if line.startswith("  onehot_mse::")]
    assert [r.split()[0] for r in rows] == [c.id for c in checks_for(["onehot_mse"])]
    assert all(" agree " in r for r in rows), rows
    # onehot_int64 fails the dtype check (and only it), in both tools
    dtype = next(r for r in rows if "one_hot_shape_dtype" in r)
    assert dtype.split()[1:5] == ["failed", "0", "failed", "0"], dtype
    assert lines[-1].startswith("gpu_check: 0 disagreement(s) in 1 submissions"), lines[-1]


def test_submissions_are_the_reference_two_alternatives_and_every_wrong_fixture(tmp_path):
    subs = gpu_check.submissions(tmp_path, None)
    names = [s.name for s in subs]
    assert names[:3] == ["reference", "alt_correct", "alt_correct_b"]
    wrong = sorted(p.name for p in (ROOT / "fixtures" / "wrong").iterdir() if p.is_dir())
    assert names[3:] == [f"wrong/{n}" for n in wrong]
    assert all(s.tasks == () for s in subs[:3]) and all(len(s.tasks) == 1 for s in subs[3:])
