"""Blocks of private uids: each grading process takes one of its own, held by a lock.

Run as root, the sandbox starts each child as a private uid (:mod:`grader.sandbox.spawn`)
and nbgrader's jail starts each kernel as one (:mod:`grader.nbgrading.kernel`). Two grading
processes on one machine (two ``autograde`` runs, the ``nbgrader`` processes of
``nbgrader-autograde --jobs N``, the workers of a local cluster, a test run beside a
grading) must never hand out the same uid: a child's process limit counts every process of
its uid, and what counts or kills a run's leftovers by uid would reach the other run's
children. A block number ``B`` names one range of each kind::

    sandbox children   spawn.UID_BASE  + B * BLOCK_UIDS ... + BLOCK_UIDS - 1
    nbgrader kernels   kernel.UID_BASE + B * BLOCK_UIDS ... + BLOCK_UIDS - 1

The first time a process needs a private uid it takes the lowest block nobody holds: an
exclusive ``flock`` on ``FOLDER/block-B`` (``LOCK_NB``: a held block is skipped, never
waited for). The lock is the process's until it ends; the kernel releases it however the
process ends (a crash, SIGKILL), so a block is never left taken and there is nothing to
clean up. The threads of one process share its block (the callers number the uids in it).
The lock file is opened close-on-exec: a child the grader starts never holds its block.

Only root's uids are real (a user's children run in a user namespace, as uid 1000 inside
it), so each user has a folder of their own; root's is the one every root grading on the
machine shares.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading
from pathlib import Path

from grader.options import UserError

__all__ = ["BLOCKS", "BLOCK_UIDS", "BlockUids", "UidBlocks", "lock_folder", "process_block"]

#: how many gradings one machine runs at once (the uid ranges above hold this many blocks)
BLOCKS = 64
#: private uids in a block: one per child (or kernel) a process runs at once, and more
BLOCK_UIDS = 512


def lock_folder() -> Path:
    """Where the block locks live: a fixed path (not ``$TMPDIR``: every grading on the
    machine must look in the same place), one per user."""
    return Path("/tmp") / f"practico2-uid-blocks-{os.geteuid()}"


class UidBlocks:
    """The blocks whose locks are in ``folder`` (``blocks`` of them)."""

    def __init__(self, folder: Path, blocks: int = BLOCKS) -> None:
        self.folder = folder
        self.blocks = blocks

    def _checked_folder(self) -> None:
        """Make the folder (0700) if need be; refuse one that is not ours alone: someone
        who could replace its files could hand this grading another's uids."""
        try:
            os.mkdir(self.folder, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise UserError(f"cannot make the folder of the uid-block locks {self.folder}: "
                            f"{exc.strerror}") from None
        info = os.lstat(self.folder)
        if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid()
                or info.st_mode & 0o022):
            raise UserError(f"{self.folder} (the uid-block locks) is not a folder of this user "
                            "writable by nobody else; remove it and run again.")

    def _open(self, block: int) -> int:
        return os.open(self.folder / f"block-{block}",
                       os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)

    def take(self) -> tuple[int, int]:
        """Take the lowest free block: ``(block, fd)``; the block is held while ``fd`` is
        open (in this process or a fork of it). Raises :class:`UserError` when every block
        is held."""
        self._checked_folder()
        for block in range(self.blocks):
            fd = self._open(block)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    continue  # another grading's
                raise UserError(f"cannot lock {self.folder}/block-{block}: {exc.strerror} "
                                "(the folder must be on a local disk)") from None
            return block, fd
        raise UserError(f"all {self.blocks} blocks of private uids are held by other "
                        f"gradings on this machine (locks in {self.folder}); wait for one "
                        "to end and run again.")


_held: list[int] = []  # [block, fd] of this process, once taken
_held_pid = 0  # the process that took it: a fork shares the lock, but takes its own block
_held_lock = threading.Lock()


def process_block() -> int:
    """This process's block, taken on the first call and held until the process ends."""
    global _held_pid
    with _held_lock:
        if not _held or _held_pid != os.getpid():
            # A forked child shares its parent's lock (one open file), so it must not use the
            # parent's block: it takes one of its own, the parent's staying held by both.
            _held[:] = UidBlocks(lock_folder()).take()
            _held_pid = os.getpid()
        return _held[0]


class BlockUids:
    """The private uids of one kind (``base``: where that kind's blocks start) this process
    hands out: ``base + block * BLOCK_UIDS + i`` for its own block, ``i`` round robin
    (``never``: uids skipped). Thread-safe; the sandbox's children and the kernel jail's
    kernels each have one."""

    def __init__(self, base: int, never: frozenset[int] = frozenset()) -> None:
        self.base = base
        self.never = never
        self._next = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            first = self.base + process_block() * BLOCK_UIDS
            while True:
                self._next = (self._next + 1) % BLOCK_UIDS
                if first + self._next not in self.never:
                    return first + self._next
