"""Shared setup for the kit's own tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_results():
    """The reference graded once, in this process, for every test that needs it."""
    from grader.checks import Context
    from grader.impl import DirImpl
    from grader.scoring import grade_in_process

    return grade_in_process(DirImpl(ROOT / "solutions"), Context())


def run_py(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 600):
    """Run ``python *args`` in a subprocess with this interpreter; returns CompletedProcess."""
    import subprocess

    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
