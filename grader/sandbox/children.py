"""A running grading child as the grader holds it, and the host's view of a uid's processes.

:class:`Child` is what the supervisor holds while a child runs: is it alive, kill it (its
whole process group), its exit status. :class:`PopenChild` is a fresh interpreter; a child
forked by the zygote is a :class:`grader.sandbox.zygote.ZygoteChild`. Standard library only
(the zygote, in the child's harness, imports this module).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Child", "PopenChild", "count_processes", "kill_uid", "site_paths"]


def site_paths() -> list[str]:
    """The interpreter's package folders (never the kit's own folder)."""
    paths = []
    for entry in sys.path:
        parts = Path(entry).parts
        if entry and ("site-packages" in parts or "dist-packages" in parts):
            paths.append(str(Path(entry).resolve()))
    return list(dict.fromkeys(paths))


class Child:
    """A running child: alive?, kill (its whole process group), exit status.

    ``share`` is the child's cgroup and CPU slot (see :class:`grader.sandbox.spawn.Launcher`),
    ``release`` frees them once it is killed.
    """

    pid: int
    share: tuple[Any, int | None] = (None, None)
    release: Callable[[], None] | None = None

    def _release(self) -> None:
        """After the kill: empty and delete its cgroup, free its CPU slot (once)."""
        release, self.release = self.release, None
        if release is not None:
            release()

    def alive(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def kill(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def zygote_gone(self) -> bool:
        """The child came from a zygote that has died since (its channel closed with it)."""
        return False

    @property
    def returncode(self) -> int | None:  # pragma: no cover - interface
        raise NotImplementedError


class PopenChild(Child):
    """A child started as a fresh interpreter."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.pid = proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._release()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode


def count_processes(uid: int) -> int:
    """Threads of every process of ``uid`` (RLIMIT_NPROC counts them all)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


def kill_uid(uid: int) -> None:
    """Without a PID namespace: kill whatever still runs as this child's private uid."""
    if os.geteuid() != 0:
        return
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    os.kill(int(entry), signal.SIGKILL)
            except OSError:
                continue
