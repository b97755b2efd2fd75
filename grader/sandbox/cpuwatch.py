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
  that has used at least 90 % of what its budget entitled it to (``threads`` CPUs, or fewer
  when the machine or the grader's quota has fewer, for the whole budget) has had what it
  would have had on an idle machine, and is simply slow. So on a loaded machine the budget
  works as a CPU budget. This is also what catches a child that competes with itself
  (30 busy threads under a 1-CPU quota use the whole quota).
- *Run-queue wait* in the window (``/proc/<tid>/schedstat``, second field: time runnable but
  not running, summed over the child's threads): a check that sleeps (``time.sleep``, a
  blocking read, a deadlock) is not runnable, so it waits for nothing and is not starved.
- *Free CPU* in the window (:class:`grader.sandbox.cpuload.FreeCpu`: idle time of the CPUs
  the child may run on, or the grader's unused quota): the wait above is the child's own
  threads' too, and a dozen processes that wake together and spin briefly wait behind
  each other on an idle machine. Others kept the check from running only if they had the
  CPUs: so the CPU time left free in the window must be under a quarter of what the check
  lacked (its entitlement over the wall time so far, minus what it used).

Starved = waited at least a quarter of the wall time so far, used under 90 % of its
budget's entitlement, *and* the CPUs it may use were busy with others for at least three
quarters of what it lacked. Extensions are bounded twice: ``max_extensions`` per window,
and, per submission, a total of extra wall seconds (:func:`extend`), so a submission that
looks starved on a loaded machine still holds a worker only that much longer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from grader.request import Extensions
from grader.sandbox.cpuload import FreeCpu

ENTITLED_FRACTION = 0.9  # used this much of its CPUs: it had its share
WAIT_FRACTION = 0.25  # waited this much of the window on a run queue: it was kept from running
#: CPU left free in the window, as a part of what the check lacked, at or above which its
#: wait is its own: a runnable thread is not left waiting while one of its CPUs is idle
FREE_FRACTION = 0.25
DECISIONS_KEPT = 32  # figures of the last decisions kept for a submission (its Extensions)


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


class ProcessTree:
    """A child's process tree, without a cgroup: its threads, and the CPU time its processes
    used, from one scan of ``/proc``.

    CPU time is each process's ``utime + stime + cutime + cstime`` (``/proc/<pid>/stat``),
    which keeps what its exited threads and reaped children used: summing live threads
    only would lose everything a fork-and-exit churn burns. With a PID namespace every
    orphan is reaped inside the tree (by its init), so nothing is lost; without one, a
    daemon adopted by the host's init leaves the tree, and its CPU counts as other load.
    """

    def __init__(self, root: int, hz: float | None = None) -> None:
        self.root = root
        self._ns_per_tick = 1e9 / (hz or float(os.sysconf("SC_CLK_TCK")))
        self._usage: int | None = None

    def threads(self) -> list[int]:
        """Every thread of the tree now; also takes the CPU time that :meth:`usage_ns`
        gives next (the meter reads both in that order, from one scan)."""
        children = children_by_parent()
        stats = {pid: fields for kids in children.values() for pid, fields in kids}
        threads, todo, ticks = [], [self.root], 0
        while todo:
            pid = todo.pop()
            try:
                threads += [int(t) for t in os.listdir(f"/proc/{pid}/task")]
                ticks += sum(int(x) for x in stats[pid][11:15])  # utime stime cutime cstime
            except (OSError, KeyError, ValueError):
                pass
            todo += [child for child, _ in children.get(pid, [])]
        self._usage = int(ticks * self._ns_per_tick)
        return threads

    def usage_ns(self) -> int | None:
        if self._usage is None:
            self.threads()
        usage, self._usage = self._usage, None
        return usage


class CpuMeter:
    """CPU use, run-queue wait and free CPU of one child, per window (one check, or the
    startup).

    ``threads``, ``usage_ns`` and ``schedstat`` read the child's counters, ``free`` the
    machine's (:class:`FreeCpu`, whose ``read_stat`` and ``clock`` take ``/proc/stat``-like
    samples in tests); ``free=None`` means no witness of others' load, so never starved.
    """

    def __init__(self, threads: Callable[[], list[int]], usage_ns: Callable[[], int | None],
                 cpus: float, max_extensions: int = 2, clock: Callable[[], float] | None = None,
                 free: FreeCpu | None = None,
                 schedstat: Callable[[int], tuple[int, int] | None] = _schedstat) -> None:
        import time

        self._threads = threads
        self._schedstat = schedstat
        self._usage = usage_ns
        self._free = free
        # what it could have used alone: no more CPUs than it may run on, or than the quota
        capacity = free.capacity if free is not None and free.capacity > 0 else float(cpus)
        self.cpus = min(max(1.0, float(cpus)), capacity)
        self.max_extensions = max_extensions
        self._clock = clock or time.monotonic
        self.extensions = 0  # granted in the current window
        self.total_extensions = 0
        self.last: dict[str, Any] = {}  # the figures of the last decision, for reports
        self.mark()

    def _sample(self) -> tuple[int, dict[int, int], tuple[float, ...]]:
        per_thread: dict[int, tuple[int, int]] = {}
        for tid in self._threads():
            stat = self._schedstat(tid)
            if stat is not None:
                per_thread[tid] = stat
        usage = self._usage()
        if usage is None:  # no counter: live threads only (exited ones are lost)
            usage = sum(cpu for cpu, _ in per_thread.values())
        free = self._free() if self._free is not None else ()
        return usage, {tid: wait for tid, (_, wait) in per_thread.items()}, free

    def mark(self) -> None:
        """A new window starts (a check started, or the child said hello)."""
        self._start = self._clock()
        self._usage0, self._wait0, self._free0 = self._sample()
        self._budget: float | None = None
        self.extensions = 0

    def starved(self) -> bool:
        """At a deadline: was this window's check kept from running by others? A yes gives
        the same check more wall time (the window goes on; bounded per window)."""
        now = self._clock()
        usage, waits, free = self._sample()
        wall = max(1e-3, now - self._start)
        if self._budget is None:  # the first deadline of the window: its budget
            self._budget = wall
        used = max(0, usage - self._usage0) / 1e9
        waited = sum(max(0, w - self._wait0.get(tid, 0)) for tid, w in waits.items()) / 1e9
        entitled = self._budget * self.cpus
        lacked = max(0.0, self.cpus * wall - used)
        pairs = list(zip(self._free0, free))
        freed = min(max(0.0, b - a) for a, b in pairs) if pairs else None
        if self.extensions >= self.max_extensions:
            decision = "window_cap"
        elif used >= ENTITLED_FRACTION * entitled:
            decision = "slow"
        elif waited < WAIT_FRACTION * wall:
            decision = "not_waiting"
        elif freed is None:
            decision = "no_witness"
        elif freed >= FREE_FRACTION * lacked:
            decision = "cpu_free"  # its CPUs sat idle: its wait was its own threads'
        else:
            decision = "starved"
        self.last = {"wall": round(wall, 2), "cpu": round(used, 2), "wait": round(waited, 2),
                     "entitled": round(entitled, 2), "lacked": round(lacked, 2),
                     "free": None if freed is None else round(freed, 2),
                     "decision": decision}
        if decision != "starved":
            return False
        self.extensions += 1
        self.total_extensions += 1
        return True


def extend(meter: CpuMeter, budget: float, extensions: Extensions, lock: threading.Lock,
           cap: float) -> float:
    """At a check's deadline: the extra wall seconds it gets, 0 for none.

    ``budget`` more when the meter says starved, but never past ``cap`` extra seconds for
    the whole submission (every child and group of it: ``extensions`` is the submission's,
    and ``lock`` guards it). Per window the meter bounds the count; this bounds the time, so
    however many checks look starved, a submission holds a worker at most ``cap`` seconds
    longer than its budgets. Counts the extension and its seconds in ``extensions``, with
    the figures of each decision (the last few).
    """
    starved = meter.starved()
    with lock:
        spent = float(extensions.seconds)
        extra = max(0.0, min(float(budget), cap - spent)) if starved else 0.0
        if starved and extra <= 0:
            meter.last["decision"] = "submission_cap"
        if extra > 0:
            extensions.count += 1
            extensions.seconds = round(spent + extra, 3)
        extensions.decisions.append({**meter.last, "extra": round(extra, 3)})
        del extensions.decisions[:-DECISIONS_KEPT]
    return extra
