"""Run untrusted submissions' probes in isolated child processes: the sandbox runner.

Student code never runs in the grader's process. For one submission (a
:class:`grader.request.GradeRequest`) the sandbox:

- writes only the allow-listed files the grader read (:mod:`grader.submission`) into a job
  folder; nothing else the student handed in is seen;
- gets every check's inputs from the grader (built there, seeded), and starts a child with
  ``python -I -S``, a minimal environment, its own session, and a copy of the grader's public
  harness as the only kit code on its ``sys.path`` (see :mod:`grader.sandbox.child` for
  namespaces, mounts, resource limits and privilege dropping);
- reads back *data* frames (never verdicts) and hands each check's outcome over as it
  arrives (:mod:`grader.grading` judges it while the child runs on), and enforces a
  wall-clock limit per check by killing the child's whole process group;
- when a child dies or times out, that check's outcome says why, and a new child runs the
  checks still pending, so results already obtained are never lost.

It decides no verdict and imports nothing of :mod:`grader.scoring`. Its policies are
outcomes too: one timeout or crash per task (the task's other checks score the same without
running), a module whose import killed a child is not imported again, a notebook that did
not run to its end is not started again.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.request import GradeRequest, Outcome, Run, RunReport
from grader.sandbox.children import kill_uid, site_paths
from grader.sandbox.cpuwatch import extend
from grader.sandbox.limits import NOTEBOOK_SECONDS, SandboxOptions, check_budget
from grader.sandbox.probe_copy import build_harness
from grader.sandbox.session import HELLO, RESULT, START, ChildSession
from grader.sandbox.spawn import BOOT, ChildEnv, Launcher
from grader.sandbox.wire import EOF, NOTHING, FrameReader, ProtocolError
from grader.sandbox.zygote import ZygoteChild
from grader.statuses import LOST, outcome_status
from grader.textsafe import safe_name

if TYPE_CHECKING:
    from grader.checks import Check

__all__ = ["GradingCancelled", "IsolationRefused", "Sandbox", "split_by_module"]

# This module imports nothing that imports torch (~2 s): ``grade`` makes its Sandbox first,
# so the zygote imports torch on one core while this process imports it on the other. The
# wire format (and torch with it) is imported where a child's request is written.


class GradingCancelled(Exception):
    """Grading was stopped from outside (Ctrl-C): the submission has no result."""


class IsolationRefused(Exception):
    """The child would have run student code as root: nothing was graded."""


class Sandbox:
    """Owns a run folder (harness copy + job folders) and the :class:`Launcher` of its
    children; runs one submission's probes after another (a :class:`grader.request.Runner`)."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.base = Path(tempfile.mkdtemp(prefix="practico-sandbox-"))
        os.chmod(self.base, 0o755)
        self.harness = self.base / "harness"
        build_harness(self.harness)  # probe side only: no verdict or oracle in the child
        (self.harness / "boot.py").write_text(BOOT)
        (self.harness / "paths.json").write_text(json.dumps(site_paths()))
        for folder in (self.base / "jobs", self.base / "private", self.base / "root"):
            folder.mkdir()
            os.chmod(folder, 0o755)
        self.launcher = Launcher(self.options, self.base, self.harness)

    # ---------------------------------------------------------------- lifecycle
    def kill_all(self) -> None:
        """Kill every running child (on Ctrl-C): nothing is left behind, and the submissions
        being graded raise :class:`GradingCancelled` instead of reporting a crash."""
        self.launcher.kill_all()

    def close(self) -> None:
        self.launcher.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def start_zygote(self, device: str = "cpu", threads: int = 1) -> None:
        """Start the zygote for children of ``device`` and ``threads`` now, in the
        background: it imports torch and the harness (seconds) while the caller goes on
        (``grade`` imports the checks and builds inputs meanwhile). Grading starts it anyway;
        calling this first only saves time."""
        self.launcher.start_zygote(ChildEnv(device, max(1, int(threads))))

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ running
    def run(self, request: GradeRequest, checks: Sequence[Check],
            inputs: Callable[[Check], dict[str, Any]]) -> Run:
        """Run ``checks`` on ``request``'s submission; every check gets an outcome, whatever
        the code does. ``inputs(check)`` gives the inputs the grader built for it."""
        if request.submission is None:
            raise ValueError("the sandbox grades a request's submission: the request has none")
        report = RunReport(isolated=True)
        return Run(self._outcomes(request, list(checks), inputs, report), report)

    def _outcomes(self, request: GradeRequest, checks: list[Check],
                  inputs: Callable[[Check], dict[str, Any]], report: RunReport
                  ) -> Iterator[Outcome]:
        sub = request.submission
        assert sub is not None
        pending: list[int] = []
        for index, check in enumerate(checks):
            name = f"{check.module}.py"
            if sub.notebook:  # one namespace serves every module
                pending.append(index)
            elif name in sub.problems:
                yield Outcome(index, {"status": "unreadable_file", "module": check.module,
                                      "reason": sub.problems[name]})
            elif name not in sub.files:  # nothing to run: no child needed
                yield Outcome(index, {"status": "missing_file", "module": check.module,
                                      "folder": safe_name(sub.label)})
            else:
                pending.append(index)
        groups = [pending] if sub.notebook else split_by_module(checks, pending,
                                                                self.options.children)
        lock = threading.Lock()  # the report's counters: every group's children add to them
        runs = [self._group(request, checks, group, inputs, report, lock)
                for group in groups if group]
        if len(runs) == 1:
            with closing(runs[0]) as run:
                yield from run
        elif runs:
            yield from self._merged(runs)

    def _merged(self, runs: list[Iterator[Outcome]]) -> Iterator[Outcome]:
        """The outcomes of several groups, as they come: each group runs in a thread of its
        own and waits while its outcome is judged (its child runs on, and the time is given
        back to its deadline, as with one group). Each group is whole modules (so whole
        tasks): a crash, a timeout or a module that cannot be imported is handled inside its
        group exactly as in one child. A group's error is raised once all have ended."""
        arrived: queue.Queue[tuple[int, Outcome | None]] = queue.Queue()
        resume = [threading.Event() for _ in runs]
        stop = threading.Event()
        errors: dict[int, BaseException] = {}

        def drive(k: int, run: Iterator[Outcome]) -> None:
            try:
                with closing(run):  # type: ignore[type-var]
                    for outcome in run:
                        arrived.put((k, outcome))
                        resume[k].wait()
                        resume[k].clear()
                        if stop.is_set():
                            break
            except BaseException as exc:  # GradingCancelled or a grader bug, as with one group
                errors[k] = exc
            finally:
                arrived.put((k, None))

        threads = [threading.Thread(target=drive, args=(k, run), name="grade-group",
                                    daemon=True) for k, run in enumerate(runs)]
        for thread in threads:
            thread.start()
        active = len(runs)
        try:
            while active:
                k, outcome = arrived.get()
                if outcome is None:
                    active -= 1
                    continue
                try:
                    yield outcome
                finally:
                    resume[k].set()
        except BaseException:
            self.kill_all()  # Ctrl-C while waiting: every group's child stops now
            raise
        finally:
            stop.set()
            for event in resume:
                event.set()
            for thread in threads:
                thread.join()
        for k in range(len(runs)):
            if k in errors:
                raise errors[k]

    def _group(self, request: GradeRequest, checks: list[Check], pending: list[int],
               inputs: Callable[[Check], dict[str, Any]], report: RunReport,
               lock: threading.Lock) -> Iterator[Outcome]:
        """Children, one after the other, until every check of ``pending`` has an outcome."""
        sub = request.submission
        assert sub is not None
        job = Path(tempfile.mkdtemp(prefix="job-", dir=self.base / "jobs"))
        try:
            folder = job / "sub"
            folder.mkdir()
            for name, data in sub.files.items():
                (folder / name).write_bytes(data)
            crashed_modules: dict[str, dict[str, Any]] = {}
            lost: dict[str, int] = {}  # task -> its first check lost to a timeout or crash

            def noted(outcome: Outcome) -> Outcome:
                task = checks[outcome.index].task
                if outcome.same_as is not None:
                    lost.setdefault(task, outcome.same_as)
                elif outcome_status(outcome.data) in LOST:
                    lost.setdefault(task, outcome.index)
                return outcome

            pending = list(pending)
            while pending:
                for index in list(pending):
                    check = checks[index]
                    if check.module in crashed_modules:
                        # A module whose import killed a child kills every child: no retry.
                        outcome = Outcome(index, {"status": "crashed",
                                                  "reason": crashed_modules[check.module]})
                    elif check.task in lost:
                        # One timeout or crash per task at most: grading time stays bounded
                        # however many checks call the same endless or fatal function.
                        outcome = Outcome(index, same_as=lost[check.task])
                    else:
                        continue
                    pending.remove(index)
                    yield noted(outcome)
                if not pending:
                    break
                if self.launcher.cancelled:
                    raise GradingCancelled(str(Path(sub.label)))
                with lock:  # the submission's other groups count here too
                    report.children += 1
                done: set[int] = set()
                with closing(self._run_child(job, request, checks, pending, inputs, report,
                                             lock, crashed_modules)) as child_run:
                    for outcome in child_run:
                        done.add(outcome.index)
                        yield noted(outcome)
                pending = [i for i in pending if i not in done]
                if sub.notebook and not report.notebook_ran and done:
                    # The notebook itself did not run to the end (a cell that never ends, a
                    # crash): every check would start it again and end the same way.
                    first = max(done)
                    for index in pending:
                        yield noted(Outcome(index, same_as=first))
                    pending = []
        finally:
            shutil.rmtree(job, ignore_errors=True)

    def _run_child(self, job: Path, request: GradeRequest, checks: list[Check],
                   pending: list[int], inputs: Callable[[Check], dict[str, Any]],
                   report: RunReport, lock: threading.Lock,
                   crashed_modules: dict[str, dict[str, Any]]) -> Iterator[Outcome]:
        """One child over the pending checks: an outcome for each check that got a result,
        and one for the check blamed when the child stopped early."""
        from grader import codec

        sub = request.submission
        assert sub is not None
        env = ChildEnv(request.device, request.threads)
        self.launcher.start_zygote(env)
        budgets = [check_budget(checks[i], request.timeout) for i in pending]
        startup = self.options.limits.startup_seconds
        # A notebook runs all its cells before the first check: that has its own budget.
        prelude = NOTEBOOK_SECONDS if sub.notebook else 0.0
        config = self.launcher.config(job, sum(budgets) + prelude + startup, env)
        child_request = {
            "config": config,
            "files": sorted(sub.files),
            "notebook": sub.notebook,
            "checks": [{"id": checks[i].id, "inp": inputs(checks[i])} for i in pending],
        }
        if sub.notebook:
            report.notebook_ran = False  # until the first check starts: the cells ran
        (job / "request.bin").write_bytes(codec.encode(child_request))
        if os.geteuid() == 0:
            os.chown(job, config["uid"], config["uid"])
        child, read_fd = self.launcher.launch(job, env)
        meter = self.launcher.meter(child, request.threads)
        reader = FrameReader(read_fd, child.alive)
        session = ChildSession(
            budgets, startup, prelude, time.monotonic,
            # kept from running by other load, not slow: the same check gets more time (the
            # submission's other groups count against the same allowance)
            lambda budget: extend(meter, budget, report.extensions, lock,
                                  self.options.starved_seconds))
        try:
            while not session.stopped:
                wait = session.wait()
                if wait is None:
                    break
                try:
                    message = reader.next(wait)
                except ProtocolError as exc:
                    session.broken(exc.reason)
                    break
                if message is NOTHING:  # a slice of the wait elapsed: the deadline is rechecked
                    continue
                if message is EOF:
                    session.closed()
                    break
                decision = session.feed(message)
                if decision.kind == HELLO:
                    report.isolation = decision.isolation or {}
                    meter.mark()
                elif decision.kind == START:
                    if sub.notebook:
                        report.notebook_ran = True
                    meter.mark()
                elif decision.kind == RESULT:
                    assert decision.position is not None
                    judging = time.monotonic()
                    yield Outcome(pending[decision.position], decision.outcome)
                    session.judged(time.monotonic() - judging)
        finally:
            child.kill()
            reader.close()
            self.launcher.forget(child)
            if not report.isolation.get("namespaces"):
                kill_uid(config["uid"])
        if self.launcher.cancelled:
            raise GradingCancelled(str(job))
        _raise_if_refused(report.isolation)
        ending = session.end(child.returncode, report.isolation, child.zygote_gone())
        if ending.zygote_lost and isinstance(child, ZygoteChild):
            # The unfinished checks go to another child, a plain one: this sandbox uses no
            # zygote again, so a zygote that keeps dying cannot loop.
            self.launcher.drop_zygote(child.zygote)
            report.zygote_lost = True
            return
        if ending.blamed is not None:
            assert ending.reason is not None
            if ending.crashed_module is not None:
                crashed_modules[ending.crashed_module] = ending.reason["reason"]
            yield Outcome(pending[ending.blamed], ending.reason)


