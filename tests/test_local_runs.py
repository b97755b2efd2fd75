"""The student's own runs grade as the official ones do (issue 21 item 3, the divergences).

- ``pytest exercises`` and the notebook's grade cell run the checks with one torch thread, as
  ``grade``'s children do (they kept torch's default of one per core: on a busy machine the
  student's loop ran 2-4x slower than the official run of the same code);
- ``pytest exercises -k TASK`` runs that task's checks only (``-k he_init`` also ran
  ``init_schemes``' check named ``he_init``);
- a task whose checks did not all run is not labelled complete ("completa" stood next to
  4/15 after ``-k he_init``).

``tests/test_official.py`` compares the verdicts themselves over every fixture.
"""

from __future__ import annotations

import re

import pytest
import torch
from conftest import ROOT, run_py
from verdicts import task_test_functions

from grader.grading import InProcess, check_in_process, grade
from grader.impl import NamespaceImpl
from grader.pytest_plugin import param_id
from grader.request import GradeRequest
from grader.scoring import CheckResult, checks_for, summarize
from grader.tasks import TASKS


def _counting_one_hot(seen: list[int]):
    """A correct ``one_hot`` that notes the torch threads it runs with."""
    def one_hot(y, num_classes=10):
        seen.append(torch.get_num_threads())
        return torch.nn.functional.one_hot(y.long(), num_classes).float()
    return one_hot


@pytest.fixture
def two_threads():
    """torch at two threads (what a 2-core machine defaults to) meanwhile."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_in_process_checks_run_with_the_requests_threads_and_put_them_back(two_threads):
    seen: list[int] = []
    impl = NamespaceImpl({"one_hot": _counting_one_hot(seen)})
    check = next(c for c in checks_for(["onehot_mse"]) if c.name == "one_hot_values")
    result = check_in_process(check, impl)  # what the pytest plugin runs per test
    assert result.status == "passed", result.message
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == 2
    seen.clear()
    grade(GradeRequest(tasks=("onehot_mse",), checks=(check.id,), threads=2), InProcess(impl))
    assert set(seen) == {2}


def test_the_notebooks_grade_cell_runs_with_one_thread(two_threads, capsys):
    from grader.nb import check_task

    seen: list[int] = []
    check_task("onehot_mse", {"one_hot": _counting_one_hot(seen)})
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == 2


def test_no_pytest_id_holds_another_tasks_id():
    """``-k`` matches any part of a test's name: a check's id must not hold another task's
    id, and a task's test function's name none but its own."""
    function = task_test_functions()
    for check in checks_for(None):
        for task in TASKS:
            if task.id != check.task:
                assert task.id not in param_id(check), (check.id, param_id(check))
                assert task.id not in function[check.task], (check.task, task.id)
    assert param_id(next(c for c in checks_for(["init_schemes"]) if c.name == "he_init")) \
        == "he-init"


@pytest.mark.slow
def test_dash_k_task_selects_exactly_that_tasks_checks():
    """``pytest exercises --collect-only -k TASK`` for every task, in one process."""
    script = (
        "import sys, pytest\n"
        "class Seen:\n"
        "    def pytest_collection_finish(self, session):\n"
        "        self.ids = [i.name for i in session.items]\n"
        "for task in sys.argv[1:]:\n"
        "    seen = Seen()\n"
        "    pytest.main(['exercises', '--impl', 'solutions', '--collect-only', '-q', '-k',\n"
        "                 task, '-p', 'no:cacheprovider'], plugins=[seen])\n"
        "    print('SELECTED', task, ' '.join(seen.ids))\n"
    )
    function = task_test_functions()
    proc = run_py("-c", script, *[t.id for t in TASKS], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    selected = {line.split()[1]: line.split()[2:] for line in proc.stdout.splitlines()
                if line.startswith("SELECTED ")}
    for task in TASKS:
        expected = [f"{function[task.id]}[{param_id(c)}]" for c in checks_for([task.id])]
        assert selected[task.id] == expected, task.id


def test_a_task_with_checks_left_out_is_partial_not_complete():
    """Only ``init_schemes``' he_init check ran, and passed: 4 of 15 points, ``partial``."""
    check = next(c for c in checks_for(["init_schemes"]) if c.name == "he_init")
    ran = [CheckResult(check.task, check.name, check.points, check.points, "passed", "")]
    res = summarize(ran, "es")["init_schemes"]
    assert (res.score, res.max_score, res.status) == (4, 15, "partial")
    every = [CheckResult(c.task, c.name, c.points, c.points, "passed", "")
             for c in checks_for(["init_schemes"])]
    assert summarize(every, "es")["init_schemes"].status == "passed"


