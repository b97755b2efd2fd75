"""Grade untrusted submissions in isolated child processes.

Student code never runs in the grader's process. For one submission the grader:

- copies only an allow-list of the student's files (``ex<N>_<name>.py``, regular files,
  at most 1 MiB) into a job folder; nothing else the student handed in is seen;
- builds every check's inputs itself (seeded), and starts a child with ``python -I -S``, a
  minimal environment, its own session, and a copy of the grader's public harness as the
  only kit code on its ``sys.path`` (see :mod:`grader.sandbox_child` for namespaces, mounts,
  resource limits and privilege dropping);
- reads back *data* frames (never verdicts), judges each check here, and enforces a
  wall-clock limit per check by killing the child's whole process group;
- when a child dies or times out, scores that check 0 with the reason and starts a new
  child for the checks still pending, so results already obtained are never lost.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import codec
from grader.checks import Check, Context
from grader.data import data_root
from grader.harness import build_harness
from grader.runner import CheckResult, TaskResult, check_inputs, checks_for, judge, summarize
from grader.tasks import MODULES
from grader.textsafe import safe_name

#: the only files of a submission the grader reads: the kit's own exercise modules. A student
#: folder may hold anything else (notes, data, thousands of files): none of it is read.
ALLOWED_NAMES: frozenset[str] = frozenset(f"{module}.py" for module in MODULES)
MAX_FILE_BYTES = 1024 * 1024
#: the one file of a notebook submission: its code cells, a JSON list of [label, source]
NOTEBOOK_FILE = "notebook.cells"
#: wall seconds a child may spend running a notebook's cells before its first check (the
#: course notebook's cells plus one task's checks take 3.5-4.8 s in a warm child, README)
NOTEBOOK_SECONDS = 240.0
#: all of a submission's files together (the reference's six files are 25 KB)
MAX_TOTAL_BYTES = 2 * 1024 * 1024
UID_BASE = 61000

BOOT = """\
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "paths.json")) as fh:
    sys.path[:] = [here] + json.load(fh) + sys.path
from grader.sandbox_child import main, zygote_main
if sys.argv[1] == "--zygote":
    zygote_main()
else:
    main(sys.argv[1], int(sys.argv[2]))
