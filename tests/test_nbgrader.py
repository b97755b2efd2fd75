"""The nbgrader course, end to end, with the real nbgrader commands; and the student release.

A copy of ``course/`` in a temporary folder goes through the whole cycle an instructor
runs: ``generate_assignment``, three simulated students (the reference, the untouched
release, a partial one with plausible bugs and an edited grade cell) autograded in one
``autograde`` call, the gradebook read through ``nbgrader.api.Gradebook``, feedback,
and ``validate`` on the source notebook.
"""

from __future__ import annotations

import copy
import html
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from nb_layout_attacks import LAYOUTS

from grader.authoring.course_notebook import (
    ASSIGNMENT,
    NOTEBOOK_PATH,
)
from grader.tasks import TASK_BY_ID, TASKS

ROOT = Path(__file__).resolve().parent.parent
NB_NAME = f"{ASSIGNMENT}.ipynb"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

#: The partial student: these tasks right, one half right, relu_net with a bug that costs
#: every check, the rest untouched. (Tasks whose checks train on MNIST for seconds are
#: left out, to keep the autograde short.)
PARTIAL_RIGHT = ("test_viewer", "deep_net", "probe_stats")
HALF_TASK, HALF_FAILS = "init_schemes", "orthogonal_init"  # orthogonal_ without the sqrt(2) gain
BUGGY_TASK = "relu_net"
EDITED_GRADE_TASK = "he_init"  # left unimplemented, its grade cell rewritten to claim full marks
#: The student whose notebook holds a pasted copy of a grade cell; its one task right.
PASTED, PASTED_LAYOUT, PASTED_RIGHT = "copia_pegada", "copia_prueba", "test_viewer"
#: The student whose notebook is full of hostile markup (tests/nb_markup_attacks.py), with
#: one task right whose grade cell it deleted (put back and graded).
MARKUP, MARKUP_RIGHT = "ataque_marcado", "test_viewer"


# --------------------------------------------------------------------- helpers


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PRACTICO_LANG"] = "es"
    env["PRACTICO_SECRET"] = COURSE_SECRET  # the hidden tests' inputs come from it
    env.pop("PRACTICO_PRESUPUESTO", None)  # the course config picks the grading budget
    # Only the course's own nbgrader_config.py, never a user's global one.
    env["JUPYTER_CONFIG_DIR"] = str(tmp / "jupyter-config")
    # ... and only the kernel specs of this environment (a user's own `python3` spec could
    # point at another interpreter).
    env["JUPYTER_DATA_DIR"] = str(tmp / "jupyter-data")
    return env


def nbgrader(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n")
                     if line.strip() not in SOLUTION_MARKERS)


def _cells_by_id(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if "grade_id" in c.metadata.get("nbgrader", {})}


def _solution_ids(nb, task_id: str) -> list[str]:
    """Solution cells of a task: those between the previous grade cell and the task's."""
    ids, current = [], []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            current.append(meta["grade_id"])
        elif meta.get("grade"):
            if meta["grade_id"] == f"prueba_{task_id}":
                ids = current
            current = []
    assert ids, f"no solution cells before the grade cell of {task_id}"
    return ids


def _orthogonal_bug(source: str) -> str:
    """Orthogonal init without the sqrt(2) gain: only the orthogonal check should fail."""
    buggy = source.replace("nn.init.orthogonal_(layer.weight, gain=math.sqrt(2.0))",
                           "nn.init.orthogonal_(layer.weight)")
    assert buggy != source, "the reference DeepMLP_i no longer calls orthogonal_ that way"
    return buggy


def _relu_bug(source: str) -> str:
    """DeepMLPR with the sigmoid left in from DeepMLP: a copy-paste slip students make."""
    buggy = source.replace("torch.relu(", "torch.sigmoid(")
    assert buggy != source, "the reference DeepMLPR no longer calls torch.relu"
    return buggy


# --------------------------------------------------------------------- the nbgrader cycle


SECRET = f"CANARIO_{uuid.uuid4().hex}"
COURSE_SECRET = f"secreto-del-curso-{uuid.uuid4().hex}"
VISIBLE = f"VISIBLE_{uuid.uuid4().hex}"


def _kit_copy(dest: Path) -> Path:
    """The parts of the kit ``python -m grader release`` reads, with two strings planted in
    ex1: one inside a solution region (must not reach students), one in given code (must)."""
    for folder in ("solutions", "grader"):
        shutil.copytree(ROOT / folder, dest / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "exercises").mkdir()
    for wrapper in (ROOT / "exercises").glob("test_ex*.py"):
        shutil.copy2(wrapper, dest / "exercises")
    (dest / "course").mkdir()
    shutil.copy2(ROOT / "course" / "nbgrader_config.py", dest / "course")
    shutil.copytree(ROOT / "course" / "source", dest / "course" / "source")
    ex1 = dest / "solutions" / "ex1_onehot_mse.py"
    text = ex1.read_text(encoding="utf-8")
    begin = "    # BEGIN SOLUTION onehot_mse\n"
    given = ('    """Pesos de cada ``nn.Linear`` ~ N(0, 1) y bias en cero. Se usa con '
             '``model.apply``."""\n')
    assert begin in text and given in text
    text = text.replace(begin, begin + f"    _marca = {SECRET!r}\n", 1)
    text = text.replace(given, given + f"    _marca = {VISIBLE!r}\n", 1)
    ex1.write_text(text, encoding="utf-8")
    return dest


