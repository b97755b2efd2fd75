"""A notebook's code graded in the sandbox (the nbgrader path's authority), without nbgrader.

Real children, real namespaces: the same :class:`grader.sandbox.supervisor.Sandbox` as ``grade``,
fed the code cells of the course notebook (solutions in) as ``nbgrader autograde`` would.
"""

from __future__ import annotations

import nbformat
import pytest

from grader.authoring.course_notebook import NOTEBOOK_PATH
from grader.grading import grade
from grader.nbgrading.cells import grade_cells, student_cells, to_python
from grader.nbgrading.preprocessor import SandboxedGrades
from grader.request import GradeRequest
from grader.sandbox.supervisor import Sandbox
from grader.submission import Submission
from grader.tasks import TASK_BY_ID, TASKS

pytestmark = pytest.mark.slow
TASKS_HERE = ["test_viewer", "deep_net"]  # cheap checks; the notebook still runs whole


def _reference_cells() -> list[tuple[str, str]]:
    nb = nbformat.read(NOTEBOOK_PATH, as_version=4)
    return [(label, "\n".join(line for line in code.split("\n")
                              if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")))
            for label, code in student_cells(nb)]


@pytest.fixture(scope="module")
def box():
    with Sandbox() as sandbox:
        yield sandbox


def _grade_notebook(box, cells, tasks, lang=None):
    return grade(GradeRequest(Submission.from_cells(cells), tasks=tasks, lang=lang), box)


def test_cells_and_grade_cells_of_the_course_notebook():
    nb = nbformat.read(NOTEBOOK_PATH, as_version=4)
    graded = grade_cells(nb)
    assert [g.task for g in graded] == [t.id for t in TASKS]
    assert all(g.hidden and g.points == TASK_BY_ID[g.task].points for g in graded)
    code = "\n".join(source for _, source in student_cells(nb))
    assert "check_task" not in code  # grade cells never run where student code runs
    assert "get_ipython().run_line_magic('matplotlib', 'inline')" in code
    assert to_python("!ls\nx = 1\n").startswith("get_ipython().system(")


def test_reference_notebook_earns_full_marks_in_one_child(box):
    outcome = _grade_notebook(box, _reference_cells(), TASKS_HERE, lang="es")
    assert {t: r.score for t, r in outcome.results.items()} == {
        t: TASK_BY_ID[t].points for t in TASKS_HERE}
    assert outcome.report.children == 1 and outcome.report.notebook_ran
    assert outcome.report.isolation.get("namespaces"), outcome.report.isolation


def test_a_failing_cell_does_not_stop_the_cells_after_it(box):
    cells = [("0", "raise RuntimeError('una celda rota')"), ("0b", "import sys; sys.exit(3)"),
             *_reference_cells()]
    results = _grade_notebook(box, cells, ["deep_net"]).results
    assert results["deep_net"].score == TASK_BY_ID["deep_net"].points


def test_a_notebook_that_kills_its_child_fails_every_check_with_one_child(box):
    cells = [*_reference_cells()[:3], ("x", "import os; os._exit(7)")]
    outcome = _grade_notebook(box, cells, TASKS_HERE, lang="en")
    results = outcome.results
    assert outcome.report.children == 1  # not one child per check: the notebook would die again
    for task in TASKS_HERE:
        assert results[task].score == 0
        assert {c.status for c in results[task].checks} == {"crashed"}


def test_preprocessor_replaces_whatever_the_kernel_left_in_grade_cells(monkeypatch):
    monkeypatch.setenv("PRACTICO_SECRET", "s" * 32)
    nb = nbformat.read(NOTEBOOK_PATH, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.split("\n")
                                    if line.strip() not in ("### BEGIN SOLUTION",
                                                            "### END SOLUTION"))
    keep = {g.index for g in grade_cells(nb) if g.task in ("test_viewer", "init_schemes")}
    forged = nbformat.v4.new_output("execute_result", data={"text/plain": "15"})
    for g in grade_cells(nb):
        nb.cells[g.index].outputs = [forged]
        if g.index not in keep:  # fewer tasks: keep the test short
            nb.cells[g.index].metadata["nbgrader"]["grade_id"] = "prueba_no_es_del_kit"
    nb, _ = SandboxedGrades().preprocess(nb, {})
    for g in grade_cells(nb):
        outputs = nb.cells[g.index].outputs
        if g.task:
            assert outputs[-1]["data"]["text/plain"] == f"{TASK_BY_ID[g.task].points}"
            assert "calificado aparte de tu kernel" in outputs[0]["text"]
        else:  # a grade cell the kit does not know scores nothing
            assert [o["output_type"] for o in outputs] == ["error"]