"""


@dataclass
class Limits:
    """Resource limits of one child. CPU seconds count every thread of the child."""

    memory_bytes: int = 6 * 1024**3  # address space; a reference run peaks at ~4 GiB
    #: host memory of the whole child (cgroup memory cap; RLIMIT_DATA in cuda mode without one)
    host_memory_bytes: int = 6 * 1024**3
    file_bytes: int = 16 * 1024**2  # any file written, stdout and stderr included
    open_files: int = 256
    processes: int = 64  # threads count too (torch, OpenMP)
    startup_seconds: float = 90.0  # until the child says hello (imports torch)


@dataclass
class SandboxOptions:
    device: str = "cpu"
    threads: int = 1
    timeout: float | None = None  # wall seconds per check; None: from each check's cost
    namespaces: bool = True
    #: fork children from a process that has already imported torch (much faster)
    zygote: bool = True
    #: the command that starts the zygote; None: the harness's own. Tests point it at a
    #: command that fails, to see grading fall back to plain children (tests/test_zygote.py)
    zygote_command: list[str] | None = None
    #: use a user namespace even as root (how non-root instructors run; for tests)
    force_user_namespace: bool = False
    #: a cgroup per child (CPU quota = ``threads``, memory and process caps) where possible
    cgroups: bool = True
    #: without cgroups: pin each child to ``threads`` CPUs of its own (round robin)
    cpu_affinity: bool = True
    #: cap the address space (RLIMIT_AS); None: on CPU only (CUDA reserves huge mappings)
    address_space_limit: bool | None = None
    #: share of the GPU's memory each child's allocator may take (cuda mode); None: all
    gpu_memory_fraction: float | None = None
    #: extra budgets a check gets when it ran out of wall time starved of CPU (cpuwatch)
    starved_extensions: int = 2
    #: without namespaces, let student code run as root when it cannot drop to a private uid
    unsafe_no_isolation: bool = False
    limits: Limits = field(default_factory=Limits)


class GradingCancelled(Exception):
    """Grading was stopped from outside (Ctrl-C): the submission has no result."""


class IsolationRefused(Exception):
    """The child would have run student code as root: nothing was graded."""


def check_budget(check: Check, options: SandboxOptions) -> float:
    """Wall seconds one check may take in a child."""
    if options.timeout is not None:
        return float(options.timeout)
    return 30.0 + 10.0 * check.cost


def collect_files(folder: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """The allow-listed files of a submission, and the problems of those that are unusable.

    Only the kit's own module names are looked up (never a listing of the folder, which may
    be huge); each file is read up to its cap, and all of them together up to
    ``MAX_TOTAL_BYTES``, so a submission costs the grader a bounded amount of memory.
    """
    files: dict[str, bytes] = {}
    problems: dict[str, str] = {}
    total = 0
    for entry in sorted(ALLOWED_NAMES):
        path = folder / entry
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems[entry] = f"cannot be read ({exc.strerror or exc})"
            continue
        if not stat.S_ISREG(info.st_mode):
            problems[entry] = "not a regular file (a link or a folder)"
            continue
        if info.st_size > MAX_FILE_BYTES:
            problems[entry] = f"larger than {MAX_FILE_BYTES // 1024} KiB"
            continue
        if total + info.st_size > MAX_TOTAL_BYTES:
            problems[entry] = (f"the files together are larger than "
                               f"{MAX_TOTAL_BYTES // 1024} KiB")
            continue
        try:
            # O_NOFOLLOW: a file swapped for a link after the lstat is refused, not followed;
            # one byte more than the cap is read, so a file that grew is caught too.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            problems[entry] = f"cannot be read ({exc.strerror or exc})"
            continue
        if len(data) > MAX_FILE_BYTES:
            problems[entry] = f"larger than {MAX_FILE_BYTES // 1024} KiB"
            continue
        total += len(data)
        files[entry] = data
    return files, problems


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


_SIGNAL_HINTS = {
    "SIGXFSZ": "file-size limit: too much output?",
    "SIGXCPU": "CPU-time limit",
    "SIGKILL": "killed",
    "SIGSEGV": "segmentation fault",
}


def _site_paths() -> list[str]:
    """The interpreter's package folders (never the kit's own folder)."""
    paths = []
    for entry in sys.path:
        parts = Path(entry).parts
        if entry and ("site-packages" in parts or "dist-packages" in parts):
            paths.append(str(Path(entry).resolve()))
    return list(dict.fromkeys(paths))


class Sandbox:
    """Owns a run folder (harness copy + job folders); grades submissions one child at a time."""

    _uid_lock = threading.Lock()
    _uid_next = 0
    _share_lock = threading.Lock()  # cgroup manager, CPU slots, shares waiting for a launch

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
        if self._zygote is not None:
            self._zygote.close()
        if getattr(self, "_cgroups", None) is not None:
            self._cgroups.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _uid(self) -> int:
        with Sandbox._uid_lock:
            Sandbox._uid_next = (Sandbox._uid_next + 1) % 512
            return UID_BASE + (os.getpid() % 64) * 512 + Sandbox._uid_next

    def inputs(self, check: Check, ctx: Context) -> dict[str, Any]:
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
        problems: dict[str, str],
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
        see :mod:`grader.nbgrading.run_cells`), then probes that namespace, for every
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
                        first = lost[check.task]
                        record(index, CheckResult(check.task, check.name, 0, check.points,
                                                  first.status, first.message))
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
                info["children"] += 1
                done = self._run_child(job, files, checks, pending, ctx, record, crashed_modules,
                                       info, notebook)
                pending = [i for i in pending if i not in done]
                if notebook and not info.get("notebook_ran") and done:
                    # The notebook itself did not run to the end (a cell that never ends, a
                    # crash): every check would start it again and end the same way.
                    first = results[max(done)]
                    for index in pending:
                        check = checks[index]
                        record(index, CheckResult(check.task, check.name, 0, check.points,
                                                  first.status, first.message))
                    pending = []
        finally:
            shutil.rmtree(job, ignore_errors=True)
        return summarize([results[i] for i in sorted(results)], ctx.lang)

    def _config(self, job: Path, checks_budget: float) -> dict[str, Any]:
        opts = self.options
        lim = opts.limits
        # With namespaces the child sees only these (and system folders): see _new_root.
        needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), self.harness,
                  data_root().resolve()]
        processes = lim.processes
        if os.geteuid() != 0:
            processes += _count_processes(os.geteuid())
        threads = max(1, int(opts.threads))
        address_space = (opts.device == "cpu" if opts.address_space_limit is None
                         else opts.address_space_limit)
        group, cpus = self._cpu_share(job, threads, processes)
        memory_capped = group is not None and any(x.startswith("memory") for x in group.applied)
        return {
            "needed": [str(p) for p in dict.fromkeys(
                [*needed, *map(Path, _site_paths()), self.harness])],
            "device": opts.device,
            "threads": max(1, int(opts.threads)),
            "namespaces": bool(opts.namespaces and sys.platform.startswith("linux")),
            "force_user_namespace": opts.force_user_namespace,
            "private_dir": str(self.base / "private"),
            "root_dir": str(self.base / "root"),
            "uid": self._uid(),
            "limits": {
                "cpu_seconds": int(checks_budget * max(1, opts.threads) + 60),
                "file_size": lim.file_bytes,
                "open_files": lim.open_files,
                "processes": processes,
                "address_space": lim.memory_bytes if address_space else 0,
                # RLIMIT_AS cannot be used with CUDA (the driver reserves tens of GiB of
                # address space); RLIMIT_DATA counts only private writable memory, which
                # CUDA's reservations are not. A cgroup memory cap is better still (the whole
                # process tree, tmpfs included), so RLIMIT_DATA is only the fallback.
                "data": lim.host_memory_bytes if not address_space and not memory_capped
                else 0,
            },
            "cgroup": None if group is None else {
                "kind": group.kind, "procs": group.procs_files, "limits": group.applied},
            "cpus": cpus,
            "unsafe_no_isolation": bool(opts.unsafe_no_isolation),
            "gpu_memory_fraction": opts.gpu_memory_fraction,
        }

    def _cpu_share(self, job: Path, threads: int, processes: int
                   ) -> tuple[Any, list[int] | None]:
        """This child's cgroup (or None), and its CPUs to pin to when it has none.

        Both are kept for ``job`` until its child is launched (see :meth:`_launch`), which
        hands them to the child object: killing the child also frees them.
        """
        from grader.cgroups import CgroupManager

        with self._share_lock:
            if not hasattr(self, "_cgroups"):
                self._cgroups = CgroupManager() if self.options.cgroups else None
                self._slots: dict[int, int] = {}  # slot -> children using it
        group = None
        if self._cgroups is not None:
            group = self._cgroups.create(threads, self.options.limits.host_memory_bytes,
                                         processes)
        cpus = slot = None
        if group is None and self.options.cpu_affinity and hasattr(os, "sched_getaffinity"):
            allowed = sorted(os.sched_getaffinity(0))
            count = max(1, len(allowed) // threads)
            with self._share_lock:
                slot = min(range(count), key=lambda k: self._slots.get(k, 0))
                self._slots[slot] = self._slots.get(slot, 0) + 1
            cpus = allowed[slot * threads:(slot + 1) * threads] or allowed
        with self._share_lock:
            self._shares = getattr(self, "_shares", {})
            self._shares[str(job)] = (group, slot)
        return group, cpus

    def _release_share(self, share: tuple[Any, int | None]) -> None:
        group, slot = share
        if group is not None:
            group.remove()
        if slot is not None:
            with self._share_lock:
                self._slots[slot] -= 1

    def _meter(self, child: _Child) -> Any:
        """The CPU meter of a running child (see :mod:`grader.cpuwatch`)."""
        from grader.cpuwatch import CpuMeter, process_tree_threads

        group = getattr(child, "share", (None, None))[0]
        threads = max(1, int(self.options.threads))
        if group is not None:
            return CpuMeter(group.threads, group.usage_ns, threads,
                            self.options.starved_extensions)
        return CpuMeter(lambda: process_tree_threads(child.pid), lambda: None, threads,
                        self.options.starved_extensions)

    def _env(self, job: Path) -> dict[str, str]:
        threads = str(max(1, int(self.options.threads)))
        return {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(job),
            "MPLBACKEND": "Agg",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "PRACTICO_DATA": str(data_root().resolve()),
            "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")
            if self.options.device == "cuda" else "",
        }

    def _launch(self, job: Path) -> tuple[_Child, int]:
        """Start a child for ``job``; returns it and the read end of its result channel.

        Children are forked from a zygote that has already imported torch and the harness
        (a fresh interpreter per child spends seconds on imports); if the zygote cannot be
        used, a fresh ``python -I -S`` is started instead.
        """
        zygote = self._get_zygote()
        if zygote is not None:
            fifo = job / "result.fifo"
            fifo.unlink(missing_ok=True)  # a fresh channel for every child of this job
            os.mkfifo(fifo, 0o600)
            read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                child: _Child = zygote.spawn(job)
            except _ZygoteGone:
                os.close(read_fd)
                fifo.unlink()
                self._zygote = None
            else:
                return self._register(self._attach_share(child, job)), read_fd
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        try:
            with open(job / "stdout.txt", "wb") as out, open(job / "stderr.txt", "wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-S", str(self.harness / "boot.py"), str(job),
                     str(write_fd)],
                    pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                    env=self._env(job), cwd=str(job), start_new_session=True,
                )
        finally:
            os.close(write_fd)
        return self._register(self._attach_share(_PopenChild(proc), job)), read_fd

    def _attach_share(self, child: _Child, job: Path) -> _Child:
        """The child owns its cgroup and CPU slot from now on: killing it frees them."""
        with self._share_lock:
            share = getattr(self, "_shares", {}).pop(str(job), (None, None))
        child.share = share
        child.release = lambda: self._release_share(share)
        return child

    def _register(self, child: _Child) -> _Child:
        with self._active_lock:
            self._active.add(child)
            if self._cancelled:
                child.kill()
        return child

    def _get_zygote(self) -> _Zygote | None:
        if not self.options.zygote:
            return None
        with self._zygote_lock:
            if self._zygote is None and not self._zygote_failed:
                cmd = self.options.zygote_command or [
                    sys.executable, "-I", "-S", str(self.harness / "boot.py"), "--zygote"]
                try:
                    self._zygote = _Zygote(cmd, self._env(self.base), self.base,
                                           self.options.limits.startup_seconds)
                except _ZygoteGone:
                    self._zygote_failed = True
            return self._zygote

    def _drop_zygote(self, zygote: _Zygote) -> None:
        """Stop using a zygote that died under a running child: plain children from now on."""
        with self._zygote_lock:
            self._zygote_failed = True
            if self._zygote is zygote:
                self._zygote = None
        zygote.close()

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
                if timeout <= 0 and meter.starved():
                    # kept from running by other load, not slow: the same check goes on
                    info["starved_extensions"] = info.get("starved_extensions", 0) + 1
                    deadline = time.monotonic() + (budgets[current] if current is not None
                                                   else self.options.limits.startup_seconds)
                    continue
                if timeout <= 0:
                    seconds = (budgets[current] if current is not None
                               else self.options.limits.startup_seconds)
                    reason = {"status": "timeout", "seconds": f"{seconds:g}"}
                    break
                try:
                    message = reader.next(timeout)
                except _ProtocolError as exc:
                    reason = {"status": "crashed", "reason": f"protocol violation: {exc}"}
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
                    reason = {"status": "crashed",
                              "reason": f"protocol violation: {_describe_event(message)}"}
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


def _describe_event(message: Any) -> str:
    """What was wrong with a message from the child, in a few safe words (never its data)."""
    if not isinstance(message, dict):
        return f"a {type(message).__name__} instead of an event"
    ev = message.get("ev")
    if not isinstance(ev, str):
        return "an event without a name"
    if ev not in ("hello", "start", "import", "imported", "result", "done"):
        return "an unknown event"
    return f"an unexpected or malformed {ev!r} event"


def _exit_reason(code: int | None, isolation: dict[str, Any]) -> str:
    if code is None:
        return "killed"
    if code < 0 or (isolation.get("namespaces") and code > 128):
        number = -code if code < 0 else code - 128
        name = _signal_name(number)
        hint = _SIGNAL_HINTS.get(name)
        return f"{name}{f', {hint}' if hint else ''}"
    return f"exited early with code {code}"


class _Child:
    """A running child: alive?, kill (its whole process group), exit status."""

    pid: int
    share: tuple[Any, int | None] = (None, None)
    release: Callable[[], None] | None = None

    def _release(self) -> None:
        """After the kill: empty and delete its cgroup, free its CPU slot (once)."""
        release, self.release = self.release, None
        if release is not None:
            release()

    def alive(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def kill(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def returncode(self) -> int | None:  # pragma: no cover - interface
        raise NotImplementedError


class _PopenChild(_Child):
    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.pid = proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._release()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode


class _ZygoteGone(Exception):
    pass


class _ZygoteChild(_Child):
    def __init__(self, zygote: _Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid

    def alive(self) -> bool:
        return self.zygote.returncode(self.pid) is None and self.zygote.running()

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.zygote.wait(self.pid, 30)
        self._release()

    @property
    def returncode(self) -> int | None:
        return self.zygote.returncode(self.pid)


class _Zygote:
    """A trusted process that imported torch and the harness once and forks a child per job.

    Control protocol on its stdin/stdout, one line each: ``spawn <job dir>`` → ``pid <n>``;
    and, whenever a child ends, ``exit <pid> <returncode>``.
    """

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> None:
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(cwd / "zygote.log", "wb"), env=env,
                                     cwd=str(cwd), start_new_session=True)
        self.exits: dict[int, int] = {}
        self.pids: list[int] = []
        self.cond = threading.Condition()
        self.spawn_lock = threading.Lock()
        self.gone = False
        ready = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(timeout) or self.gone:
            self.close()
            raise _ZygoteGone("the zygote did not start")

    def _read(self, ready: threading.Event) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            parts = raw.decode(errors="replace").split()
            with self.cond:
                if parts[:1] == ["ready"]:
                    ready.set()
                elif parts[:1] == ["pid"] and len(parts) == 2:
                    self.pids.append(int(parts[1]))
                elif parts[:1] == ["exit"] and len(parts) == 3:
                    self.exits[int(parts[1])] = int(parts[2])
                self.cond.notify_all()
        with self.cond:
            self.gone = True
            self.cond.notify_all()
        ready.set()

    def running(self) -> bool:
        return not self.gone

    def spawn(self, job: Path) -> _ZygoteChild:
        with self.spawn_lock:
            with self.cond:
                if self.gone:
                    raise _ZygoteGone("the zygote has ended")
                before = len(self.pids)
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(f"spawn {job}\n".encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                raise _ZygoteGone("the zygote has ended") from None
            with self.cond:
                if not self.cond.wait_for(lambda: len(self.pids) > before or self.gone, 30):
                    raise _ZygoteGone("the zygote did not answer")
                if len(self.pids) == before:
                    raise _ZygoteGone("the zygote has ended")
                return _ZygoteChild(self, self.pids[before])

    def returncode(self, pid: int) -> int | None:
        with self.cond:
            return self.exits.get(pid)

    def wait(self, pid: int, timeout: float) -> int | None:
        with self.cond:
            self.cond.wait_for(lambda: pid in self.exits or self.gone, timeout)
            return self.exits.get(pid)

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def _count_processes(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


def _kill_uid(uid: int) -> None:
    """Without a PID namespace: kill whatever still runs as this child's private uid."""
    if os.geteuid() != 0:
        return
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    os.kill(int(entry), signal.SIGKILL)
            except OSError:
                continue


