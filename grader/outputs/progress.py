"""Progress of a long run: a bar on a terminal, one plain line per item in logs.

One rule decides which (:func:`show_bars`): bars only when the stream is a terminal and
this is not CI (:func:`grader.settings.in_ci`). ``autograde`` counts students with it,
``experiments`` counts experiments (and epochs, on a second bar). Every line shown goes
through :func:`grader.outputs.escape.terminal` here, where it is written: a student's folder
name or exception text cannot move the cursor, recolour or reorder a line.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from grader.outputs.escape import terminal
from grader.settings import in_ci


def show_bars(stream: Any) -> bool:
    """Bars on ``stream``: it is a terminal and this is not CI. Otherwise, log lines."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not in_ci()


class Progress:
    """A tqdm bar on a terminal; ``[n/total] line`` per finished item otherwise.

    ``done``: items already finished before this run (``autograde`` skips graded students).
    The stream is chosen when the object is made (default: the real stderr, before any
    student output is captured).
    """

    def __init__(self, total: int, unit: str = "item", *, done: int = 0,
                 enabled: bool | None = None, stream: TextIO | None = None,
                 bar_format: str | None = None) -> None:
        from tqdm import tqdm

        self.stream = stream if stream is not None else sys.stderr
        self.enabled = show_bars(self.stream) if enabled is None else enabled
        self.total, self.count = total, done
        self._tqdm = tqdm
        self.bar = tqdm(total=total, initial=done, unit=unit, file=self.stream,
                        disable=not self.enabled, dynamic_ncols=True, position=0,
                        bar_format=bar_format)

    def start(self, title: str) -> None:
        """The item now running (shown as the bar's description)."""
        self.bar.set_description_str(terminal(title, newlines=False)[:28])

    def item_done(self, line: str) -> None:
        """One more item finished: the bar moves, showing ``line``; or ``line`` is logged."""
        self.count += 1
        line = terminal(line, newlines=False)
        if self.enabled:
            self.bar.set_postfix_str(line[:60])
            self.bar.update(1)
        else:
            print(f"[{self.count}/{self.total}] {line}", file=self.stream, flush=True)

    def item_failed(self, line: str) -> None:
        """One more item ended badly: ``line`` stays on screen above the bar, or is logged."""
        self.count += 1
        line = terminal(line, newlines=False)
        if self.enabled:
            self.bar.write(line, file=self.stream)
            self.bar.update(1)
        else:
            print(f"[{self.count}/{self.total}] {line}", file=self.stream, flush=True)

    def sub_bar(self, desc: str, total: int, unit: str) -> Any:
        """A second bar under the main one, for the steps of the current item (it vanishes
        when closed); disabled, and silent, when there are no bars."""
        return self._tqdm(total=total, unit=unit, desc=f"  {terminal(desc, newlines=False)}"[:28], file=self.stream,
                          disable=not self.enabled, leave=False, dynamic_ncols=True, position=1)

    def close(self) -> None:
        self.bar.close()
