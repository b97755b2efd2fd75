"""Was a check that ran out of wall time slow, asleep, or starved of CPU by others?

A check's limit is in wall seconds, so on a busy machine (other students graded in
parallel, or anything else running) a correct check can run out of time without having
had the CPU. Grades must not depend on that. At the deadline the grader asks
:meth:`CpuMeter.starved`; when it says yes, the check gets another budget of wall time
(it keeps its progress: re-running it from scratch under the same load would starve again,
and would pay again for what it had already done).

How "starved" is told apart, from kernel counters the child cannot forge, counted from the
check's start (not per extension):

- *CPU used* (the child's cgroup counter, or the sum over the child's process tree): a check
  that has used at least 90 % of what its budget entitled it to (``threads`` CPUs for the
  whole budget) has had what it would have had on an idle machine, and is simply slow. So on
  a loaded machine the budget works as a CPU budget. This is also what catches a child that
  competes with itself (30 busy threads under a 1-CPU quota use the whole quota).
- *Run-queue wait* in the window (``/proc/<tid>/schedstat``, second field: time runnable but
  not running, summed over the child's threads): a check that sleeps (``time.sleep``, a
  blocking read, a deadlock) is not runnable, so it waits for nothing and is not starved.

Starved = waited at least a quarter of the wall time so far *and* used under 90 % of its
budget's entitlement.
Extensions are bounded (``max_extensions`` per window), so a submission that somehow looks
starved costs at most that many extra budgets.
"""

from __future__ import annotations

import os
from collections.abc import Callable

ENTITLED_FRACTION = 0.9  # used this much of its CPUs: it had its share
WAIT_FRACTION = 0.25  # waited this much of the window on a run queue: it was kept from running


def _schedstat(tid: int) -> tuple[int, int] | None:
    """(CPU ns, run-queue wait ns) of one thread."""
    try:
        with open(f"/proc/{tid}/schedstat") as fh:
            fields = fh.read().split()
        return int(fields[0]), int(fields[1])
    except (OSError, ValueError, IndexError):
        return None


def children_by_parent() -> dict[int, list[tuple[int, list[bytes]]]]:
    """Every process in ``/proc`` by its parent: ppid -> [(pid, its stat fields after the
    name)]. The name in parentheses may hold spaces, so fields start after its last ")"."""
    table: dict[int, list[tuple[int, list[bytes]]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(b")") + 2:].split()
            ppid = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
        table.setdefault(ppid, []).append((int(entry), fields))
    return table


def process_tree_threads(root: int) -> list[int]:
    """Every thread of ``root`` and of its descendants (a scan of ``/proc``)."""
    children = children_by_parent()
    threads, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            threads += [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            pass
        todo += [child for child, _ in children.get(pid, [])]
    return threads


class CpuMeter:
    """CPU use and run-queue wait of one child, per window (one check, or the startup)."""

    def __init__(self, threads: Callable[[], list[int]], usage_ns: Callable[[], int | None],
                 cpus: float, max_extensions: int = 2, clock: Callable[[], float] | None = None
                 ) -> None:
        import time

        self._threads = threads
        self._usage = usage_ns
        self.cpus = max(1.0, float(cpus))
        self.max_extensions = max_extensions
        self._clock = clock or time.monotonic
        self.extensions = 0  # granted in the current window
        self.total_extensions = 0
        self.last: dict[str, float] = {}  # the figures of the last decision, for reports
        self.mark()

    def _sample(self) -> tuple[int, dict[int, int]]:
        per_thread: dict[int, tuple[int, int]] = {}
        for tid in self._threads():
            stat = _schedstat(tid)
            if stat is not None:
                per_thread[tid] = stat
        usage = self._usage()
        if usage is None:  # no cgroup: live threads only (exited ones are lost)
            usage = sum(cpu for cpu, _ in per_thread.values())
        return usage, {tid: wait for tid, (_, wait) in per_thread.items()}

    def mark(self) -> None:
        """A new window starts (a check started, or the child said hello)."""
        self._start = self._clock()
        self._usage0, self._wait0 = self._sample()
        self._budget: float | None = None
        self.extensions = 0

    def starved(self) -> bool:
        """At a deadline: was this window's check kept from running by others? A yes gives
        the same check more wall time (the window goes on; bounded per window)."""
        now = self._clock()
        usage, waits = self._sample()
        wall = max(1e-3, now - self._start)
        if self._budget is None:  # the first deadline of the window: its budget
            self._budget = wall
        used = max(0, usage - self._usage0) / 1e9
        waited = sum(max(0, w - self._wait0.get(tid, 0)) for tid, w in waits.items()) / 1e9
        entitled = self._budget * self.cpus
        self.last = {"wall": round(wall, 2), "cpu": round(used, 2), "wait": round(waited, 2),
                     "entitled": round(entitled, 2)}
        if self.extensions >= self.max_extensions:
            return False
        if used >= ENTITLED_FRACTION * entitled or waited < WAIT_FRACTION * wall:
            return False
        self.extensions += 1
        self.total_extensions += 1
        return True