class Job:
    """A command running in the background; its output goes to a file (no pipe to fill)."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._fh = log.open("w")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self._fh,
                                     stderr=subprocess.STDOUT, text=True)

    def result(self, timeout: float = 900) -> tuple[int, str]:
        rc = self.proc.wait(timeout=timeout)
        self._fh.close()
        return rc, self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._fh.close()


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """A copy of the course and of the kit, and the two long jobs that need nothing else
    started at once in the background: ``nbgrader validate`` on the source notebook and
    ``python -m grader release``. They run on the other core while autograde works (every
    kernel is single-threaded), which keeps this file within its time budget."""
    tmp = tmp_path_factory.mktemp("nbgrader")
    root = tmp / "course"
    root.mkdir()
    shutil.copy2(ROOT / "course" / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "course" / "source", root / "source")
    kit = _kit_copy(tmp / "kit")
    env = _env(tmp)
    started = {
        "validate": Job([sys.executable, "-m", "nbgrader", "validate",
                         str(Path("source") / ASSIGNMENT / NB_NAME)], root, env, tmp / "validate.log"),
        "release": Job([sys.executable, "-m", "grader", "release", str(tmp / "practico2"),
                        "--kit", str(kit)], ROOT, env, tmp / "release.log"),
    }
    yield {"root": root, "env": env, "kit": kit, "release_dir": tmp / "practico2", **started}
    for job in started.values():
        job.stop()


@pytest.fixture(scope="module")
def course(jobs) -> dict:
    """The course copy with the assignment generated by ``nbgrader generate_assignment``."""
    root = jobs["root"]
    nbgrader("generate_assignment", ASSIGNMENT, cwd=root, env=jobs["env"])
    return {**jobs,
            "source": nbformat.read(root / "source" / ASSIGNMENT / NB_NAME, as_version=4),
            "release": nbformat.read(root / "release" / ASSIGNMENT / NB_NAME, as_version=4)}


@pytest.mark.nbgrader
def test_generate_assignment_removes_solutions_and_hidden_tests(course):
    source, release = course["source"], course["release"]
    text = (course["root"] / "release" / ASSIGNMENT / NB_NAME).read_text(encoding="utf-8")
    for marker in (*SOLUTION_MARKERS, "BEGIN HIDDEN TESTS", "variant=1"):
        assert marker not in text
    released = _cells_by_id(release)
    for grade_id, cell in _cells_by_id(source).items():
        meta = cell.metadata["nbgrader"]
        rel = released[grade_id]
        if meta.get("solution"):
            # Every line of reference code is gone; the given lines (signature, docstring) stay.
            inside = False
            for line in cell.source.split("\n"):
                if line.strip() in SOLUTION_MARKERS:
                    inside = line.strip() == SOLUTION_MARKERS[0]
                elif inside and line.strip():
                    assert line not in rel.source.split("\n"), (grade_id, line)
            assert rel.source.count("raise NotImplementedError()") == cell.source.count(
                SOLUTION_MARKERS[0])
            assert cell.source.split("\n")[0] == rel.source.split("\n")[0]
        elif meta.get("grade"):
            assert rel.metadata["nbgrader"]["points"] == meta["points"]
            assert rel.metadata["nbgrader"]["locked"] is True
        else:
            assert rel.source == cell.source  # given code reaches students untouched


@pytest.fixture(scope="module")
def autograded(course) -> dict:
    """Four students submitted and autograded in one ``nbgrader autograde`` call."""
    root, source, release = course["root"], course["source"], course["release"]
    src_cells = _cells_by_id(source)

    def submit(student: str, nb) -> None:
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NB_NAME)

    def filled(tasks: tuple[str, ...]):
        nb = nbformat.from_dict(release)
        cells = _cells_by_id(nb)
        for task_id in tasks:
            for grade_id in _solution_ids(source, task_id):
                cells[grade_id].source = _strip_markers(src_cells[grade_id].source)
        return nb

    submit("referencia", filled(tuple(t.id for t in TASKS)))
    submit("sin_hacer", nbformat.from_dict(release))
    partial = filled(PARTIAL_RIGHT + (HALF_TASK, BUGGY_TASK))
    cells = _cells_by_id(partial)
    for grade_id in _solution_ids(source, HALF_TASK):
        cells[grade_id].source = _orthogonal_bug(cells[grade_id].source)
    for grade_id in _solution_ids(source, BUGGY_TASK):
        cells[grade_id].source = _relu_bug(cells[grade_id].source)
    edited = cells[f"prueba_{EDITED_GRADE_TASK}"]
    edited.source = f"print('todo bien')\n{TASK_BY_ID[EDITED_GRADE_TASK].points}"
    submit("parcial", partial)
    # A pasted copy of a grade cell (tests/nb_layout_attacks.py), with a task right that would
    # earn its points: graded first (names sort), it stopped nbgrader for every classmate.
    from nb_layout_attacks import LAYOUTS

    pasted = filled((PASTED_RIGHT,))
    LAYOUTS[PASTED_LAYOUT][2](pasted)
    submit(PASTED, pasted)

    # The course as it stands before autograde, for the parallel path to grade the same.
    shutil.copytree(root, root.parent / "course-parallel", symlinks=True)
    proc = nbgrader("autograde", ASSIGNMENT, cwd=root, env=course["env"])
    return {**course, "log": proc.stdout + proc.stderr, "parallel": root.parent / "course-parallel"}


def _scores(root: Path, student: str) -> tuple[float, float, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        per_task = {t.id: gb.find_grade(f"prueba_{t.id}", ASSIGNMENT, ASSIGNMENT, student).score
                    for t in TASKS}
        return sub.score, sub.max_score, per_task


@pytest.mark.nbgrader
def test_gradebook_full_zero_and_partial(autograded):
    root = autograded["root"]
    total = sum(t.points for t in TASKS)

    score, max_score, per_task = _scores(root, "referencia")
    assert (score, max_score) == (total, total), per_task
    assert per_task == {t.id: t.points for t in TASKS}

    score, max_score, per_task = _scores(root, "sin_hacer")
    assert (score, max_score) == (0, total)
    assert set(per_task.values()) == {0}

    # Partial credit inside one grade cell: nbgrader took the number the cell printed.
    from grader.scoring import checks_for

    lost = sum(c.points for c in checks_for([HALF_TASK]) if c.name == HALF_FAILS)
    assert 0 < lost < TASK_BY_ID[HALF_TASK].points
    score, _, per_task = _scores(root, "parcial")
    expected = {t.id: (t.points if t.id in PARTIAL_RIGHT else 0) for t in TASKS}
    expected[HALF_TASK] = TASK_BY_ID[HALF_TASK].points - lost
    assert per_task == expected
    assert per_task[BUGGY_TASK] == 0
    assert score == sum(expected.values())


def _grade_id_positions(nb, grade_id: str) -> list[int]:
    return [n for n, c in enumerate(nb.cells, 1)
            if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]


@pytest.mark.nbgrader
def test_a_pasted_grade_cell_scores_zero_with_the_reason_and_stops_no_one(autograded):
    """nbgrader 0.9 stopped the whole run on it (SchemaTooOldError, re-raised): every
    classmate graded after this student (names sort) got nothing. Now that notebook alone
    scores 0, its one right task included, and each of its grade cells says which cell
    repeats which id; the classmates' grades are checked in the test above."""
    from nb_layout_attacks import GRADE

    root, log = autograded["root"], autograded["log"]
    score, _, per_task = _scores(root, PASTED)
    assert score == 0 and per_task == {t.id: 0 for t in TASKS}
    assert "old version" not in log and "Duplicate grade id" not in log, log[-3000:]
    for student in ("parcial", "referencia", "sin_hacer"):
        assert (root / "autograded" / student / ASSIGNMENT / NB_NAME).is_file(), student
    submitted = nbformat.read(root / "submitted" / PASTED / ASSIGNMENT / NB_NAME, as_version=4)
    first, pasted_at = _grade_id_positions(submitted, GRADE)
    graded = _cells_by_id(_autograded_nb(root, PASTED))
    for task in TASKS:
        outputs = graded[f"prueba_{task.id}"].outputs
        assert [o.output_type for o in outputs] == ["stream", "execute_result"]
        assert outputs[1].data["text/plain"] == "0"
        text = outputs[0].text
        assert text.startswith(f"[{task.id}] 0/{task.points:g} puntos: las celdas de nbgrader")
        assert re.search(rf"la celda {pasted_at} \(`[^`]+`\) repite el identificador {GRADE} de "
                         rf"la celda {first} ", text), text


