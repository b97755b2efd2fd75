"""``--cpu-top N``: the N tests that cost the most CPU, and the suite's total.

On a shared 2-core machine a test's wall time says as much about the neighbours as about the
test; its CPU time (user + system, of the pytest process and of every process it started
and waited for: ``grade``, ``autograde`` and their sandbox children, ``nbgrader`` and its
kernels) is what it costs wherever it runs, and what the suite's wall time on two cores is
bounded by (the sum over two). Each phase (setup, call, teardown) is measured around the
hook that runs it and stored in the test's ``user_properties``, which pytest-xdist carries
from its workers to the controller, where the summary is printed. A costly fixture counts
for the test that first asked for it.

Not counted: processes a test left running in the background or that were not waited for
(a detached daemon); those are bugs elsewhere in the suite (test_sandbox checks leftovers).
"""

from __future__ import annotations

import resource

import pytest

KEY = "cpu_seconds"


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def add_option(parser: pytest.Parser) -> None:
    parser.getgroup("practico2 passes").addoption(
        "--cpu-top", type=int, default=0, metavar="N",
        help="after the run, the N tests that cost the most CPU (with their children)")


def _measured(item: pytest.Item):
    if not item.config.getoption("--cpu-top"):
        yield
        return
    start = _cpu_now()
    try:
        yield
    finally:
        item.user_properties.append((KEY, _cpu_now() - start))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    yield from _measured(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    yield from _measured(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem):
    yield from _measured(item)


def cpu_by_test(reports) -> dict[str, float]:
    """CPU seconds per node id, from the reports of the last phase each test ran (their
    ``user_properties`` hold every phase measured so far)."""
    found: dict[str, float] = {}
    for report in reports:
        seconds = sum(v for k, v in getattr(report, "user_properties", ()) if k == KEY)
        if seconds:
            found[report.nodeid] = max(found.get(report.nodeid, 0.0), seconds)
    return found


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    top = config.getoption("--cpu-top")
    if not top or hasattr(config, "workerinput"):
        return
    # every category: a passed setup or teardown is filed under "", a failed one as error
    reports = [r for kept in terminalreporter.stats.values() for r in kept
               if hasattr(r, "nodeid")]
    found = cpu_by_test(reports)
    if not found:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"CPU per test (with its children), top {top}")
    by_file: dict[str, float] = {}
    for nodeid, seconds in found.items():
        by_file[nodeid.split("::")[0]] = by_file.get(nodeid.split("::")[0], 0.0) + seconds
    for nodeid, seconds in sorted(found.items(), key=lambda kv: -kv[1])[:top]:
        write(f"{seconds:8.1f}s {nodeid}")
    write("per file:")
    for name, seconds in sorted(by_file.items(), key=lambda kv: -kv[1])[:top]:
        write(f"{seconds:8.1f}s {name}")
    write(f"{sum(found.values()):8.1f}s in all, {len(found)} tests")
