"""The nbgrader grade cells: run a task's checks on the notebook's own definitions.

A grade cell of ``course/source/practico2/practico2.ipynb`` reads::

    from grader.nb import check_task
    nota = check_task("onehot_mse", globals())
    ### BEGIN HIDDEN TESTS
    nota = check_task("onehot_mse", globals(), variant=1, after=nota)
    ### END HIDDEN TESTS
    nota

In the student's own Jupyter these are the checks ``pytest exercises`` runs (the grading
loop of :mod:`grader.grading`), on a :class:`grader.impl.NamespaceImpl` of the notebook's
globals, in the kernel's process: instant feedback, with no authority. During ``nbgrader autograde``
the cell does nothing: :mod:`grader.nbgrading` grades the student's code cells in the
sandbox, outside the kernel, and writes every grade cell's output itself.
Each check's message is printed; the cell's value is the task's score, a plain
number, which nbgrader takes as partial credit (``nbgrader.utils.determine_grade``:
a grade cell whose only ``execute_result`` is a number between 0 and its points
scores that number). Nothing is written to stderr: nbgrader gives 0 to a grade
cell with any stderr output, so the student's own prints and warnings during the
checks are captured here instead of reaching the cell.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Mapping
from typing import Any

from grader.grading import InProcess, grade
from grader.hidden import require_secret
from grader.i18n import current_lang, t
from grader.impl import NamespaceImpl
from grader.options import DEFAULT_DEVICE, resolve_device
from grader.request import GradeRequest
from grader.scoring import CheckResult, checks_for, summarize
from grader.settings import under_nbgrader_autograde
from grader.tasks import get_task

#: Checks a hidden variant does not rerun. ``mnist_short_run``: its training data and
#: seeds are the kit's own and do not change with the variant, so a second run would cost
#: seconds per cell and catch nothing new. ``parity_8_bits``: a verdict on a training run's
#: accuracy, which nothing can precompute; under another seed a correct DeepNet can land
#: under the threshold (0.932 < 0.95 seen with one course secret), which would cost a
#: correct student points.
SAME_IN_EVERY_VARIANT = ("mnist_short_run", "parity_8_bits")


class TaskScore(float):
    """A task's score (what the grade cell shows) and the names of the checks passed.

    Its ``repr`` is the bare number (``15`` or ``7.5``), which is what nbgrader reads.
    """

    task: str
    max_score: float
    passed: frozenset[str]

    def __new__(cls, value: float, task: str, max_score: float,
                passed: frozenset[str]) -> TaskScore:
        obj = super().__new__(cls, value)
        obj.task, obj.max_score, obj.passed = task, max_score, passed
        return obj

    def __repr__(self) -> str:
        return format(float(self), "g")

    __str__ = __repr__


def notebook_message(result: CheckResult, lang: str,
                     namespace: Mapping[str, Any] | None = None) -> str:
    """The runner speaks of files (``ex1_onehot_mse.py``); in a notebook, speak of cells.

    A missing name is named: those of the check's names that ``namespace`` (the notebook's
    globals, when known) lacks, else all the check needs.
    """
    task = get_task(result.task)
    if result.status == "not_implemented":
        return t("nb_not_implemented", lang, task=task.id, names=", ".join(task.names))
    if result.status == "missing_name":
        needs = next((c.needs for c in checks_for([task.id]) if c.name == result.check), ())
        missing = [n for n in needs if namespace is not None and n not in namespace]
        return t("nb_missing_name", lang, task=task.id,
                 names=", ".join(missing or needs or task.names))
    return result.message


def _run_quietly(task_id: str, namespace: Mapping[str, Any], request: GradeRequest
                 ) -> list[CheckResult]:
    """Every check of the task, with the student's stdout/stderr and warnings kept out of
    the cell."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = grade(request, InProcess(NamespaceImpl(dict(namespace))))
    results = outcome.results[task_id].checks if task_id in outcome.results else []
    for result in results:
        result.message = notebook_message(result, request.lang or "es", namespace)
    return results