def _sanitized(nb, root: Path, guard: bool):
    """nbgrader's own sanitizing steps of autograde, in this process, against the course's
    gradebook; with the kit's CheckGradeIds first when ``guard``."""
    from nbgrader.converters import Autograde

    from grader.nbgrading.gradeids import CheckGradeIds

    steps = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    resources = {"nbgrader": {"notebook": ASSIGNMENT, "assignment": ASSIGNMENT,
                              "student": "alumno", "db_url": f"sqlite:///{root / 'gradebook.db'}"}}
    for step in ([CheckGradeIds] if guard else []) + steps:
        nb, resources = step().preprocess(nb, resources)
    return nb


@pytest.mark.nbgrader
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layout_changes_never_stop_nbgrader(course, name):
    """Each change of tests/nb_layout_attacks.py through nbgrader's sanitizing steps: without
    the kit's check nbgrader stops or fails as the catalogue says (the bug, reproduced); with
    it nothing raises, the findings are of the expected kind, and the notebook holds every
    grade cell of the assignment once, each with the gradebook's checksum."""
    from nb_layout_attacks import altered
    from nbgrader.api import Gradebook
    from nbgrader.nbgraderformat.common import SchemaMismatchError
    from nbgrader.utils import compute_checksum

    from grader.nbgrading.gradeids import LAYOUT_KEY

    root = course["root"]
    outcome, *stops = LAYOUTS[name][1].split()
    nb = altered(course["release"], name)
    if stops:
        with pytest.raises(SchemaMismatchError):  # nbgrader re-raises it: the run stops
            _sanitized(copy.deepcopy(nb), root, guard=False)
    elif outcome.startswith("zero"):
        with pytest.raises(Exception):  # noqa: B017 - nbgrader fails that student, any way
            _sanitized(copy.deepcopy(nb), root, guard=False)
    else:
        _sanitized(copy.deepcopy(nb), root, guard=False)

    clean = _sanitized(nb, root, guard=True)
    found = clean.metadata.get(LAYOUT_KEY, {"problems": [], "restored": []})
    if outcome.startswith("zero:"):
        assert found["problems"] and {p["kind"] for p in found["problems"]} == {outcome[5:]}
    else:
        assert found["problems"] == []
        assert found["restored"] == (["prueba_relu_net"] if outcome == "restored" else [])
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        book = gb.find_notebook(ASSIGNMENT, ASSIGNMENT)
        expected = {c.name: c.checksum for c in book.source_cells
                    if c.name in {g.name for g in book.grade_cells}}
    grades = [c for c in clean.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert sorted(c.metadata.nbgrader.grade_id for c in grades) == sorted(expected)
    for cell in grades:
        assert compute_checksum(cell) == expected[cell.metadata.nbgrader.grade_id]


def _gradebook_dump(root: Path, students: tuple[str, ...]) -> dict:
    """Everything the gradebook holds of these students' submissions, as plain data."""
    from nbgrader.api import Gradebook

    dump = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "practicos-dl") as gb:
        for student in students:
            sub = gb.find_submission(ASSIGNMENT, student)
            notebooks = {}
            for nb in sub.notebooks:
                grades = sorted((g.name, g.auto_score, g.manual_score, g.max_score,
                                 g.needs_manual_grade, g.extra_credit) for g in nb.grades)
                comments = sorted((c.name, c.auto_comment, c.manual_comment) for c in nb.comments)
                notebooks[nb.name] = (nb.score, nb.max_score, nb.needs_manual_grade, nb.flagged,
                                      nb.late_submission_penalty, grades, comments)
            dump[student] = (sub.timestamp, sub.extension, sub.score, sub.max_score,
                             sub.needs_manual_grade, notebooks)
    return dump


