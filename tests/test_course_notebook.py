"""The course notebook: assembled from the template and solutions/, never drifting; its kernel
client and the course's nbgrader configuration. Fast: no nbgrader command runs here
(``tests/test_nbgrader.py`` runs the whole nbgrader cycle)."""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from grader.authoring.course_notebook import (
    ASSIGNMENT,
    NOTEBOOK_PATH,
    NotebookSourceError,
    build_notebook,
)
from grader.authoring.course_notebook import check_notebook as notebook_drift
from grader.tasks import TASK_BY_ID, TASKS

ROOT = Path(__file__).resolve().parent.parent
NB_NAME = f"{ASSIGNMENT}.ipynb"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
COURSE_SECRET = f"secreto-del-curso-{uuid.uuid4().hex}"


# --------------------------------------------------------------------- drift (fast, always)


def test_committed_notebook_matches_solutions():
    problems = notebook_drift(NOTEBOOK_PATH, ROOT / "solutions")
    assert problems == [], "run `python -m grader notebook`:\n" + "\n".join(problems)


def test_notebook_holds_every_region_and_grades_every_task():
    nb = build_notebook(ROOT / "solutions")
    source = "".join(c.source + "\n" for c in nb.cells if c.cell_type == "code")
    # Every reference line of every region is in a solution cell, markers in nbgrader's form.
    for path in sorted((ROOT / "solutions").glob("ex*.py")):
        inside = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if "# BEGIN SOLUTION" in line:
                inside = True
            elif "# END SOLUTION" in line:
                inside = False
            elif inside and line.strip():
                assert line in source, f"{path.name}: {line!r} is not in the notebook"
    solution_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell in solution_cells:
        assert cell.source.count(SOLUTION_MARKERS[0]) == cell.source.count(SOLUTION_MARKERS[1]) > 0
    grades = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert grades == {f"prueba_{t.id}": t.points for t in TASKS}


def test_generator_refuses_a_definition_it_does_not_place(tmp_path):
    solutions = tmp_path / "solutions"
    shutil.copytree(ROOT / "solutions", solutions)
    with (solutions / "ex3_depth.py").open("a", encoding="utf-8") as fh:
        fh.write("\n\ndef extra_helper(x):\n    return x\n")
    with pytest.raises(NotebookSourceError, match=r"ex3_depth\.extra_helper"):
        build_notebook(solutions)


@pytest.mark.parametrize("edit, problem", [
    (('kit="grade" task="deep_net"', 'kit="grade" task="deep_net_2"'), "no task 'deep_net_2'"),
    (('kit="grade" task="deep_net"', 'kit="grades" task="deep_net"'), "not one of"),
    (('kit="solution" source="ex3_depth.DeepNet"', 'kit="solution" name="ex3_depth.DeepNet"'),
     "needs source="),
    (('kit="given" source="ex3_depth.ShallowNet"', 'kit="given" source="ex3_depth"'),
     "module.name"),
    (('# %% kit="grade" task="deep_net"\n', '# %% kit="grade" task="deep_net"\nnota = 10\n'),
     "leave its body empty"),
    (('# %% kit="grade" task="deep_net"\n', ""), "must grade every task exactly once"),
    (('# %% kit="given" source="ex3_depth.ShallowNet"\n', ""), "ex3_depth.ShallowNet"),
])
def test_a_broken_course_template_is_refused_with_the_fix(tmp_path, edit, problem):
    """The template is authored by hand: each mistake names the cell, what is wrong and how."""
    from grader.authoring.course_notebook import TEMPLATE

    text = TEMPLATE.read_text(encoding="utf-8")
    assert edit[0] in text, edit[0]
    broken = tmp_path / "practico2.py"
    broken.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(NotebookSourceError, match=re.escape(problem)):
        build_notebook(ROOT / "solutions", broken)


def test_the_budget_table_of_the_notebook_is_grader_budgets():
    """One vocabulary: the notebook's budgets are written from grader/budgets.py."""
    from grader.budgets import BUDGETS

    nb = build_notebook(ROOT / "solutions")
    cell = next(c for c in nb.cells if c.id == "dado_presupuesto")
    for b in BUDGETS.values():
        assert f'"{b.name}": ({b.mnist_epochs}, ' in cell.source
    assert "__PRESUPUESTOS__" not in cell.source