@pytest.mark.slow
def test_pytest_summary_says_how_many_checks_ran():
    proc = run_py("-m", "pytest", "exercises", "--impl", "solutions", "-k", "he-init",
                  "-p", "no:cacheprovider", "--lang", "es", cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]
    row = next(line for line in proc.stdout.splitlines() if line.startswith("  init_schemes"))
    assert re.search(r"4/15\s+parcial\s.*\(1 de 4 pruebas corridas\)$", row), row
    assert "completa" not in row
    assert not any(line.startswith("  he_init") for line in proc.stdout.splitlines())


def test_the_comparison_sees_every_kind_of_disagreement():
    """What ``tests/test_official.py`` compares, fed disagreements it must report: points,
    a result JSON's key, a message shown differently, a hidden failure folded in."""
    from test_official import combined, disagreements
    from verdicts import Verdict, read_grade_cell

    cid = "onehot_mse::one_hot_values"
    same = {"pytest": {cid: Verdict(True, 2.0)}, "grade": {cid: Verdict(True, 2.0, "passed")}}
    assert disagreements("s", same) == []
    points = {**same, "notebook": {cid: Verdict(False, 0.0)}}
    assert len(disagreements("s", points)) == 1
    failed = Verdict(False, 0.0, "failed", "onehot_wrong", (), "el mensaje")
    keys = {"grade": {cid: failed}, "autograde": {cid: Verdict(False, 0.0, "failed", "other",
                                                               (), "el mensaje")}}
    assert [p.split()[2] for p in disagreements("s", keys)] == ["key:"]
    message = {"grade": {cid: failed}, "pytest": {cid: Verdict(False, 0.0, message="otro")}}
    assert "message" in disagreements("s", message)[0]
    # where it raised: the kernel's cell file and line may differ, never the function
    raised = Verdict(False, 0.0, "error", "exception", (), "lanzó X (ex1_onehot_mse.py:99, f)")
    in_cell = {"grade": {cid: raised},
               "notebook": {cid: Verdict(False, 0.0, message="lanzó X (1500668198.py:39, f)")}}
    assert disagreements("s", in_cell) == []
    in_cell["notebook"][cid] = Verdict(False, 0.0, message="lanzó X (1500668198.py:39, g)")
    assert "message" in disagreements("s", in_cell)[0]
    in_cell["pytest"] = {cid: Verdict(False, 0.0, message="lanzó X (otro.py:99, f)")}
    del in_cell["notebook"]
    assert "message" in disagreements("s", in_cell)[0]
    # variant 1 folded in: a check that fails there is lost; one the variant skips is not
    parity, run = "deep_net::parity_8_bits", "deep_net::structure"
    v0 = {parity: Verdict(True, 3.0), run: Verdict(True, 4.0)}
    v1 = {parity: Verdict(False, 0.0), run: Verdict(False, 0.0)}
    assert combined(v0, v1) == {parity: Verdict(True, 3.0), run: Verdict(False, 0.0)}

    # a grade cell's printout read back: the lines nb.check_task prints
    import contextlib
    import io

    from grader.nb import check_task

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        score = check_task("onehot_mse", {})
    cell = read_grade_cell("onehot_mse", [{"output_type": "stream", "name": "stdout",
                                           "text": out.getvalue()},
                                          {"output_type": "execute_result",
                                           "data": {"text/plain": repr(score)}}],
                           "es", sandbox=False)
    assert cell.value == cell.public_score == 0
    assert sorted(cell.public) == sorted(c.id for c in checks_for(["onehot_mse"]))
    # every check failed; the cell says each sentence once (nb.check_lines), so a check whose
    # sentence was said already has no message under it: None (nothing to compare), not ""
    shown = [cell.public[c.id] for c in checks_for(["onehot_mse"])]
    assert all(not v.passed for v in shown)
    said = [v.message for v in shown if v.message is not None]
    assert shown[0].message and len(set(said)) == len(said) < len(shown)
    assert all(v.message for v in shown if v.message is not None)
