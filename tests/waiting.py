"""Waiting for something to happen, in tests: on the event itself, with a deadline.

A fixed ``time.sleep`` is a guess of how long something takes: too short on a loaded
machine (the test fails for nothing), too long everywhere else (the suite crawls). What a
test waits for is a condition it can look at (a file written, a process started or gone);
:func:`wait_until` looks at it often and fails, naming what never happened, once the
deadline has passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import psutil

T = TypeVar("T")

#: seconds between two looks: short next to anything a test waits for, long next to a look
POLL_SECONDS = 0.05


def wait_until(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """``predicate()``'s first true value, looked at every :data:`POLL_SECONDS` until
    ``timeout`` seconds have passed; then an ``AssertionError`` saying that ``what`` never
    happened (``what``: the event, e.g. "the first result.json was written")."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"never happened within {timeout:g} s: {what}")
        time.sleep(POLL_SECONDS)


def grading_zygotes(pid: int) -> list[psutil.Process]:
    """Zygotes under ``pid`` that have a grading child right now (a student is running)."""
    found = []
    try:
        for proc in psutil.Process(pid).children(recursive=True):
            try:
                if "--zygote" in proc.cmdline() and proc.children():
                    found.append(proc)
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return found


def gone(proc: psutil.Process) -> bool:
    """``proc`` has ended (reaped, or a zombie waiting for its parent)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
