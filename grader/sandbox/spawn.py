"""Starting grading children: from a zygote that has imported torch, or as fresh interpreters.

A :class:`Launcher` is owned by a :class:`grader.sandbox.supervisor.Sandbox`: it prepares a
child (its configuration, environment, cgroup or CPUs, private uid), starts it, keeps the
running ones so that Ctrl-C kills them all, and keeps a zygote per :class:`ChildEnv` (the
device and threads a child is started with). The handles it returns are
:mod:`grader.sandbox.children`'s and :mod:`grader.sandbox.zygote`'s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import settings
from grader.sandbox.children import Child, PopenChild, count_processes, site_paths
from grader.sandbox.uidblocks import BlockUids
from grader.sandbox.zygote import Zygote, ZygoteGone

if TYPE_CHECKING:
    from grader.sandbox.limits import SandboxOptions

__all__ = ["BOOT", "UID_BASE", "ChildEnv", "Launcher"]

#: the first private uid of the children (grader/sandbox/uidblocks.py: a block per process)
UID_BASE = 61000
#: never a child's: "nobody", whose processes (a system's daemons) are nobody's leftovers
NOBODY = 65534
#: the children's uids, from this process's own block (its lock keeps other gradings out)
CHILD_UIDS = BlockUids(UID_BASE, never=frozenset({NOBODY}))


BOOT = """\
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "paths.json")) as fh:
    sys.path[:] = [here] + json.load(fh) + sys.path
if sys.argv[1] == "--zygote":
    from grader.sandbox.zygote import zygote_main
    zygote_main()
else:
    from grader.sandbox.child import main
    main(sys.argv[1], int(sys.argv[2]))