def _deterministic_parts(nb) -> list:
    """Every cell's source and kinds of output, and the grade cells' whole outputs (the
    sandbox's messages and score); plots, timings, widget ids and how printed text is split
    into stream outputs differ from run to run."""
    return [(c.cell_type, c.source, sorted({o.output_type for o in c.get("outputs", [])}),
             c.outputs if c.metadata.get("nbgrader", {}).get("grade") else None)
            for c in nb.cells]


@pytest.mark.nbgrader
@pytest.mark.slow
def test_parallel_autograde_writes_what_serial_autograde_writes(autograded):
    """``python -m grader nbgrader-autograde --jobs 2`` on the same four submissions (the
    pasted grade cell among them: 0 there too): the same gradebook as the serial ``nbgrader
    autograde``, student by student and cell by cell. A fifth student whose nbgrader fails (a
    broken timestamp.txt) is reported and costs nobody else their grade; a second run grades
    nothing and changes nothing."""
    serial, parallel, env = autograded["root"], autograded["parallel"], autograded["env"]
    students = ("referencia", "sin_hacer", "parcial", PASTED)
    broken = parallel / "submitted" / "fecha_rota" / ASSIGNMENT
    shutil.copytree(parallel / "submitted" / "sin_hacer" / ASSIGNMENT, broken)
    (broken / "timestamp.txt").write_text("ayer a la tarde\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "grader", "nbgrader-autograde", str(parallel), "--jobs", "2"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "4 graded, 1 failed" in out and "fecha_rota: FAILED" in out, out[-3000:]
    assert re.search(rf"{PASTED}: graded in [\d.]+ s; 1 altered nbgrader cell\(s\)", out), out
    assert "Unknown string format: ayer a la tarde" in out, out[-3000:]  # from nbgrader's log
    assert not (parallel / "autograded" / "fecha_rota").exists()

    expected = _gradebook_dump(serial, students)
    assert _gradebook_dump(parallel, students) == expected
    assert [expected[s][2] for s in students] == [_scores(serial, s)[0] for s in students]
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{parallel / 'gradebook.db'}", "practicos-dl") as gb:
        with pytest.raises(MissingEntry):
            gb.find_submission(ASSIGNMENT, "fecha_rota")
    for student in students:
        assert _deterministic_parts(_autograded_nb(parallel, student)) == _deterministic_parts(
            _autograded_nb(serial, student)), student
    assert not [p for p in (parallel / ".nbgrader-parallel").glob("student-*")]

    # Resumed: the three are done, only the broken one is tried again.
    before = (parallel / "gradebook.db").read_bytes()
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 1 and "1 to grade, 4 already autograded" in again.stdout, (
        again.stdout + again.stderr)[-3000:]
    assert _gradebook_dump(parallel, students) == expected
    assert (parallel / "gradebook.db").read_bytes() == before


# --------------------------------------------------------------------- forging attempts


def _viewer_indices(seed_of) -> set[int]:
    """The test indices the viewer checks ask for, with seeds from ``seed_of(label)``."""
    from grader.checks import Context
    from grader.scoring import checks_for

    class Seeded(Context):
        def seed(self, label: str) -> int:
            return seed_of(label)

    return {i for check in checks_for(["test_viewer"])
            for i in check.inputs(Seeded()).get("indices", [])}


def _precomputed_viewer(source_cell: str) -> str:
    """A viewer right only on the indices a student can compute from the release: the
    public ones and those the hidden variant drew from public constants before the course
    secret existed (``stable_seed("practico2", 1, label)``; with them it kept 10/10 after
    the hidden tests); test image 10 for any other index."""
    from grader.checks.base import stable_seed

    known = (_viewer_indices(lambda label: stable_seed("practico2", 0, label))
             | _viewer_indices(lambda label: stable_seed("practico2", 1, label)))
    real = _strip_markers(source_cell).replace("def show_test_example(", "def _visor_real(", 1)
    return (real + f"\n\n_CONOCIDOS = {sorted(known)!r}\n\n\n"
            "def show_test_example(test_ds, index):\n"
            "    return _visor_real(test_ds, index if index in _CONOCIDOS else 10)\n")


@pytest.fixture(scope="module")
def canary():
    """A local http.server the hostile markup points at: any request to it is a payload that
    ran or loaded (tests/chromium_probe.py)."""
    from chromium_probe import Canary

    server = Canary()
    yield server
    server.close()


def _marked_notebook(release, source, url: str):
    """The markup attacker (tests/nb_markup_attacks.py): every hostile output (one code cell
    on top), markdown, raw cells and metadata; one task right, its grade cell deleted."""
    from nb_markup_attacks import notebook_metadata, output_cell, planted_cells

    nb = nbformat.from_dict(release)
    cells, src_cells = _cells_by_id(nb), _cells_by_id(source)
    for grade_id in _solution_ids(source, MARKUP_RIGHT):
        cells[grade_id].source = _strip_markers(src_cells[grade_id].source)
    nb.cells.remove(cells[f"prueba_{MARKUP_RIGHT}"])
    nb.cells.insert(0, nbformat.v4.new_code_cell(output_cell(url)))
    nb.cells.extend(planted_cells(url))
    nb.metadata.update(notebook_metadata(url))
    return nb


@pytest.fixture(scope="module")
def attacks(autograded, canary) -> dict:
    """Five hostile students autograded in a second ``nbgrader autograde`` call, after their
    classmates' grades are in the gradebook (so a write there would destroy a real grade)."""
    from nb_attacks import FORGE_DISPLAY, FORGE_MODULES, SPY

    root, release, source = autograded["root"], autograded["release"], autograded["source"]
    before = {"parcial": _scores(root, "parcial"),
              "source": (root / "source" / ASSIGNMENT / NB_NAME).read_bytes()}

    def submit(student: str, nb) -> None:
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NB_NAME)

    def with_cell(code: str):
        nb = nbformat.from_dict(release)
        nb.cells.insert(0, nbformat.v4.new_code_cell(code))
        return nb

    submit("ataque_modulos", with_cell(FORGE_MODULES))
    submit("ataque_display", with_cell(FORGE_DISPLAY))
    submit("espia", with_cell(SPY.replace("COURSE_ROOT", str(root))))
    hidden = nbformat.from_dict(release)
    viewer = _cells_by_id(hidden)["respuesta_show_test_example"]
    viewer.source = _precomputed_viewer(_cells_by_id(source)["respuesta_show_test_example"].source)
    submit("oculto_precalculado", hidden)
    submit(MARKUP, _marked_notebook(release, source, canary.url))
    proc = nbgrader("autograde", ASSIGNMENT, cwd=root, env=autograded["env"])
    return {**autograded, "before": before, "log2": proc.stdout + proc.stderr}


