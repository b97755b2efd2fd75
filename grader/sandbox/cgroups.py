"""One control group per grading child: a CPU quota, a memory cap, a process cap, CPU accounting.

Why: the kernel's fair scheduler shares CPU between *threads* (and, with autogroups, between
*sessions*), so a student who starts 30 busy processes, each in its own session, takes 30/31
of the machine from a classmate graded next to them. A cgroup per child shares it between
*children*: each gets a quota of ``threads`` CPUs however many processes it starts, and the
kernel keeps an exact count of the CPU time the whole group used (exited processes included).

Two kernel interfaces exist. cgroup v2 (one hierarchy, ``cpu.max``, ``memory.max``,
``pids.max``) is used when our own cgroup offers those controllers and lets us enable them for
a sub-tree (as root, or in a delegated sub-tree). Machines that still mount the controllers as
cgroup v1 hierarchies (``cpu``, ``cpuacct``, ``memory``, ``pids``) get the same limits through
the v1 files. Everything here is best effort: :func:`CgroupManager.create` returns ``None``
with :attr:`CgroupManager.reason` saying why, and the sandbox falls back to CPU affinity and
per-process accounting (see :mod:`grader.sandbox.cpuwatch`).

The child joins its group itself (it writes its pid into each ``cgroup.procs``) before it
creates any process, so nothing it starts can run outside the group.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

PERIOD_US = 100_000  # the quota's period: CPU shares are enforced every 0.1 s
#: seconds between two looks while a group empties: SIGKILLed tasks go within milliseconds
RETRY_SECONDS = 0.02
#: rounds of SIGKILL (1 s in all): a fork racing with the kill adds a member, killed next round
KILL_ROUNDS = 50
#: tries to remove an emptied group (2 s in all): the kernel empties it once its killed tasks
#: are reaped, a moment after SIGKILL
REMOVE_TRIES = 100
V1_CONTROLLERS = ("cpu", "cpuacct", "memory", "pids")


def mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, filesystem type, super options) of every cgroup mount of this process."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[4].replace("\\040", " "), tail[0], set(tail[2].split(","))))
    return found


def usage_ns(path: Path, kind: str) -> int | None:
    """CPU time used under a group, in nanoseconds, from its accounting file: ``cpu.stat``'s
    ``usage_usec`` (v2) or ``cpuacct.usage`` (v1); ``None`` when it cannot be read."""
    try:
        text = path.read_text()
    except OSError:
        return None
    if kind == "v1":
        return int(text.split()[0]) if text.split() else None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value) * 1000
    return None


def own_paths() -> dict[str, str]:
    """Our cgroup path per controller ('' for the v2 hierarchy), from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for name in (parts[1].split(",") if parts[1] else [""]):
                paths[name] = parts[2]
    return paths


