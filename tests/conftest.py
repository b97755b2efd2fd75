"""Shared setup for the kit's own tests.

How the suite runs (README, "Testing the kit"): ``./kit test`` makes two passes, the
independent tests on two pytest-xdist workers (``-n 2 --dist loadgroup --no-serial``), then
the tests marked ``serial`` alone (``--only-serial``): those measure CPU, wall time or load,
so a second test running beside them would change what they measure. Under ``loadgroup``
the tests of a module that share a module-scoped fixture (an autograded class, a built
nbgrader course) go to one worker together, so that fixture is built once; every other test
goes wherever a worker is free.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cpu_report
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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("practico2 passes", "the two passes of ./kit test")
    group.addoption("--no-serial", action="store_true",
                    help="leave out the tests marked serial (the parallel pass)")
    group.addoption("--only-serial", action="store_true",
                    help="run only the tests marked serial (the pass after, alone)")
    cpu_report.add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(cpu_report, "practico2-cpu-report")
    if getattr(config.option, "dist", "no") == "loadgroup":
        # the controller then hands out the groups in the order the workers collected them
        # (:func:`_costliest_first`), not sorted by how many tests each group holds, which
        # put test_official (one test) near the end of the queue, to run alone at the end
        config.option.loadscopereorder = False


#: session-scoped fixtures that take seconds to build (below): under xdist every worker
#: builds its own, so their users go to one worker together, as a module fixture's do
SHARED_SESSION_FIXTURES = ("reference_records", "reference_results", "graded_sample_class")


def _requested_fixtures(item: pytest.Item) -> set[str]:
    """The fixtures ``item`` asks for (its arguments, ``usefixtures``) and those they ask
    for in turn, leaving out the autouse ones nobody asks for: an autouse module fixture
    (test_fixtures.py's one-thread setting) is a cheap setting, not something to build once,
    and counting it would put its whole module on one worker."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    marked = [name for mark in item.iter_markers("usefixtures") for name in mark.args]
    todo, seen = [*info.argnames, *marked], set()
    while todo:
        name = todo.pop()
        defs = info.name2fixturedefs.get(name)
        if name in seen or not defs:
            continue
        seen.add(name)
        todo.extend(defs[-1].argnames)
    return seen


def _shared_fixtures(item: pytest.Item) -> list[tuple[str, str]]:
    """The costly fixtures ``item`` shares with other tests: each module-scoped fixture it
    asks for (one per module) and the shared session-scoped ones."""
    info = item._fixtureinfo
    found = []
    for name in sorted(_requested_fixtures(item)):
        scope = info.name2fixturedefs[name][-1].scope
        if scope == "module":
            found.append((item.module.__name__, name))
        elif scope == "session" and name in SHARED_SESSION_FIXTURES:
            found.append(("session", name))
    return found


def _group_by_shared_fixtures(items: list[pytest.Item]) -> None:
    """Mark the tests that share a costly fixture, directly or through others, with one
    ``xdist_group`` (connected components: a test using a module's fixture and a session's
    joins both), so ``--dist loadgroup`` builds each such fixture once."""
    parent: dict = {}

    def find(key):
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    shared = {item: _shared_fixtures(item) for item in items}
    for keys in shared.values():
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
    names: dict = {}
    for item, keys in shared.items():
        if keys and item.get_closest_marker("xdist_group") is None:
            name = names.setdefault(find(keys[0]), item.module.__name__)
            item.add_marker(pytest.mark.xdist_group(name))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("nbgrader") is not None:
            item.add_marker(pytest.mark.slow)  # every nbgrader command takes seconds
    no_serial, only_serial = config.getoption("--no-serial"), config.getoption("--only-serial")
    if no_serial and only_serial:
        raise pytest.UsageError("--no-serial and --only-serial leave nothing to run: "
                                "give one of them")
    if no_serial or only_serial:
        keep, dropped = [], []
        for item in items:
            serial = item.get_closest_marker("serial") is not None
            (keep if serial == only_serial else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
    if config.pluginmanager.hasplugin("xdist"):  # the marker is xdist's
        _group_by_shared_fixtures(items)


def _group_of(item: pytest.Item) -> str | None:
    """The name ``--dist loadgroup`` schedules ``item`` by (its ``xdist_group`` marks, as
    pytest-xdist joins them), or None."""
    names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                    for m in item.iter_markers("xdist_group")})
    return "_".join(names) if names else None