def _autograded_nb(root: Path, student: str):
    return nbformat.read(root / "autograded" / student / ASSIGNMENT / NB_NAME, as_version=4)


@pytest.mark.nbgrader
@pytest.mark.parametrize("student", ["ataque_modulos", "ataque_display", "espia"])
def test_forged_notebook_scores_what_the_release_scores(attacks, student):
    from nb_attacks import attack_report

    root = attacks["root"]
    score, _, per_task = _scores(root, student)
    assert per_task == _scores(root, "sin_hacer")[2] == {t.id: 0 for t in TASKS}
    assert score == 0
    graded = _autograded_nb(root, student)
    assert attack_report(graded)  # the attack cell did run in the student's kernel
    for task in TASKS:
        outputs = _cells_by_id(graded)[f"prueba_{task.id}"].outputs
        assert [o.output_type for o in outputs] == ["stream", "execute_result"]
        assert outputs[1].data["text/plain"] == "0"
        assert "calificado aparte de tu kernel" in outputs[0].text


@pytest.mark.nbgrader
def test_course_access_reads_nothing_and_a_classmate_keeps_the_grade(attacks):
    from nb_attacks import attack_report

    root = attacks["root"]
    report = attack_report(_autograded_nb(root, "espia"))
    assert report["cwd"].endswith(f"autograded/espia/{ASSIGNMENT}")
    assert report["source"] == [] and report["gradebook"] == []
    others = ("referencia", "sin_hacer", "parcial", "ataque", "oculto")
    assert not [s for s in report["students"] if any(o in s for o in others)], report
    assert all(isinstance(a, str) and a.endswith("Error") for a in report["absolute"]), report
    assert report["network"] != "connected" and report["secret"] == []
    assert _scores(root, "parcial") == attacks["before"]["parcial"]
    assert (root / "source" / ASSIGNMENT / NB_NAME).read_bytes() == attacks["before"]["source"]


