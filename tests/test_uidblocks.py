"""Each grading process's own block of private uids (grader/sandbox/uidblocks.py): two
processes at once never share one, a dead process's block is free again, and the uids the
sandbox and the kernel jail hand out lie in the block of the process that hands them out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.options import UserError
from grader.sandbox import uidblocks

#: seconds a holder process gets to start and say its block (an interpreter's start, loaded)
START_SECONDS = 60


def _holder(code: str) -> subprocess.Popen:
    """A process that runs ``code`` (which prints one line), then holds on until its stdin
    is closed: it waits on that event, not on a clock."""
    script = f"import sys\n{code}\nsys.stdout.flush()\nsys.stdin.read()\n"
    return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def _said(proc: subprocess.Popen) -> str:
    """The line ``proc`` printed (it fails the test if none comes in time)."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(START_SECONDS), "the holder process never said its block"
    line = proc.stdout.readline()
    assert line, f"the holder process ended without a word (exit {proc.wait()})"
    return line.strip()


def _release(*procs: subprocess.Popen) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.stdin.close()
        proc.wait(START_SECONDS)


def _take_in(folder: Path, blocks: int = 4) -> str:
    return (f"from pathlib import Path\nfrom grader.sandbox.uidblocks import UidBlocks\n"
            f"print(UidBlocks(Path({str(folder)!r}), {blocks}).take()[0])")


def test_two_processes_at_once_take_different_blocks_and_a_killed_ones_is_free(tmp_path):
    folder = tmp_path / "locks"
    started = [_holder(_take_in(folder))]
    try:
        assert _said(started[0]) == "0"
        started.append(_holder(_take_in(folder)))
        assert _said(started[1]) == "1"  # 0 is held
        # a crash: SIGKILL, no clean-up ran; the kernel released the lock with the process
        started[0].send_signal(signal.SIGKILL)
        started[0].wait(START_SECONDS)
        started.append(_holder(_take_in(folder)))
        assert _said(started[2]) == "0"
    finally:
        _release(*started)


def test_every_block_held_is_an_error_naming_the_folder(tmp_path):
    folder = tmp_path / "locks"
    holders = [_holder(_take_in(folder, blocks=2)) for _ in range(2)]
    try:
        assert sorted(_said(p) for p in holders) == ["0", "1"]
        with pytest.raises(UserError, match="all 2 blocks .* held by other gradings") as err:
            uidblocks.UidBlocks(folder, 2).take()
        assert str(folder) in str(err.value)
    finally:
        _release(*holders)


def test_a_block_is_held_only_by_its_taker(tmp_path):
    """In one process, a second take skips the block the first holds (a lock per open file,
    not per process), and closing the first's file frees it."""
    blocks = uidblocks.UidBlocks(tmp_path / "locks", 3)
    one, fd = blocks.take()
    two, fd2 = blocks.take()
    assert (one, two) == (0, 1)
    os.close(fd)
    assert blocks.take()[0] == 0
    os.close(fd2)


@pytest.mark.parametrize("make", ["file", "others_write", "link"])
def test_a_lock_folder_others_could_change_is_refused(tmp_path, make):
    folder = tmp_path / "locks"
    if make == "file":
        folder.write_text("")
    elif make == "others_write":
        folder.mkdir()
        os.chmod(folder, 0o777)
    else:
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UserError, match="remove it and run again"):
        uidblocks.UidBlocks(folder).take()


def test_the_lock_folder_is_the_same_for_every_grading_of_a_user(monkeypatch, tmp_path):
    """Not under $TMPDIR: two gradings with different ones still see each other's locks."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert uidblocks.lock_folder() == Path("/tmp") / f"practico2-uid-blocks-{os.geteuid()}"


UIDS_OF_A_PROCESS = """
from grader.sandbox.spawn import NOBODY, UID_BASE, Launcher
from grader.sandbox.uidblocks import BLOCK_UIDS, BlockUids, process_block
block = process_block()
children = {Launcher.next_uid() for _ in range(2 * BLOCK_UIDS)}
mine = set(range(UID_BASE + block * BLOCK_UIDS, UID_BASE + (block + 1) * BLOCK_UIDS))
assert children == mine - {NOBODY}, sorted(children ^ mine)
kernels = BlockUids(95000)  # as the kernel jail's (see the next test)
assert {kernels.next() for _ in range(BLOCK_UIDS)} == {u + 95000 - UID_BASE for u in mine}
assert process_block() == block  # taken once, kept
print(block)
"""


def test_two_gradings_at_once_hand_out_disjoint_uids():
    """Two processes on this machine (the real lock folder, shared with any grading running
    beside the tests): each hands its children the uids of its own block only, and the two
    blocks differ, whatever their pids."""
    first, second = _holder(UIDS_OF_A_PROCESS), _holder(UIDS_OF_A_PROCESS)
    try:
        one, two = _said(first), _said(second)
    finally:
        _release(first, second)
    assert first.returncode == 0 and second.returncode == 0
    assert one != two


def test_a_forked_process_takes_a_block_of_its_own():
    """A fork shares its parent's lock (one open file) but not its block: the two go on
    handing out uids side by side."""
    parent = uidblocks.process_block()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: say its block, and never run the rest of the test
        try:
            os.write(write, str(uidblocks.process_block()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        child = fh.read()
    os.waitpid(pid, 0)
    assert child.isdigit() and int(child) != parent
    assert uidblocks.process_block() == parent
