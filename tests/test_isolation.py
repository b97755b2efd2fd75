"""The sandbox's isolation between a child, the host and the other children.

Real children, real namespaces, real cgroups (wherever the machine has them; a test that
needs a missing feature is skipped and says which). Each test grades a copy of the
reference whose ``probe_stats`` is replaced by an attack that reports what it managed in its
exception message; the grader's verdict and the host's state say whether the attack held.
"""

from __future__ import annotations

import csv
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_py, sandbox_grade

pytestmark = pytest.mark.slow

REFERENCE = (ROOT / "solutions" / "ex5_init.py").read_text()
#: seconds a sandbox takes to start a child and, at the end, to kill it, on a loaded machine
#: (on top of a check's budget in the bounds on a grading's wall time)
CHILD_START_AND_KILL = 30
#: seconds the memory bomb is given: stopped by a memory cap, it ends well before this
BOMB_TIMEOUT = 60
HOG = (ROOT / "fixtures" / "isolation" / "cpu_hog.py").read_text()
IPC_CREAT, IPC_RMID = 0o1000, 0
_libc = ctypes.CDLL(None, use_errno=True)


def _submission(folder: Path, probe: str) -> Path:
    """The reference's ex5_init.py with ``probe_stats`` replaced by ``probe``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ex5_init.py").write_text(REFERENCE + "\n\n" + probe)
    return folder


def _grade(folder: Path, tasks=("probe_stats",), timeout=None, **options):
    """``folder`` graded in a sandbox of ``options``, children of one thread: its results
    and the :class:`grader.grading.GradeOutcome`."""
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox

    with Sandbox(SandboxOptions(**options)) as sandbox:
        outcome = sandbox_grade(sandbox, folder, list(tasks), threads=1, timeout=timeout)
    return outcome.results, outcome


def _needs_namespaces(outcome) -> None:
    if not outcome.report.isolation.get("namespaces"):
        pytest.skip("Linux namespaces unavailable here: "
                    f"{outcome.report.isolation.get('namespace_error', 'disabled')}")


def _sysv(kind: str) -> set[int]:
    """Keys of the host's SysV objects of one kind (shm, msg, sem)."""
    try:
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
    except OSError:
        pytest.skip("/proc/sysvipc is not available here")
    return {int(line.split()[0]) for line in lines}


# ------------------------------------------------------------------ IPC and UTS


def test_ipc_and_uts_are_the_childs_own(tmp_path):
    """A host shared-memory segment cannot be found or attached; what the child creates
    (a 64 MiB segment, a message queue, a semaphore set) is gone after grading."""
    host_key = 0x50524143
    shmid = _libc.shmget(host_key, 4096, IPC_CREAT | 0o666)
    assert shmid >= 0, os.strerror(ctypes.get_errno())
    child_keys = (0x50524144, 0x50524145, 0x50524146)
    try:
        before = {k: _sysv(k) for k in ("shm", "msg", "sem")}
        probe = f'''
def probe_stats(net, batch_size=64, in_dim=100):
    import ctypes, socket
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    report = []
    found = libc.shmget({host_key}, 0, 0)
    report.append("FOUND" if found >= 0 else "NOT-FOUND")
    addr = libc.shmat({shmid}, None, 0)
    report.append("ATTACHED" if addr not in (None, ctypes.c_void_p(-1).value) else "NO-ATTACH")
    made = [libc.shmget({child_keys[0]}, 64 << 20, 0o1000 | 0o666) >= 0,
            libc.msgget({child_keys[1]}, 0o1000 | 0o666) >= 0,
            libc.semget({child_keys[2]}, 4, 0o1000 | 0o666) >= 0]
    report.append("CREATED" if all(made) else f"NOT-CREATED {{made}}")
    report.append("HOST=" + socket.gethostname())
    raise RuntimeError(" ".join(report))
'''
        results, outcome = _grade(_submission(tmp_path / "sub", probe))
        _needs_namespaces(outcome)
        message = results["probe_stats"].message
        assert "NOT-FOUND" in message and "NO-ATTACH" in message, message
        assert "CREATED" in message and "NOT-CREATED" not in message, message  # it did try
        assert "HOST=sandbox" in message
        assert outcome.report.isolation["ipc"] is True and outcome.report.isolation["uts"] is True
        for kind, key in zip(("shm", "msg", "sem"), child_keys):
            assert key not in _sysv(kind), f"the child left a SysV {kind} behind"
            assert _sysv(kind) - before[kind] == set()
    finally:
        _libc.shmctl(shmid, IPC_RMID, None)


# ------------------------------------------------------------------ cgroups


def _cgroup_manager():
    from grader.sandbox.cgroups import CgroupManager

    manager = CgroupManager()
    if manager.kind is None:
        manager.close()
        pytest.skip(f"no usable cgroup hierarchy here: {manager.reason}")
    return manager