def split_by_module(checks: Sequence[Check], pending: list[int], children: int
                    ) -> list[list[int]]:
    """``pending`` (indices into ``checks``) in at most ``children`` groups of whole modules.

    Modules go, costliest first, to the group with the least cost so far (``Check.cost``:
    the MNIST runs dominate); each group keeps the checks' own order. Whole modules, so
    whole tasks: a module's import crash and a task's first timeout stay in one child.
    """
    cost: dict[str, float] = {}
    for index in pending:
        cost[checks[index].module] = cost.get(checks[index].module, 0.0) + checks[index].cost
    count = max(1, min(int(children), len(cost)))
    loads = [0.0] * count
    where: dict[str, int] = {}
    for module in sorted(cost, key=lambda m: (-cost[m], m)):
        group = min(range(count), key=lambda g: (loads[g], g))
        where[module] = group
        loads[group] += cost[module]
    groups = [[i for i in pending if where[checks[i].module] == g] for g in range(count)]
    return [group for group in groups if group] or [pending]


def _raise_if_refused(isolation: dict[str, Any]) -> None:
    """The child stopped before student code because it would have run as root."""
    refused = isolation.get("refused")
    if refused:
        raise IsolationRefused(
            f"student code would run as root: {str(refused)[:300]}. Run the grader as an "
            "ordinary user, or where Linux namespaces work, or keep the Python installation, "
            "the kit and MNIST out of folders closed to other users; or, for trusted code "
            "only, pass --unsafe-no-isolation")
