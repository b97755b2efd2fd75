"""The CPU meter's decision, on fake clocks and counters (grader/sandbox/cpuwatch.py).

A check that ran out of wall time gets more only when *other* processes kept it from
running (issue 18: a dozen processes of the check's own that wake together looked starved).
Each test builds a machine whose ``/proc/stat``, child counters and clock are numbers the
test sets, so each decision and bound is exact; a boundary test shows the rule's threshold
is the one documented. One test reads a real process tree (no sandbox, a second or so).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from grader.request import Extensions
from grader.sandbox.cpuload import FreeCpu, grader_quota, idle_seconds
from grader.sandbox.cpuwatch import FREE_FRACTION, CpuMeter, ProcessTree, extend

HZ = 100  # ticks per second in the fake /proc/stat, as on Linux


class _Machine:
    """A fake machine: a clock, per-CPU idle ticks, one child's CPU time and per-thread
    run-queue wait, and the CPU time used under the grader's quota."""

    def __init__(self, ncpus: int = 2) -> None:
        self.now = 100.0
        self.idle = [0] * ncpus
        self.child_ns = 0
        self.waits = {11: 0, 12: 0}
        self.quota_ns = 0

    def stat(self) -> str:
        total = sum(self.idle)
        lines = [f"cpu  5 0 5 {total} 0 0 0 0 0 0"]
        # idle split between the idle and iowait columns: both count as free
        lines += [f"cpu{i} 1 0 1 {t - t // 3} {t // 3} 0 0 0 0 0" for i, t in
                  enumerate(self.idle)]
        return "\n".join(lines + ["intr 0", "ctxt 0"]) + "\n"

    def run(self, seconds: float, cpu: float, wait: float, idle: dict[int, float],
            quota_used: float = 0.0) -> None:
        """``seconds`` pass: the child uses ``cpu`` CPU seconds and waits ``wait`` (split
        over its threads); each CPU in ``idle`` is idle that many seconds."""
        self.now += seconds
        self.child_ns += int(cpu * 1e9)
        for tid in self.waits:
            self.waits[tid] += int(wait * 1e9 / len(self.waits))
        for k, s in idle.items():
            self.idle[k] += round(s * HZ)
        self.quota_ns += int(quota_used * 1e9)

    def free(self, cpus, quota: float | None = None) -> FreeCpu:
        return FreeCpu(cpus, read_stat=self.stat, clock=lambda: self.now, hz=HZ,
                       quota=None if quota is None else (quota, lambda: self.quota_ns))

    def meter(self, cpus=(0, 1), threads: int = 1, quota: float | None = None,
              max_extensions: int = 2, free: FreeCpu | None = None) -> CpuMeter:
        return CpuMeter(lambda: list(self.waits), lambda: self.child_ns, threads,
                        max_extensions, clock=lambda: self.now,
                        free=free or self.free(cpus, quota),
                        schedstat=lambda tid: (0, self.waits[tid]))


def test_proc_stat_idle_counts_only_the_cpus_asked_for():
    text = ("cpu  10 0 10 900 100 0 0 0 0 0\n"
            "cpu0 5 0 5 400 50 0 0 0 0 0\n"
            "cpu1 5 0 5 500 50 0 0 0 0 0\n"
            "cpu12 1 0 1 7 3 0 0 0 0 0\n"
            "intr 1 2 3\n")
    assert idle_seconds(text, {0}, HZ) == 4.5
    assert idle_seconds(text, {1, 12}, HZ) == 5.5 + 0.1  # cpu12 is not cpu1 or cpu2
    assert idle_seconds(text, {0, 1, 12}, HZ) == pytest.approx(10.1)
    assert idle_seconds(text, {5}, HZ) is None  # not listed: no evidence, not "idle"


def test_own_threads_queued_on_an_idle_machine_are_not_starved():
    """The attack: a third of a CPU used, wait above the wall time (its own dozen
    processes queue behind each other), and the other CPU idle all along."""
    m = _Machine()
    meter = m.meter()
    m.run(5, cpu=1.5, wait=6.0, idle={0: 3.5, 1: 5.0})
    assert meter.starved() is False
    assert meter.last["decision"] == "cpu_free"


