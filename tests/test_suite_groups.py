"""The suite's own tools: under ``--dist loadgroup`` a costly fixture is built once, and
``--cpu-top`` counts what each test costs.

``tests/conftest.py`` gives the tests that share a costly fixture one ``xdist_group``, and
pytest-xdist's controller schedules a group on one worker by the ``@group`` it reads at the
end of each node id. With pytest 9.2 and pytest-xdist 3.8 that suffix never reached the node
id (xdist writes ``item._nodeid``; pytest 9.2 reads ``item._id``), so every grouped test was
scheduled alone and each worker built the fixture again. Here a real ``pytest -n 2 --dist
loadgroup`` runs this suite's conftest over a module whose tests share a module fixture and
counts how many times it was built.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # a pytest with two workers: seconds


def run_suite(root: Path, tests: Path, files: dict[str, str], *args: str
              ) -> subprocess.CompletedProcess:
    """A real pytest (``args``: its options) over ``files`` (name: source) in ``tests``,
    beside a copy of this suite's conftest and the module it loads, rooted at ``root``; it
    must pass."""
    tests.mkdir(exist_ok=True)
    for name in ("conftest.py", "cpu_report.py"):
        shutil.copy(ROOT / "tests" / name, tests / name)
    for name, source in files.items():
        (tests / name).write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={root}",
         *args, str(tests)], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


SHARED = '''
import os
from pathlib import Path

import pytest

BUILT = Path(__file__).with_name("built.log")


@pytest.fixture(scope="module")
def costly():
    with BUILT.open("a") as fh:
        fh.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
    return 6


@pytest.mark.parametrize("i", range(12))
def test_uses_the_costly_fixture(costly, i):
    assert costly == 6


@pytest.mark.parametrize("i", range(12))
def test_needs_nothing(i):
    assert i < 12
'''


def test_tests_that_share_a_module_fixture_run_on_one_worker(tmp_path):
    proc = run_suite(tmp_path, tmp_path, {"test_shared.py": SHARED},
                     "-n", "2", "--dist", "loadgroup")
    assert "24 passed" in proc.stdout, proc.stdout[-2000:]
    built = (tmp_path / "built.log").read_text().split()
    assert len(built) == 1, f"the module fixture was built {len(built)} times, on {built}"


BURNS = '''
import subprocess
import sys

BURN = "import time\\nwhile time.process_time() < 0.6: pass"


def test_burns_in_a_child():
    subprocess.run([sys.executable, "-c", BURN], check=True)


def test_burns_nothing():
    assert True
'''


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["alone", "two_workers"])
def test_cpu_top_counts_what_a_test_and_its_children_spent(tmp_path, workers):
    """``--cpu-top`` (tests/cpu_report.py): a test whose child burns 0.6 s of CPU is listed
    with at least that, above a test that does nothing, with or without workers."""
    proc = run_suite(tmp_path, tmp_path, {"test_burns.py": BURNS}, *workers, "--cpu-top", "5")
    listed = dict((line.split()[1], float(line.split()[0].rstrip("s")))
                  for line in proc.stdout.splitlines() if "::test_burns" in line)
    assert listed["test_burns.py::test_burns_in_a_child"] >= 0.6, proc.stdout
    assert listed.get("test_burns.py::test_burns_nothing", 0.0) < 0.6, proc.stdout


LOGGED = '''
import os
from pathlib import Path

import pytest

LOG = Path(__file__).resolve().parent.parent / "order.log"


@pytest.fixture(autouse=True)
def logged(request):
    with LOG.open("a") as fh:
        fh.write(f"{os.environ['PYTEST_XDIST_WORKER']} {request.node.name}\\n")
'''


def test_the_costliest_module_starts_first_and_waits_for_nothing(tmp_path):
    """conftest's COSTLIEST_FIRST (test_official) is handed out first, so it runs beside the
    rest of the suite, and its worker's second unit of work is one quick test, not a group."""
    fixture = LOGGED + '''

@pytest.fixture(scope="module")
def built():
    return 1
'''
    files = {
        "test_a_group.py": fixture + "".join(
            f"\n\n@pytest.mark.slow\ndef test_grouped_{i}(built):\n    assert built\n"
            for i in range(6)),
        "test_b_single.py": LOGGED + "".join(
            f"\n\ndef test_single_{i}():\n    assert True\n" for i in range(8)),
        "test_official.py": LOGGED + "\n\ndef test_costliest():\n    assert True\n",
    }
    # COSTLIEST_FIRST is a path under the rootdir
    run_suite(tmp_path, tmp_path / "tests", files, "-n", "2", "--dist", "loadgroup")
    order = [line.split() for line in (tmp_path / "order.log").read_text().splitlines()]
    assert len(order) == 15, order
    worker = next(w for w, name in order if name == "test_costliest")
    on_its_worker = [name for w, name in order if w == worker]
    assert on_its_worker[0] == "test_costliest", order
    assert on_its_worker[1].startswith("test_single_"), order
