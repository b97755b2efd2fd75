"""``python -m grader export``: grades into Canvas and Moodle (grader/lms/).

The results folder is fixtures/class's seven students as autograde leaves them: a signed
``result.json`` each, written with the signing API (grading the class takes a minute; what
is exported is the signed file, whatever graded it). Each student's checks end as
fixtures/class/class.json says, with the statuses and message keys grading gives them.
The exact export files are fixtures/lms/expected_*.csv.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.tasks import TASK_BY_ID, TASKS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "lms"
#: a folder name that is a spreadsheet formula, with a bidi override (student-chosen)
HOSTILE = "=HYPERLINK(\"evil.example\")\u202egpj<b>"


def _outcomes() -> dict[str, dict[str, tuple[str, dict]]]:
    """Student -> task -> (status of its failing checks, values); tasks not named pass."""
    stub = {"exc_type": "NotImplementedError", "exc_msg": "", "where": "línea 58"}
    return {
        "ana": {},
        "beto": {task.id: ("not_implemented", stub) for task in TASKS},
        "carla": {"onehot_mse": ("error", {"exc_type": "IndexError",
                                           "exc_msg": "index 10 is out of bounds <b>x</b>",
                                           "where": "ex1_onehot_mse.py:57",
                                           "only": "mse_losses_exact"}),
                  "relu_net": ("not_implemented", stub)},
        "dario": {"ce_net": ("import_error", {"exc_type": "SyntaxError",
                                              "exc_msg": "invalid syntax", "where": ""})},
        "eva": {t.id: ("missing_file", {}) for t in TASKS[2:]},
        "fede": {"relu_net": ("crashed", {"reason": {"key": "reason_exit_code", "code": 3}}),
                 "probe_stats": ("timeout", {"seconds": 60})},
        "gabi": {task.id: ("missing_file", {}) for task in TASKS},
        HOSTILE: {"he_init": ("error", {"exc_type": "ValueError",
                                        "exc_msg": "=1+1 <img src=x onerror=alert(1)>",
                                        "where": ""})},
    }


def result_data(failing: dict[str, tuple[str, dict]]) -> dict:
    """A result JSON as grading writes it, every check passed but those of ``failing`` (all
    of a task's checks, or only the one its values name as ``only``: a partial task)."""
    from grader.outputs.results import to_json_dict
    from grader.scoring import CheckResult, checks_for, render_message, status_values, summarize

    results = []
    for check in checks_for():
        status, values = failing.get(check.task, ("passed", {}))
        values = dict(values)
        if values.pop("only", check.name) != check.name:
            status = "passed"
        if status == "passed":
            results.append(CheckResult(check.task, check.name, check.points, check.points,
                                       "passed"))
            continue
        key = f"status_{status}"
        vals = status_values(status, {"status": status, **values}, check)
        results.append(CheckResult(check.task, check.name, 0, check.points, status,
                                   render_message(key, vals, "es"), key, vals))
    return to_json_dict(summarize(results, "es"))


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """The class's results folder: a signed result.json per student."""
    from grader.outputs.signing import load_key, write_signed

    out = tmp_path_factory.mktemp("lms") / "results"
    key = load_key()
    for student, failing in _outcomes().items():
        folder = out / "students" / student
        folder.mkdir(parents=True)
        data = result_data(failing)
        data["student"] = student
        write_signed(folder / "result.json", key, student, data)
    return out


def export(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PRACTICO_LANG": "es"}
    return subprocess.run([sys.executable, "-m", "grader", "export", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _roster(tmp: Path, name: str, rows: list[list[str]]) -> Path:
    path = tmp / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


CANVAS_HEAD = ["folder", "Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def canvas_rows() -> list[list[str]]:
    return [CANVAS_HEAD,
            ["ana", "Pérez, Ana", "1001", "S-1", "ana@uni.edu", "Comisión A"],
            ["beto", "Gómez, Beto", "1002", "S-2", "beto@uni.edu", "Comisión A"],
            ["carla", "Ruiz, Carla", "1003", "S-3", "carla@uni.edu", "Comisión B"],
            ["dario", "Díaz, Darío", "1004", "S-4", "dario@uni.edu", "Comisión B"],
            ["eva", "Vera, Eva", "1005", "S-5", "eva@uni.edu", "Comisión A"],
            ["fede", "Sosa, Federico", "1006", "S-6", "fede@uni.edu", "Comisión B"],
            ["gabi", "Luna, Gabriela", "1007", "S-7", "gabi@uni.edu", "Comisión A"],
            [HOSTILE, "@SUM(1+1)*cmd|' /C calc'!A0", "1008", "-2+3", "+x@uni.edu",
             "=1+2"]]


def moodle_rows() -> list[list[str]]:
    return [["folder", "Email address", "ID number"],
            *([r[0], r[4], r[3]] for r in canvas_rows()[1:])]


def test_canvas_export_matches_the_format_fixture(results, tmp_path):
    roster = _roster(tmp_path, "roster.csv", canvas_rows())
    out = tmp_path / "canvas.csv"
    proc = export(str(results), "--to", "canvas", "--roster", str(roster), "--out", str(out))
    # the hostile student's ids begin like formulas: neutralised, and said (not blocking)
    assert proc.returncode == 0, proc.stderr
    assert "empieza como una fórmula" in proc.stderr and "1 con" in proc.stderr
    assert out.read_bytes() == (FIXTURES / "expected_canvas.csv").read_bytes()
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Práctico 2"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "120"]
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["1001"][5] == "120" and by_id["1002"][5] == "0"
    assert by_id["1003"][5] == "107"  # onehot_mse lost 3 points, relu_net all 10
    assert by_id["1006"][5] == "95"
    # no cell a spreadsheet would run: every hostile one starts with a quote
    for row in rows:
        for cell in row:
            assert cell.lstrip(" ")[:1] not in set("=+-@\t\r"), cell
    assert by_id["1008"][:5] == ["'@SUM(1+1)*cmd|' /C calc'!A0", "1008", "'-2+3", "'+x@uni.edu",
                                 "'=1+2"]


def test_moodle_export_matches_the_format_fixture(results, tmp_path):
    roster = _roster(tmp_path, "roster.csv", moodle_rows())
    out = tmp_path / "moodle.csv"
    proc = export(str(results), "--to", "moodle", "--roster", str(roster), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (FIXTURES / "expected_moodle.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8")[1:])))
    assert rows[0] == ["Dirección de correo", "Práctico 2", "Retroalimentación: Práctico 2"]
    feedback = {r[0]: r[2] for r in rows[1:]}
    carla = feedback["carla@uni.edu"].split("<br />")
    assert len(carla) == len(TASKS)
    assert carla[1].startswith("onehot_mse One-hot y entrenamiento con MSE: 12/15 — [onehot_mse]")
    # the student's exception text reaches Moodle's HTML feedback as text
    assert "&lt;b&gt;x&lt;/b&gt;" in carla[1] and "<b>" not in feedback["carla@uni.edu"]
    hostile = feedback["'+x@uni.edu"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile and "<img" not in hostile
    assert feedback["ana@uni.edu"].count("<br />") == len(TASKS) - 1
    assert all("—" not in line for line in feedback["ana@uni.edu"].split("<br />"))


def test_moodle_by_idnumber_and_in_english(results, tmp_path):
    roster = _roster(tmp_path, "roster.csv", moodle_rows())
    out = tmp_path / "moodle.csv"
    proc = export(str(results), "--to", "moodle", "--moodle-id", "idnumber", "--roster",
                  str(roster), "--out", str(out), "--lang", "en", "--title", "TP2 (1234)")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["ID number", "TP2 (1234)", "Feedback: TP2 (1234)"]
    assert rows[2][:2] == ["S-1", "120"]
    assert "relu_net Deep ReLU net: 0/10 — [relu_net] Not implemented" in dict(
        (r[0], r[2]) for r in rows[1:])["S-3"]


def test_missing_absent_and_unsigned_are_listed_and_stop_the_export(results, tmp_path):
    """eva is not in the roster, hugo has no result, fede's result was edited after signing:
    each is named, nothing is written, exit 1; --allow-incomplete writes the others."""
    tampered = tmp_path / "results"
    import shutil

    shutil.copytree(results, tampered)
    path = tampered / "students" / "fede" / "result.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["score"] = 120
    path.write_text(json.dumps(data), encoding="utf-8")
    (tampered / "students" / "ivan").mkdir()  # graded later: no result.json yet
    os.symlink(tampered / "students" / "ana", tampered / "students" / "zoe")
    rows = [r for r in canvas_rows() if r[0] != "eva"]
    rows.append(["hugo", "Paz, Hugo", "1009", "S-9", "hugo@uni.edu", "Comisión A"])
    roster = _roster(tmp_path, "roster.csv", rows)
    out = tmp_path / "canvas.csv"
    proc = export(str(tampered), "--to", "canvas", "--roster", str(roster), "--out", str(out),
                  "--lang", "en")
    assert proc.returncode == 1
    assert not out.exists()
    err = proc.stderr
    assert "1 with a result.json this kit did not sign (or that was changed)" in err
    assert "fede" in err.split("did not sign")[1].splitlines()[0]
    assert "1 not graded yet" in err and "ivan" in err
    assert "1 entries that are symbolic links, not followed: zoe" in err
    assert "1 graded but not in the roster: eva" in err
    assert "in the roster with no grade at all: hugo" in err
    assert "not written" in err
    proc = export(str(tampered), "--to", "canvas", "--roster", str(roster), "--out", str(out),
                  "--allow-incomplete")
    assert proc.returncode == 0, proc.stderr
    ids = [r[1] for r in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))][2:]
    assert ids == ["1008", "1001", "1002", "1003", "1004", "1007"]  # no eva, fede, hugo


def test_a_result_signed_for_another_folder_does_not_count(results, tmp_path):
    import shutil

    moved = tmp_path / "results"
    shutil.copytree(results, moved)
    shutil.copy(moved / "students" / "ana" / "result.json",
                moved / "students" / "beto" / "result.json")  # beto takes ana's 120
    roster = _roster(tmp_path, "roster.csv", canvas_rows())
    proc = export(str(moved), "--to", "canvas", "--roster", str(roster), "--out",
                  str(tmp_path / "c.csv"), "--lang", "en")
    assert proc.returncode == 1
    assert "did not sign" in proc.stderr and "beto" in proc.stderr


@pytest.mark.parametrize("rows, expected", [
    ([CANVAS_HEAD, ["ana", "A", "1", "", "", ""], ["ana", "B", "2", "", "", ""]],
     "la misma carpeta en dos filas: ana (2, 3)"),
    ([CANVAS_HEAD, ["ana", "A", "1", "", "", ""], ["beto", "B", "01", "", "", ""]],
     "la misma identidad del LMS en dos filas: canvas_id 01 (2, 3)"),
    ([CANVAS_HEAD, ["ana", "A", "", "", "", "X"]], "filas sin «ID», «SIS User ID» ni"),
    ([CANVAS_HEAD, ["", "A", "1", "", "", ""]], "filas sin «folder»: 2"),
    ([["Student", "ID"], ["A", "1"]], "no tiene la columna «folder»"),
    ([["folder", "Section"], ["ana", "A"]], "no tiene ninguna columna con la que Canvas"),
])
def test_a_roster_that_needs_guessing_is_refused(results, tmp_path, rows, expected):
    roster = _roster(tmp_path, "roster.csv", rows)
    proc = export(str(results), "--to", "canvas", "--roster", str(roster), "--out",
                  str(tmp_path / "c.csv"))
    assert proc.returncode == 2
    assert expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_roster_from_excel_with_semicolons_and_a_bom(results, tmp_path):
    path = tmp_path / "roster.csv"
    lines = [";".join(r) for r in moodle_rows()[:3]]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    proc = export(str(results), "--to", "moodle", "--roster", str(path), "--out",
                  str(tmp_path / "m.csv"), "--allow-incomplete", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "in the roster with no grade" not in proc.stderr
    assert "6 graded but not in the roster" in proc.stderr


def test_a_roster_not_in_utf8_says_how_to_save_it(results, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("folder,email\nana,ñandú@uni.edu\n".encode("latin-1"))
    proc = export(str(results), "--to", "moodle", "--roster", str(path), "--out",
                  str(tmp_path / "m.csv"))
    assert proc.returncode == 2 and "CSV UTF-8" in proc.stderr


def test_neither_results_nor_course(tmp_path):
    roster = _roster(tmp_path, "roster.csv", canvas_rows())
    (tmp_path / "x").mkdir()
    proc = export(str(tmp_path / "x"), "--to", "canvas", "--roster", str(roster), "--out",
                  str(tmp_path / "c.csv"))
    assert proc.returncode == 2
    assert "ni un curso de nbgrader" in proc.stderr


def test_the_file_cannot_land_among_the_results(results, tmp_path):
    roster = _roster(tmp_path, "roster.csv", canvas_rows())
    proc = export(str(results), "--to", "canvas", "--roster", str(roster), "--out",
                  str(results / "students" / "ana" / "canvas.csv"))
    assert proc.returncode == 2 and "--out" in proc.stderr


# --------------------------------------------------------------------- an nbgrader course


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of course/ with the assignment generated and two students: ``parcial`` (the
    viewer done, the rest the release) autograded by the real ``nbgrader autograde``, and
    ``ausente`` in the gradebook with no submission."""
    import shutil

    import nbformat
    from test_nbgrader import (
        ASSIGNMENT,
        NB_NAME,
        _cells_by_id,
        _env,
        _solution_ids,
        _strip_markers,
        nbgrader,
    )

    tmp = tmp_path_factory.mktemp("lms-course")
    root = tmp / "course"
    root.mkdir()
    shutil.copy2(ROOT / "course" / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "course" / "source", root / "source")
    env = _env(tmp)
    nbgrader("generate_assignment", ASSIGNMENT, cwd=root, env=env)
    source = nbformat.read(root / "source" / ASSIGNMENT / NB_NAME, as_version=4)
    release = nbformat.read(root / "release" / ASSIGNMENT / NB_NAME, as_version=4)
    cells, src = _cells_by_id(release), _cells_by_id(source)
    for grade_id in _solution_ids(source, "test_viewer"):
        cells[grade_id].source = _strip_markers(src[grade_id].source)
    folder = root / "submitted" / "parcial" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(release, folder / NB_NAME)
    nbgrader("db", "student", "add", "ausente", "--first-name", "Ana", cwd=root, env=env)
    nbgrader("autograde", ASSIGNMENT, cwd=root, env=env)
    return root


@pytest.mark.nbgrader
@pytest.mark.slow
def test_export_from_an_nbgrader_course(course, tmp_path):
    from test_nbgrader import ASSIGNMENT

    roster = _roster(tmp_path, "roster.csv", [CANVAS_HEAD,
                                              ["parcial", "Paz, Pía", "2001", "", "", "A"],
                                              ["ausente", "Sur, Ana", "2002", "", "", "A"]])
    out = tmp_path / "canvas.csv"
    proc = export(str(course), "--to", "canvas", "--roster", str(roster), "--out", str(out),
                  "--lang", "en")
    assert proc.returncode == 1
    assert "1 in the roster with no grade at all: ausente" in proc.stderr
    proc = export(str(course), "--to", "canvas", "--roster", str(roster), "--out", str(out),
                  "--allow-incomplete")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    viewer = TASK_BY_ID["test_viewer"].points
    assert rows == [[*CANVAS_HEAD[1:], ASSIGNMENT],
                    ["    Points Possible", "", "", "", "", "120"],
                    ["Paz, Pía", "2001", "", "", "A", f"{viewer}"]]

    moodle = _roster(tmp_path, "moodle.csv", [["folder", "email"], ["parcial", "pia@uni.edu"]])
    proc = export(str(course), "--to", "moodle", "--roster", str(moodle), "--out", str(out),
                  "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Email address", ASSIGNMENT, f"Feedback: {ASSIGNMENT}"]
    assert rows[1][:2] == ["pia@uni.edu", f"{viewer}"]
    feedback = rows[1][2].split("<br />")
    assert [line.split(" ")[0] for line in feedback] == [task.id for task in TASKS]
    assert feedback[0] == f"test_viewer Test-set viewer: {viewer}/{viewer}"
    # the first message of a task comes from its grade cell in autograded/, as graded
    assert feedback[1].startswith("onehot_mse One-hot and MSE training: 0/15 — ")
    assert "NotImplementedError" in feedback[1]
