"""One grading child's events, turned into decisions: the grader's side of the protocol.

A child sends ``hello`` (the isolation it applied), then for each check ``start``, maybe
``import``/``imported`` around the import of a student module, and ``result``; at the end
``done``. :class:`ChildSession` is fed those events (and asked for the time left) and
answers what to do: wait so long, note the child's isolation, a check started, judge this
result, or stop. Once the child is gone, :meth:`ChildSession.end` says which check, if any,
is blamed and why. It starts no process and reads no pipe, so every order of events (a
``result`` before its ``start``, ``done`` too early, a ``hello`` twice, a frame that is not
an event) is tested as a list (``tests/test_session.py``); the supervisor feeds it a real
child's frames.

Anything out of order ends the child: the check running then (or the first one, before any
``start``) is blamed with the reason, never the checks that already have their result.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENTS", "HELLO", "NOTED", "RESULT", "START", "STOP", "ChildSession", "Decision",
           "Ending", "describe_event", "exit_reason", "is_index"]

#: the events a child may send
EVENTS = ("hello", "start", "import", "imported", "result", "done")
#: signals whose reason says more than the name (message keys ``reason_<NAME>``)
EXPLAINED_SIGNALS = frozenset({"SIGXFSZ", "SIGXCPU", "SIGKILL", "SIGSEGV"})

#: decision kinds
HELLO, START, RESULT, NOTED, STOP = "hello", "start", "result", "noted", "stop"


@dataclass(frozen=True)
class Decision:
    """What to do about one event: ``hello`` (note ``isolation``, a new window of the CPU
    meter), ``start`` (check ``position`` started: a new window), ``result`` (judge
    ``outcome`` for check ``position``), ``noted`` (nothing to do) or ``stop``."""

    kind: str
    position: int | None = None
    outcome: dict[str, Any] | None = None
    isolation: dict[str, Any] | None = None


@dataclass(frozen=True)
class Ending:
    """What a finished child comes to: check ``blamed`` (a position) scores ``reason``;
    ``crashed_module`` (a module whose import killed the child) kills every child, so its
    other checks are not run again; ``zygote_lost``: the zygote died under the child, and
    nothing is blamed on the submission."""

    blamed: int | None = None
    reason: dict[str, Any] | None = None
    crashed_module: str | None = None
    zygote_lost: bool = False


class ChildSession:
    """The grader's view of one child running ``len(budgets)`` checks in order.

    ``budgets``: wall seconds of each check; ``startup``: until ``hello``; ``prelude``: extra
    seconds before the first check (a notebook runs its cells first). ``clock`` gives the
    time; ``extra_time(budget)`` is asked at each deadline for more wall time (the CPU
    meter's: a check starved by other load gets more, see :mod:`grader.sandbox.cpuwatch`).
    """

    def __init__(self, budgets: list[float], startup: float, prelude: float,
                 clock: Callable[[], float], extra_time: Callable[[float], float]) -> None:
        self.budgets = list(budgets)
        self.startup = startup
        self.prelude = prelude
        self.clock = clock
        self.extra_time = extra_time
        self.deadline = clock() + startup
        self.said_hello = False
        self.current: int | None = None  # position of the check running
        self.importing: str | None = None  # module whose import is under way
        self.finished: set[int] = set()  # positions that have their result
        self.reason: dict[str, Any] | None = None  # why the child was stopped, if it was
        self.stopped = False

    # ------------------------------------------------------------------ time
    def window_budget(self) -> float:
        """The budget of what runs now: the current check's, or the startup's."""
        return self.budgets[self.current] if self.current is not None else self.startup

    def wait(self) -> float | None:
        """Seconds to wait for the next event, or ``None``: time is up (and no extension
        was granted), the session stopped with a timeout."""
        while True:
            left = self.deadline - self.clock()
            if left > 0:
                return left
            extra = self.extra_time(self.window_budget())
            if extra:
                # kept from running by other load, not slow: the same check goes on
                self.deadline = self.clock() + extra
                continue
            self._stop({"status": "timeout", "seconds": f"{self.window_budget():g}"})
            return None

    def judged(self, seconds: float) -> None:
        """The child ran on while its result was judged: that time is given back to its
        deadline, so a slow verdict never turns the next check into a timeout."""
        self.deadline += seconds

    # ---------------------------------------------------------------- events
    def feed(self, message: Any) -> Decision:
        """One decoded frame from the child."""
        ev = message.get("ev") if isinstance(message, dict) else None
        count = len(self.budgets)
        if ev == "hello" and not self.said_hello:
            self.said_hello = True
            isolation = message.get("isolation")
            self.deadline = self.clock() + self.prelude + (self.budgets[0] if count else 1)
            return Decision(HELLO, isolation=isolation if isinstance(isolation, dict) else {})
        if ev == "start" and self.said_hello and is_index(
                message.get("i"), 0 if self.current is None else self.current + 1, count):
            self.current = message["i"]
            self.importing = None
            self.deadline = self.clock() + self.budgets[self.current]
            return Decision(START, position=self.current)
        if ev == "import" and self.current is not None and isinstance(message.get("module"), str):
            self.importing = message["module"][:100]
            return Decision(NOTED)
        if ev == "imported" and self.current is not None:
            self.importing = None
            return Decision(NOTED)
        if ev == "result" and self.current is not None and self.current not in self.finished \
                and is_index(message.get("i"), self.current, count):
            outcome = message.get("outcome")
            self.finished.add(self.current)
            self.importing = None
            return Decision(RESULT, position=self.current,
                            outcome=outcome if isinstance(outcome, dict) else {})
        if ev == "done" and self.current is not None and len(self.finished) == count:
            return self._stop(None)
        return self._stop({"status": "crashed", "reason": describe_event(message)})

    def broken(self, reason: dict[str, Any]) -> Decision:
        """The channel broke the protocol (a frame too big, undecodable, truncated)."""
        return self._stop({"status": "crashed", "reason": reason})

    def closed(self) -> Decision:
        """The channel ended (the child exited or closed it)."""
        return self._stop(None)

    def _stop(self, reason: dict[str, Any] | None) -> Decision:
        self.reason = reason
        self.stopped = True
        return Decision(STOP)

    # ------------------------------------------------------------------ end
    def end(self, returncode: int | None, isolation: dict[str, Any],
            zygote_gone: bool = False) -> Ending:
        """After the child was killed and reaped: which check is blamed, and why.

        ``returncode``: the child's (``None`` when unknown); ``isolation``: what the
        submission's children applied (a PID namespace turns a signal into an exit code);
        ``zygote_gone``: the child came from a zygote that has died since.
        """
        current = self.current
        unfinished = current is None or current not in self.finished
        reason = self.reason
        if reason is None and returncode is None and zygote_gone and unfinished:
            # The zygote died while its child ran (killed from outside, out of memory): the
            # channel closed, and how the child ended is unknown, so nothing is blamed on
            # the submission; its unfinished checks go to another child.
            return Ending(zygote_lost=True)
        if reason is None and unfinished:
            reason = {"status": "crashed", "reason": exit_reason(returncode, isolation)}
        if reason is None:
            return Ending()
        # Blame the check that was running; if none started, the first one.
        position = current if current is not None else 0
        if position in self.finished:
            position += 1
        if position >= len(self.budgets):
            return Ending()
        crashed = self.importing if reason["status"] == "crashed" and self.importing else None
        return Ending(blamed=position, reason=reason, crashed_module=crashed)


def is_index(value: Any, expected: int, count: int) -> bool:
    """A check index from the child: exactly an int (not a bool, not a float), the one
    expected next, and one of the checks this child was given."""
    return type(value) is int and value == expected and 0 <= value < count


def describe_event(message: Any) -> dict[str, Any]:
    """What was wrong with a message from the child, as a reason (never its data)."""
    if not isinstance(message, dict):
        return {"key": "reason_event_not_dict", "type": type(message).__name__}
    ev = message.get("ev")
    if not isinstance(ev, str):
        return {"key": "reason_event_unnamed"}
    if ev not in EVENTS:
        return {"key": "reason_event_unknown"}
    return {"key": "reason_event_malformed", "ev": ev}


def exit_reason(code: int | None, isolation: dict[str, Any]) -> dict[str, Any]:
    """How the child ended, as a reason: a message key and its values."""
    if code is None:
        return {"key": "reason_killed"}
    if code < 0 or (isolation.get("namespaces") and code > 128):
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            return {"key": "reason_signal", "signal": str(number)}
        key = f"reason_{name}" if name in EXPLAINED_SIGNALS else "reason_signal"
        return {"key": key, "signal": name}
    return {"key": "reason_exit_code", "code": code}
