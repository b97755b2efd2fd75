"""Students' notebooks run in a real Jupyter kernel, their grade cells read back.

What a student sees in their own Jupyter: the grade cells call :func:`grader.nb.check_task`
on the notebook's globals, in the kernel. :func:`run_in_one_kernel` executes the notebooks of
many students one after another in **one** kernel (nbclient, ipykernel), each after
``%reset -f``: the release notebook with the student's code, and each grade cell as the
course's source notebook has it (the public call, then the hidden variant that ``nbgrader
validate`` and the instructor run; the release has the public call only, which prints the
same first part). A kernel per student would add its start and torch's import (about 3 s)
to each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
from fixture_students import GRADE_PREFIX, Student, student_notebook
from verdicts import GradeCell, read_grade_cell

#: between two students: a fresh namespace, no figure left open
RESET = "%reset -f\nimport matplotlib.pyplot as plt\nplt.close('all')\ndel plt"


def run_in_one_kernel(base: nbformat.NotebookNode, students: Sequence[Student],
                      tasks_of: Callable[[Student], list[str]], workdir: Path, lang: str,
                      env: dict[str, str] | None = None, timeout: float = 900
                      ) -> dict[str, dict[str, GradeCell]]:
    """Every student's notebook (``base``, the release, with their code; experiments and
    prose left out; only the grade cells of ``tasks_of(student)``, each with its hidden call)
    in one kernel; per student and task, what its grade cell showed. The kernel gets ``env`` (by default this process's environment):
    the course secret for the hidden call, ``PRACTICO_LANG``."""
    from nbclient import NotebookClient

    from grader.authoring.course_notebook import grade_source

    cells = []
    where: list[tuple[int, str, str]] = []  # (cell index, student, task)
    for student in students:
        wanted = set(tasks_of(student))
        cells.append(nbformat.v4.new_code_cell(RESET))
        for cell in student_notebook(base, student, drop_experiments=True).cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            if grade_id.startswith(GRADE_PREFIX):
                task = grade_id.removeprefix(GRADE_PREFIX)
                if task not in wanted:
                    continue
                where.append((len(cells), student.name, task))
                cell.source = grade_source(task)
            cells.append(nbformat.v4.new_code_cell(cell.source))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute(**({} if env is None else {"env": env}))
    nbformat.write(nb, workdir / "executed.ipynb")  # for a reader of a failure
    out: dict[str, dict[str, GradeCell]] = {}
    for index, student, task in where:
        out.setdefault(student, {})[task] = read_grade_cell(task, nb.cells[index].outputs,
                                                            lang, sandbox=False)
    return out


# --------------------------------------------------------------------- nbgrader

def nbgrader_env(tmp: Path, environ: dict[str, str]) -> dict[str, str]:
    """``environ`` for nbgrader commands: only the course's own config and this Python's
    kernel specs (never a user's global ones), the course config's grading budget."""
    env = dict(environ)
    env.pop("PRACTICO_PRESUPUESTO", None)
    env["JUPYTER_CONFIG_DIR"] = str(tmp / "jupyter-config")
    env["JUPYTER_DATA_DIR"] = str(tmp / "jupyter-data")
    return env


def new_course(dest: Path) -> Path:
    """A copy of the course (its config and source notebook) at ``dest``."""
    import shutil

    from grader.settings import KIT_ROOT

    dest.mkdir(parents=True)
    shutil.copy2(KIT_ROOT / "course" / "nbgrader_config.py", dest)
    shutil.copytree(KIT_ROOT / "course" / "source", dest / "source")
    return dest


def submit(course: Path, assignment: str, student: str, nb: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def autograded_cells(course: Path, assignment: str, student: str, lang: str
                     ) -> dict[str, GradeCell]:
    """Per task, what ``nbgrader autograde`` wrote in the student's grade cell."""
    from fixture_students import grade_cell_tasks

    nb = nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb",
                       as_version=4)
    return {task: read_grade_cell(task, nb.cells[i].outputs, lang, sandbox=True)
            for i, task in grade_cell_tasks(nb).items()}


def gradebook_scores(course: Path, assignment: str, students: Sequence[str]
                     ) -> dict[str, dict[str, float]]:
    """Per student and task, the score nbgrader's gradebook holds for its grade cell."""
    from nbgrader.api import Gradebook

    from grader.tasks import TASKS

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s: {t.id: gb.find_grade(f"{GRADE_PREFIX}{t.id}", assignment, assignment,
                                        s).score for t in TASKS} for s in students}