def test_cgroup_per_child_caps_cpu_and_is_removed(tmp_path):
    """The child is in a group of its own, limited to one CPU however many processes it
    starts; the group is gone after grading."""
    _cgroup_manager().close()
    probe = '''
def probe_stats(net, batch_size=64, in_dim=100):
    import os, time
    pids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            end = time.monotonic() + 3
            while time.monotonic() < end:
                pass
            os._exit(0)
        pids.append(pid)
    start = time.monotonic()
    for pid in pids:
        os.waitpid(pid, 0)
    wall = time.monotonic() - start
    cpu = os.times().children_user + os.times().children_system
    raise RuntimeError(f"CPU {cpu:.2f} WALL {wall:.2f} " + open("/proc/self/cgroup").read())
'''
    results, outcome = _grade(_submission(tmp_path / "sub", probe))
    group = outcome.report.isolation.get("cgroup")
    assert group, outcome.report.isolation
    message = results["probe_stats"].message
    assert f"practico-{os.getpid()}/child-" in message, message
    cpu = float(message.split("CPU ")[1].split()[0])
    wall = float(message.split("WALL ")[1].split()[0])
    # four busy processes for 3 s each, but one CPU: ~3 s of CPU in ~12 s (not 12 in 6)
    assert cpu <= 1.15 * wall, message
    leftovers = [p for p in Path("/sys/fs/cgroup").rglob(f"practico-{os.getpid()}")]
    assert leftovers == []


@pytest.mark.serial
def test_host_memory_cap_without_address_space_limit(tmp_path):
    """How cuda mode runs (no RLIMIT_AS): the memory bomb is stopped by the cgroup memory
    cap, or by RLIMIT_DATA where there is no cgroup; the reference still passes."""
    from grader.sandbox.limits import Limits

    bomb = (ROOT / "fixtures" / "adversarial" / "memory_bomb" / "ex5_init.py").read_text()
    control = _submission(tmp_path / "control", "")
    attacker = _submission(tmp_path / "bomb", bomb)
    for cgroups in (True, False):
        limits = Limits(host_memory_bytes=2 * 1024**3)
        options = {"address_space_limit": False, "cgroups": cgroups, "limits": limits,
                   "timeout": BOMB_TIMEOUT}
        ok, _ = _grade(control, **options)
        assert ok["probe_stats"].score == 15, ok["probe_stats"].message
        start = time.monotonic()
        results, outcome = _grade(attacker, **options)
        assert results["probe_stats"].score == 0
        statuses = {c.status for c in results["probe_stats"].checks}
        assert statuses <= {"crashed", "error"}, results["probe_stats"].message
        assert time.monotonic() - start < BOMB_TIMEOUT, "stopped by the memory cap, not the timeout"
        if cgroups and outcome.report.isolation.get("cgroup"):
            assert any("memory" in x for x in outcome.report.isolation["cgroup"]["limits"])


def test_gpu_memory_fraction_is_reported_without_a_gpu():
    """The fraction is set in the child before student code (only a GPU can show it
    enforced); without CUDA the child says so instead of failing."""
    import torch

    from grader.sandbox.jail import gpu_fraction

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: this test covers the CPU-only path")
    applied: dict = {}
    gpu_fraction({"device": "cuda", "gpu_memory_fraction": 0.45}, applied)
    assert applied["gpu_memory_fraction"].startswith("unavailable")
    applied = {}
    gpu_fraction({"device": "cpu", "gpu_memory_fraction": 0.45}, applied)
    assert applied == {}


# ------------------------------------------------------------------ starved, slow, asleep


class _Load:
    """``count`` busy processes outside any sandbox (other programs on the machine).

    Each in a session of its own: with the kernel's autogroup scheduling, processes that
    share one session share one fair slice, so load from a single session would barely
    slow a child (which has a session of its own) down."""

    def __init__(self, count: int) -> None:
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                       start_new_session=True) for _ in range(count)]

    def __enter__(self) -> _Load:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


BUSY_THEN_CORRECT = '''
_reference_probe_stats = probe_stats
_burned = []


def probe_stats(net, batch_size=64, in_dim=100):
    import time
    if not _burned:  # once per child: {seconds} s of CPU, then the right answer
        end = time.process_time() + {seconds}
        while time.process_time() < end:
            pass
        _burned.append(1)
    return _reference_probe_stats(net, batch_size, in_dim)
'''


