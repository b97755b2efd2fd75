"""``nbgrader-autograde --jobs N`` without running nbgrader: its input checks, the gradebook
state it carries between gradebooks, what it skips, and how it stops a student's processes.
The real parallel run against a serial one is in tests/test_nbgrader.py."""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path

import pytest
from waiting import wait_until

pytest.importorskip("nbgrader")

from grader.cli import main  # noqa: E402
from grader.nbgrading import gbstate, parallel  # noqa: E402

CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "curso"\n'
#: seconds a shell and a Python interpreter get to start (a loaded machine)
START_SECONDS = 20
#: seconds the processes of a stopped student get to end once _stop has killed them
KILLED_END_SECONDS = 10


def _gradebook(root: Path, assignments: tuple[str, ...] = ("tp1",)) -> str:
    """A gradebook as ``generate_assignment`` leaves it: one notebook with a grade cell, a
    solution cell, a task cell and their sources."""
    url = f"sqlite:///{root / 'gradebook.db'}"
    with gbstate._gradebook(url, "curso") as gb:
        for name in assignments:
            gb.add_assignment(name, duedate=datetime.datetime(2026, 5, 1, 12))
            gb.add_notebook("nb", name)
            gb.add_grade_cell("prueba", "nb", name, max_score=10, cell_type="code")
            gb.add_solution_cell("respuesta", "nb", name)
            gb.add_task_cell("tarea", "nb", name, max_score=5, cell_type="markdown")
            for cell, kind in (("prueba", "code"), ("respuesta", "code"), ("tarea", "markdown")):
                gb.add_source_cell(cell, "nb", name, cell_type=kind, locked=cell != "respuesta",
                                   source=f"# {cell}", checksum=f"sum-{cell}")
    return url


def _error(capsys, *argv: str) -> str:
    assert main(["nbgrader-autograde", *argv]) == 2
    return capsys.readouterr().err