def test_notebook_command_check_detects_drift(tmp_path, capsys):
    from grader.cli import main

    stale = tmp_path / "practico2.ipynb"
    stale.write_text(NOTEBOOK_PATH.read_text(encoding="utf-8").replace("MNIST", "MNIST!", 1),
                     encoding="utf-8")
    assert main(["notebook", "--check", "--out", str(stale)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "MNIST!" in err
    assert main(["notebook", "--out", str(stale)]) == 0
    assert main(["notebook", "--check", "--out", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == NOTEBOOK_PATH.read_text(encoding="utf-8")


@pytest.mark.slow
def test_check_task_scores_partially_combines_the_hidden_variant_and_stays_quiet(
        capsys, monkeypatch):
    """A viewer right only on the public inputs: full marks there, fewer once the hidden
    variant runs; the student's stderr never reaches the cell (nbgrader would give it 0)."""
    from grader.checks import Context
    from grader.impl import DirImpl
    from grader.nb import check_task
    from grader.scoring import checks_for

    monkeypatch.setenv("PRACTICO_SECRET", COURSE_SECRET)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    reference = DirImpl(ROOT / "solutions").get("ex0_data")
    public = set(checks_for(["test_viewer"])[0].inputs(Context(variant=0))["indices"])

    def show_test_example(test_ds, index):
        print("ruido del alumno", file=sys.stderr)
        return reference.show_test_example(test_ds, index if index in public else 0)

    namespace = {**vars(reference), "show_test_example": show_test_example}
    first = check_task("test_viewer", namespace)
    both = check_task("test_viewer", namespace, variant=1, after=first)
    out, err = capsys.readouterr()
    assert err == ""
    assert (float(first), repr(first)) == (TASK_BY_ID["test_viewer"].points, "10")
    assert float(both) < float(first) and both.passed < first.passed
    assert f"[test_viewer] {TASK_BY_ID['test_viewer'].title_es}: 10/10 puntos" in out
    assert f"(variante 1): {both:g}/10 puntos en total" in out
    assert "✘ shows_test_image" in out


#: seconds a timed-out wait may end early (the event loop's clock against time.monotonic)
EARLY_WAKE = 0.05
#: seconds it may end late: a poll slice's wake-up, on a busy scheduler
LATE_WAKE = 1.0


@pytest.mark.serial
def test_sliced_kernel_channel_keeps_timeouts_and_delivers():
    """grader.authoring.kernel_client's channel polls in slices but still honours the caller's deadline."""
    import asyncio
    import time
    from queue import Empty

    import zmq
    import zmq.asyncio
    from jupyter_client.session import Session

    from grader.authoring.kernel_client import SLICE, SlicedChannel

    async def scenario() -> tuple[float, str]:
        ctx = zmq.asyncio.Context()
        kernel, client = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
        kernel.bind("inproc://sliced-test")
        client.connect("inproc://sliced-test")
        session = Session()
        channel = SlicedChannel(client, session)
        start = time.monotonic()
        with pytest.raises(Empty):
            await channel.get_msg(timeout=3 * SLICE)
        waited = time.monotonic() - start
        session.send(kernel, "execute_reply", {"status": "ok"})
        msg = await channel.get_msg(timeout=None)
        kernel.close(linger=0)
        client.close(linger=0)
        ctx.term()
        return waited, msg["msg_type"]

    waited, msg_type = asyncio.run(scenario())
    assert 3 * SLICE - EARLY_WAKE <= waited < 3 * SLICE + LATE_WAKE
    assert msg_type == "execute_reply"


def test_course_config_installs_the_sliced_client():
    from traitlets.config.loader import PyFileConfigLoader

    saved = dict(os.environ)  # the config sets variables for nbgrader's kernels: keep ours
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "course")).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert config.AsyncKernelManager.client_factory == "grader.authoring.kernel_client.SteadyKernelClient"
    assert config.CourseDirectory.root == str(ROOT / "course")


def test_an_unfinished_task_is_said_once_per_cell(monkeypatch, capsys):
    """Every check of a task still raising NotImplementedError fails with the same sentence:
    the grade cell lists each check with its points and says the sentence once."""
    from grader.impl import DirImpl
    from grader.nb import check_task
    from grader.scoring import checks_for

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    stubs = DirImpl(ROOT / "exercises").get("ex5_init")
    score = check_task("init_schemes", dict(vars(stubs)), lang="en")
    out = capsys.readouterr().out
    assert float(score) == 0
    names = [c.name for c in checks_for(["init_schemes"])]
    assert len(names) >= 3
    for name in names:
        assert f"✘ {name} (0/" in out
    assert out.count("Not implemented yet") == 1, out