def test_a_check_kept_from_its_cpus_by_others_is_starved():
    """The honest case: both CPUs busy all along (hogs), the check got a quarter of one."""
    m = _Machine()
    meter = m.meter()
    m.run(5, cpu=1.25, wait=3.75, idle={0: 0.0, 1: 0.0})
    assert meter.starved() is True
    assert meter.last["decision"] == "starved"
    assert (meter.last["lacked"], meter.last["free"]) == (3.75, 0.0)


def test_the_free_cpu_threshold_is_a_quarter_of_what_it_lacked():
    """lacked = 5 s x 1 CPU - 1 s used = 4 s: free CPU of 0.99 s still means others had
    its CPUs; 1.0 s (a quarter) means its wait was its own."""
    assert FREE_FRACTION == 0.25
    for idle, starved in ((0.99, True), (1.0, False)):
        m = _Machine()
        meter = m.meter()
        m.run(5, cpu=1.0, wait=4.0, idle={0: idle, 1: 0.0})
        assert meter.starved() is starved, (idle, meter.last)


def test_slow_and_asleep_checks_are_not_starved_whatever_the_load():
    m = _Machine()
    meter = m.meter()
    m.run(5, cpu=4.6, wait=3.0, idle={0: 0, 1: 0})  # had 92 % of its CPU: slow
    assert meter.starved() is False and meter.last["decision"] == "slow"
    m = _Machine()
    meter = m.meter()
    m.run(5, cpu=0.1, wait=1.0, idle={0: 0, 1: 0})  # asleep: waited a fifth of the time
    assert meter.starved() is False and meter.last["decision"] == "not_waiting"


def test_only_the_cpus_the_child_may_use_count():
    """/proc/stat lists 64 CPUs, the grader (a cpuset, taskset) or the pinned child may use
    2: the other 62 idle say nothing about whether others took *its* CPUs."""
    m = _Machine(ncpus=64)
    idle = {k: 5.0 for k in range(2, 64)}
    mine, everything = m.meter(cpus=(0, 1)), m.meter(cpus=range(64))
    m.run(5, cpu=1.25, wait=3.75, idle={0: 0.0, 1: 0.0, **idle})
    assert mine.starved() is True
    assert everything.starved() is False  # what reading every CPU would have concluded


def test_a_spent_grader_quota_counts_as_busy_though_host_cpus_idle():
    """A container with a quota of 2 CPUs on a 64-CPU host: the host is idle, but the
    classmates graded beside used the grader's whole quota, so the check was starved."""
    m = _Machine(ncpus=64)
    meter = m.meter(cpus=range(64), quota=2.0)
    m.run(5, cpu=1.25, wait=3.75, idle={k: 5.0 for k in range(2, 64)}, quota_used=10.0)
    assert meter.starved() is True
    meter = m.meter(cpus=range(64), quota=2.0)  # the same, quota mostly unused
    m.run(5, cpu=1.25, wait=3.75, idle={k: 5.0 for k in range(2, 64)}, quota_used=3.0)
    assert meter.starved() is False and meter.last["decision"] == "cpu_free"


def test_entitlement_is_capped_by_the_cpus_there_are():
    """threads=4 on 2 CPUs: a check that keeps both busy had all it could have alone."""
    m = _Machine()
    meter = m.meter(threads=4)
    assert meter.cpus == 2
    m.run(5, cpu=9.6, wait=20.0, idle={0: 0, 1: 0})
    assert meter.starved() is False and meter.last["decision"] == "slow"
    quota = m.meter(threads=1, quota=0.5)  # a half-CPU quota: half a CPU is its all
    assert quota.cpus == 0.5


def test_no_proc_stat_means_no_extension():
    m = _Machine()

    def unreadable() -> str:
        raise OSError("no /proc/stat")

    free = FreeCpu((0, 1), read_stat=unreadable, clock=lambda: m.now, hz=HZ)
    meter = m.meter(free=free)
    m.run(5, cpu=1.25, wait=3.75, idle={})
    assert meter.starved() is False and meter.last["decision"] == "no_witness"


