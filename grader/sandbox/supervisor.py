"""Grade untrusted submissions in isolated child processes.

Student code never runs in the grader's process. For one submission the grader:

- copies only an allow-list of the student's files (``ex<N>_<name>.py``, regular files,
  at most 1 MiB) into a job folder; nothing else the student handed in is seen;
- builds every check's inputs itself (seeded), and starts a child with ``python -I -S``, a
  minimal environment, its own session, and a copy of the grader's public harness as the
  only kit code on its ``sys.path`` (see :mod:`grader.sandbox.child` for namespaces, mounts,
  resource limits and privilege dropping);
- reads back *data* frames (never verdicts), judges each check here, and enforces a
  wall-clock limit per check by killing the child's whole process group;
- when a child dies or times out, scores that check 0 with the reason and starts a new
  child for the checks still pending, so results already obtained are never lost.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.sandbox.cpuwatch import extend
from grader.sandbox.limits import NOTEBOOK_SECONDS, SandboxOptions, check_budget
from grader.sandbox.probe_copy import build_harness
from grader.sandbox.spawn import (
    BOOT,
    ChildLauncher,
    _Child,
    _kill_uid,
    _site_paths,
    _Zygote,
    _ZygoteChild,
)
from grader.sandbox.wire import _EOF, _NOTHING, _FrameReader, _ProtocolError
from grader.submission import NOTEBOOK_FILE, collect_files
from grader.textsafe import safe_name

if TYPE_CHECKING:
    from grader.checks import Check, Context
    from grader.scoring import CheckResult, TaskResult

# This module imports nothing that imports torch (~2 s): ``grade`` makes its Sandbox first,
# so the zygote imports torch on one core while this process imports it on the other. The
# methods import the checks, the scoring and the wire format where they use them.


class GradingCancelled(Exception):
    """Grading was stopped from outside (Ctrl-C): the submission has no result."""


class IsolationRefused(Exception):
    """The child would have run student code as root: nothing was graded."""






#: signals whose reason says more than the name (message keys ``reason_<NAME>``)
_EXPLAINED_SIGNALS = frozenset({"SIGXFSZ", "SIGXCPU", "SIGKILL", "SIGSEGV"})



class Sandbox(ChildLauncher):
    """Owns a run folder (harness copy + job folders); grades submissions one child at a time."""


    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.base = Path(tempfile.mkdtemp(prefix="practico-sandbox-"))
        os.chmod(self.base, 0o755)
        self.harness = self.base / "harness"
        build_harness(self.harness)  # probe side only: no verdict or oracle in the child
        (self.harness / "boot.py").write_text(BOOT)
        (self.harness / "paths.json").write_text(json.dumps(_site_paths()))
        for folder in (self.base / "jobs", self.base / "private", self.base / "root"):
            folder.mkdir()
            os.chmod(folder, 0o755)
        self._inputs: dict[tuple[str, int], dict[str, Any]] = {}
        self._inputs_lock = threading.Lock()
        self._active: set[_Child] = set()
        self._active_lock = threading.Lock()
        self._cancelled = False
        self._zygote: _Zygote | None = None
        self._zygote_failed = False
        self._zygote_lock = threading.Lock()
        self._info_lock = threading.Lock()  # ``info`` of a submission graded by several children

    # ---------------------------------------------------------------- lifecycle
    def kill_all(self) -> None:
        """Kill every running child (on Ctrl-C): nothing is left behind, and the submissions
        being graded raise :class:`GradingCancelled` instead of reporting a crash."""
        with self._active_lock:
            self._cancelled = True
            active = list(self._active)
        for child in active:
            child.kill()

    def close(self) -> None:
        self.kill_all()
        with self._zygote_lock:  # waits for a zygote still starting (see _prestart_zygote)
            zygote, self._zygote, self._zygote_failed = self._zygote, None, True
        if zygote is not None:
            zygote.close()
        if getattr(self, "_cgroups", None) is not None:
            self._cgroups.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def start_zygote(self) -> None:
        """Start the zygote now, in the background: it imports torch and the harness (seconds)
        while the caller goes on (``grade`` imports the checks and builds inputs meanwhile).
        Grading starts it anyway; calling this first only saves time."""
        self._prestart_zygote()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def inputs(self, check: Check, ctx: Context) -> dict[str, Any]:
        from grader.scoring import check_inputs

        key = (check.id, ctx.variant)
        with self._inputs_lock:
            if key not in self._inputs:
                self._inputs[key] = check_inputs(check, ctx)
            return self._inputs[key]

    # ---------------------------------------------------------------- grading
    def grade(
        self,
        submission: str | Path,
        ctx: Context | None = None,
        task_ids: Iterable[str] | None = None,
        on_check: Callable[[CheckResult], None] | None = None,
        info: dict[str, Any] | None = None,
    ) -> dict[str, TaskResult]:
        """Grade one submission folder; every check gets a result, whatever the code does.

        ``info``, when given, receives ``isolation`` (what the last child applied),
        ``children`` (how many children it took) and, when the zygote died while one of its
        children ran, ``zygote_lost`` (that child's unfinished checks ran again in another).
        """
        folder = Path(submission)
        files, problems = collect_files(folder)
        return self._grade(files, problems, folder, ctx, task_ids, on_check, info)

    def grade_files(
        self,
        files: dict[str, bytes],
        problems: dict[str, dict[str, Any]],
        folder: Path,
        ctx: Context | None = None,
        task_ids: Iterable[str] | None = None,
        info: dict[str, Any] | None = None,
    ) -> dict[str, TaskResult]:
        """:meth:`grade` for files already read by :func:`collect_files` on another machine
        (``autograde`` on a cluster); ``folder`` only names the submission in messages."""
        return self._grade(files, problems, folder, ctx, task_ids, None, info)

    def grade_notebook(
        self,
        cells: list[tuple[str, str]],
        ctx: Context | None = None,
        task_ids: Iterable[str] | None = None,
        on_check: Callable[[CheckResult], None] | None = None,
        info: dict[str, Any] | None = None,
        skip_checks: Iterable[str] = (),
    ) -> dict[str, TaskResult]:
        """Grade a notebook's code: ``cells`` are ``(label, python source)`` in order.

        The child runs the cells one after the other in one namespace (as a kernel would,
        see :mod:`grader.sandbox.run_cells`), then probes that namespace, for every
        module of every task. Same isolation, limits and verdicts as :meth:`grade`.
        """
        payload = json.dumps([[str(label), str(source)] for label, source in cells]).encode()
        return self._grade({NOTEBOOK_FILE: payload}, {}, Path("notebook"), ctx, task_ids,
                           on_check, info, notebook=True, skip_checks=skip_checks)

    def _grade(
        self,
        files: dict[str, bytes],
        problems: dict[str, str],
        folder: Path,
        ctx: Context | None,
        task_ids: Iterable[str] | None,
        on_check: Callable[[CheckResult], None] | None,
        info: dict[str, Any] | None,
        notebook: bool = False,
        skip_checks: Iterable[str] = (),
    ) -> dict[str, TaskResult]:
        from grader.checks import Context
        from grader.scoring import checks_for, judge, summarize

        info = {} if info is None else info
        info.setdefault("children", 0)
        ctx = ctx or Context(device=self.options.device)
        skip = set(skip_checks)
        checks = [c for c in checks_for(task_ids) if c.name not in skip]
        results: dict[int, CheckResult] = {}

        lost: dict[str, CheckResult] = {}  # first timeout or crash of each task

        def record(index: int, result: CheckResult) -> None:
            results[index] = result
            if result.status in ("timeout", "crashed"):
                lost.setdefault(result.task, result)
            if on_check is not None:
                on_check(result)

        pending: list[int] = []
        for index, check in enumerate(checks):
            name = f"{check.module}.py"
            if notebook:  # one namespace serves every module
                pending.append(index)
            elif name in problems:
                outcome = {"status": "unreadable_file", "module": check.module,
                           "reason": problems[name]}
                record(index, judge(check, {}, outcome, ctx))
            elif name not in files:  # nothing to run: no child needed
                outcome = {"status": "missing_file", "module": check.module,
                           "folder": safe_name(str(folder))}
                record(index, judge(check, {}, outcome, ctx))
            else:
                pending.append(index)
        groups = [pending] if notebook else split_by_module(checks, pending,
                                                            self.options.children)
        record_lock = threading.Lock()  # ``results``, ``lost`` and ``on_check``: every group's

        def locked_record(index: int, result: CheckResult) -> None:
            with record_lock:
                record(index, result)

        def run_group(group: list[int]) -> None:
            self._grade_group(files, folder, checks, group, ctx, locked_record, lost, info,
                              notebook, results)

        if len(groups) == 1:
            run_group(groups[0])
        else:
            # Each group is whole modules (so whole tasks): a crash, a timeout or a module
            # that cannot be imported is handled inside its group exactly as in one child.
            pool = ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="grade-group")
            try:
                futures = [pool.submit(run_group, group) for group in groups]
                wait(futures)
            except BaseException:
                self.kill_all()  # Ctrl-C while waiting: every group's child stops now
                raise
            finally:
                pool.shutdown(wait=True)
            for future in futures:
                future.result()  # GradingCancelled or a grader bug, as with one child
        return summarize([results[i] for i in sorted(results)], ctx.lang)

    def _grade_group(
        self,
        files: dict[str, bytes],
        folder: Path,
        checks: list[Check],
        pending: list[int],
        ctx: Context,
        record: Callable[[int, CheckResult], None],
        lost: dict[str, CheckResult],
        info: dict[str, Any],
        notebook: bool,
        results: dict[int, CheckResult],
    ) -> None:
        """Children, one after the other, until every check of ``pending`` has a result."""
        from grader.scoring import judge

        job = Path(tempfile.mkdtemp(prefix="job-", dir=self.base / "jobs"))
        try:
            sub = job / "sub"
            sub.mkdir()
            for name, data in files.items():
                (sub / name).write_bytes(data)
            crashed_modules: dict[str, str] = {}
            while pending:
                for index in list(pending):
                    check = checks[index]
                    if check.module in crashed_modules:
                        # A module whose import killed a child kills every child: no retry.
                        outcome = {"status": "crashed", "reason": crashed_modules[check.module]}
                    elif check.task in lost:
                        # One timeout or crash per task at most: grading time stays bounded
                        # however many checks call the same endless or fatal function.
                        record(index, _lost_as(check, lost[check.task]))
                        pending.remove(index)
                        continue
                    else:
                        continue
                    record(index, judge(check, {}, outcome, ctx))
                    pending.remove(index)
                if not pending:
                    break
                if self._cancelled:
                    raise GradingCancelled(str(folder))
                with self._info_lock:  # the submission's other groups count here too
                    info["children"] += 1
                done = self._run_child(job, files, checks, pending, ctx, record, crashed_modules,
                                       info, notebook)
                pending = [i for i in pending if i not in done]
                if notebook and not info.get("notebook_ran") and done:
                    # The notebook itself did not run to the end (a cell that never ends, a
                    # crash): every check would start it again and end the same way.
                    first = results[max(done)]
                    for index in pending:
                        record(index, _lost_as(checks[index], first))
                    pending = []
        finally:
            shutil.rmtree(job, ignore_errors=True)

    def _run_child(
        self,
        job: Path,
        files: dict[str, bytes],
        checks: list[Check],
        pending: list[int],
        ctx: Context,
        record: Callable[[int, CheckResult], None],
        crashed_modules: dict[str, str],
        info: dict[str, Any],
        notebook: bool = False,
    ) -> set[int]:
        """One child over the pending checks. Returns the indices that got a result."""
        from grader import codec
        from grader.scoring import judge

        self._prestart_zygote()
        budgets = [check_budget(checks[i], self.options) for i in pending]
        # A notebook runs all its cells before the first check: that has its own budget.
        prelude = NOTEBOOK_SECONDS if notebook else 0.0
        config = self._config(job, sum(budgets) + prelude + self.options.limits.startup_seconds)
        request = {
            "config": config,
            "files": sorted(files),
            "notebook": notebook,
            "checks": [{"id": checks[i].id, "inp": self.inputs(checks[i], ctx)} for i in pending],
        }
        if notebook:
            info["notebook_ran"] = False  # until the first check starts: the cells ran
        (job / "request.bin").write_bytes(codec.encode(request))
        if os.geteuid() == 0:
            os.chown(job, config["uid"], config["uid"])
        finished: set[int] = set()
        current: int | None = None  # position in ``pending`` of the running check
        importing: str | None = None
        reason: dict[str, Any] | None = None
        child, read_fd = self._launch(job)
        meter = self._meter(child)
        reader = _FrameReader(read_fd, child.alive)
        deadline = time.monotonic() + self.options.limits.startup_seconds
        said_hello = False
        try:
            while True:
                timeout = deadline - time.monotonic()
                if timeout <= 0 and (extra := extend(
                        meter, budgets[current] if current is not None
                        else self.options.limits.startup_seconds, info, self._info_lock,
                        self.options.starved_seconds)):
                    # kept from running by other load, not slow: the same check goes on
                    # (the submission's other groups count against the same allowance)
                    deadline = time.monotonic() + extra
                    continue
                if timeout <= 0:
                    seconds = (budgets[current] if current is not None
                               else self.options.limits.startup_seconds)
                    reason = {"status": "timeout", "seconds": f"{seconds:g}"}
                    break
                try:
                    message = reader.next(timeout)
                except _ProtocolError as exc:
                    reason = {"status": "crashed", "reason": exc.reason}
                    break
                if message is _NOTHING:  # timeout slice elapsed; loop re-checks the deadline
                    continue
                if message is _EOF:
                    reason = None
                    break
                ev = message.get("ev") if isinstance(message, dict) else None
                if ev == "hello" and not said_hello:
                    said_hello = True
                    isolation = message.get("isolation")
                    info["isolation"] = isolation if isinstance(isolation, dict) else {}
                    deadline = time.monotonic() + prelude + (budgets[0] if budgets else 1)
                    meter.mark()
                elif ev == "start" and said_hello and _is_index(
                        message.get("i"), 0 if current is None else current + 1, len(pending)):
                    current = message["i"]
                    if notebook:
                        info["notebook_ran"] = True
                    importing = None
                    deadline = time.monotonic() + budgets[current]
                    meter.mark()
                elif ev == "import" and current is not None and isinstance(
                        message.get("module"), str):
                    importing = message["module"][:100]
                elif ev == "imported" and current is not None:
                    importing = None
                elif ev == "result" and current is not None and current not in finished \
                        and _is_index(message.get("i"), current, len(pending)):
                    index = pending[current]
                    outcome = message.get("outcome")
                    # The child runs on while its result is judged here: the time spent
                    # judging is given back to its deadline, so a slow verdict never
                    # turns the next check into a timeout.
                    judging = time.monotonic()
                    record(index, judge(checks[index], self.inputs(checks[index], ctx),
                                        outcome if isinstance(outcome, dict) else {}, ctx))
                    deadline += time.monotonic() - judging
                    finished.add(current)
                    importing = None
                elif ev == "done" and current is not None and len(finished) == len(pending):
                    reason = None
                    break
                else:
                    reason = {"status": "crashed", "reason": _describe_event(message)}
                    break
        finally:
            child.kill()
            reader.close()
            with self._active_lock:
                self._active.discard(child)
            if not info.get("isolation", {}).get("namespaces"):
                _kill_uid(config["uid"])
        if self._cancelled:
            raise GradingCancelled(str(job))
        _raise_if_refused(info)
        code = child.returncode
        if current is None and not said_hello:
            current_index = None
        else:
            current_index = current
        if (reason is None and code is None and isinstance(child, _ZygoteChild)
                and not child.zygote.running()
                and (current_index is None or current_index not in finished)):
            # The zygote died while its child ran (killed from outside, out of memory): the
            # channel closed, and how the child ended is unknown, so nothing is blamed on the
            # submission. The unfinished checks go to another child, a plain one: this sandbox
            # uses no zygote again, so a zygote that keeps dying cannot loop.
            self._drop_zygote(child.zygote)
            info["zygote_lost"] = True
            return {pending[i] for i in finished}
        if reason is None and (current_index is None or current_index not in finished):
            reason = {"status": "crashed",
                      "reason": _exit_reason(code, info.get("isolation", {}))}
        done = {pending[i] for i in finished}
        if reason is not None:
            # Blame the check that was running; if none started, the first pending one.
            position = current_index if current_index is not None else 0
            if position in finished:
                position += 1
            if position < len(pending):
                index = pending[position]
                if reason["status"] == "crashed" and importing:
                    crashed_modules[importing] = reason["reason"]
                record(index, judge(checks[index], {}, reason, ctx))
                done.add(index)
        return done


def _lost_as(check: Check, first: CheckResult) -> CheckResult:
    """``check`` scored 0 for the reason ``first`` was lost (a timeout or crash of the same
    task, or a notebook that never ran to its end): it is not run again."""
    from grader.scoring import CheckResult

    return CheckResult(check.task, check.name, 0, check.points, first.status, first.message,
                       first.key, dict(first.values))


def split_by_module(checks: list[Check], pending: list[int], children: int) -> list[list[int]]:
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


def _raise_if_refused(info: dict[str, Any]) -> None:
    """The child stopped before student code because it would have run as root."""
    refused = info.get("isolation", {}).get("refused")
    if refused:
        raise IsolationRefused(
            f"student code would run as root: {str(refused)[:300]}. Run the grader as an "
            "ordinary user, or where Linux namespaces work, or keep the Python installation, "
            "the kit and MNIST out of folders closed to other users; or, for trusted code "
            "only, pass --unsafe-no-isolation")


def _is_index(value: Any, expected: int, count: int) -> bool:
    """A check index from the child: exactly an int (not a bool, not a float), the one
    expected next, and one of the checks this child was given."""
    return type(value) is int and value == expected and 0 <= value < count


def _describe_event(message: Any) -> dict[str, Any]:
    """What was wrong with a message from the child, as a reason (never its data)."""
    if not isinstance(message, dict):
        return {"key": "reason_event_not_dict", "type": type(message).__name__}
    ev = message.get("ev")
    if not isinstance(ev, str):
        return {"key": "reason_event_unnamed"}
    if ev not in ("hello", "start", "import", "imported", "result", "done"):
        return {"key": "reason_event_unknown"}
    return {"key": "reason_event_malformed", "ev": ev}


def _exit_reason(code: int | None, isolation: dict[str, Any]) -> dict[str, Any]:
    """How the child ended, as a reason: a message key and its values."""
    if code is None:
        return {"key": "reason_killed"}
    if code < 0 or (isolation.get("namespaces") and code > 128):
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            return {"key": "reason_signal", "signal": str(number)}
        key = f"reason_{name}" if name in _EXPLAINED_SIGNALS else "reason_signal"
        return {"key": key, "signal": name}
    return {"key": "reason_exit_code", "code": code}