@pytest.mark.nbgrader
def test_precomputed_hidden_variant_loses_the_hidden_points(attacks):
    root = attacks["root"]
    _, _, per_task = _scores(root, "oculto_precalculado")
    full = TASK_BY_ID["test_viewer"].points
    # Right on every public input, but all three checks draw the hidden indices too.
    assert per_task["test_viewer"] == 0
    cell = _cells_by_id(_autograded_nb(root, "oculto_precalculado"))["prueba_test_viewer"]
    text = cell.outputs[0].text
    assert f"[test_viewer] {TASK_BY_ID['test_viewer'].title_es}: {full}/{full} puntos" in text
    assert f"pruebas ocultas): {per_task['test_viewer']:g}/{full} puntos" in text
    # The feedback names the failing check, never the hidden inputs it was given.
    assert "✘ shows_test_image" in text and "los datos ocultos no se muestran" in text
    os.environ["PRACTICO_SECRET"], saved = COURSE_SECRET, os.environ.get("PRACTICO_SECRET")
    try:
        from grader.checks import Context

        hidden = _viewer_indices(Context(variant=1).seed)
    finally:
        if saved is None:
            del os.environ["PRACTICO_SECRET"]
        else:
            os.environ["PRACTICO_SECRET"] = saved
    public = _viewer_indices(Context(variant=0).seed)
    assert not [i for i in hidden - public if re.search(rf"\b{i}\b", text)]


@pytest.fixture(scope="module")
def markup_pages(attacks, tmp_path_factory) -> dict:
    """The markup attacker's pages as a student and an instructor get them: its feedback
    (``nbgrader generate_feedback``) and its autograded notebook rendered as formgrader renders
    it; with the same templates' pages of the untouched release, to tell the template's own
    scripts and styles from the student's."""
    from nb_markup_attacks import feedback_html, formgrader_html

    root = attacks["root"]
    nbgrader("generate_feedback", ASSIGNMENT, "--student", MARKUP, "--force", cwd=root,
             env=attacks["env"])
    folder = tmp_path_factory.mktemp("pages")
    graded = root / "autograded" / MARKUP / ASSIGNMENT / NB_NAME
    plain = root / "autograded" / "sin_hacer" / ASSIGNMENT / NB_NAME
    pages = {"feedback": root / "feedback" / MARKUP / ASSIGNMENT / f"{ASSIGNMENT}.html",
             "formgrader": folder / "formgrader.html"}
    pages["formgrader"].write_text(formgrader_html(graded, MARKUP), encoding="utf-8")
    benign = {"feedback": feedback_html(nbformat.read(plain, as_version=4)),
              "formgrader": formgrader_html(plain)}
    return {**attacks, "pages": pages, "benign": benign}


@pytest.mark.nbgrader
def test_hostile_markup_reaches_feedback_and_formgrader_as_text(markup_pages, canary):
    """Nothing of the student's markup is live in either page (tests/nb_markup_attacks.py
    lists each payload); the payloads, the printed text and the verdicts stay readable."""
    from chromium_probe import live_control
    from nb_markup_attacks import MARKDOWN, OUTPUTS, live_markup

    root = markup_pages["root"]
    for view, path in markup_pages["pages"].items():
        page = path.read_text(encoding="utf-8")
        benign = markup_pages["benign"][view]
        assert live_markup(page, benign, canary.url) == [], view
        # the check sees markup that is live in this very page
        live = page.replace("</body>", live_control(canary) + "</body>")
        assert live_markup(live, benign, canary.url), view
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        assert text.count("se muestra como texto") >= len(OUTPUTS) - 2, view
        # the student's text cells (and raw cells) as text; the course's narrative rendered
        assert text.count("Celda de texto escrita o cambiada") == len(MARKDOWN) + 3, view
        assert "<h2" in page, view
        assert "document.title='PWNED'" in text and "<b>impreso</b>" in text, view
        # the deleted grade cell, put back: graded, and it says so
        task = TASK_BY_ID[MARKUP_RIGHT]
        assert f"[{task.id}] {task.title_es}: {task.points}/{task.points} puntos" in text, view
        assert "Esta celda de prueba faltaba en el cuaderno entregado" in text, view
    _, _, per_task = _scores(root, MARKUP)
    assert per_task == {t.id: (t.points if t.id == MARKUP_RIGHT else 0) for t in TASKS}


