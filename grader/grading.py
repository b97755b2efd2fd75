"""The one grading loop, for every runner: inputs, probes, verdicts as results arrive, summary.

Every way of grading goes through :meth:`Grader.grade`: ``grade`` and ``autograde`` (with the
sandbox), a cluster's worker (:mod:`grader.cluster_worker`), nbgrader's preprocessor (a
notebook in the sandbox), the pytest plugin and the notebook's ``check_task`` (in this
process). For one :class:`~grader.request.GradeRequest` it:

1. selects the checks (tasks, checks, skipped names) and builds each one's inputs here, once
   per check and variant (:class:`InputCache`: a class graded by one :class:`Grader` builds
   them once for all its students);
2. hands them to a runner, which runs the probes where it runs them (:class:`InProcess`, or
   :class:`grader.sandbox.supervisor.Sandbox`) and yields one outcome per check;
3. judges each outcome as it arrives (:func:`grader.scoring.judge`, the only judge): the
   child runs on meanwhile, and the sandbox gives the judging time back to its deadline;
4. adds up the points per task and returns a :class:`GradeOutcome`: the results, and what
   the runner did (children, isolation, extensions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from grader.checks import Check, Context, ProbeEnv
from grader.codec import CodecError, roundtrip
from grader.probing import probe_outcome
from grader.request import GradeRequest, Outcome, Run, Runner, RunReport
from grader.scoring import (
    CheckResult,
    TaskResult,
    check_inputs,
    checks_for,
    judge,
    scored_as,
    summarize,
)
from grader.statuses import outcome_status

if TYPE_CHECKING:
    from grader.impl import Impl

__all__ = ["GradeOutcome", "Grader", "InProcess", "InputCache", "check_in_process", "context",
           "grade", "probe_env", "select_checks"]


@dataclass
class GradeOutcome:
    """What grading one submission came to: the results per task (in task order), and what
    the runner did (children, isolation, extensions: :class:`grader.request.RunReport`)."""

    results: dict[str, TaskResult]
    report: RunReport = field(default_factory=RunReport)

    def sandbox_json(self) -> dict[str, Any]:
        """The ``sandbox`` entry of a result JSON (docs/result-json.md)."""
        return {"children": self.report.children, "isolation": self.report.isolation}


def context(request: GradeRequest) -> Context:
    """The view a check's ``inputs`` and ``verdict`` get of the request."""
    return Context(device=request.device, lang=request.lang, variant=request.variant)


def probe_env(request: GradeRequest) -> ProbeEnv:
    """The view a check's ``probe`` gets of the request (in any process)."""
    return ProbeEnv(device=request.device)


def select_checks(request: GradeRequest) -> list[Check]:
    """The request's checks, in task order."""
    return [c for c in checks_for(request.tasks)
            if (request.checks is None or c.id in request.checks) and c.name not in request.skip]


class InputCache:
    """Every check's inputs, built here once per check id and variant, whichever runner and
    submission need them (thread-safe: a submission's groups ask from threads of their own)."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, int], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, check: Check, ctx: Context) -> dict[str, Any]:
        key = (check.id, ctx.variant)
        with self._lock:
            if key not in self._built:
                self._built[key] = check_inputs(check, ctx)
            return self._built[key]


class InProcess:
    """Runs probes in this process, on ``impl`` (trusted code: the reference, a student's
    own work in their pytest or notebook). The data still crosses the wire format, so a
    verdict sees exactly what it would get from a child."""

    def __init__(self, impl: Impl) -> None:
        self.impl = impl

    def run(self, request: GradeRequest, checks: Sequence[Check],
            inputs: Callable[[Check], dict[str, Any]]) -> Run:
        env = probe_env(request)

        def outcomes() -> Generator[Outcome, None, None]:
            for index, check in enumerate(checks):
                outcome = probe_outcome(check, self.impl, roundtrip(inputs(check)), env)
                try:
                    outcome = roundtrip(outcome)
                except CodecError as exc:
                    outcome = {"status": "error", "exc_type": "CodecError", "exc_msg": str(exc),
                               "where": ""}
                yield Outcome(index, outcome)

        return Run(outcomes(), RunReport())

    def kill_all(self) -> None:
        """Nothing runs apart from this process."""

    def close(self) -> None:
        """Nothing to free."""


class Grader:
    """A runner and the inputs built for it: grades one request after another."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.inputs = InputCache()

    def grade(self, request: GradeRequest,
              on_result: Callable[[CheckResult], None] | None = None) -> GradeOutcome:
        """Grade ``request``; every selected check gets a result, whatever the code does.
        ``on_result`` is called with each result as it is judged."""
        ctx = context(request)
        checks = select_checks(request)
        run = self.runner.run(request, checks, lambda check: self.inputs.get(check, ctx))
        results: dict[int, CheckResult] = {}
        try:
            for outcome in run.outcomes:
                result = self._judge(checks, outcome, results, ctx)
                results[outcome.index] = result
                if on_result is not None:
                    on_result(result)
        finally:
            run.outcomes.close()  # stopped early (Ctrl-C): its child is killed now
        return GradeOutcome(summarize([results[i] for i in sorted(results)], request.lang),
                            run.report)

    def _judge(self, checks: list[Check], outcome: Outcome, results: dict[int, CheckResult],
               ctx: Context) -> CheckResult:
        check = checks[outcome.index]
        if outcome.same_as is not None:
            return scored_as(check, results[outcome.same_as])
        data = outcome.data if outcome.data is not None else {}
        # a crash of the student's code is judged with the inputs too: what it asked for
        # (one_hot's num_classes) can name the mistake behind the exception
        inp = self.inputs.get(check, ctx) if outcome_status(data) in ("ok", "error") else {}
        return judge(check, inp, data, ctx)

    def kill_all(self) -> None:
        self.runner.kill_all()

    def close(self) -> None:
        self.runner.close()


def grade(request: GradeRequest, runner: Runner,
          on_result: Callable[[CheckResult], None] | None = None) -> GradeOutcome:
    """One request through ``runner`` (inputs built for this request only)."""
    return Grader(runner).grade(request, on_result)


def check_in_process(check: Check, impl: Impl, request: GradeRequest | None = None
                     ) -> CheckResult:
    """One check on ``impl``, in this process (``pytest exercises`` runs one per test)."""
    request = replace(request or GradeRequest(), tasks=(check.task,), checks=(check.id,))
    return grade(request, InProcess(impl)).results[check.task].checks[0]