def combine_hidden(task_id: str, passed_before: frozenset[str] | set[str],
                   hidden: list[CheckResult]) -> tuple[list[CheckResult], list[CheckResult]]:
    """Fold a hidden variant's results into the public ones, check by check.

    A check counts only if it passed on the public inputs *and* on the hidden ones; a
    check the variant skips (:data:`SAME_IN_EVERY_VARIANT`) keeps its public verdict.
    Returns the combined results and those to show: checks that passed before and fail now.
    """
    shown = [r for r in hidden if r.status != "passed" and r.check in passed_before]
    results = [CheckResult(**vars(r)) for r in hidden]
    ran = {r.check for r in results}
    for check in checks_for([task_id]):
        if check.name not in ran:
            ok = check.name in passed_before
            results.append(CheckResult(task_id, check.name, check.points if ok else 0,
                                       check.points, "passed" if ok else "failed"))
    for r in results:
        if r.status == "passed" and r.check not in passed_before:
            r.points, r.status = 0, "failed"
    return results, shown


def check_lines(shown: list[CheckResult]) -> list[str]:
    """One line per check, and its message, indented, the first time the cell shows it: an
    unfinished task fails each of its checks with the same sentence, which one cell says once
    (the checks after it only list their mark and points)."""
    lines = []
    said: set[str] = set()
    for r in shown:
        mark = "✔" if r.status == "passed" else "✘"
        lines.append(f"  {mark} {r.check} ({r.points:g}/{r.max_points:g})")
        if r.message and r.message not in said:
            said.add(r.message)
            lines.append("      " + r.message.replace("\n", "\n      "))
    return lines


def check_task(
    task_id: str,
    namespace: Mapping[str, Any],
    variant: int = 0,
    after: TaskScore | None = None,
    device: str = DEFAULT_DEVICE,
    lang: str | None = None,
) -> TaskScore:
    """Run the checks of ``task_id`` on ``namespace`` (a notebook's ``globals()``).

    Inputs:
    - task_id: one of the ids in :mod:`grader.tasks`.
    - namespace: where the student's definitions live.
    - variant: 0 for the public inputs (those of ``pytest exercises``); others draw other
      inputs from the course secret (nbgrader's hidden tests) and skip
      :data:`SAME_IN_EVERY_VARIANT`.
    - after: the score of an earlier call for the same task; a check then counts only if
      it passed there too, so public and hidden runs combine check by check.
    - device, lang: where probes train (``cpu``, ``cuda`` or ``auto``) and the language of
      the messages.

    Prints one line per check (and its message when it failed; after ``after``, only the
    checks this variant newly fails) and returns the score as a :class:`TaskScore`: between
    0 and the task's points. This is the student's instant feedback; under ``nbgrader
    autograde`` it only says that the official score comes from the isolated grader.
    """
    task = get_task(task_id)
    if after is not None and getattr(after, "task", None) != task.id:
        raise ValueError(f"after= must be the score of an earlier check_task({task.id!r}, ...)")
    lang = current_lang(lang)
    if under_nbgrader_autograde():
        # The sandboxed grader (grader.nbgrading) scores the notebook from outside this
        # kernel and writes this cell's output itself; running the checks here would only
        # cost time (and could not be trusted: the student's cells ran in this process).
        if after is None:
            print(t("nb_autograde_note", lang, task=task.id))
        return TaskScore(0, task.id, float(task.points), frozenset())
    if variant != 0:
        require_secret(lang)
    request = GradeRequest(tasks=(task.id,), skip=SAME_IN_EVERY_VARIANT if variant != 0 else (),
                           device=resolve_device(device), variant=variant, lang=lang)
    results = _run_quietly(task.id, namespace, request)
    shown = list(results)
    if after is not None:
        results, shown = combine_hidden(task.id, after.passed, results)
    summary = summarize(results, lang)[task.id]
    header = "nb_task_header" if after is None else "nb_hidden_header"
    print(t(header, lang, task=task.id, title=task.title(lang), score=f"{summary.score:g}",
            max=f"{summary.max_score:g}", variant=variant))
    for line in check_lines(shown):
        print(line)
    passed = frozenset(r.check for r in summary.checks if r.status == "passed")
    return TaskScore(summary.score, task.id, summary.max_score, passed)
