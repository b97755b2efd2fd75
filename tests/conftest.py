"""Shared setup for the kit's own tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MPLBACKEND", "Agg")


def _session_results_key() -> None:
    """autograde signs each result.json with a key made on first use in the user's config
    folder (grader/outputs/signing.py); the tests (and the autograde runs they start, which
    inherit this) use one of their own, outside every class and results folder they make."""
    import atexit
    import shutil
    import tempfile

    if "PRACTICO_RESULTS_KEY" not in os.environ:
        folder = tempfile.mkdtemp(prefix="practico2-key-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["PRACTICO_RESULTS_KEY"] = os.path.join(folder, "results.key")


_session_results_key()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_records():
    """The reference graded once, in this process, each check's data kept
    (``tests/probe_records.py``): the diagnosis tests force every detector on it."""
    from probe_records import record

    from grader.checks import Context
    from grader.impl import DirImpl

    return record(DirImpl(ROOT / "solutions"), Context())


@pytest.fixture(scope="session")
def reference_results(reference_records):
    """The reference graded once, in this process, for every test that needs it."""
    from grader.scoring import summarize

    return summarize([r.result for r in reference_records])


def sandbox_grade(sandbox, folder: Path, tasks=None, on_result=None, **request):
    """Grade ``folder`` in ``sandbox`` through the grading loop; ``request``: the other
    fields of its :class:`grader.request.GradeRequest` (timeout, threads, lang...). Returns
    the :class:`grader.grading.GradeOutcome`."""
    from grader.grading import grade
    from grader.request import GradeRequest
    from grader.submission import Submission

    return grade(GradeRequest(Submission.from_folder(folder), tasks=tasks, **request), sandbox,
                 on_result)


def run_py(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 600):
    """Run ``python *args`` in a subprocess with this interpreter; returns CompletedProcess."""
    import subprocess

    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
