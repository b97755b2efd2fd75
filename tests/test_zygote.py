"""When the zygote fails, grading falls back to plain ``python -I -S`` children.

Real processes throughout. The zygote is replaced (``SandboxOptions.zygote_command``, the
one test seam) by a small command that fails the way a zygote can: it never says ``ready``,
or it dies at its first ``spawn``; or the real zygote is killed with SIGKILL while one of
its children is in the middle of a check. Each time every check must get the result the
submission earns (the reference: full marks), never a crash blamed on the student.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import pytest
from conftest import ROOT, sandbox_grade

from grader.sandbox.limits import SandboxOptions
from grader.sandbox.supervisor import Sandbox

pytestmark = pytest.mark.slow

TASK = "probe_stats"  # three checks, one module: the cheapest task to grade in a child


def _options(**kw) -> SandboxOptions:
    return SandboxOptions(**kw)


def _grade(sandbox: Sandbox, folder: Path, on_result=None):
    return sandbox_grade(sandbox, folder, [TASK], on_result, timeout=60)


def _assert_full_marks(results) -> None:
    entry = results[TASK]
    assert entry.score == entry.max_score, entry.message
    assert len(entry.checks) == 3 and {c.status for c in entry.checks} == {"passed"}


def _fake_zygote(marker: Path, body: str) -> list[str]:
    """A zygote command that writes ``start`` to ``marker``, then runs ``body``."""
    code = f"import sys\nopen({str(marker)!r}, 'a').write('start\\n')\n{body}"
    return [sys.executable, "-c", code]


def test_a_zygote_that_cannot_start_is_tried_once_then_plain_children_grade(tmp_path):
    marker = tmp_path / "starts"
    options = _options(zygote_command=_fake_zygote(marker, "sys.exit(3)"))
    with Sandbox(options) as sandbox:
        for _ in range(2):
            outcome = _grade(sandbox, ROOT / "solutions")
            _assert_full_marks(outcome.results)
            assert outcome.report.children == 1
    assert marker.read_text() == "start\n"  # a failed start is not retried for every child


def test_a_zygote_that_dies_at_its_first_spawn_leaves_a_plain_child_the_work(tmp_path):
    marker = tmp_path / "starts"
    body = "print('ready', flush=True)\nsys.stdin.readline()\nsys.exit(0)"
    options = _options(zygote_command=_fake_zygote(marker, body))
    with Sandbox(options) as sandbox:
        outcome = _grade(sandbox, ROOT / "solutions")
    _assert_full_marks(outcome.results)
    assert outcome.report.children == 1 and not outcome.report.zygote_lost
    assert marker.read_text() == "start\n"


def _zygote_pids(sandbox: Sandbox) -> list[int]:
    """The sandbox's zygote, found as any process is: our child running its command line
    (the children it forks keep that command line, but not us as their parent)."""
    boot = str(sandbox.harness / "boot.py").encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if boot in argv and b"--zygote" in argv and parent == os.getpid():
                found.append(int(entry))
    return found


def test_a_zygote_killed_while_its_child_runs_costs_the_student_nothing(tmp_path):
    """The reference, with a ``probe_stats`` that takes a second: the zygote is killed as
    soon as the first check has its result, so its child is mid-way through the second."""
    sub = tmp_path / "sub"
    sub.mkdir()
    slow = ("\n\nimport time as _time\n_reference_probe = probe_stats\n\n\n"
            "def probe_stats(net, batch_size=64, in_dim=100):\n"
            "    _time.sleep(1.0)\n"
            "    return _reference_probe(net, batch_size, in_dim)\n")
    (sub / "ex5_init.py").write_text((ROOT / "solutions" / "ex5_init.py").read_text() + slow)
    shutil.copy(ROOT / "solutions" / "ex0_data.py", sub / "ex0_data.py")
    killed: list[int] = []

    def kill_zygote(result) -> None:
        if not killed:
            for pid in _zygote_pids(sandbox):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    with Sandbox(_options()) as sandbox:
        outcome = _grade(sandbox, sub, on_result=kill_zygote)
        after = _zygote_pids(sandbox)
    assert len(killed) == 1, "the zygote was not found running"
    _assert_full_marks(outcome.results)
    assert outcome.report.zygote_lost is True and outcome.report.children == 2
    assert after == [], "a zygote that died under a child is not started again"