@pytest.mark.serial
@pytest.mark.parametrize("pinned", [False, True], ids=["any_cpu", "own_cpu"])
def test_a_check_starved_by_other_load_gets_more_time(tmp_path, pinned):
    """3 s of CPU in a 5 s budget: alone it passes; with 3 busy processes per CPU it gets
    about a quarter of a CPU, is seen starved (waiting, not running, its CPUs busy with
    others: no idle time) and given more time. On any CPU of the grader's, and pinned to a
    CPU of its own (the fallback without cgroups: only that CPU's idle time counts).

    Without a cgroup: with one, the scheduler may give the child's group a fair share of
    the machine against the load's groups, so whether it is starved depends on the
    machine, which is the point of the cgroups but not of this test.
    """
    sub = _submission(tmp_path / "sub", BUSY_THEN_CORRECT.format(seconds=3))
    with _Load(3 * (os.cpu_count() or 1)):
        results, outcome = _grade(sub, timeout=5, starved_extensions=8, cgroups=False,
                               cpu_affinity=pinned)
    decisions = outcome.report.extensions.decisions
    assert results["probe_stats"].score == 15, (results["probe_stats"].message, decisions)
    assert outcome.report.extensions.count >= 1, decisions
    assert decisions[0]["decision"] == "starved", decisions


def _idle(cpus: list[int]) -> float:
    """Idle seconds since boot of ``cpus``, from /proc/stat."""
    from grader.sandbox.cpuload import idle_seconds

    idle = idle_seconds(Path("/proc/stat").read_text(), cpus, os.sysconf("SC_CLK_TCK"))
    if idle is None:
        pytest.skip("/proc/stat lists none of this process's CPUs")
    return idle


@pytest.mark.serial
@pytest.mark.parametrize("fixture, options", [
    ("wake_together", {}),
    ("escape_affinity", {"cgroups": False}),
])
def test_a_check_that_games_the_meter_gets_no_extension(tmp_path, fixture, options):
    """A check of fixtures/isolation/ that never returns and keeps its own threads queued
    (issue 18): it looks starved to run-queue wait alone (each got 2 extensions before),
    yet on a quiet machine it times out after its budget, because its CPUs sat idle: the
    dozen processes in a cgroup, and, pinned to a CPU of its own without a cgroup, a child
    that widens its affinity and spreads its processes over every CPU (its own CPU is the
    one watched, and it was mostly idle). The churn's CPU, counted from exited children,
    is tested in tests/test_cpuwatch.py.

    On a busy machine an extension may be right (others did take the CPU): then only the
    bounds are asserted, the submission's extra seconds capped at ``starved_seconds``.
    Quiet is measured here on the CPUs the child may use (all of the grader's, or the
    first slot's one when pinned), not taken from the meter: idle enough over the run that,
    even if everything outside the check's budget was busy, a quarter of the budget's CPU
    was left free within it. A warm-up grading of the reference first keeps the zygote's
    start (busy CPU, outside the budget) out of the measured run.
    """
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox

    budget, cap = 5, 3
    cpus = sorted(os.sched_getaffinity(0))
    cpus = cpus if options.get("cgroups", True) else cpus[:1]  # slot 0: the first child's
    sub = _submission(tmp_path / "sub", (ROOT / "fixtures" / "isolation" / f"{fixture}.py")
                      .read_text())
    request = {"threads": 1, "timeout": budget}
    with Sandbox(SandboxOptions(**{"starved_seconds": cap, **options})) as sandbox:
        warm = sandbox_grade(sandbox, _submission(tmp_path / "ref", ""), ["probe_stats"],
                             **request)
        assert warm.results["probe_stats"].score == 15
        idle0, start = _idle(cpus), time.monotonic()
        outcome = sandbox_grade(sandbox, sub, ["probe_stats"], **request)
        idle, wall = _idle(cpus) - idle0, time.monotonic() - start
    assert {c.status for c in outcome.results["probe_stats"].checks} == {"timeout"}
    first = outcome.report.extensions.decisions[0]
    # the attack is live: its threads waited as a starved check's do
    assert first["wait"] >= 0.25 * first["wall"], first
    assert outcome.report.extensions.seconds <= cap
    assert wall < budget + cap + CHILD_START_AND_KILL
    quiet = idle - len(cpus) * (wall - budget) >= 0.25 * budget
    if quiet:
        extensions = outcome.report.extensions
        assert extensions.count == 0, (extensions.decisions, idle, wall)
        assert first["decision"] in ("cpu_free", "slow"), first


@pytest.mark.serial
def test_a_sleeping_check_is_not_starved(tmp_path):
    """Asleep under the same load: not runnable, so not starved; it times out on time."""
    budget = 4
    sub = _submission(tmp_path / "sub", '''
def probe_stats(net, batch_size=64, in_dim=100):
    import time
    time.sleep(10_000)
''')
    with _Load(3 * (os.cpu_count() or 1)):
        start = time.monotonic()
        results, outcome = _grade(sub, timeout=budget)
        seconds = time.monotonic() - start
    assert {c.status for c in results["probe_stats"].checks} == {"timeout"}
    assert outcome.report.extensions.count == 0
    assert seconds < budget + 2 * CHILD_START_AND_KILL  # one budget, no extension


