"""pytest plugin: ``pytest exercises [--impl solutions|PATH] [--device cpu|cuda|auto] [--lang es|en]``.

Registered through the ``pytest11`` entry point of the kit, so it is active in every
pytest run once the kit is installed. Test functions marked ``@pytest.mark.task(id)``
that take a ``check`` argument are run once per check of that task, against the
implementation chosen with ``--impl`` (by default, the folder of the test file).
A per-task score table closes the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.i18n import current_lang, t
from grader.tasks import TASK_BY_ID, TASKS

_results_key = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("practico", "Práctico 2 kit")
    group.addoption("--impl", default=None, metavar="FOLDER",
                    help="folder with the ex*.py files to check: 'solutions', 'exercises' or "
                         "any path (default: the folder of the test files)")
    group.addoption("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="where probes train: auto picks cuda when available (default: auto)")
    group.addoption("--lang", default=None, choices=("es", "en"),
                    help="language of the messages (default: $PRACTICO_LANG or es)")
    group.addoption("--variant", default=0, type=int,
                    help="input variant: 0 is the public one; others draw other inputs")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(task_id): the graded task a check belongs to")
    config.stash[_results_key] = {}
    variant = config.getoption("--variant", 0) or 0
    if variant != 0:
        # Hidden variants are seeded from the course secret: without it there is nothing
        # to draw them from (and a public fallback would make them predictable).
        from grader.hidden import MissingSecretError, require_secret

        if variant < 0:
            raise pytest.UsageError(f"--variant {variant}: must be >= 0")
        try:
            require_secret(config.getoption("--lang", None))
        except MissingSecretError as exc:
            raise pytest.UsageError(f"--variant {variant}: {exc}") from None


def resolve_device(value: str) -> str:
    """``--device`` as a device (:func:`grader.options.resolve_device`), or a usage error."""
    from grader.options import UserError
    from grader.options import resolve_device as resolve

    try:
        return resolve(value)
    except UserError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("task")
    if marker is None or "check" not in metafunc.fixturenames:
        return
    from grader.scoring import checks_for

    task_id = marker.args[0]
    if task_id not in TASK_BY_ID:
        raise pytest.UsageError(f"@pytest.mark.task({task_id!r}): unknown task id; valid ids: "
                                f"{', '.join(TASK_BY_ID)}")
    checks = checks_for([task_id])
    metafunc.parametrize("check", checks, ids=[c.name for c in checks])


@pytest.fixture(scope="session")
def practico_context(request: pytest.FixtureRequest) -> Any:
    from grader.checks import Context
    from grader.data import MNISTNotFoundError, ensure_mnist

    opt = request.config.getoption
    try:
        ensure_mnist(download=True)
    except MNISTNotFoundError as exc:
        # A setup problem, not a wrong answer: stop once, with the fix, instead of
        # failing every check with the same message.
        pytest.exit(str(exc), returncode=3)
    return Context(device=resolve_device(opt("--device")), lang=opt("--lang"),
                   variant=opt("--variant"))


@pytest.fixture(scope="session")
def _impl_cache() -> dict[str, Any]:
    return {}


@pytest.fixture
def practico_impl(request: pytest.FixtureRequest, _impl_cache: dict[str, Any]) -> Any:
    from grader.impl import DirImpl, resolve_impl_dir

    value = request.config.getoption("--impl")
    if value is None:
        folder = Path(request.path).parent.resolve()
    else:
        try:
            folder = resolve_impl_dir(value, Path(str(request.config.invocation_params.dir)))
        except FileNotFoundError as exc:
            raise pytest.UsageError(str(exc)) from None
    key = str(folder)
    if key not in _impl_cache:
        _impl_cache[key] = DirImpl(folder)
    return _impl_cache[key]


@pytest.fixture
def run_check(request: pytest.FixtureRequest, practico_impl: Any, practico_context: Any):
    """``run_check(check)``: run one check; a failure shows only the teaching message."""
    from grader.scoring import run_check_in_process

    def run(check: Any) -> None:
        result = run_check_in_process(check, practico_impl, practico_context)
        request.config.stash[_results_key][(check.task, check.name)] = result
        if result.status != "passed":
            pytest.fail(result.message, pytrace=False)

    return run


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(_results_key, {})
    if not results:
        return
    from grader.outputs.results import score_row, total_row
    from grader.scoring import summarize

    lang = current_lang(config.getoption("--lang"))
    by_task = summarize(list(results.values()), lang)
    tr = terminalreporter
    tr.write_sep("=", t("summary_title", lang))
    total = maximum = 0.0
    for task in TASKS:
        if task.id not in by_task:
            continue
        res = by_task[task.id]
        tr.write_line(score_row(task, res.score, res.max_score, res.status, lang),
                      green=res.status == "passed", red=res.score == 0,
                      yellow=res.status == "partial")
        total += res.score
        maximum += res.max_score
    tr.write_line(total_row(total, maximum), bold=True)
