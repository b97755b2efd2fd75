"""The reference earns full marks, every stub task earns zero with its own message."""

from __future__ import annotations

import json
import re

import pytest
from conftest import run_py

from grader.checks import CHECKS, Context, ProbeEnv
from grader.codec import encode
from grader.impl import DirImpl
from grader.probing import probe_outcome
from grader.scoring import check_inputs, checks_for
from grader.tasks import MAX_SCORE, TASKS


def test_points_of_checks_add_up_to_task_points():
    for task in TASKS:
        assert sum(c.points for c in CHECKS if c.task == task.id) == task.points, task.id
    assert MAX_SCORE == 120  # sections 1-6: 100; section 7 (lr_sweep, exploding): 20


@pytest.mark.slow
def test_reference_earns_full_marks(reference_results):
    for task in TASKS:
        res = reference_results[task.id]
        failing = [(c.check, c.message) for c in res.checks if c.status != "passed"]
        assert failing == [], task.id
        assert res.score == task.points


@pytest.mark.slow
def test_pytest_exercises_against_reference(root):
    res = run_py("-m", "pytest", "exercises", "--impl", "solutions", "-p", "no:cacheprovider",
                 "-q")
    assert res.returncode == 0, res.stdout[-3000:]
    assert re.search(r"TOTAL\s+120/120", res.stdout)
    assert f"{len(CHECKS)} passed" in res.stdout


@pytest.mark.slow
def test_pytest_exercises_on_stubs_fails_every_task_with_its_message(root):
    res = run_py("-m", "pytest", "exercises", "-p", "no:cacheprovider", "-rf")
    assert res.returncode == 1
    assert f"{len(CHECKS)} failed" in res.stdout
    for task in TASKS:
        assert re.search(rf"{task.id}\s+0/{task.points}\s+sin implementar", res.stdout), task.id
        # each task's failures carry that task's id and point at the TODO
        assert f"[{task.id}] Todavía no implementado" in res.stdout, task.id
        assert f"TODO [{task.id}]" in res.stdout
    assert "Traceback" not in res.stdout


@pytest.mark.slow
def test_messages_in_english_on_request(root):
    res = run_py("-m", "pytest", "exercises/test_ex3_depth.py", "-p", "no:cacheprovider",
                 env={"PRACTICO_LANG": "en"})
    assert "[deep_net] Not implemented yet" in res.stdout
    assert "score per task" in res.stdout


@pytest.mark.slow
def test_grade_command_writes_the_spec_json(root, tmp_path):
    out = tmp_path / "r.json"
    res = run_py("-m", "grader", "grade", "exercises", "--json", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert data["score"] == 0 and data["max_score"] == 120
    assert set(data["tasks"]) == {t.id for t in TASKS}
    for tid, entry in data["tasks"].items():
        assert {"score", "max_score", "status", "message"} <= set(entry)
        assert entry["status"] == "not_implemented" and f"[{tid}]" in entry["message"]
    assert "TOTAL" in res.stdout


@pytest.mark.parametrize("args, fragment", [
    (["grade", "no/such/dir"], "no existe esa carpeta"),
    (["grade", "grader"], "no tiene archivos ex*.py"),
    (["grade", "exercises", "--tasks", "nope"], "tarea(s) desconocida(s)"),
])
def test_grade_command_bad_input(args, fragment):
    res = run_py("-m", "grader", *args)
    assert res.returncode == 2
    assert fragment in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
def test_missing_mnist_is_one_clear_error(tmp_path):
    # offline for sure: every download goes through a proxy that refuses it
    offline = {name: "http://127.0.0.1:9" for name in ("http_proxy", "https_proxy")}
    res = run_py("-m", "grader", "grade", "exercises",
                 env={"PRACTICO_DATA": str(tmp_path), **offline})
    assert res.returncode == 2
    assert "PRACTICO_DATA" in res.stderr and str(tmp_path) in res.stderr
    assert "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []  # the failed download left no MNIST/raw behind
    # (every entry point, in each language: tests/test_first_hour.py)


@pytest.mark.slow
def test_probes_are_deterministic(root):
    """The same check, run twice, reports byte-identical data (training included)."""
    impl = DirImpl(root / "solutions")
    ctx = Context()
    for check in checks_for(["relu_net", "probe_stats"]):
        inp = check_inputs(check, ctx)
        first = encode(probe_outcome(check, impl, inp, ProbeEnv()))
        second = encode(probe_outcome(check, impl, inp, ProbeEnv()))
        assert first == second, check.id
