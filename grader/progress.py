"""Progress of a long run: a bar on a terminal, one plain line per item in logs."""

from __future__ import annotations

import os
import sys
from typing import Any

from grader.textsafe import safe_name


class Progress:
    """Progress bars on a terminal; one plain line per experiment in logs (no TTY, or CI).

    Bars go to the real stderr, chosen before any student output is captured.
    """

    def __init__(self, total: int, enabled: bool | None = None, stream: Any = None) -> None:
        from tqdm import tqdm

        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            ci = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
            enabled = bool(getattr(self.stream, "isatty", lambda: False)()) and not ci
        self.enabled = enabled
        self.total = total
        self._tqdm = tqdm
        self.bar = tqdm(total=total, unit="exp", file=self.stream, disable=not enabled,
                        dynamic_ncols=True, position=0,
                        bar_format="{desc:<28} {bar} {n_fmt}/{total_fmt} [{elapsed}]")

    def start(self, title: str) -> None:
        self.bar.set_description_str(title[:28])

    def epoch_bar(self, desc: str, total: int) -> Any:
        return self._tqdm(total=total, unit="epoch", desc=f"  {desc}"[:28], file=self.stream,
                          disable=not self.enabled, leave=False, dynamic_ncols=True, position=1)

    def done(self, index: int, line: str) -> None:
        if self.enabled:
            self.bar.update(1)
        else:
            print(f"[{index}/{self.total}] {line}", file=self.stream, flush=True)

    def close(self) -> None:
        self.bar.close()


class _Progress:
    """A tqdm bar with ETA on a terminal; one plain line per student otherwise."""

    def __init__(self, total: int, done: int) -> None:
        self.total, self.count = total, done
        self.bar = None
        if sys.stderr.isatty() and os.environ.get("CI", "") in ("", "0", "false"):
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="student", dynamic_ncols=True)

    def update(self, student: str, data: dict[str, Any], seconds: float) -> None:
        self.count += 1
        line = f"{safe_name(student)}: {data['score']:g}/{data['max_score']:g} ({seconds:.1f} s)"
        if self.bar is not None:
            self.bar.set_postfix_str(line[:60])
            self.bar.update(1)
        else:
            print(f"[{self.count}/{self.total}] {line}", file=sys.stderr, flush=True)

    def failed(self, student: str, error: str) -> None:
        self.count += 1
        line = f"{safe_name(student)}: NOT GRADED, grader error: {error}"
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
            self.bar.update(1)
        else:
            print(f"[{self.count}/{self.total}] {line}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