@pytest.mark.serial
def test_extensions_are_bounded(tmp_path):
    """An endless busy check on a loaded machine may look starved, but gets at most
    ``starved_extensions`` more budgets, then scores a timeout."""
    sub = _submission(tmp_path / "sub", '''
def probe_stats(net, batch_size=64, in_dim=100):
    while True:
        pass
''')
    with _Load(3 * (os.cpu_count() or 1)):
        results, outcome = _grade(sub, timeout=3, starved_extensions=1)
    assert {c.status for c in results["probe_stats"].checks} == {"timeout"}
    assert outcome.report.extensions.count <= 1


# ------------------------------------------------------------------ never root


def test_without_namespaces_root_is_refused_unless_asked(tmp_path, monkeypatch):
    """No namespaces, and the harness under a folder closed to others (like /root): the
    child cannot leave root, so nothing runs, unless the instructor passes the unsafe flag."""
    from grader.sandbox.supervisor import IsolationRefused

    if os.geteuid() != 0:
        pytest.skip("only root can be refused: here the child runs as this user")
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(closed))
    marker = tmp_path / "ran"
    sub = _submission(tmp_path / "sub", f'''
def probe_stats(net, batch_size=64, in_dim=100):
    import os
    open({str(marker)!r}, "w").write("x")
    raise RuntimeError(f"UID {{os.geteuid()}}")
''')
    with pytest.raises(IsolationRefused, match="--unsafe-no-isolation"):
        _grade(sub, namespaces=False)
    assert not marker.exists(), "student code ran before the refusal"
    results, outcome = _grade(sub, namespaces=False, unsafe_no_isolation=True)
    assert "UID 0" in results["probe_stats"].message
    isolation = outcome.report.isolation
    assert isolation["unsafe_root"] is True and isolation["namespaces"] is False


def test_the_unsafe_flag_is_offered_by_both_commands():
    for command in ("grade", "autograde"):
        proc = run_py("-m", "grader", command, "--help")
        assert "--unsafe-no-isolation" in proc.stdout


# ------------------------------------------------------------------ fairness


@pytest.mark.serial
def test_a_cpu_hog_does_not_cost_a_classmate_points(tmp_path):
    """autograde --jobs 2 of the reference next to a student whose every module starts 30
    busy processes in their own sessions: the reference keeps full marks."""
    root, out = tmp_path / "class", tmp_path / "out"
    for name in ("ana", "hog"):
        shutil.copytree(ROOT / "solutions", root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for path in (root / "hog").glob("ex*.py"):
        path.write_text(path.read_text() + "\n" + HOG)
    proc = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
                  "--tasks", "deep_net,probe_stats", "--timeout", "30", env={"CI": "true"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    ana = json.loads((out / "students" / "ana" / "result.json").read_text())
    for task in ("deep_net", "probe_stats"):
        entry = ana["tasks"][task]
        assert entry["score"] == entry["max_score"] > 0, (task, entry["message"])
        assert float(rows["ana"][task]) == entry["score"]


# ------------------------------------------------------------------ a kit under /tmp


def test_a_clone_under_tmp_grades_the_reference_in_full():
    """A fresh clone of the kit, a virtual environment and MNIST all under /tmp: the
    child's own /tmp must not cover them."""
    base = Path(tempfile.mkdtemp(prefix="practico-clone-", dir="/tmp"))
    try:
        clone = base / "kit"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        # a venv under /tmp whose packages are this one's (a .pth), so torch is not reinstalled
        venv = base / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next(p for p in sys.path if p.endswith("site-packages"))
        own_site = next((venv / "lib").glob("python*/site-packages"))
        (own_site / "practico_base.pth").write_text(site + "\n")
        # MNIST copied under /tmp, and given through a symbolic link under /tmp
        from grader.data import data_root

        data = base / "data"
        shutil.copytree(data_root().resolve() / "MNIST" / "raw", data / "MNIST" / "raw")
        (base / "data-link").symlink_to(data)
        out = base / "result.json"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update({"PRACTICO_DATA": str(base / "data-link"), "CI": "true"})
        proc = subprocess.run([str(venv / "bin" / "python"), "-m", "grader", "grade",
                               "solutions", "--json", str(out)], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(out.read_text())
        assert result["score"] == result["max_score"] == 120, {
            t: (v["score"], v["message"]) for t, v in result["tasks"].items()}
        visible = result["sandbox"]["isolation"]["visible"]
        assert str(data) in visible and any(v.startswith(str(base)) for v in visible if
                                            "site-packages" in v or v == str(venv)), visible
    finally:
        shutil.rmtree(base, ignore_errors=True)