class _ProtocolError(Exception):
    pass


_EOF = object()
_NOTHING = object()
#: Largest frame a child may send. The largest result frame of the reference is 1.72 MB
#: (init_schemes, 2 nets of up to 16 layers; ``bench/frame_sizes.py``); a student's float64
#: weights double that. 16 MiB leaves a margin of 9x over the reference and bounds what one
#: hostile frame costs the grader: with the codec's caps on containers and values, decoding
#: the worst 16 MiB frame measured adds under 100 MB (a 64 MiB frame took 3.8 GB before).
MAX_FRAME = 16 * 1024 * 1024


class _FrameReader:
    """Reads length-prefixed codec frames from a non-blocking pipe or FIFO with a timeout.

    The stream ends at end-of-file, or once the child has exited and the channel is drained
    (a FIFO that the grader itself keeps open for writing never reports end-of-file).
    """

    def __init__(self, fd: int, alive: Callable[[], bool]) -> None:
        self.fd = fd
        self.alive = alive
        self.buffer = bytearray()
        self.eof = False
        self._keepalive: int | None = None
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            try:  # without a writer, a FIFO reads as end-of-file until the child opens it
                self._keepalive = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                self._keepalive = None

    def close(self) -> None:
        for fd in (self.fd, self._keepalive):
            if fd is not None:
                os.close(fd)
        self._keepalive = None

    def _drain(self) -> None:
        # Reads only until one whole frame is buffered: a child that keeps writing cannot
        # make the grader hold more than one frame (plus one chunk) at a time.
        while not self._frame_ready():
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return
            if not chunk:
                self.eof = True
                return
            self.buffer.extend(chunk)
            # Refuse an oversized frame by its header, before reading (and holding) it.
            self._check_header()

    def _check_header(self) -> None:
        if len(self.buffer) >= 4:
            (size,) = struct.unpack(">I", self.buffer[:4])
            if size > MAX_FRAME:
                raise _ProtocolError(f"a frame of {size} bytes (at most {MAX_FRAME} allowed)")

    def _frame_ready(self) -> bool:
        if len(self.buffer) < 4:
            return False
        return len(self.buffer) >= 4 + struct.unpack(">I", self.buffer[:4])[0]

    def _frame(self) -> Any:
        """The next decoded frame, or ``_NOTHING`` while none is complete (a frame may well
        decode to ``None``: that is a malformed event, not the absence of one)."""
        if len(self.buffer) < 4:
            return _NOTHING
        self._check_header()
        (size,) = struct.unpack(">I", self.buffer[:4])
        if len(self.buffer) < 4 + size:
            return _NOTHING
        with memoryview(self.buffer) as view, view[4 : 4 + size] as part:
            payload = bytes(part)  # one copy, not two
        del self.buffer[: 4 + size]
        try:
            return codec.decode(payload)
        except codec.CodecError as exc:
            raise _ProtocolError(str(exc)) from None

    def next(self, timeout: float) -> Any:
        """A decoded frame, ``_NOTHING`` after ``timeout`` seconds without one, or ``_EOF``."""
        end = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is not _NOTHING:
                return frame
            if self.eof:
                if self.buffer:
                    raise _ProtocolError("truncated frame")
                return _EOF
            left = end - time.monotonic()
            if left <= 0:
                return _NOTHING
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if ready:
                self._drain()
            elif not self.alive():
                self._drain()
                if self._frame_ready():
                    continue
                self.eof = True
