"""The one grading loop (``grader/grading.py``) with runners that start no child.

A scripted runner yields outcomes in any order (data, a status, "scored as check j"); the
loop must judge each as it arrives, build inputs only for data and only once per check and
variant, keep the runner's report, and summarize in task order. The sandbox runner is
tested with real children in ``tests/test_sandbox.py`` and the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from conftest import ROOT

from grader.grading import Grader, InProcess, grade, select_checks
from grader.impl import DirImpl
from grader.request import GradeRequest, Outcome, Run, RunReport

TASK = "onehot_mse"


class Scripted:
    """A runner that yields what it is told, checking the loop's side of the protocol."""

    def __init__(self, script) -> None:
        self.script = script  # checks -> list of Outcome
        self.asked: list[str] = []

    def run(self, request: GradeRequest, checks: Sequence, inputs) -> Run:
        report = RunReport(children=7, isolation={"namespaces": True})

        def outcomes():
            for outcome in self.script(list(checks)):
                if outcome.data is not None and outcome.data.get("status") == "ok":
                    inputs(checks[outcome.index])  # what a runner sends to its probe
                yield outcome

        return Run(outcomes(), report)

    def kill_all(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_outcomes_are_judged_as_they_arrive_and_summarized_in_order():
    request = GradeRequest(tasks=[TASK], lang="en")
    checks = select_checks(request)
    assert len(checks) >= 3 and all(c.task == TASK for c in checks)
    last = len(checks) - 1

    def script(checks):
        yield Outcome(last, {"status": "ok", "out": "not a dict"})
        yield Outcome(0, {"status": "timeout", "seconds": "12"})
        for index in range(1, last):
            yield Outcome(index, same_as=0)

    seen = []
    outcome = grade(request, Scripted(script), on_result=seen.append)
    assert [r.check for r in seen] == [checks[last].name, checks[0].name,
                                       *(c.name for c in checks[1:last])]
    results = outcome.results[TASK].checks
    assert [r.check for r in results] == [c.name for c in checks]  # task order, not arrival
    first = results[0]
    assert first.status == "timeout" and "12 s" in first.message
    for copy, check in zip(results[1:last], checks[1:last]):
        assert (copy.status, copy.message, copy.key, copy.values) == (
            first.status, first.message, first.key, first.values)
        assert copy.points == 0 and copy.max_points == check.points and copy.check == check.name
    assert results[last].status == "failed" and results[last].key == "malformed_output"
    assert outcome.results[TASK].score == 0
    assert outcome.report.children == 7 and outcome.sandbox_json() == {
        "children": 7, "isolation": {"namespaces": True}}


def test_inputs_are_built_once_per_check_and_variant_and_only_for_data(monkeypatch):
    monkeypatch.setenv("PRACTICO_SECRET", "s" * 32)
    built = []
    import grader.grading as grading

    real = grading.check_inputs
    monkeypatch.setattr(grading, "check_inputs",
                        lambda check, ctx: built.append((check.id, ctx.variant)) or real(check, ctx))
    request = GradeRequest(tasks=[TASK])
    checks = select_checks(request)

    def script(checks):
        yield Outcome(0, {"status": "ok", "out": {}})
        yield Outcome(1, {"status": "missing_file", "module": "ex1_onehot_mse"})

    grader = Grader(Scripted(script))
    grader.grade(request)
    grader.grade(request)
    grader.grade(GradeRequest(tasks=[TASK], variant=2))
    assert built == [(checks[0].id, 0), (checks[0].id, 2)]


def test_the_request_selects_tasks_checks_and_skips():
    every = select_checks(GradeRequest())
    one = select_checks(GradeRequest(tasks=["deep_net"]))
    assert one and {c.task for c in one} == {"deep_net"}
    assert [c.id for c in select_checks(GradeRequest(checks=[one[1].id]))] == [one[1].id]
    skipped = select_checks(GradeRequest(tasks=["deep_net"], skip=[one[0].name]))
    assert [c.id for c in skipped] == [c.id for c in one[1:]]
    order = [c.task for c in every]
    assert order == sorted(order, key=[c.task for c in every].index)  # grouped by task


def test_in_process_runs_the_reference_through_the_same_loop():
    request = GradeRequest(tasks=[TASK], checks=[c.id for c in select_checks(
        GradeRequest(tasks=[TASK])) if c.cost <= 0.1])
    outcome = grade(request, InProcess(DirImpl(ROOT / "solutions")))
    checks = outcome.results[TASK].checks
    assert checks and {c.status for c in checks} == {"passed"}
    assert not outcome.report.isolated and outcome.report.children == 0