@pytest.mark.nbgrader
@pytest.mark.browser
def test_feedback_and_formgrader_pages_run_nothing_in_chromium(markup_pages, canary, tmp_path):
    """Opened in headless Chromium: no payload ran (the title is the page's own) and no
    request reached the canary. The same page with one live payload added is seen running."""
    from chromium_probe import chromium, dump_dom, live_control, title

    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    for view, page in markup_pages["pages"].items():
        dom = dump_dom(page, browser)
        assert "PWNED" not in title(dom) and title(dom), (view, title(dom))
        assert canary.hits() == [], (view, canary.hits())
    control = tmp_path / "control.html"
    control.write_text(markup_pages["pages"]["feedback"].read_text(encoding="utf-8").replace(
        "</body>", live_control(canary) + "</body>"), encoding="utf-8")
    assert title(dump_dom(control, browser)) == "PWNED"
    assert canary.hits() == ["/control"]


@pytest.mark.nbgrader
def test_edited_grade_cell_is_restored(autograded):
    root = autograded["root"]
    _, _, per_task = _scores(root, "parcial")
    assert per_task[EDITED_GRADE_TASK] == 0
    graded = nbformat.read(root / "autograded" / "parcial" / ASSIGNMENT / NB_NAME, as_version=4)
    cell = _cells_by_id(graded)[f"prueba_{EDITED_GRADE_TASK}"]
    assert "check_task" in cell.source and "todo bien" not in cell.source
    assert "checksum" in autograded["log"]  # nbgrader reports the changed cell


def _expected_relu_messages() -> list[str]:
    """The messages the grader itself gives the partial student's DeepMLPR, computed here."""
    import torch
    import torch.nn as nn

    from grader.grading import check_in_process
    from grader.impl import NamespaceImpl
    from grader.request import GradeRequest
    from grader.scoring import checks_for

    source = NOTEBOOK_PATH.read_text(encoding="utf-8")
    nb = nbformat.reads(source, as_version=4)
    cell = _cells_by_id(nb)["respuesta_DeepMLPR"]
    namespace: dict = {"torch": torch, "nn": nn}
    exec(_relu_bug(_strip_markers(cell.source)), namespace)  # noqa: S102 - our own reference
    messages = []
    for check in checks_for([BUGGY_TASK]):
        if check.name == "mnist_short_run":
            continue  # seconds of training; the two others already fail
        result = check_in_process(check, NamespaceImpl(namespace), GradeRequest(lang="es"))
        assert result.status == "failed", check.name
        messages.append(result.message)
    return messages


@pytest.mark.nbgrader
def test_feedback_shows_each_task_message(autograded):
    root = autograded["root"]
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root, env=autograded["env"])
    pages = {}
    for student in ("referencia", "sin_hacer", "parcial"):
        page = root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert page.is_file(), f"no feedback for {student}"
        pages[student] = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
    for task in TASKS:
        assert f"[{task.id}] {task.title_es}: {task.points}/{task.points} puntos" in pages[
            "referencia"]
        assert f"[{task.id}] {task.title_es}: 0/{task.points} puntos" in pages["sin_hacer"]
        # The untouched notebook: every task says it is not implemented yet, naming the task.
        assert f"[{task.id}] Todavía no implementado" in pages["sin_hacer"]
    for message in _expected_relu_messages():
        assert message in pages["parcial"]


