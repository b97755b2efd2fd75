"""Starting grading children: from a zygote that has imported torch, or as fresh interpreters.

:class:`ChildLauncher` is the part of :class:`grader.sandbox.supervisor.Sandbox` that
prepares a child (its configuration, environment, cgroup or CPUs, private uid) and starts
it; the ``_Child`` classes are what the supervisor holds while a child runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader import settings

UID_BASE = 61000


BOOT = """\
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "paths.json")) as fh:
    sys.path[:] = [here] + json.load(fh) + sys.path
from grader.sandbox.child import main, zygote_main
if sys.argv[1] == "--zygote":
    zygote_main()
else:
    main(sys.argv[1], int(sys.argv[2]))
"""


def _site_paths() -> list[str]:
    """The interpreter's package folders (never the kit's own folder)."""
    paths = []
    for entry in sys.path:
        parts = Path(entry).parts
        if entry and ("site-packages" in parts or "dist-packages" in parts):
            paths.append(str(Path(entry).resolve()))
    return list(dict.fromkeys(paths))


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


def _slot_cpus(slot: int, threads: int) -> list[int]:
    """The CPUs of one CPU slot (``threads`` of the grader's own, round robin by slot)."""
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[slot * threads:(slot + 1) * threads] or allowed


class ChildLauncher:
    """Prepares and starts children; mixed into :class:`grader.sandbox.supervisor.Sandbox`,
    whose ``__init__`` sets ``options``, ``base``, ``harness`` and the zygote fields."""

    _uid_lock = threading.Lock()
    _uid_next = 0
    _share_lock = threading.Lock()  # cgroup manager, CPU slots, shares waiting for a launch

    def _uid(self) -> int:
        with ChildLauncher._uid_lock:
            ChildLauncher._uid_next = (ChildLauncher._uid_next + 1) % 512
            # nbgrader-autograde --jobs N gives each of its processes a slot of its own
            # (grader/nbgrading/parallel.py); pids of concurrent processes may share pid % 64.
            slot = settings.uid_slot()
            block = slot % 64 if slot is not None else os.getpid() % 64
            return UID_BASE + block * 512 + ChildLauncher._uid_next


    def _config(self, job: Path, checks_budget: float) -> dict[str, Any]:
        opts = self.options
        lim = opts.limits
        # With namespaces the child sees only these (and system folders): see _new_root.
        needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), self.harness,
                  settings.data_folder().resolve()]
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
        from grader.sandbox.cgroups import CgroupManager

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
            count = max(1, len(os.sched_getaffinity(0)) // threads)
            with self._share_lock:
                slot = min(range(count), key=lambda k: self._slots.get(k, 0))
                self._slots[slot] = self._slots.get(slot, 0) + 1
            cpus = _slot_cpus(slot, threads)
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
        """The CPU meter of a running child (see :mod:`grader.sandbox.cpuwatch`): its
        counters from its cgroup, or from its process tree; the free CPU of the CPUs it may
        run on (the grader's, or its own when it was pinned to CPUs of its own)."""
        from grader.sandbox.cpuload import FreeCpu, own_quota
        from grader.sandbox.cpuwatch import CpuMeter, ProcessTree

        group, slot = getattr(child, "share", (None, None))
        threads = max(1, int(self.options.threads))
        if slot is not None:
            allowed = _slot_cpus(slot, threads)
        elif hasattr(os, "sched_getaffinity"):
            allowed = os.sched_getaffinity(0)
        else:  # no affinity (macOS), and no /proc/stat either: the meter grants nothing
            allowed = set(range(os.cpu_count() or 1))
        free = FreeCpu(allowed, quota=own_quota())
        if group is not None:
            return CpuMeter(group.threads, group.usage_ns, threads,
                            self.options.starved_extensions, free=free)
        tree = ProcessTree(child.pid)
        return CpuMeter(tree.threads, tree.usage_ns, threads, self.options.starved_extensions,
                        free=free)

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
            "PRACTICO_DATA": str(settings.data_folder().resolve()),
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

    def _prestart_zygote(self) -> None:
        """Start the zygote in the background, so it imports torch while this process builds
        the checks' inputs (both take seconds; ``_launch`` then waits for it if need be)."""
        if self.options.zygote and self._zygote is None and not self._zygote_failed:
            threading.Thread(target=self._get_zygote, name="zygote-start", daemon=True).start()

    def _drop_zygote(self, zygote: _Zygote) -> None:
        """Stop using a zygote that died under a running child: plain children from now on."""
        with self._zygote_lock:
            self._zygote_failed = True
            if self._zygote is zygote:
                self._zygote = None
        zygote.close()
