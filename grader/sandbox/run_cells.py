"""Inside the sandboxed child: run a notebook's code cells in one namespace.

The grader sends the cells already turned into plain Python (IPython's ``%magics`` and
``!commands`` become calls on ``get_ipython()``, see :mod:`grader.nbgrading.cells`). Here
``get_ipython()`` answers with a shell that does nothing for line magics and shell
commands, and runs the body of the few cell magics that only time or capture their cell.

A cell that raises (``SystemExit`` included) is noted on stderr and the next cell runs,
as nbgrader runs a notebook with ``allow_errors``. A cell that runs past
:data:`CELL_SECONDS` is interrupted the same way, so one endless experiment does not cost
the checks that come after it; the grader's own deadline still bounds the whole run.
"""

from __future__ import annotations

import builtins
import json
import signal
import sys
from typing import Any

#: wall seconds one cell may run (nbgrader's course config gives the kernel's cells 180)
CELL_SECONDS = 120
#: cell magics whose body is ordinary Python that must run (timing, capturing output)
RUN_BODY_MAGICS = ("time", "timeit", "capture", "prun")


class CellTimeout(Exception):
    """A cell ran past :data:`CELL_SECONDS`."""


class _Shell:
    """What ``get_ipython()`` returns in the sandbox: no magics, no shell, no kernel."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace
        self.user_ns = namespace

    def run_cell_magic(self, name: str, line: str, body: str) -> None:
        if name in RUN_BODY_MAGICS:
            exec(compile(body, f"<%%{name}>", "exec"), self._namespace)  # noqa: S102

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    def system(self, *args: Any, **kwargs: Any) -> None:
        return None

    def getoutput(self, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _display(*objects: Any, **kwargs: Any) -> None:
    """``display`` is a builtin in IPython; here there is nobody to show anything to."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise CellTimeout(f"more than {CELL_SECONDS} s")


def run_cells(payload: bytes) -> dict[str, Any]:
    """Run the JSON list of ``[label, source]`` cells in order; return their namespace."""
    cells = json.loads(payload.decode("utf-8"))
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    shell = _Shell(namespace)
    namespace["get_ipython"] = lambda: shell
    namespace["display"] = _display
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        for label, source in cells:
            signal.alarm(CELL_SECONDS)
            try:
                exec(compile(source, f"<celda {label}>", "exec"), namespace)  # noqa: S102
            except BaseException as exc:  # noqa: BLE001 - the next cell runs, as in nbgrader
                print(f"[celda {label}] {type(exc).__name__}: {exc}"[:500], file=sys.stderr)
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return namespace