@pytest.mark.slow
def test_bad_course_folders_and_options_get_clear_errors(tmp_path, capsys):
    assert "no such folder" in _error(capsys, str(tmp_path / "nada"))
    assert "no nbgrader_config.py" in _error(capsys, str(tmp_path))
    (tmp_path / "nbgrader_config.py").write_text("c = get_config(\n", encoding="utf-8")
    assert "nbgrader_config.py could not be loaded: SyntaxError" in _error(capsys, str(tmp_path))
    (tmp_path / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    err = _error(capsys, str(tmp_path))
    assert "no gradebook yet" in err and "generate_assignment" in err
    assert not (tmp_path / "gradebook.db").exists()  # looking must not create one
    _gradebook(tmp_path, ("tp1", "tp2"))
    err = _error(capsys, str(tmp_path))
    assert "2 assignments (tp1, tp2)" in err and "--assignment" in err
    err = _error(capsys, str(tmp_path), "--assignment", "tp9")
    assert "no assignment 'tp9'" in err and "tp1, tp2" in err
    err = _error(capsys, str(tmp_path), "--assignment", "tp1")
    assert "no submissions of tp1" in err and "submitted/<student>/tp1/" in err
    assert "--jobs 0" in _error(capsys, str(tmp_path), "--jobs", "0")
    assert "--jobs 33" in _error(capsys, str(tmp_path), "--jobs", "33")


def test_a_config_that_puts_the_course_elsewhere_is_refused(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text(
        CONFIG + f'c.CourseDirectory.root = "{tmp_path / "otro"}"\n', encoding="utf-8")
    err = _error(capsys, str(tmp_path))
    assert "sets CourseDirectory.root" in err and "otro" in err


def _submit(url: str, student: str) -> None:
    """A graded submission with everything a grader may have added by hand."""
    with gbstate._gradebook(url, "curso") as gb:
        gb.update_or_create_student(student, first_name="Ana")
        sub = gb.update_or_create_submission("tp1", student,
                                             timestamp="2026-05-02 10:00:00 UTC")
        sub.extension = datetime.timedelta(days=2)
        grade = gb.find_grade("prueba", "nb", "tp1", student)
        grade.auto_score, grade.manual_score, grade.extra_credit = 4.0, 6.0, 1.0
        grade.needs_manual_grade = True
        comment = gb.find_comment("respuesta", "nb", "tp1", student)
        comment.auto_comment, comment.manual_comment = "No response.", "Bien"
        gb.find_submission_notebook("nb", "tp1", student).flagged = True
        gb.db.commit()


@pytest.mark.slow
def test_a_students_state_survives_the_trip_to_the_work_gradebook(tmp_path):
    course = tmp_path / "curso"
    course.mkdir()
    url = _gradebook(course)
    _submit(url, "ana")
    work = f"sqlite:///{tmp_path / 'work.db'}"
    gbstate.assignment_template(url, work, "tp1", "curso")
    assert gbstate.read_state(work, "tp1", "ana", "curso") is None  # nobody but the assignment
    state = gbstate.read_state(url, "tp1", "ana", "curso")
    assert state["notebooks"]["nb"]["grades"]["prueba"]["manual_score"] == 6.0
    gbstate.seed_state(work, "tp1", "ana", state, "curso")
    assert gbstate.read_state(work, "tp1", "ana", "curso") == state
    roster = gbstate.read_students(url, ["ana", "nadie"], "curso")
    assert roster == {"ana": {"first_name": "Ana", "last_name": None, "email": None,
                              "lms_user_id": None}, "nadie": None}
    gbstate.seed_student(work, "ana", roster["ana"], "curso")
    assert gbstate.read_students(work, ["ana"], "curso") == {"ana": roster["ana"]}

    with gbstate._gradebook(work, "curso") as gb:
        cells = {c.name: (c.cell_type, c.locked, c.source, c.checksum)
                 for c in gb.find_notebook("nb", "tp1").source_cells}
        assert gb.find_assignment("tp1").duedate == datetime.datetime(2026, 5, 1, 12)
        assert gb.find_assignment("tp1").max_score == 15
    assert cells["respuesta"] == ("code", False, "# respuesta", "sum-respuesta")


@pytest.mark.slow
def test_recording_writes_only_what_autograde_owns(tmp_path):
    url = _gradebook(tmp_path)
    _submit(url, "ana")
    graded = gbstate.read_state(url, "tp1", "ana", "curso")
    grade = graded["notebooks"]["nb"]["grades"]["prueba"]
    grade.update(auto_score=9.0, needs_manual_grade=False, manual_score=0.0, extra_credit=0.0)
    graded["notebooks"]["nb"]["comments"]["respuesta"].update(auto_comment=None,
                                                             manual_comment="borrado")
    graded["notebooks"]["nb"]["flagged"] = False
    new_time = datetime.datetime(2026, 5, 3, 9, 30)
    gbstate.record_state(url, "tp1", "ana", graded, new_time, "curso")
    after = gbstate.read_state(url, "tp1", "ana", "curso")
    nb = after["notebooks"]["nb"]
    # autograde's fields changed; the grader's manual score, comment and flag did not
    assert (nb["grades"]["prueba"]["auto_score"], nb["grades"]["prueba"]["manual_score"],
            nb["grades"]["prueba"]["extra_credit"]) == (9.0, 6.0, 1.0)
    assert nb["comments"]["respuesta"] == {"auto_comment": None, "manual_comment": "Bien"}
    assert nb["flagged"] is True
    assert after["timestamp"] == new_time and after["extension"] == datetime.timedelta(days=2)
    # A new student is created with the submission, as autograde does; no timestamp, none set.
    fresh = gbstate.read_state(url, "tp1", "ana", "curso")
    gbstate.record_state(url, "tp1", "bruno", fresh, None, "curso")
    bruno = gbstate.read_state(url, "tp1", "bruno", "curso")
    assert bruno["timestamp"] is None
    assert bruno["notebooks"]["nb"]["grades"]["prueba"]["auto_score"] == 9.0
    assert bruno["notebooks"]["nb"]["grades"]["prueba"]["manual_score"] is None


def _stamp(folder: Path, when: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(when, encoding="utf-8")


def test_students_are_skipped_as_nbgrader_skips_them(tmp_path):
    course = parallel.Course(tmp_path, "tp1", "", "curso", ["ana"])
    submitted, dest = tmp_path / "submitted" / "ana" / "tp1", tmp_path / "autograded" / "ana" / "tp1"
    _stamp(submitted, "2026-05-02 10:00:00 UTC")
    assert parallel.needs_grading(course, "ana", force=False)  # never autograded
    _stamp(dest, "2026-05-02 10:00:00 UTC")
    assert not parallel.needs_grading(course, "ana", force=False)
    assert parallel.needs_grading(course, "ana", force=True)
    _stamp(submitted, "2026-05-02 11:00:00 UTC")  # submitted again since
    assert parallel.needs_grading(course, "ana", force=False)
    # A hostile timestamp.txt is no timestamp: nothing hangs, nothing huge is read.
    for hostile in ("fifo", "/dev/zero", "garbage"):
        stamp = submitted / "timestamp.txt"
        stamp.unlink()
        if hostile == "fifo":
            os.mkfifo(stamp)
        elif hostile == "garbage":
            stamp.write_bytes(b"\xff" * 10_000_000)
        else:
            stamp.symlink_to(hostile)
        assert not parallel.needs_grading(course, "ana", force=False), hostile


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:].split()[0] != b"Z"


def test_stop_ends_the_processes_that_left_the_process_group(monkeypatch):
    """A student's nbgrader stopped for its timeout: everything it started goes, the
    kernel-like process in a session of its own and one that ignores SIGINT too."""
    monkeypatch.setattr(parallel, "GRACE", 2.0)
    script = ("setsid sleep 300 & "
              "python3 -c 'import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
              "time.sleep(300)' & wait")
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    wait_until(lambda: len(parallel._descendants(proc.pid)) >= 2, START_SECONDS,
               "both processes of the script started")
    tree = [pid for pid, _ in parallel._descendants(proc.pid)]
    assert len(tree) >= 2
    parallel._stop(proc)
    wait_until(lambda: not [p for p in tree if _alive(p)], KILLED_END_SECONDS,
               f"every process of the stopped tree ended: {[p for p in tree if _alive(p)]}")
    assert proc.returncode is not None
    assert os.getpgid(0) != proc.pid  # our own group was never the target


def test_kernels_take_their_uids_from_the_process_block():
    """Each nbgrader process of a parallel run hands its kernels the uids of its own block
    (a lock: grader/sandbox/uidblocks.py, whose tests show two processes take two blocks),
    and no kernel gets a sandbox child's uid."""
    from grader.nbgrading import kernel
    from grader.sandbox import uidblocks
    from grader.sandbox.spawn import CHILD_UIDS

    block = uidblocks.process_block()
    assert kernel.KERNEL_UIDS.base == kernel.UID_BASE
    uids = {kernel.KERNEL_UIDS.next() for _ in range(uidblocks.BLOCK_UIDS)}
    first = kernel.UID_BASE + block * uidblocks.BLOCK_UIDS
    assert uids == set(range(first, first + uidblocks.BLOCK_UIDS))
    assert CHILD_UIDS.base + uidblocks.BLOCKS * uidblocks.BLOCK_UIDS <= kernel.UID_BASE


def test_a_students_work_crosses_a_process_boundary():
    """What another executor (a process pool, Dask) needs: the job and the function pickle."""
    import pickle

    job = parallel.StudentJob("/curso", "tp1", "ana", "curso", b"gradebook", {
        "timestamp": datetime.datetime(2026, 5, 2), "extension": datetime.timedelta(days=1),
        "notebooks": {}}, "/curso/.nbgrader-parallel", 60.0)
    assert pickle.loads(pickle.dumps(job)) == job
    assert pickle.loads(pickle.dumps(parallel.autograde_student)) is parallel.autograde_student
