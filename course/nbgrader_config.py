"""nbgrader configuration of the Práctico 2 course. Run every nbgrader command from this folder.

    cd course
    nbgrader generate_assignment practico2      # release/practico2/: the student notebook
    nbgrader autograde practico2                # grades submitted/<student>/practico2/
    nbgrader generate_feedback practico2        # feedback/<student>/practico2/*.html

Scores come from the kit's sandbox, never from the student's kernel: `autograde` runs the
kernel in a jail (it sees only that student's folder, no network) and then grades the
student's code cells in the sandbox, writing each grade cell's score and messages
(grader/nbgrading/). Hidden tests draw their inputs from the course secret: export
PRACTICO_SECRET (python -c "import secrets; print(secrets.token_hex(16))", kept out of
everything students receive) before `nbgrader autograde` and before `nbgrader validate` of
the source notebook; without it both stop with an error that says so.

The grade cells import the kit (``from grader.nb import check_task``), so the kernel
that nbgrader starts must see it: install the kit in the environment that runs
nbgrader (``pip install -e ".[notebook]"`` from the kit's root, or ``./kit setup``).
MNIST must be on disk where ``PRACTICO_DATA`` says (kernels inherit the environment).
"""

import importlib.util
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

HERE = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "practicos-dl"
# The folder of this file, wherever it is copied to (a test copies the course to a temp folder).
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"

# What students see in place of each solution region (nbgrader's default is in English).
c.ClearSolutions.code_stub = {"python": "# TU CÓDIGO AQUÍ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "TU RESPUESTA AQUÍ"

# One limit for every cell (nbgrader has no per-cell limit). The slowest cells under autograde
# are the grade cells of onehot_mse and ce_net: 3.7 s on 2 quiet CPU cores, 7.6 s with other
# jobs on them (one thread), 37 s there with two threads per kernel (bench/bench_notebook.py).
# 180 s leaves room for a slower grader and still stops a student's endless loop.
c.Execute.timeout = 180
# The kit's kernel client polls in short slices (grader/authoring/kernel_client.py). With nbclient's own,
# a cell that opens widgets sometimes finished but was only noticed when the whole timeout ran
# out (a missed ZMQ wake-up): 4 of 6 runs on 2 busy cores each lost one full timeout.
c.AsyncKernelManager.client_factory = "grader.authoring.kernel_client.SteadyKernelClient"

# Autograde: nbgrader's pipeline with two of the kit's preprocessors. JailedExecute is
# nbgrader's Execute with the kernel in a jail; SandboxedGrades replaces every grade cell's
# outputs with the sandbox's verdict before SaveAutoGrades reads them.
# nbgrader's own default list is kept otherwise, whatever its version holds.
def _autograde_pipeline() -> list:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, SaveAutoGrades

    default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    if Execute not in default or SaveAutoGrades not in default:
        raise SystemExit("nbgrader_config.py: this nbgrader's autograde pipeline has no "
                         "Execute/SaveAutoGrades step; the kit supports nbgrader 0.9.")
    pipeline = ["grader.nbgrading.kernel.JailedExecute" if p is Execute else p for p in default]
    pipeline.insert(pipeline.index(SaveAutoGrades), "grader.nbgrading.preprocessor.SandboxedGrades")
    # Last: the autograded notebook on disk (what formgrader renders, logged in, and what
    # feedback is made from) keeps text and checked images only (grader/nbgrading/inert.py).
    return [*pipeline, "grader.nbgrading.inert.InertNotebook"]


# Before nbgrader's own sanitizing steps: a student folder whose name formgrader would show
# as HTML is refused, that student alone (grader/nbgrading/studentid.py); a student's nbgrader
# metadata (a pasted copy of a grade cell, an unknown or edited grade id) can no longer stop
# the run for the whole class: that notebook scores 0 with the reasons, a deleted grade cell
# is put back (grader/nbgrading/gradeids.py).
def _sanitize_pipeline() -> list:
    from nbgrader.converters import Autograde

    default = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    return ["grader.nbgrading.studentid.CheckStudentId",
            "grader.nbgrading.gradeids.CheckGradeIds", *default]


# Feedback: the same rewrite first, whatever made the autograded notebook (one graded before
# this step existed included); nbgrader's GetGrades and CSS steps then run as usual.
def _feedback_pipeline() -> list:
    from nbgrader.converters import GenerateFeedback

    default = list(GenerateFeedback.class_traits()["preprocessors"].default())
    return ["grader.nbgrading.inert.InertNotebook", *default]



# nbgrader runs the `alembic` command (from its own environment) to open the gradebook;
# put that environment's bin/ first so `.venv/bin/nbgrader` works without activating .venv.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])

# Kernels started by nbgrader inherit this process's environment.
# - The experiments do not earn points (grade cells train with their own fixed budgets), so
#   when grading they run with the notebook's "minimo" budget: every cell runs, in seconds.
os.environ.setdefault("PRACTICO_PRESUPUESTO", "minimo")
# - One thread per kernel: the networks are small, and with several kernels or other jobs
#   on the same cores, extra threads made training 4-15x slower (measured on 2 cores).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# - MNIST as an absolute path: kernels run inside each student's folder, where a relative
#   PRACTICO_DATA (or the default ./data) would point somewhere else and start a download.
_data = os.environ.get("PRACTICO_DATA")
os.environ["PRACTICO_DATA"] = (str(Path(_data).expanduser().resolve()) if _data
                               else str(HERE.parent / "data"))

# The grade cells run `from grader.nb import check_task` in kernels of this same Python. Without
# the kit installed every grade cell would fail and score 0, silently: stop here instead. (The
# kit is deliberately not put on PYTHONPATH: that would make `solutions/` importable from a
# student's notebook.)
try:
    _kit_found = importlib.util.find_spec("grader.nb") is not None
except ModuleNotFoundError:
    _kit_found = False
if not _kit_found:
    raise SystemExit(
        f"nbgrader_config.py: the kit (package `grader`) is not installed for {sys.executable}; "
        "every grade cell would score 0. Install it from the kit's root with "
        "`pip install -e \".[notebook]\"` (or `./kit setup` and use .venv/bin/nbgrader).")

c.Autograde.autograde_preprocessors = _autograde_pipeline()
c.Autograde.sanitize_preprocessors = _sanitize_pipeline()
c.GenerateFeedback.preprocessors = _feedback_pipeline()

# The student's result JSON that SandboxedGrades stores beside each autograded notebook (for
# `python -m grader class-report COURSE_DIR`) stays with the course team: generate_feedback
# copies the other files of autograded/ into feedback/, which students receive. Ignored
# files are also never copied from submitted/: one of that name a student hands in stays out
# of autograded/. (`.append` keeps nbgrader's own ignore list: traitlets extends it.)
c.CourseDirectory.ignore.append("practico_result.json")
