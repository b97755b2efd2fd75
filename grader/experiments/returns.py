"""What student code returned, as the experiments read it: :class:`BadReturn`, the problem
reported when it is not what the practical asks for.

Below every other module of the experiments (the harness, the catalogue, the figures all
raise it), so none of them imports another to report one.
"""

from __future__ import annotations

from typing import Any


class BadReturn(Exception):
    """Student code ran but returned something of the wrong kind."""

    def __init__(self, name: str, expected: str, found: Any) -> None:
        text = type(found).__name__ if not isinstance(found, (int, float, str)) else repr(found)
        super().__init__(f"{name}: expected {expected}, got {text}")
        self.values = {"name": name, "expected": expected, "found": text[:200]}


__all__ = ["BadReturn"]
