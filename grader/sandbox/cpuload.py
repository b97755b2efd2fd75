"""What CPU the machine left free where a grading child may run: the witness for "starved".

A check's own threads can keep each other waiting on a run queue (a dozen processes that
wake together), so run-queue wait alone does not say that *others* took the CPU. What does:
while a check was kept from running by other processes, the CPUs it may run on were busy.
If they sat idle, nobody took the CPU from it; its own way of running cost it the time.

:class:`FreeCpu` is a counter of CPU seconds left free to one child, read at a window's
start and at its deadline (see :class:`grader.sandbox.cpuwatch.CpuMeter`):

- the idle (and iowait) time that ``/proc/stat`` gives per CPU, summed over the CPUs the
  child may run on only: the grader's own affinity (which a cpuset or ``taskset`` narrows;
  ``/proc/stat`` lists every CPU of the host, also in a container that may use two of
  them), or the CPUs the child was pinned to when there is no cgroup per child;
- where the grader's own cgroup (or one above it, as in a container started with
  ``--cpus``) has a CPU quota below those CPUs, also what that quota left unused: CPUs can
  be idle on the host while the grader's quota is spent by the classmates graded beside.
  Read from cgroup v2 (``cpu.max``, ``cpu.stat``) or v1 (``cpu.cfs_quota_us``,
  ``cpuacct.usage``), whichever the machine mounts.

The free time of a window is the smallest of these counters' increases.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Collection
from pathlib import Path

from grader.sandbox.cgroups import mounts as cgroup_mounts
from grader.sandbox.cgroups import own_paths, usage_ns

PROC_STAT = "/proc/stat"


def idle_seconds(stat_text: str, cpus: Collection[int], hz: float) -> float | None:
    """Idle plus iowait seconds since boot, summed over ``cpus``, from ``/proc/stat`` text
    (``cpuN user nice system idle iowait ...`` in clock ticks). ``None`` when none of
    ``cpus`` is listed (no evidence is not "idle")."""
    total, seen = 0, False
    for line in stat_text.splitlines():
        if not (line.startswith("cpu") and line[3:4].isdigit()):
            continue
        name, *fields = line.split()
        try:
            if int(name[3:]) in cpus and len(fields) >= 5:
                total += int(fields[3]) + int(fields[4])
                seen = True
        except ValueError:
            continue
    return total / hz if seen else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _chain(mount: str, own: str) -> list[Path]:
    """Our cgroup folder in one hierarchy and every folder above it, up to the mount."""
    top = Path(mount)
    folder = Path(mount + own) if own not in ("", "/") else top
    if not folder.is_dir():  # a cgroup namespace: the mount's root is our own group
        folder = top
    chain = [folder]
    while chain[-1] != top and top in chain[-1].parents:
        chain.append(chain[-1].parent)
    return chain


def _v2_quota(folder: Path) -> float | None:
    text = _read(folder / "cpu.max")
    if text is None or text.split()[0] == "max":
        return None
    quota, period = text.split()[:2]
    return int(quota) / int(period)


def _v1_quota(folder: Path) -> float | None:
    quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
    if quota is None or period is None or int(quota) <= 0:
        return None
    return int(quota) / int(period)


def grader_quota(mounts: list[tuple[str, str, set[str]]] | None = None,
                 own: dict[str, str] | None = None
                 ) -> tuple[float, Callable[[], int | None]] | None:
    """The smallest CPU quota (in CPUs) on the grader's own cgroup or any above it, and a
    reader of the CPU time used under that group (ns); ``None`` without a quota."""
    mounts = cgroup_mounts() if mounts is None else mounts
    own = own_paths() if own is None else own
    best: tuple[float, Callable[[], int | None]] | None = None
    v2 = next((m for m in mounts if m[1] == "cgroup2"), None)
    if v2 is not None and "" in own:
        for folder in _chain(v2[0], own[""]):
            quota = _v2_quota(folder)
            if quota is not None and (best is None or quota < best[0]):
                best = (quota, lambda path=folder / "cpu.stat": usage_ns(path, "v2"))
    cpu = next((m for m in mounts if m[1] == "cgroup" and "cpu" in m[2]), None)
    acct = next((m for m in mounts if m[1] == "cgroup" and "cpuacct" in m[2]), None)
    if cpu is not None and acct is not None and "cpu" in own:
        for folder in _chain(cpu[0], own["cpu"]):
            quota = _v1_quota(folder)
            if quota is not None and (best is None or quota < best[0]):
                # the same group in the cpuacct hierarchy (often the same mount)
                usage = Path(acct[0]) / folder.relative_to(cpu[0]) / "cpuacct.usage"
                best = (quota, lambda path=usage: usage_ns(path, "v1"))
    return best


@functools.cache
def own_quota() -> tuple[float, Callable[[], int | None]] | None:
    """:func:`grader_quota` of this process, found once: the grader's own cgroups and their
    limits do not change while it runs, and every child's meter asks for them."""
    return grader_quota()


class FreeCpu:
    """Cumulative CPU seconds left free to a child that may run on ``cpus`` (see the module
    docstring). Calling it gives one value per counter, or ``()`` when ``/proc/stat``
    cannot be read (then nothing shows that others took the CPU: no extension)."""

    def __init__(self, cpus: Collection[int],
                 read_stat: Callable[[], str] | None = None,
                 quota: tuple[float, Callable[[], int | None]] | None = None,
                 clock: Callable[[], float] | None = None, hz: float | None = None) -> None:
        self.cpus = frozenset(cpus)
        self._read_stat = read_stat or (lambda: Path(PROC_STAT).read_text())
        self._quota = quota
        self._clock = clock or time.monotonic
        self._hz = hz or float(os.sysconf("SC_CLK_TCK"))
        #: CPUs the child can have at once: its CPUs, or the quota when that is smaller
        self.capacity = float(len(self.cpus))
        if quota is not None and quota[0] < self.capacity:
            self.capacity = quota[0]
        else:
            self._quota = None  # a quota above the CPUs never binds: idle time says it all

    def __call__(self) -> tuple[float, ...]:
        try:
            idle = idle_seconds(self._read_stat(), self.cpus, self._hz)
        except OSError:
            return ()
        if idle is None:
            return ()
        if self._quota is None:
            return (idle,)
        used = self._quota[1]()
        if used is None:
            return (idle,)
        # unused quota so far: quota x elapsed time - CPU time used (its increase over a
        # window is what the group could still have run in it)
        return (idle, self._quota[0] * self._clock() - used / 1e9)
