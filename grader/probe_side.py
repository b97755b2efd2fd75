"""The marker of code that runs next to student code (the *probe side* of a check).

The sandbox child gets a copy of the grader built by :mod:`grader.sandbox.probe_copy`: only the
definitions marked here (plus each check's ``probe`` method, constants and imports) are
copied, so a verdict, an oracle or an expected-value helper never exists in the process
that runs student code. The marker is fail-closed on purpose: a probe helper someone
forgets to mark is missing in the child (its check errors on the reference, and the
harness tests catch it); a verdict helper can never leak by being forgotten.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def probe_side(obj: T) -> T:
    """Mark a function, method or class as needed by probes (copied into the harness)."""
    return obj