def _put_group_in_node_id(item: pytest.Item, group: str) -> None:
    """Write ``@group`` at the end of ``item``'s node id, which is where the controller of a
    ``--dist loadgroup`` run reads it (the workers send node ids, not marks). pytest-xdist
    3.8 writes it into ``item._nodeid``; pytest 9.2 keeps the node id in ``item._id`` (a
    ``NodeId``), so that write changes nothing there: every test was scheduled on its own
    and a costly fixture built on both workers (test_class_report's graded class twice, 80 s
    each). Nothing is done where the suffix is already there (an older pytest)."""
    tagged = f"{item.nodeid}@{group}"
    current = getattr(item, "_id", None)
    if current is not None and not isinstance(current, str):
        item._id = type(current).parse(tagged)  # NodeId.parse keeps the string as given
    else:
        item._nodeid = tagged
    if item.nodeid != tagged:
        raise pytest.UsageError(
            f"this pytest ({pytest.__version__}) keeps node ids where tests/conftest.py "
            "cannot add the xdist group; run without --dist loadgroup, or see "
            "tests/conftest.py:_put_group_in_node_id")


# after pytest-xdist's own hook, which tries the same (a second implementation of one hook
# in this file: pluggy's specname; pytest registers only names that start with "pytest_")
@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_group_ids(config: pytest.Config,
                                            items: list[pytest.Item]) -> None:
    """Group names on the node ids of a ``--dist loadgroup`` worker (see
    :func:`_put_group_in_node_id`), once pytest_collection_modifyitems above marked them."""
    # a worker has workerinput; PYTEST_XDIST_WORKER would also be set in a pytest that a
    # test run by a worker starts
    if not hasattr(config, "workerinput") or not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        group = _group_of(item)
        if group is not None and not item.nodeid.endswith(f"@{group}"):
            _put_group_in_node_id(item, group)
    items[:] = _costliest_first(items)


#: the module that costs the most CPU by far (``--cpu-top``, README "Testing the kit":
#: test_official, about 1,000 of the parallel pass's 1,900 CPU seconds, in one test that
#: runs processes of its own beside it): handed out first, so that it runs beside the rest
#: of the suite instead of alone at its end
COSTLIEST_FIRST = "tests/test_official.py"


def _costliest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with :data:`COSTLIEST_FIRST`'s tests at the front. Then one quick test (not
    ``slow``, in no group): pytest-xdist gives each worker a second unit of work at the start,
    and the worker that took the costliest test runs that unit only after it."""
    first = [i for i in items if i.nodeid.startswith(COSTLIEST_FIRST + "::")]
    if not first:
        return items
    rest = [i for i in items if not i.nodeid.startswith(COSTLIEST_FIRST + "::")]
    quick = [i for i in rest if _group_of(i) is None and i.get_closest_marker("slow") is None]
    # the second worker takes rest[0]; the first worker's second unit is what comes next
    if len(quick) > 1:  # quick is drawn from rest
        second = next(i for i in quick if i is not rest[0])
        rest.remove(second)
        rest.insert(1, second)
    return first + rest


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


@pytest.fixture(scope="session")
def graded_sample_class(tmp_path_factory) -> dict:
    """``fixtures/class`` assembled and graded by ``autograde --jobs 2 --timeout 30``, every
    task, once for the session (tests/test_sandbox.py and tests/test_class_report.py check
    the same run): ``root`` (the class), ``out`` (the results), ``proc`` (the run). Shared:
    a test that writes into either works on a copy (:func:`copy_folder`)."""
    base = tmp_path_factory.mktemp("sample_class")
    root, out = base / "submissions", base / "results"
    proc = run_py(str(ROOT / "fixtures" / "class" / "assemble.py"), str(root))
    assert proc.returncode == 0, proc.stderr
    proc = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
                  "--timeout", "30", env={"CI": "true"})
    return {"root": root, "out": out, "proc": proc}


def copy_folder(source: Path, dest: Path) -> Path:
    """A copy of ``source`` at ``dest`` (symbolic links copied as links, as a class holds
    them), for a test that changes what a shared fixture made."""
    import shutil

    shutil.copytree(source, dest, symlinks=True)
    return dest


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