"""


@dataclass(frozen=True)
class ChildEnv:
    """What a child's process starts with beyond the sandbox's options: the device its
    probes use (``cpu`` hides every GPU) and its torch threads. A zygote imports torch under
    one of these, so it serves only children of the same."""

    device: str = "cpu"
    threads: int = 1


def _slot_cpus(slot: int, threads: int) -> list[int]:
    """The CPUs of one CPU slot (``threads`` of the grader's own, round robin by slot)."""
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[slot * threads:(slot + 1) * threads] or allowed


class Launcher:
    """Prepares, starts and keeps track of one sandbox's children (``base``: its run folder,
    ``harness``: the child's copy of the grader)."""

    def __init__(self, options: SandboxOptions, base: Path, harness: Path) -> None:
        self.options = options
        self.base = base
        self.harness = harness
        self._share_lock = threading.Lock()  # cgroup manager, CPU slots, shares not launched
        self._cgroups: Any = None
        self._cgroups_made = False
        self._slots: dict[int, int] = {}  # slot -> children using it
        self._shares: dict[str, tuple[Any, int | None]] = {}
        self._active: set[Child] = set()
        self._active_lock = threading.Lock()
        self.cancelled = False
        self._zygotes: dict[ChildEnv, Zygote] = {}
        self._zygote_failed: set[ChildEnv] = set()
        self._closed = False
        self._zygote_lock = threading.Lock()

    # --------------------------------------------------------------- lifecycle
    def kill_all(self) -> None:
        """Kill every running child, and any started from now on (Ctrl-C)."""
        with self._active_lock:
            self.cancelled = True
            active = list(self._active)
        for child in active:
            child.kill()

    def forget(self, child: Child) -> None:
        """``child`` was killed and reaped: it is no longer running."""
        with self._active_lock:
            self._active.discard(child)

    def close(self) -> None:
        self.kill_all()
        with self._zygote_lock:  # waits for a zygote still starting (see start_zygote)
            zygotes = list(self._zygotes.values())
            self._zygotes.clear()
            self._closed = True
        for zygote in zygotes:
            zygote.stop()
        if self._cgroups is not None:
            self._cgroups.close()

    # ------------------------------------------------------------------ zygote
    def start_zygote(self, env: ChildEnv) -> None:
        """Start the zygote for ``env`` in the background, so it imports torch while this
        process builds the checks' inputs (both take seconds; :meth:`launch` then waits for
        it if need be)."""
        if (self.options.zygote and env not in self._zygotes and env not in self._zygote_failed
                and not self._closed):
            threading.Thread(target=self.zygote, args=(env,), name="zygote-start",
                             daemon=True).start()

    def zygote(self, env: ChildEnv) -> Zygote | None:
        """The zygote of ``env``, started now (and waited for) if need be; ``None`` when
        zygotes are off, or the one of ``env`` failed (plain children then)."""
        if not self.options.zygote:
            return None
        with self._zygote_lock:
            if env not in self._zygotes and env not in self._zygote_failed and not self._closed:
                cmd = self.options.zygote_command or [
                    sys.executable, "-I", "-S", str(self.harness / "boot.py"), "--zygote"]
                try:
                    self._zygotes[env] = Zygote(cmd, self._env(self.base, env), self.base,
                                                self.options.limits.startup_seconds)
                except ZygoteGone:
                    self._zygote_failed.add(env)
            return self._zygotes.get(env)

    def drop_zygote(self, zygote: Zygote) -> None:
        """Stop using a zygote that died under a running child: plain children from now on
        (for its environment), so a zygote that keeps dying cannot loop."""
        with self._zygote_lock:
            for env, mine in list(self._zygotes.items()):
                if mine is zygote:
                    del self._zygotes[env]
                    self._zygote_failed.add(env)
        zygote.stop()

    # ------------------------------------------------------------------ a child
    @classmethod
    def next_uid(cls) -> int:
        """A private uid for the next child (of any launcher of this process)."""
        return CHILD_UIDS.next()

    def config(self, job: Path, checks_budget: float, env: ChildEnv) -> dict[str, Any]:
        """The configuration a child for ``job`` reads first (isolation, limits, device)."""
        opts = self.options
        lim = opts.limits
        # With namespaces the child sees only these (and system folders): see new_root.
        needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), self.harness,
                  settings.data_folder().resolve()]
        processes = lim.processes
        if os.geteuid() != 0:
            processes += count_processes(os.geteuid())
        threads = max(1, int(env.threads))
        address_space = (env.device == "cpu" if opts.address_space_limit is None
                         else opts.address_space_limit)
        group, cpus = self._cpu_share(job, threads, processes)
        memory_capped = group is not None and any(x.startswith("memory") for x in group.applied)
        return {
            "needed": [str(p) for p in dict.fromkeys(
                [*needed, *map(Path, site_paths()), self.harness])],
            "device": env.device,
            "threads": threads,
            "namespaces": bool(opts.namespaces and sys.platform.startswith("linux")),
            "force_user_namespace": opts.force_user_namespace,
            "private_dir": str(self.base / "private"),
            "root_dir": str(self.base / "root"),
            "uid": self.next_uid(),
            "limits": {
                "cpu_seconds": int(checks_budget * threads + 60),
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

        Both are kept for ``job`` until its child is launched (see :meth:`launch`), which
        hands them to the child object: killing the child also frees them.
        """
        from grader.sandbox.cgroups import CgroupManager

        with self._share_lock:
            if not self._cgroups_made:
                self._cgroups = CgroupManager() if self.options.cgroups else None
                self._cgroups_made = True
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
            self._shares[str(job)] = (group, slot)
        return group, cpus

    def _release_share(self, share: tuple[Any, int | None]) -> None:
        group, slot = share
        if group is not None:
            group.remove()
        if slot is not None:
            with self._share_lock:
                self._slots[slot] -= 1

    def meter(self, child: Child, threads: int) -> Any:
        """The CPU meter of a running child (see :mod:`grader.sandbox.cpuwatch`): its
        counters from its cgroup, or from its process tree; the free CPU of the CPUs it may
        run on (the grader's, or its own when it was pinned to CPUs of its own)."""
        from grader.sandbox.cpuload import FreeCpu, own_quota
        from grader.sandbox.cpuwatch import CpuMeter, ProcessTree

        group, slot = child.share
        threads = max(1, int(threads))
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

    def _env(self, home: Path, env: ChildEnv) -> dict[str, str]:
        threads = str(max(1, int(env.threads)))
        return {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "MPLBACKEND": "Agg",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "PRACTICO_DATA": str(settings.data_folder().resolve()),
            "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")
            if env.device == "cuda" else "",
        }

    def launch(self, job: Path, env: ChildEnv) -> tuple[Child, int]:
        """Start a child for ``job``; returns it and the read end of its result channel.

        Children are forked from a zygote that has already imported torch and the harness
        (a fresh interpreter per child spends seconds on imports); if the zygote cannot be
        used, a fresh ``python -I -S`` is started instead.
        """
        zygote = self.zygote(env)
        if zygote is not None:
            fifo = job / "result.fifo"
            fifo.unlink(missing_ok=True)  # a fresh channel for every child of this job
            os.mkfifo(fifo, 0o600)
            read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                child: Child = zygote.spawn(job)
            except ZygoteGone:
                os.close(read_fd)
                fifo.unlink()
                with self._zygote_lock:  # the next launch starts another one
                    if self._zygotes.get(env) is zygote:
                        del self._zygotes[env]
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
                    env=self._env(job, env), cwd=str(job), start_new_session=True,
                )
        finally:
            os.close(write_fd)
        return self._register(self._attach_share(PopenChild(proc), job)), read_fd

    def _attach_share(self, child: Child, job: Path) -> Child:
        """The child owns its cgroup and CPU slot from now on: killing it frees them."""
        with self._share_lock:
            share = self._shares.pop(str(job), (None, None))
        child.share = share
        child.release = lambda: self._release_share(share)
        return child

    def _register(self, child: Child) -> Child:
        with self._active_lock:
            self._active.add(child)
            if self.cancelled:
                child.kill()
        return child