def _write(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


class ChildGroup:
    """The cgroup (v2) or cgroups (one per v1 hierarchy) of one child."""

    def __init__(self, kind: str, dirs: list[Path], usage: Path, threads: Path,
                 applied: list[str]) -> None:
        self.kind = kind
        self.dirs = dirs
        self._usage = usage
        self._threads = threads
        #: the limits really set (e.g. ``cpu.max``, ``memory.max``), for ``sandbox.isolation``
        self.applied = applied

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid into to join the group."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def usage_ns(self) -> int | None:
        """CPU time used by every process that ever ran in the group, in nanoseconds."""
        return usage_ns(self._usage, self.kind)

    def threads(self) -> list[int]:
        """Every thread now in the group."""
        try:
            return [int(x) for x in self._threads.read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self) -> None:
        """SIGKILL everything in the group (``cgroup.kill`` where the kernel has it)."""
        killer = self.dirs[0] / "cgroup.kill"
        if self.kind == "v2" and killer.exists():
            try:
                _write(killer, "1")
            except OSError:
                pass
        for _ in range(KILL_ROUNDS):  # a fork racing with the kill adds a member: again
            pids = set()
            for folder in self.dirs:
                try:
                    pids |= {int(x) for x in (folder / "cgroup.procs").read_text().split()}
                except (OSError, ValueError):
                    continue
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(RETRY_SECONDS)

    def remove(self) -> None:
        """Kill what is left, then delete the group (a group is empty once its tasks are reaped,
        which can take a moment after SIGKILL)."""
        self.kill()
        for folder in self.dirs:
            for _ in range(REMOVE_TRIES):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(RETRY_SECONDS)


class CgroupManager:
    """Finds a usable cgroup hierarchy once, then creates one group per child under
    ``<our cgroup>/practico-<pid>/``; :meth:`close` removes that folder."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.reason = ""
        self.bases: list[Path] = []
        self._lock = threading.Lock()
        self._count = 0
        self._usage_dir: Path | None = None
        self._find()

    def _find(self) -> None:
        table = mounts()
        own = own_paths()
        v2 = next((m for m in table if m[1] == "cgroup2"), None)
        reasons = []
        if v2 is not None and "" in own:
            ours = Path(v2[0] + own[""])
            try:
                available = set((ours / "cgroup.controllers").read_text().split())
            except OSError:
                available = set()
            missing = {"cpu", "memory", "pids"} - available
            if missing:
                reasons.append(f"cgroup v2 at {v2[0]}: controllers {sorted(missing)} not "
                               f"available in {ours}")
            else:
                try:
                    base = ours / f"practico-{os.getpid()}"
                    _write(ours / "cgroup.subtree_control", "+cpu +memory +pids")
                    base.mkdir(exist_ok=True)
                    _write(base / "cgroup.subtree_control", "+cpu +memory +pids")
                    self.kind, self.bases = "v2", [base]
                    return
                except OSError as exc:
                    reasons.append(f"cgroup v2 at {v2[0]}: cannot delegate controllers under "
                                   f"{ours} ({exc.strerror or exc})")
        hierarchies: dict[str, Path] = {}
        for controller in V1_CONTROLLERS:
            mount = next((m for m in table if m[1] == "cgroup" and controller in m[2]), None)
            if mount is not None and controller in own:
                hierarchies[controller] = Path(mount[0] + own[controller])
        if "cpu" in hierarchies and "cpuacct" in hierarchies:
            bases = []
            try:
                for folder in dict.fromkeys(hierarchies.values()):
                    base = folder / f"practico-{os.getpid()}"
                    base.mkdir(exist_ok=True)
                    bases.append(base)
            except OSError as exc:
                for base in bases:
                    try:
                        base.rmdir()
                    except OSError:
                        pass
                reasons.append(f"cgroup v1: cannot create a group ({exc.strerror or exc})")
            else:
                self.kind, self.bases = "v1", bases
                self._v1 = {c: h / f"practico-{os.getpid()}" for c, h in hierarchies.items()}
                return
        else:
            reasons.append("cgroup v1: no writable cpu and cpuacct hierarchies")
        self.reason = "; ".join(reasons) or "no cgroup file system mounted"

    def create(self, cpus: float, memory: int | None, processes: int) -> ChildGroup | None:
        """A new group limited to ``cpus`` CPUs, ``memory`` bytes (None: no cap) and
        ``processes`` tasks; ``None`` when no hierarchy is usable or creation fails."""
        if self.kind is None:
            return None
        with self._lock:
            self._count += 1
            name = f"child-{self._count}"
        quota = max(1000, int(cpus * PERIOD_US))
        try:
            if self.kind == "v2":
                return self._create_v2(self.bases[0] / name, quota, memory, processes)
            return self._create_v1(name, quota, memory, processes)
        except OSError as exc:
            self.reason = f"cgroup {self.kind}: cannot create a child group ({exc.strerror})"
            return None

    def _create_v2(self, folder: Path, quota: int, memory: int | None,
                   processes: int) -> ChildGroup:
        folder.mkdir()
        applied = []
        _write(folder / "cpu.max", f"{quota} {PERIOD_US}")
        applied.append("cpu.max")
        if memory:
            _write(folder / "memory.max", str(memory))
            applied.append("memory.max")
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", "0")
        _write(folder / "pids.max", str(processes))
        applied.append("pids.max")
        return ChildGroup("v2", [folder], folder / "cpu.stat", folder / "cgroup.threads",
                          applied)

    def _create_v1(self, name: str, quota: int, memory: int | None,
                   processes: int) -> ChildGroup:
        dirs: dict[Path, Path] = {}
        for base in self.bases:
            dirs[base] = base / name
            dirs[base].mkdir()
        group = {c: dirs[b] for c, b in self._v1.items()}
        applied = []
        _write(group["cpu"] / "cpu.cfs_period_us", str(PERIOD_US))
        _write(group["cpu"] / "cpu.cfs_quota_us", str(quota))
        applied.append("cpu.cfs_quota_us")
        if memory and "memory" in group:
            _write(group["memory"] / "memory.limit_in_bytes", str(memory))
            applied.append("memory.limit_in_bytes")
            swap = group["memory"] / "memory.memsw.limit_in_bytes"
            if swap.exists():
                try:
                    _write(swap, str(memory))
                except OSError:
                    pass
        if "pids" in group:
            _write(group["pids"] / "pids.max", str(processes))
            applied.append("pids.max")
        return ChildGroup("v1", list(dirs.values()), group["cpuacct"] / "cpuacct.usage",
                          group["cpu"] / "tasks", applied)

    def close(self) -> None:
        for base in self.bases:
            for child in list(base.glob("child-*")):
                ChildGroup(self.kind or "v1", [child], child, child, []).remove()
            try:
                base.rmdir()
            except OSError:
                pass
        self.bases = []
