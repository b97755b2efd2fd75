"""Local equals official (issue 21 item 3): one verdict per check, whichever way it is graded.

Every fixture (the reference, every independent correct submission of
``tests/patching.ALT_CORRECTS``, every ``fixtures/alt_variants`` idiom, every
``fixtures/wrong`` mistake: ``tests/fixture_students.py`` makes each one a student) is graded
the five ways a student's code is graded, and every check must get the same verdict in each:

1. ``pytest exercises`` (the student's own run; ``--variant 1`` too, with the course secret);
2. ``python -m grader grade FOLDER --json`` (the instructor's, sandboxed; ``--variant 1``);
3. ``python -m grader autograde CLASS --jobs 2`` (the class, sandboxed; ``--variant 1``);
4. the notebook's grade cells in a Jupyter kernel (``check_task`` on the notebook's globals,
   executed by nbclient; the source notebook's cells, so the hidden call too);
5. ``nbgrader autograde`` of a course whose students hand in those notebooks (the grade
   cells' outputs written by the sandbox, public and hidden, and the gradebook's scores).

A verdict is whether the check passed and its points, as each path shows them (pytest: the
test's outcome and its failure message; ``grade``/``autograde``: the result JSON, also the
status, message key and diagnoses, which must agree between the two; the notebook and
nbgrader: the ``✔``/``✘`` line, the message under it, the score the cell returns). A failed
check's message must be the same wherever it is shown (the notebook rewrites only
"not implemented" and "missing name" into cell terms). Hidden variants combine as the
notebook and nbgrader combine them: a check counts if it passed on the public inputs and on
variant 1 (:data:`grader.nb.SAME_IN_EVERY_VARIANT` keeps its public verdict); that is
compared with ``pytest``/``grade``/``autograde`` run on variant 0 and variant 1.

Cost (2 cores): about 92 wrong fixtures times five paths times two variants, each a grading
with training runs, would take most of an hour. What is cut, so that this file takes
minutes (the stages' wall and CPU seconds are printed with ``-s``; README, "Testing the
kit"). Measured alone on the 2-core development machine, 103 fixtures, the kernel still
after ``grade``: 13 min 42 s wall, 1,043 s CPU; CPU seconds per stage: ``grade`` 208 (18
processes), the kernel 258, ``autograde`` of the class 192, ``nbgrader autograde`` 156,
``pytest`` 81 and 75, ``autograde --variant 1`` 56. It is the costliest test of the suite by
far (about half its CPU), so ``tests/conftest.py`` hands it out first, and the kernel runs
in a thread beside the other stages:

- A fixture that changes one module (``alt_variants``, ``wrong``) is a student with that
  module and the stubs for the rest: the other tasks are unimplemented everywhere (compared
  too: not_implemented in every path), instead of the reference graded again ~100 times.
- ``pytest exercises`` runs, per wrong fixture, the checks of its module that are not
  training runs (``Check.cost`` under 2, as ``tests/test_fixtures.py`` does); every check for
  a correct one. All fixtures run in **one** pytest session per variant (each student's
  folder holds its ``ex*.py`` and the test files of its modules; ``--import-mode=importlib``,
  since every folder has a ``test_ex1_onehot_mse.py``), not one process per fixture.
- ``autograde`` grades every fixture once (variant 0), in one class folder, ``--jobs 2``;
  variant 1 only the sample below.
- The notebook's grade cells run for every fixture, in **one** kernel (``%reset -f``
  between students): for a wrong fixture only its declared task's grade cell, for a correct
  one every grade cell of its modules. Experiment cells and prose are left out there (they
  earn no points; a kernel per student would add about 3 s each).
- ``grade`` (one process per run) and ``nbgrader autograde`` (a kernel and a sandbox per
  student) grade a sample: every correct fixture and one wrong fixture per task
  (:data:`SAMPLE_WRONG`, chosen so that a training-run check fails in each task that has
  one); ``grade`` leaves out the ``alt_variants`` (autograde grades them with the same
  sandbox). nbgrader's students hand in notebooks whose experiment cells hold a comment
  (a student may change those cells; they earn no points, and would train in the kernel and
  again in the sandbox for each student).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from fixture_students import Student, every_student, student_notebook
from notebook_runs import (
    autograded_cells,
    gradebook_scores,
    nbgrader_env,
    new_course,
    run_in_one_kernel,
    submit,
)
from verdicts import Verdict, Verdicts, from_junit, read_json, task_test_functions

from grader.nb import SAME_IN_EVERY_VARIANT
from grader.pytest_plugin import param_id
from grader.scoring import checks_for
from grader.tasks import TASK_BY_ID, TASKS

pytestmark = [pytest.mark.slow, pytest.mark.nbgrader]

LANG = "es"
COURSE_SECRET = f"prueba-oficial-{uuid.uuid4().hex}"
ASSIGNMENT = "practico2"
#: a check at least this costly is a training run (``Check.cost``; tests/test_fixtures.py)
TRAINING_RUN_COST = 2.0
#: one wrong fixture per task, graded by every path and on variant 1: where the task has a
#: training run, one that fails it (measured), so that a training run's failure is compared
SAMPLE_WRONG = {
    "test_viewer": "w_viewer_index_plus_one",
    "onehot_mse": "w_mse_no_step",
    "ce_net": "w_ce_softmax_in_loop",
    "deep_net": "w_deepnet_relu_output",
    "relu_net": "w_relu_on_logits",
    "init_schemes": "w_init_hidden_only",
    "probe_stats": "w_probe_hardcoded_lists",
    "he_init": "w_he_fan_out",
    "lr_sweep": "w_sweep_lr_ignored",
    "exploding": "w_clip_by_value",
}
#: statuses the notebook words in its own terms (a cell, not a file)
NOTEBOOK_WORDED = ("not_implemented", "missing_name")
#: where an exception was raised in the student's code, as a message says it
#: (``(ex1_onehot_mse.py:99, train_model0)``; grader.impl.student_frame): in the kernel the
#: same code lives in a cell, whose file is ipykernel's (``1500668198.py:39``), so the file and
#: line may differ there and only the function must agree
RAISED_AT = re.compile(r"\([\w.-]+\.py:\d+, ([\w.<>]+)\)")


def _located_alike(message: str) -> str:
    return RAISED_AT.sub(r"(<file>:<line>, \1)", message)


# --------------------------------------------------------------------- the students

@pytest.fixture(scope="module")
def students() -> list[Student]:
    return every_student()


@pytest.fixture(scope="module")
def sample(students) -> list[Student]:
    by_name = {s.name: s for s in students}
    assert sorted(SAMPLE_WRONG) == sorted(t.id for t in TASKS)
    for task, name in SAMPLE_WRONG.items():
        assert name in by_name and by_name[name].task == task, (task, name)
    return [s for s in students if s.correct] + [by_name[n] for n in SAMPLE_WRONG.values()]


def whole(student: Student) -> bool:
    """A whole submission (the reference, an independent correct one), not one module."""
    return student.module is None


def checks_under_pytest(student: Student) -> list[str]:
    """The check ids ``pytest exercises`` runs for ``student``."""
    checks = checks_for(student.tasks)
    if not student.correct:
        checks = [c for c in checks if c.cost < TRAINING_RUN_COST]
    return [c.id for c in checks]


def grade_tasks(student: Student) -> list[str]:
    return student.tasks if student.correct else [student.task]


def kernel_tasks(student: Student) -> list[str]:
    return student.tasks if student.correct else [student.task]


# --------------------------------------------------------------------- running the paths

def _children_cpu() -> float:
    """CPU seconds of every finished process this one started (and those they waited for)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timer:
    """Wall seconds of each stage, and its CPU seconds (this process's and those of the
    processes it started and waited for meanwhile), printed at the end (``-s``) and kept
    for the report. The kernel runs in a thread beside the stages of this one: its CPU is
    not measured apart (the counters are the process's), and the ``pytest`` and ``grade``
    figures include the little this process spends on the kernel meanwhile."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def run(self, name: str, fn, *args, cpu: bool = True, **kwargs):
        """``fn(*args, **kwargs)``, timed; ``cpu=False`` for a stage run in a thread beside
        others (the CPU counters are the process's: they would count the others too)."""
        start, used = time.monotonic(), _own_cpu() + _children_cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds[name] = round(time.monotonic() - start, 1)
            if cpu:
                self.cpu[name] = round(_own_cpu() + _children_cpu() - used, 1)


class Background:
    """A command run in the background, its output to a file (no pipe to fill)."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.cmd, self.log, self.start = cmd, log, time.monotonic()
        self._fh = log.open("w")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self._fh,
                                     stderr=subprocess.STDOUT, text=True)
        self.seconds: float | None = None
        self.cpu: float | None = None

    def wait(self, timeout: float = 1800) -> str:
        # its CPU time (and its children's) is added to ours when it is reaped, here
        before = _children_cpu()
        rc = self.proc.wait(timeout=timeout)
        self.cpu = round(_children_cpu() - before, 1)
        self.seconds = round(time.monotonic() - self.start, 1)
        self._fh.close()
        text = self.log.read_text(encoding="utf-8", errors="replace")
        assert rc == 0, f"{' '.join(self.cmd[:4])} failed ({rc}):\n{text[-4000:]}"
        return text

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._fh.close()


def _grader(*args: str) -> list[str]:
    return [sys.executable, "-m", "grader", *args]


def run_pytest(root: Path, students: list[Student], variant: int, env: dict[str, str]
               ) -> dict[str, Verdicts]:
    """One ``pytest`` session over every student's folder under ``root``."""
    function = task_test_functions()
    args = []
    for s in students:
        for module in s.modules:
            wanted = {c for c in checks_under_pytest(s) if TASK_BY_ID[c.split("::")[0]].module
                      == module}
            for check in checks_for([t.id for t in TASKS if t.module == module]):
                if check.id in wanted:
                    args.append(f"{s.name}/test_{module}.py::{function[check.task]}"
                                f"[{param_id(check)}]")
    xml = root / f"junit-{variant}.xml"
    cmd = [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider",
           "--import-mode=importlib", f"--rootdir={root}", f"--junitxml={xml}",
           "--variant", str(variant), "--lang", LANG]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    found = from_junit(xml)
    for s in students:
        assert sorted(found.get(s.name, {})) == sorted(checks_under_pytest(s)), s.name
    return found


def pytest_root(root: Path, students: list[Student]) -> Path:
    for s in students:
        folder = s.write(root / s.name)
        for module in s.modules:
            shutil.copy2(ROOT / "exercises" / f"test_{module}.py", folder)
    return root


def run_grade(folder: Path, tasks: list[str], variant: int, out: Path,
              env: dict[str, str]) -> Verdicts:
    proc = subprocess.run(_grader("grade", str(folder), "--tasks", ",".join(tasks),
                                  "--json", str(out), "--variant", str(variant),
                                  "--lang", LANG),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_json(out)


def autograde_results(out: Path, students: list[Student]) -> dict[str, Verdicts]:
    found = {}
    for s in students:
        data = json.loads((out / "students" / s.name / "result.json").read_text())
        found[s.name] = read_json(out / "students" / s.name / "result.json")
        assert data["score"] == sum(v.points for v in found[s.name].values()), s.name
    return found


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PRACTICO_SECRET": COURSE_SECRET, "PRACTICO_LANG": LANG, "CI": "true"})
    return env


@pytest.fixture(scope="module")
def graded(tmp_path_factory, students, sample, env):
    """Every path run once over its students (see the module docstring); what each showed.

    ``autograde`` and ``nbgrader`` run in the background while pytest, ``grade`` and the
    kernel work in this process's turn, so the two cores stay busy.
    """
    tmp = tmp_path_factory.mktemp("official")
    timer = Timer()
    cpu_before = _children_cpu()
    jobs: dict[str, Background] = {}
    kernel_thread: ThreadPoolExecutor | None = None
    try:
        # autograde: the class of every student (variant 0), then the sample (variant 1)
        for name, who in (("autograde", students), ("autograde-v1", sample)):
            for s in who:
                s.write(tmp / f"class-{name}" / s.name)
        jobs["autograde"] = Background(
            _grader("autograde", str(tmp / "class-autograde"), "--out", str(tmp / "ag0"),
                    "--jobs", "2", "--lang", LANG),
            ROOT, env, tmp / "autograde.log")

        # nbgrader: a course whose students hand in the sample's notebooks
        course = new_course(tmp / "course")
        nb_env = nbgrader_env(tmp, env)
        timer.run("nbgrader generate_assignment", subprocess.run,
                  [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT],
                  cwd=course, env=nb_env, check=True, capture_output=True, timeout=600)
        release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                                as_version=4)
        for s in sample:
            submit(course, ASSIGNMENT, s.name, student_notebook(release, s))
        jobs["nbgrader"] = Background(
            [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT],
            course, nb_env, tmp / "nbgrader.log")

        # the notebook's grade cells, in one kernel, in a thread meanwhile: the kernel grades
        # in its own process, and alone at the end it kept one core busy for minutes
        kernel_thread = ThreadPoolExecutor(1)
        kernel_job = kernel_thread.submit(
            timer.run, "kernel", run_in_one_kernel, release, students, kernel_tasks,
            tmp / "kernel", LANG, env=env, cpu=False)

        # pytest exercises: one session per variant over every student's folder
        root = pytest_root(tmp / "pytest", students)
        pytest0 = timer.run("pytest v0", run_pytest, root, students, 0, env)
        pytest1 = timer.run("pytest v1", run_pytest, root, students, 1, env)

        # grade: the whole correct submissions on both variants, the wrong sample on 0
        grade0, grade1 = {}, {}

        def grades() -> None:
            for s in sample:
                if s.kind == "alt_variant":  # autograde grades them in the same sandbox
                    continue
                folder = tmp / "class-autograde" / s.name
                grade0[s.name] = run_grade(folder, grade_tasks(s), 0,
                                           tmp / f"grade0-{s.name}.json", env)
                if whole(s):
                    grade1[s.name] = run_grade(folder, grade_tasks(s), 1,
                                               tmp / f"grade1-{s.name}.json", env)

        timer.run("grade", grades)

        kernel = kernel_job.result()

        jobs["autograde"].wait()
        jobs["autograde-v1"] = Background(
            _grader("autograde", str(tmp / "class-autograde-v1"), "--out", str(tmp / "ag1"),
                    "--jobs", "2", "--lang", LANG, "--variant", "1"),
            ROOT, env, tmp / "autograde-v1.log")
        jobs["autograde-v1"].wait()
        jobs["nbgrader"].wait()
        autograde0 = autograde_results(tmp / "ag0", students)
        autograde1 = autograde_results(tmp / "ag1", sample)
        nbgrader = {s.name: autograded_cells(course, ASSIGNMENT, s.name, LANG) for s in sample}
        book = gradebook_scores(course, ASSIGNMENT, [s.name for s in sample])
    finally:
        if kernel_thread is not None:  # a failure before the kernel finished: not waited for
            kernel_thread.shutdown(wait=False, cancel_futures=True)
        for job in jobs.values():
            job.stop()
    for name, job in jobs.items():
        timer.seconds[name], timer.cpu[name] = job.seconds, job.cpu
    timer.seconds["cpu, every process started"] = round(_children_cpu() - cpu_before, 1)
    print(f"\nlocal-equals-official, {len(students)} fixtures ({len(sample)} in the sample), "
          "wall seconds per stage:", json.dumps(timer.seconds), "CPU seconds per stage:",
          json.dumps(timer.cpu))
    (tmp / "seconds.json").write_text(json.dumps({"wall": timer.seconds, "cpu": timer.cpu}))
    return {"pytest": (pytest0, pytest1), "grade": (grade0, grade1),
            "autograde": (autograde0, autograde1), "kernel": kernel, "nbgrader": nbgrader,
            "gradebook": book, "seconds": timer.seconds}


# --------------------------------------------------------------------- comparing

def merged(cells: dict, part: str = "public") -> Verdicts:
    """One path's grade cells (per task) as one set of verdicts."""
    out: Verdicts = {}
    for cell in cells.values():
        out.update(cell.public if part == "public" else cell.combined())
    return out


def disagreements(student: str, views: dict[str, Verdicts]) -> list[str]:
    """Every check on which the paths of ``views`` do not give one verdict, in words."""
    problems = []
    for cid in sorted({c for v in views.values() for c in v}):
        have = {path: v[cid] for path, v in views.items() if cid in v}
        if len({(v.passed, v.points) for v in have.values()}) > 1:
            problems.append(f"{student} {cid}: " + ", ".join(
                f"{p} {'passed' if v.passed else 'failed'} {v.points:g}"
                for p, v in have.items()))
            continue
        told = {p: v for p, v in have.items() if v.status is not None}  # the result JSONs
        for part in ("status", "key", "diagnoses", "message"):
            if len({getattr(v, part) for v in told.values()}) > 1:
                problems.append(f"{student} {cid} {part}: " + ", ".join(
                    f"{p} {getattr(v, part)!r}" for p, v in told.items()))
        if not told or next(iter(told.values())).passed:
            continue
        official = next(iter(told.values()))
        for path, v in have.items():
            if v.status is not None or v.message is None:
                continue
            if path in ("notebook", "nbgrader") and official.status in NOTEBOOK_WORDED:
                continue
            if path == "notebook":
                same = _located_alike(v.message) == _located_alike(official.message)
            else:
                same = v.message == official.message
            if not same:
                problems.append(f"{student} {cid} message: {path} {v.message!r}, "
                                f"result JSON {official.message!r}")
    return problems


def covers(student: str, path: str, verdicts: Verdicts, tasks: list[str],
           only: list[str] | None = None) -> list[str]:
    expected = set(only if only is not None else [c.id for c in checks_for(tasks)])
    if set(verdicts) != expected:
        return [f"{student}: {path} graded {sorted(set(verdicts) ^ expected)} unlike asked"]
    return []


def combined(public: Verdicts, hidden: Verdicts) -> Verdicts:
    """How the notebook and nbgrader fold variant 1 into variant 0, from two plain runs:
    a check counts if it passed on both (:data:`SAME_IN_EVERY_VARIANT`: on variant 0);
    left out where a run lacks it."""
    out: Verdicts = {}
    for cid, v0 in public.items():
        if cid.split("::")[1] in SAME_IN_EVERY_VARIANT:
            out[cid] = Verdict(v0.passed, v0.points)
        elif cid in hidden:
            ok = v0.passed and hidden[cid].passed
            out[cid] = Verdict(ok, v0.points if ok else 0.0)
    return out


def public_problems(graded, students) -> list[str]:
    """Where the paths disagree on the public inputs (and where one graded other checks
    than asked, or a fixture did not score as declared)."""
    (pytest0, _), (grade0, _) = graded["pytest"], graded["grade"]
    autograde0, kernel, nbgrader = graded["autograde"][0], graded["kernel"], graded["nbgrader"]
    problems: list[str] = []
    every = [t.id for t in TASKS]
    for s in students:
        views = {"pytest": pytest0[s.name], "autograde": autograde0[s.name],
                 "notebook": merged(kernel[s.name])}
        problems += covers(s.name, "pytest", views["pytest"], [], checks_under_pytest(s))
        problems += covers(s.name, "autograde", views["autograde"], every)
        problems += covers(s.name, "notebook", views["notebook"], kernel_tasks(s))
        if s.name in grade0:
            views["grade"] = grade0[s.name]
            problems += covers(s.name, "grade", views["grade"], grade_tasks(s))
        if s.name in nbgrader:
            views["nbgrader"] = merged(nbgrader[s.name])
            problems += covers(s.name, "nbgrader", views["nbgrader"], every)
        problems += disagreements(s.name, views)
        for path in ("kernel", "nbgrader"):
            for task, cell in graded[path].get(s.name, {}).items():
                shown = sum(v.points for v in cell.public.values())
                if cell.public_score != shown:
                    problems.append(f"{s.name} {task}: {path} says {cell.public_score:g} "
                                    f"over checks worth {shown:g}")
        # and the fixtures score as declared, so that this compares what it should
        own = [c for c in views["autograde"] if c.split("::")[0] in s.tasks]
        lost = {c for c in own if not views["autograde"][c].passed}
        if s.correct and lost:
            problems.append(f"{s.name}: a correct fixture lost {sorted(lost)}")
        if not s.correct and {c.split("::")[0] for c in lost} != {s.task}:
            problems.append(f"{s.name}: lost {sorted(lost)}, declared {s.task}")
    return problems


def hidden_problems(graded, students, sample) -> list[str]:
    """Where variant 1 alone differs under pytest, grade and autograde; and where it is
    folded into the public verdicts otherwise than those runs' two variants say, by the
    notebook and nbgrader (checks and scores)."""
    (pytest0, pytest1), (grade0, grade1) = graded["pytest"], graded["grade"]
    autograde0, autograde1 = graded["autograde"]
    kernel, nbgrader, book = graded["kernel"], graded["nbgrader"], graded["gradebook"]
    in_sample = {s.name for s in sample}
    problems: list[str] = []
    for s in students:
        raw = {"pytest": pytest1[s.name]}
        if s.name in in_sample:
            raw["autograde"] = autograde1[s.name]
            problems += covers(s.name, "autograde v1", raw["autograde"], [t.id for t in TASKS])
        if s.name in grade1:
            raw["grade"] = grade1[s.name]
        problems += [f"variant 1: {p}" for p in disagreements(s.name, raw)]

        folded = {"pytest v0+v1": combined(pytest0[s.name], pytest1[s.name]),
                  "notebook": merged(kernel[s.name], "combined")}
        if s.name in grade1:
            folded["grade v0+v1"] = combined(grade0[s.name], grade1[s.name])
        if s.name in in_sample:
            folded["autograde v0+v1"] = combined(autograde0[s.name], autograde1[s.name])
            folded["nbgrader"] = merged(nbgrader[s.name], "combined")
        problems += [f"folded: {p}" for p in disagreements(s.name, folded)]

        for path in ("kernel", "nbgrader"):
            for task, cell in graded[path].get(s.name, {}).items():
                if cell.hidden_failed is None:
                    problems.append(f"{s.name} {task}: {path} shows no hidden variant")
        # the scores: what each cell returns, its header, the gradebook, the folded checks
        for path, expected_from in (("kernel", "notebook"), ("nbgrader", "autograde v0+v1")):
            for task, cell in graded[path].get(s.name, {}).items():
                want = sum(v.points for c, v in folded[expected_from].items()
                           if c.split("::")[0] == task)
                got = {"value": cell.value, "header": cell.combined_score}
                if path == "nbgrader":
                    got["gradebook"] = book[s.name][task]
                if set(got.values()) != {want}:
                    problems.append(f"{s.name} {task}: {path} scores {got}, folded {want:g}")
    return problems


def test_local_equals_official_on_every_fixture(graded, students, sample):
    """One test, so that a parallel run never grades everything twice on two workers."""
    problems = [f"public inputs: {p}" for p in public_problems(graded, students)]
    problems += [f"hidden variant: {p}" for p in hidden_problems(graded, students, sample)]
    assert problems == [], f"{len(problems)} disagreements:\n" + "\n".join(problems[:80])