def test_extensions_are_bounded_per_window_and_in_seconds_per_submission():
    """Two groups of one submission, both starved for real: each window gets at most
    ``max_extensions``; together they get at most ``cap`` extra seconds, the last grant
    cut to what is left, then none."""
    m = _Machine()
    extensions = Extensions()
    lock = threading.Lock()
    meters = [m.meter(max_extensions=3), m.meter(max_extensions=3)]
    grants = []
    for _ in range(4):
        for meter in meters:
            m.run(10, cpu=1.0, wait=8.0, idle={})
            grants.append(extend(meter, 10.0, extensions, lock, cap=45.0))
    assert grants == [10.0, 10.0, 10.0, 10.0, 5.0, 0.0, 0.0, 0.0]
    assert extensions.seconds == 45.0 and extensions.count == 5
    assert [d["decision"] for d in extensions.decisions][-3:] == ["submission_cap",
                                                                  "window_cap", "window_cap"]
    m2 = _Machine()  # and per window, with seconds to spare
    meter = m2.meter(max_extensions=1)
    m2.run(10, cpu=1.0, wait=8.0, idle={})
    assert extend(meter, 10.0, Extensions(), lock, cap=1e9) == 10.0
    m2.run(10, cpu=1.0, wait=8.0, idle={})
    assert meter.starved() is False and meter.last["decision"] == "window_cap"


def test_grader_quota_from_cgroup_v2_and_v1_files(tmp_path: Path):
    """The smallest quota on our cgroup or above it, with that group's CPU counter."""
    v2 = tmp_path / "v2"
    (v2 / "box" / "grader").mkdir(parents=True)
    (v2 / "box" / "cpu.max").write_text("200000 100000\n")
    (v2 / "box" / "cpu.stat").write_text("usage_usec 1500\nuser_usec 1000\n")
    (v2 / "box" / "grader" / "cpu.max").write_text("max 100000\n")
    quota = grader_quota([(str(v2), "cgroup2", {"rw"})], {"": "/box/grader"})
    assert quota is not None and quota[0] == 2.0 and quota[1]() == 1_500_000
    v1 = tmp_path / "v1"
    for name, text in (("cpu.cfs_quota_us", "150000"), ("cpu.cfs_period_us", "100000")):
        (v1 / "cpu" / "job").mkdir(parents=True, exist_ok=True)
        (v1 / "cpu" / "job" / name).write_text(text + "\n")
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (v1 / "acct" / "job").mkdir(parents=True)
    (v1 / "acct" / "job" / "cpuacct.usage").write_text("777\n")
    mounts = [(str(v1 / "cpu"), "cgroup", {"rw", "cpu"}),
              (str(v1 / "acct"), "cgroup", {"rw", "cpuacct"})]
    quota = grader_quota(mounts, {"cpu": "/job", "cpuacct": "/job"})
    assert quota is not None and quota[0] == 1.5 and quota[1]() == 777
    (v1 / "cpu" / "job" / "cpu.cfs_quota_us").write_text("-1\n")
    assert grader_quota(mounts, {"cpu": "/job", "cpuacct": "/job"}) is None


def test_process_tree_keeps_the_cpu_of_children_that_exited():
    """Fork-and-exit churn: the children are gone, their CPU time is not (the parent
    reaped them: ``cutime``), while the live threads' own counters have lost it."""
    script = (
        "import os, sys, time\n"
        "for _ in range(3):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        end = time.process_time() + 0.15\n"
        "        while time.process_time() < end: pass\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "print('done', flush=True)\n"
        "sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "done"
        tree = ProcessTree(proc.pid)
        threads = tree.threads()
        usage = tree.usage_ns()
        live = sum(int(Path(f"/proc/{t}/schedstat").read_text().split()[0]) for t in threads)
    finally:
        proc.stdin.close()
        proc.wait()
    assert usage >= 0.4e9, usage  # three children x 0.15 s, in 10 ms ticks
    assert usage - live >= 0.4e9  # what counting the live threads alone would lose
