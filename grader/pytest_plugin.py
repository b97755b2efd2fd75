"""pytest plugin: ``pytest exercises [--impl solutions|PATH] [--device cpu|cuda|auto] [--lang es|en] [--variant N]``.

Registered through the ``pytest11`` entry point of the kit, so it is active in every
pytest run once the kit is installed. Test functions marked ``@pytest.mark.task(id)``
that take a ``check`` argument are run once per check of that task, against the
implementation chosen with ``--impl`` (by default, the folder of the test file).
A per-task score table closes the run. The checks run with one torch thread, as the sandbox's
children of ``autograde`` and nbgrader and the notebook's grade cells run them
(:class:`grader.grading.InProcess`).

Test ids are the checks' names (``test_onehot_mse[one_hot_values]``), so ``-k NAME`` picks
checks by name and ``-k TASK`` a whole task; a check whose name holds another task's id
(``init_schemes``' ``he_init``) is spelled with hyphens there (``he-init``), since ``-k``
matches any part of a test's name and ``-k he_init`` must run the task ``he_init`` only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.i18n import current_lang, t
from grader.tasks import TASK_BY_ID, TASKS

_results_key = pytest.StashKey[dict]()
_device_key = pytest.StashKey[str]()
#: the ``--impl`` folder, resolved once (None: each test file's own folder)
_impl_key = pytest.StashKey["Path | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    from grader.cli_language import helptext, say
    from grader.options import option_keywords

    # pytest's own --help words are its own; the kit's options say theirs in $PRACTICO_LANG
    # the group's title says that the checks run with one torch thread (issue 21)
    group = parser.getgroup("practico", say("pytest_group"))
    group.addoption("--impl", default=None, metavar="FOLDER", help=helptext("cli_pytest_impl"))
    for flag in ("--device", "--lang", "--variant"):
        group.addoption(flag, **option_keywords(flag))


def pytest_configure(config: pytest.Config) -> None:
    """How the checks are run, fixed once for the session: a bad ``--device`` or a hidden
    ``--variant`` without the course secret stops pytest here, with one line."""
    from grader.options import UserError, check_variant, resolve_device

    config.addinivalue_line("markers", "task(task_id): the graded task a check belongs to")
    config.stash[_results_key] = {}
    lang = config.getoption("--lang", None)
    try:
        # Hidden variants are seeded from the course secret: without it there is nothing to
        # draw them from (and a public fallback would make them predictable).
        check_variant(config.getoption("--variant", 0) or 0, lang)
        config.stash[_device_key] = resolve_device(config.getoption("--device", None))
    except UserError as exc:
        raise pytest.UsageError(exc.message(lang)) from None
    impl = config.getoption("--impl", None)
    config.stash[_impl_key] = None
    if impl is not None:
        # resolved once: a folder that is not there stops pytest here, with the fix, not
        # once per check
        from grader.impl import ImplFolderMissing, resolve_impl_dir

        try:
            config.stash[_impl_key] = resolve_impl_dir(impl,
                                                       Path(str(config.invocation_params.dir)))
        except ImplFolderMissing as exc:
            raise pytest.UsageError(t("err_impl_no_folder", lang, **exc.values())) from None


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
    metafunc.parametrize("check", checks, ids=[param_id(c) for c in checks])


def param_id(check: Any) -> str:
    """The pytest id of ``check``: its name, where any other task's id in it is spelled with
    hyphens (``init_schemes``' ``he_init`` -> ``he-init``), so that ``-k TASK`` selects the
    checks of that task only. Result JSON, tables and messages keep the check's name."""
    name = check.name
    for task in TASKS:
        if task.id != check.task and task.id in name:
            name = name.replace(task.id, task.id.replace("_", "-"))
    return name


class SetupStop(pytest.exit.Exception):  # noqa: N818 - pytest's Exit, as pytest.exit raises it
    """Stop the session (exit status 3) for a setup problem of the kit, such as MNIST not on
    disk: its message is what the student reads, with the fix, so it is shown as it is
    (:func:`pytest_keyboard_interrupt`), not after pytest's own ``_pytest.outcomes.Exit:``."""

    def __init__(self, message: str, config: pytest.Config) -> None:
        super().__init__(message, returncode=3)
        self.config = config


@pytest.hookimpl(trylast=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """After the terminal reporter has kept a stop to show at the end (as ``!!! Exit: ...
    !!!``), a :class:`SetupStop` is shown here instead, line by line, as its message reads."""
    stop = excinfo.value
    if not isinstance(stop, SetupStop):
        return
    reporter = stop.config.pluginmanager.get_plugin("terminalreporter")
    # pytest keeps what it will show in this attribute (pytest 7-9); where it has none, it
    # shows the stop its own way and nothing is shown twice
    if reporter is None or not hasattr(reporter, "_keyboardinterrupt_memo"):
        return
    reporter._keyboardinterrupt_memo = None  # noqa: SLF001
    reporter.ensure_newline()
    for line in stop.msg.splitlines():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def practico_request(request: pytest.FixtureRequest) -> Any:
    """How every check of the session is graded (a :class:`grader.request.GradeRequest`)."""
    from grader.data import MNISTCorruptError, MNISTNotFoundError, ensure_mnist
    from grader.request import GradeRequest

    opt = request.config.getoption
    try:
        ensure_mnist(download=True)
    except (MNISTNotFoundError, MNISTCorruptError) as exc:
        # A setup problem, not a wrong answer: stop once, with the fix (in --lang), instead
        # of failing every check with the same message.
        raise SetupStop(exc.message(opt("--lang")), request.config) from None
    return GradeRequest(device=request.config.stash[_device_key], lang=opt("--lang"),
                        variant=opt("--variant"))


@pytest.fixture(scope="session")
def _impl_cache() -> dict[str, Any]:
    return {}


@pytest.fixture
def practico_impl(request: pytest.FixtureRequest, _impl_cache: dict[str, Any]) -> Any:
    from grader.impl import DirImpl

    folder = request.config.stash[_impl_key] or Path(request.path).parent.resolve()
    key = str(folder)
    if key not in _impl_cache:
        _impl_cache[key] = DirImpl(folder)
    return _impl_cache[key]


@pytest.fixture
def run_check(request: pytest.FixtureRequest, practico_impl: Any, practico_request: Any):
    """``run_check(check)``: run one check; a failure shows only the teaching message."""
    from grader.grading import check_in_process

    def run(check: Any) -> None:
        result = check_in_process(check, practico_impl, practico_request)
        request.config.stash[_results_key][(check.task, check.name)] = result
        if result.status != "passed":
            pytest.fail(result.message, pytrace=False)

    return run


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(_results_key, {})
    if not results:
        return
    from grader.outputs.results import score_row, total_row
    from grader.scoring import checks_for, summarize

    lang = current_lang(config.getoption("--lang"))
    by_task = summarize(list(results.values()), lang)
    tr = terminalreporter
    tr.write_sep("=", t("summary_title", lang))
    total = maximum = 0.0
    for task in TASKS:
        if task.id not in by_task:
            continue
        res = by_task[task.id]
        row = score_row(task, res.score, res.max_score, res.status, lang)
        every = len(checks_for([task.id]))
        if len(res.checks) < every:  # -k, -x, --deselect: say the score is of some checks
            row += " " + t("summary_checks_run", lang, ran=len(res.checks), total=every)
        tr.write_line(row, green=res.status == "passed", red=res.score == 0,
                      yellow=res.status == "partial")
        total += res.score
        maximum += res.max_score
    tr.write_line(total_row(total, maximum), bold=True)
