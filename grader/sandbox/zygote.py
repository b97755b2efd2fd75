"""The zygote: a process that imported torch and the harness once and forks a child per job.

Both ends of its control protocol live here. On the zygote's stdin, one line per request:
``spawn <job dir>``; on its stdout, ``ready`` once, ``pid <n>`` for each child forked, and
``exit <pid> <returncode>`` whenever a child ends.

- :func:`zygote_main` is the zygote (it runs in the child's harness, started from
  ``boot.py --zygote``): it never runs student code and never touches a tensor, so no
  thread pool exists when it forks; each forked child runs :func:`grader.sandbox.child.main`.
- :class:`Zygote` is the grader's end: it starts that process, asks for children and reads
  the answers; :class:`ZygoteChild` is the handle of one child it forked.

Standard library only at import (the child's harness holds this module).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from grader.sandbox.children import Child

__all__ = ["Zygote", "ZygoteChild", "ZygoteGone", "zygote_main"]


class ZygoteGone(Exception):
    """The zygote did not start, has ended, or did not answer."""


class ZygoteChild(Child):
    """A child the zygote forked: its exit status comes from the zygote's ``exit`` lines."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid

    def alive(self) -> bool:
        return self.zygote.returncode(self.pid) is None and self.zygote.running()

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.zygote.wait(self.pid, 30)
        self._release()

    def zygote_gone(self) -> bool:
        return not self.zygote.running()

    @property
    def returncode(self) -> int | None:
        return self.zygote.returncode(self.pid)


class Zygote:
    """The grader's end: starts the zygote (``cmd``) and forks children from it."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> None:
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(cwd / "zygote.log", "wb"), env=env,
                                     cwd=str(cwd), start_new_session=True)
        self.exits: dict[int, int] = {}
        self.pids: list[int] = []
        self.cond = threading.Condition()
        self.spawn_lock = threading.Lock()
        self.gone = False
        ready = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(timeout) or self.gone:
            self.stop()
            raise ZygoteGone("the zygote did not start")

    def _read(self, ready: threading.Event) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            parts = raw.decode(errors="replace").split()
            with self.cond:
                if parts[:1] == ["ready"]:
                    ready.set()
                elif parts[:1] == ["pid"] and len(parts) == 2:
                    self.pids.append(int(parts[1]))
                elif parts[:1] == ["exit"] and len(parts) == 3:
                    self.exits[int(parts[1])] = int(parts[2])
                self.cond.notify_all()
        with self.cond:
            self.gone = True
            self.cond.notify_all()
        ready.set()

    def running(self) -> bool:
        return not self.gone

    def spawn(self, job: Path) -> ZygoteChild:
        with self.spawn_lock:
            with self.cond:
                if self.gone:
                    raise ZygoteGone("the zygote has ended")
                before = len(self.pids)
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(f"spawn {job}\n".encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                raise ZygoteGone("the zygote has ended") from None
            with self.cond:
                if not self.cond.wait_for(lambda: len(self.pids) > before or self.gone, 30):
                    raise ZygoteGone("the zygote did not answer")
                if len(self.pids) == before:
                    raise ZygoteGone("the zygote has ended")
                return ZygoteChild(self, self.pids[before])

    def returncode(self, pid: int) -> int | None:
        with self.cond:
            return self.exits.get(pid)

    def wait(self, pid: int, timeout: float) -> int | None:
        with self.cond:
            self.cond.wait_for(lambda: pid in self.exits or self.gone, timeout)
            return self.exits.get(pid)

    def stop(self) -> None:
        """Kill the zygote (its process group; each child has a session of its own)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def _returncode(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def zygote_main() -> None:
    """The zygote's end: import torch and the harness once, then fork one grading child per
    ``spawn`` line, and report each child's pid and, when it ends, its exit status."""
    import select

    import matplotlib.figure  # noqa: F401
    import numpy  # noqa: F401
    import torch  # noqa: F401
    from torchvision import datasets, transforms  # noqa: F401

    from grader import checks, codec, data, impl, probing  # noqa: F401
    from grader.sandbox import run_cells  # noqa: F401
    from grader.sandbox.child import main

    out_fd = sys.stdout.fileno()
    children: set[int] = set()

    def say(text: str) -> None:
        os.write(out_fd, (text + "\n").encode())

    say("ready")
    buffer = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.1)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            children.discard(pid)
            say(f"exit {pid} {_returncode(status)}")
        if not ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:  # the grader is gone: so are its children
            for pid in children:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            os._exit(0)
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command, _, job_dir = line.decode().partition(" ")
            if command != "spawn" or not job_dir:
                continue
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.setsid()
                    fd = os.open(os.path.join(job_dir, "result.fifo"), os.O_WRONLY)
                    null = os.open(os.devnull, os.O_RDONLY)
                    os.dup2(null, 0)
                    for target, name in ((1, "stdout.txt"), (2, "stderr.txt")):
                        handle = os.open(os.path.join(job_dir, name),
                                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                        os.dup2(handle, target)
                        os.close(handle)
                    os.environ["HOME"] = job_dir
                    main(job_dir, fd)
                    code = 0
                finally:
                    os._exit(code)
            children.add(pid)
            say(f"pid {pid}")