@pytest.mark.nbgrader
def test_each_result_is_stored_for_the_class_report_and_never_reaches_feedback(autograded):
    """SandboxedGrades hands nbgrader's writer each student's signed result JSON: it lies
    beside the autograded notebook, holds the gradebook's scores, is left out of feedback/
    (CourseDirectory.ignore), and `class-report` on the course folder counts the students."""
    import json

    from grader.class_report.sources import NBGRADER_RESULT_NAME
    from grader.cli import main

    root = autograded["root"]
    graded = ("referencia", "sin_hacer", "parcial")
    for student in graded:
        path = root / "autograded" / student / ASSIGNMENT / NBGRADER_RESULT_NAME
        assert (path.parent / NB_NAME).is_file() and path.is_file(), student
        data = json.loads(path.read_text(encoding="utf-8"))
        score, max_score, per_task = _scores(root, student)
        assert (data["score"], {t: data["tasks"][t]["score"] for t in per_task}) == (
            score, per_task), student
        assert data["produced_by"]["files"].keys() == {"notebook.cells"}
        assert data["produced_by"]["options"]["variant"] == 1  # hidden tests were graded
        # a check that failed only on the hidden inputs keeps no value of them
        for task in data["tasks"].values():
            for check in task.get("checks", {}).values():
                if check["key"] == "nb_hidden_check_failed":
                    assert check["values"] == {}
    # the notebook whose grade cells were altered scored 0 for them and stores nothing
    assert not (root / "autograded" / PASTED / ASSIGNMENT / NBGRADER_RESULT_NAME).exists()
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root, env=autograded["env"])
    for student in graded:
        assert (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    assert list((root / "feedback").rglob(NBGRADER_RESULT_NAME)) == []
    code = main(["class-report", str(root), "--assignment", ASSIGNMENT, "--lang", "en",
                 "--names"])
    assert code == 0
    report = json.loads((root / "reports" / ASSIGNMENT / "class_report.json").read_text(
        encoding="utf-8"))
    assert report["source"] == {"kind": "nbgrader", "assignment": ASSIGNMENT}
    assert report["students"]["counted"] >= len(graded), report["students"]
    missing = {name for entry in report["not_counted"] if entry["reason"] == "missing"
               for name in entry["names"]}
    assert PASTED in missing


@pytest.mark.nbgrader
def test_validate_passes_on_the_source_notebook(jobs):
    rc, out = jobs["validate"].result()
    assert rc == 0, out[-3000:]
    assert "Success! Your notebook passes all the tests." in out, out[-3000:]


# --------------------------------------------------------------------- the student release


@pytest.fixture(scope="module")
def release(jobs) -> Path:
    """The student release built (in the background) from the kit copy with the canaries."""
    rc, out = jobs["release"].result()
    assert rc == 0, out[-3000:]
    release_dir, kit = jobs["release_dir"], jobs["kit"]
    # A second release into the same folder needs --force.
    again = subprocess.run([sys.executable, "-m", "grader", "release", str(release_dir),
                            "--kit", str(kit)], cwd=ROOT, env=jobs["env"], capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 2 and "--force" in again.stderr
    return release_dir


@pytest.mark.nbgrader
def test_release_holds_no_reference_code(release):
    files = {p.relative_to(release).as_posix(): p.read_bytes()
             for p in release.rglob("*") if p.is_file()}
    assert not [f for f, data in files.items() if SECRET.encode() in data]
    assert {f for f, data in files.items() if VISIBLE.encode() in data} == {
        "exercises/ex1_onehot_mse.py", NB_NAME}
    assert not [f for f in files if f.split("/")[0] in ("solutions", "fixtures", "course", "tests")]
    assert {"README.md", "pyproject.toml", NB_NAME, "grader/nb.py",
            "grader/pytest_plugin.py"} <= set(files)
    assert {f"exercises/{p.name}" for p in (ROOT / "exercises").glob("*.py")} <= set(files)
    notebook = files[NB_NAME].decode()
    for marker in (*SOLUTION_MARKERS, "BEGIN HIDDEN TESTS", "variant=1"):
        assert marker not in notebook
    readme = files["README.md"].decode()
    assert "pytest exercises" in readme and "pip install -e" in readme and "Entregar" in readme


@pytest.mark.nbgrader
def test_release_installs_and_runs_its_own_checks(release, tmp_path):
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps",
                          "--no-build-isolation", "-e", str(release)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0 and "Would install practico2-0.1.0" in pip.stdout, pip.stderr
    # The release's stubs with one exercise solved (the reference ex3), checked by the
    # release's own grader (first on PYTHONPATH): that task full marks, the others none.
    student = tmp_path / "alumno"
    student.mkdir()
    for stub in (release / "exercises").glob("ex*.py"):
        shutil.copy2(stub, student)
    shutil.copy2(ROOT / "solutions" / "ex3_depth.py", student)
    env = {**os.environ, "PYTHONPATH": str(release), "PRACTICO_LANG": "es"}
    checks = ["exercises/test_ex3_depth.py", "exercises/test_ex4_activations.py"]
    proc = subprocess.run([sys.executable, "-m", "pytest", *checks, "--impl", str(student),
                           "-p", "no:cacheprovider", "-q", "--device", "cpu"], cwd=release,
                          env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert re.search(r"deep_net\s+10/10", out), out[-3000:]
    assert re.search(r"relu_net\s+0/10", out), out[-3000:]
    assert re.search(r"TOTAL\s+10/20", out), out[-3000:]
    where = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"],
                           cwd=release, env=env, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).resolve() == (release / "grader" / "__init__.py").resolve()


def test_release_dependencies_match_the_kit():
    tomllib = pytest.importorskip("tomllib")
    from grader.authoring.release import STUDENT_DEPENDENCIES

    kit = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert sorted(kit["project"]["dependencies"]) == sorted(STUDENT_DEPENDENCIES)
