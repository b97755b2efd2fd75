"""The class report (grader/class_report/): counts, names, what counts, the page.

Fast tests build synthetic classes of signed result JSONs (the signing API, the session's
results key) with known content and check every count; the ``slow`` ones grade the sample
class (fixtures/class) once and hold its report against class.json; the ``browser`` one
opens that report in headless Chromium.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest
from chromium_probe import FLAGS, Canary, chromium
from conftest import ROOT, copy_folder, run_py

from grader.class_report import HTML_NAME, JSON_NAME, build, write_class_report
from grader.class_report.aggregate import REVISIT_LIMIT, aggregate, describe_mistake
from grader.class_report.render import CSP
from grader.class_report.sources import (
    NBGRADER_RESULT_NAME,
    Source,
    nbgrader_result_bytes,
    nbgrader_signed_name,
    read_results_folder,
    write_nbgrader_result,
)
from grader.cli import main
from grader.outputs.signing import load_key, write_signed
from grader.tasks import TASK_BY_ID, TASKS

# ------------------------------------------------------------- synthetic signed results


def _check(max_score: float, status: str = "passed", *, diagnoses: list | None = None,
           key: str = "", values: dict | None = None, message: str = "") -> dict:
    entry = {"score": max_score if status == "passed" else 0, "max_score": max_score,
             "status": status, "message": message, "key": key, "values": values or {}}
    if diagnoses is not None:
        entry["diagnoses"] = diagnoses
    return entry


def _result(student: str, overrides: dict[str, dict[str, dict]] | None = None) -> dict:
    """A result JSON of every task: each task one check ``main`` worth all its points, passed,
    unless ``overrides[task]`` gives its checks. Scores and statuses add up as the kit's."""
    tasks = {}
    for task in TASKS:
        checks = (overrides or {}).get(task.id) or {"main": _check(task.points)}
        score = sum(c["score"] for c in checks.values())
        statuses = {c["status"] for c in checks.values()}
        if statuses == {"passed"}:
            status = "passed"
        elif score > 0:
            status = "partial"
        elif len(statuses) == 1:
            status = next(iter(statuses))
        else:
            status = "failed"
        tasks[task.id] = {"score": score, "max_score": task.points, "status": status,
                          "message": "\n".join(c["message"] for c in checks.values()
                                               if c["message"]),
                          "checks": checks}
    return {"score": sum(t["score"] for t in tasks.values()),
            "max_score": sum(t["max_score"] for t in tasks.values()), "tasks": tasks,
            "student": student}


def _write_class(results: Path, students: dict[str, dict], key: bytes) -> None:
    """``results/students/<folder>/result.json`` signed for each folder, as autograde does."""
    for folder, data in students.items():
        write_signed(results / "students" / folder / "result.json", key, folder, data)


@pytest.fixture()
def key() -> bytes:
    return load_key()


def _two_checks(task_id: str, first: dict, second: dict) -> dict:
    return {task_id: {"a": first, "b": second}}


def _synthetic(key: bytes, results: Path) -> dict[str, dict]:
    """Four students of known content:

    - ana: everything right (120);
    - beto: deep_net's check ``a`` (6 points) fails with ``depth_off_by_one`` then
      ``missing_activation``; onehot_mse's ``a`` (9 points) fails with ``onehot_wrong_class``;
    - carla: deep_net's ``a`` fails with ``depth_off_by_one`` alone; ce_net's ``b`` (6 points)
      raises (error, no diagnosis); probe_stats times out on both its checks;
    - dario: nothing implemented in deep_net; relu_net crashes (SIGSEGV); onehot_mse's ``a``
      fails with ``onehot_wrong_class``.
    """
    fail = "failed"
    students = {
        "ana": _result("ana"),
        "beto": _result("beto", {
            **_two_checks("deep_net", _check(6, fail, diagnoses=["depth_off_by_one",
                                                                  "missing_activation"]),
                          _check(4)),
            **_two_checks("onehot_mse", _check(9, fail, diagnoses=["onehot_wrong_class"]),
                          _check(6)),
        }),
        "carla": _result("carla", {
            **_two_checks("deep_net", _check(6, fail, diagnoses=["depth_off_by_one"]),
                          _check(4)),
            **_two_checks("ce_net", _check(9), _check(
                6, "error", key="status_error", message="boom",
                values={"task": "ce_net", "module": "ex2_cross_entropy", "where": "",
                        "exc_type": "ValueError", "exc_msg": "boom"})),
            **_two_checks("probe_stats",
                          _check(10, "timeout", key="status_timeout",
                                 values={"seconds": "33", "task": "probe_stats"}),
                          _check(5, "timeout", key="status_timeout",
                                 values={"seconds": "33", "task": "probe_stats"})),
        }),
        "dario": _result("dario", {
            **_two_checks("deep_net", _check(6, "not_implemented"), _check(4, "not_implemented")),
            "relu_net": {"main": _check(10, "crashed", key="status_crashed", values={
                "reason": {"key": "reason_SIGSEGV", "signal": "SIGSEGV"}})},
            **_two_checks("onehot_mse", _check(9, fail, diagnoses=["onehot_wrong_class"]),
                          _check(6)),
        }),
    }
    _write_class(results, students, key)
    return students


def _report(results: Path, key: bytes, lang: str = "en", names: bool = False) -> dict:
    return aggregate(read_results_folder(results, key), lang, names)


def _name_lists(tree) -> list:
    """Every ``names`` list anywhere in a report."""
    if isinstance(tree, dict):
        return [*([tree["names"]] if isinstance(tree.get("names"), list) else []),
                *(x for v in tree.values() for x in _name_lists(v))]
    if isinstance(tree, list):
        return [x for v in tree for x in _name_lists(v)]
    return []


def _task(report: dict, task_id: str) -> dict:
    return next(t for t in report["tasks"] if t["id"] == task_id)


def test_scores_and_pass_rates_of_a_synthetic_class(tmp_path, key):
    _synthetic(key, tmp_path)
    report = _report(tmp_path, key)
    assert report["students"] == {"counted": 4, "not_counted": 0}
    # totals: ana 120; beto 120-6-9; carla 120-6-6-15; dario 120-10-10-9
    assert report["total"]["score_counts"] == [[91, 1], [93, 1], [105, 1], [120, 1]]
    assert report["total"]["mean"] == 102.25 and report["total"]["median"] == 99
    deep = _task(report, "deep_net")
    assert deep["score_counts"] == [[0, 1], [4, 2], [10, 1]]
    assert (deep["full_marks"], deep["zero"], deep["graded"]) == (1, 1, 4)
    assert deep["statuses"] == {"passed": 1, "partial": 2, "not_implemented": 1}
    check_a = next(c for c in deep["checks"] if c["name"] == "a")
    # ana's deep_net has its one check "main": "a" is beto's, carla's and dario's
    assert (check_a["students"], check_a["passed"], check_a["pass_rate"]) == (3, 0, 0.0)
    assert check_a["statuses"] == {"failed": 2, "not_implemented": 1}
    assert check_a["points_lost"] == 18
    assert _task(report, "test_viewer")["full_marks"] == 4


def test_diagnoses_by_frequency_without_and_with_names(tmp_path, key):
    _synthetic(key, tmp_path)
    plain = _report(tmp_path, key)
    assert [(d["id"], d["students"], d["occurrences"], d["tasks"]) for d in plain["diagnoses"]] \
        == [("depth_off_by_one", 2, 2, ["deep_net"]),
            ("onehot_wrong_class", 2, 2, ["onehot_mse"]),
            ("missing_activation", 1, 1, ["deep_net"])]
    assert plain["names"] is False and _name_lists(plain) == []
    text = json.dumps(plain)
    for name in ("beto", "carla", "dario"):
        assert f'"{name}"' not in text
    named = _report(tmp_path, key, names=True)
    assert [d["names"] for d in named["diagnoses"]] == [["beto", "carla"], ["beto", "dario"],
                                                       ["beto"]]
    # the same counts either way: names only add who
    strip = copy.deepcopy(named)
    for row in [*strip["diagnoses"], *strip["lost_runs"], *strip["revisit"]["items"],
                *strip["not_counted"]]:
        row.pop("names", None)
    strip["names"] = False
    assert strip == plain


def test_what_to_revisit_is_ranked_by_points_lost(tmp_path, key):
    """onehot_wrong_class 18 points (2 students) > depth_off_by_one 12 (2 students, its
    second diagnosis missing_activation gets none of beto's points) > ce_net's ``b``, 6 points
    raised without a diagnosis. dario's unfinished deep_net and crashed relu_net, carla's
    timeouts, are not there."""
    _synthetic(key, tmp_path)
    revisit = _report(tmp_path, key)["revisit"]
    assert [(i["kind"], i["id"], i["points_lost"], i["students"]) for i in revisit["items"]] == [
        ("diagnosis", "onehot_wrong_class", 18, 2),
        ("diagnosis", "depth_off_by_one", 12, 2),
        ("check", "ce_net::b", 6, 1)]
    assert revisit["items"][2]["example_message"].startswith("[ce_net] ")
    assert "boom" in revisit["items"][2]["example_message"]
    assert "first diagnosis" in revisit["rule"] and str(REVISIT_LIMIT) in revisit["rule"]


def test_ties_go_to_more_students_then_to_the_practicals_order(tmp_path, key):
    fail = "failed"
    students = {
        # exploding::a loses 10 for one student; deep_net::a 5+5 for two; test_viewer::a and
        # relu_net::a 4 each for one: test_viewer comes first in the practical
        "s1": _result("s1", {"exploding": {"a": _check(10, fail)},
                             "deep_net": _two_checks("deep_net", _check(5, fail),
                                                     _check(5))["deep_net"],
                             "relu_net": {"a": _check(4, fail), "b": _check(6)}}),
        "s2": _result("s2", {"deep_net": _two_checks("deep_net", _check(5, fail),
                                                     _check(5))["deep_net"],
                             "test_viewer": {"a": _check(4, fail), "b": _check(6)}}),
    }
    _write_class(tmp_path, students, key)
    items = _report(tmp_path, key)["revisit"]["items"]
    assert [i["id"] for i in items] == ["deep_net::a", "exploding::a", "test_viewer::a",
                                        "relu_net::a"]


def test_timeouts_and_crashes_by_reason(tmp_path, key):
    _synthetic(key, tmp_path)
    rows = _report(tmp_path, key, lang="es", names=True)["lost_runs"]
    assert [(r["task"], r["status"], r["reason_key"], r["students"], r["names"])
            for r in rows] == [("relu_net", "crashed", "reason_SIGSEGV", 1, ["dario"]),
                               ("probe_stats", "timeout", "timeout", 1, ["carla"])]
    assert "violación de segmento" in rows[0]["reason"]
    assert rows[1]["reason"] == "más de 33 s"
    assert rows[1]["checks"] == [{"name": "a", "count": 1}, {"name": "b", "count": 1}]


def test_a_diagnosis_is_described_by_the_catalogue_when_the_kit_has_one(monkeypatch):
    monkeypatch.setitem(sys.modules, "grader.diagnoses", None)  # import fails: no catalogue
    assert describe_mistake("softmax_before_ce", "en") == "softmax_before_ce"
    catalogue = types.ModuleType("grader.diagnoses")

    def describe(mistake: str, lang: str) -> str:
        if mistake == "softmax_before_ce":
            return {"es": "softmax antes de la entropía cruzada",
                    "en": "softmax before cross-entropy"}[lang]
        raise KeyError(mistake)

    catalogue.describe = describe
    monkeypatch.setitem(sys.modules, "grader.diagnoses", catalogue)
    assert describe_mistake("softmax_before_ce", "es") == "softmax antes de la entropía cruzada"
    assert describe_mistake("not_in_this_catalogue", "es") == "not_in_this_catalogue"


def test_only_signed_results_count(tmp_path, key):
    """Altered, copied, unsigned, missing, malformed and linked entries are listed, not
    counted; a FIFO planted as a result does not block the report."""
    students = {name: _result(name) for name in ("ana", "beto", "carla", "dario", "eva")}
    _write_class(tmp_path, students, key)
    base = tmp_path / "students"
    altered = json.loads((base / "beto" / "result.json").read_text())
    altered["score"] = 120.5
    (base / "beto" / "result.json").write_text(json.dumps(altered))
    shutil.copy(base / "ana" / "result.json", base / "carla" / "result.json")  # ana's, copied
    (base / "dario" / "result.json").unlink()
    (base / "fifo_student").mkdir()
    os.mkfifo(base / "fifo_student" / "result.json")
    write_signed(base / "eva" / "result.json", key, "eva", {"tasks": "not a dict"})
    unsigned = _result("gabi")
    (base / "gabi").mkdir()
    (base / "gabi" / "result.json").write_text(json.dumps(unsigned))
    os.symlink(base / "ana", base / "link_to_ana")
    with open(tmp_path / "grades.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "total", "status"])
        writer.writerows([["ana", "120", "graded"], ["dario", "", "pending"],
                          ["hugo", "", "grader_error"], ["=1+1 link", "", "symlink_not_graded"]])
    report = _report(tmp_path, key, names=True)
    assert report["students"] == {"counted": 1, "not_counted": 9}
    assert {r["reason"]: r["names"] for r in report["not_counted"]} == {
        "unsigned": ["beto", "carla", "fifo_student", "gabi"], "missing": ["dario"],
        "grader_error": ["hugo"], "symlink_not_graded": ["=1+1 link", "link_to_ana"],
        "malformed": ["eva"]}
    assert report["total"]["score_counts"] == [[120, 1]]


def test_a_names_with_the_csv_quote_is_not_listed_twice(tmp_path, key):
    """grades.csv writes "=x" as "'=x": the row of a student already accounted for by their
    folder is recognised in that form."""
    _write_class(tmp_path, {"=x": _result("=x")}, key)
    (tmp_path / "students" / "=y").mkdir()
    (tmp_path / "grades.csv").write_text("student,status\n'=x,graded\n'=y,pending\n")
    report = _report(tmp_path, key, names=True)
    assert report["not_counted"] == [{"reason": "missing", "students": 1, "names": ["=y"]}]


# --------------------------------------------------------------------- hostile names


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs |= {name for name, _ in attrs}


#: every element and attribute the report's own markup uses
REPORT_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "strong",
               "nav", "ul", "li", "a", "section", "table", "tr", "th", "td", "code", "br",
               "span", "figure", "img", "details", "summary"}
REPORT_ATTRS = {"lang", "charset", "http-equiv", "content", "href", "id", "class", "src", "alt"}


def _hostile_names() -> list[str]:
    spec = json.loads((ROOT / "fixtures" / "inert" / "names.json").read_text("utf-8"))
    names = []
    for entry in spec["students"].values():
        name = entry["name"]
        names.append(os.fsdecode(bytes.fromhex(name["bytes_hex"])) if isinstance(name, dict)
                     else name)
    return names


def _hostile_class(tmp_path: Path, key: bytes) -> tuple[Path, list[str]]:
    """Every name of fixtures/inert as a student folder; each result carries the raw name as
    its ``student`` (not made safe first, unlike autograde's), an onehot_mse check that failed
    and diagnosis-free, with markup in its exception text, and a ``diagnoses`` list with
    text that is no mistake id."""
    raw = _hostile_names()
    payload = "<script>document.title='PWNED'</script><img src=x onerror=alert(1)>"
    students = {}
    for name in raw:
        folder = name.replace("/", "_")
        students[folder] = _result(name, {"onehot_mse": {
            "a": _check(9, "error", key="status_error", diagnoses=["<b>x</b>", 3],
                        values={"task": "onehot_mse", "module": "ex1_onehot_mse", "where": "",
                                "exc_type": "ValueError", "exc_msg": payload}),
            "b": _check(6)}})
    _write_class(tmp_path, students, key)
    return tmp_path, raw


def test_hostile_names_and_messages_stay_text_in_the_page(tmp_path, key):
    results, raw = _hostile_class(tmp_path, key)
    report, page = build(read_results_folder(results, key), "en", names=True)
    assert report["students"]["counted"] == len(raw)
    assert report["diagnoses"] == []  # "<b>x</b>" and 3 are no ids
    parser = _Tags()
    parser.feed(page)
    assert parser.tags <= REPORT_TAGS and "script" not in parser.tags
    assert parser.attrs <= REPORT_ATTRS
    assert "&lt;script&gt;" in page and "<script" not in page
    assert "&lt;img src=x onerror" in page
    # every name is there, escaped: raw names hold markup, controls and bidi overrides; the
    # JSON holds them spelled out too
    data = json.dumps(report, ensure_ascii=False)
    for hidden in ("\u202e", "\x1b", "\u200b", "\u2066"):
        assert hidden not in page and hidden not in data
    assert "&lt;img src=x onerror=document.title=&#x27;PWNED&#x27;&gt;" in page


@pytest.mark.browser
def test_hostile_page_runs_no_script_and_fetches_nothing(tmp_path, key):
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    canary = Canary()
    try:
        results, _ = _hostile_class(tmp_path / "class", key)
        # payloads that would fetch from the canary, in a name and in a message
        fetching = (f"<img src=\"{canary.url}/img\"><script>fetch('{canary.url}/s')</script>"
                    f"<svg onload=\"fetch('{canary.url}/svg')\"></svg>")
        _write_class(results, {"fetcher": _result(fetching, {"onehot_mse": {
            "a": _check(9, "error", key="status_error", values={
                "task": "onehot_mse", "module": "m", "where": "", "exc_type": "E",
                "exc_msg": fetching}), "b": _check(6)}})}, key)
        html_path, _ = write_class_report(results, "en", names=True, key=key)
        dom, console = _open(browser, html_path, tmp_path / "profile")
        assert re.search(r"<title>Practical 2: class report</title>", dom)
        assert canary.hits() == [] and console == []
    finally:
        canary.close()


# ----------------------------------------------------------- the page and the command


@pytest.mark.slow
def test_page_and_json_follow_the_language_and_are_reproducible(tmp_path, key):
    _synthetic(key, tmp_path)
    html_path, json_path = write_class_report(tmp_path, "es", key=key)
    page, data = html_path.read_text("utf-8"), json_path.read_bytes()
    assert '<html lang="es">' in page and "Qué repasar en clase" in page
    assert f'content="{CSP}"' in page
    alts = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]+)"', page)
    assert len(alts) == 4 and alts[0].startswith("Histograma de la nota total de 4 estudiantes")
    assert not re.search(r"""(src|href)=["'](?!data:image/png;base64,|#)""", page)
    write_class_report(tmp_path, "es", key=key)
    assert html_path.read_text("utf-8") == page and json_path.read_bytes() == data
    english, _ = write_class_report(tmp_path, "en", key=key)
    assert '<html lang="en">' in english.read_text("utf-8")
    assert "What to revisit in class" in english.read_text("utf-8")


def test_an_empty_results_folder_gives_a_report_that_says_so(tmp_path, key):
    (tmp_path / "students").mkdir()
    html_path, json_path = write_class_report(tmp_path, "en", key=key)
    assert json.loads(json_path.read_text())["students"] == {"counted": 0, "not_counted": 0}
    assert "There are no signed results to count." in html_path.read_text("utf-8")


@pytest.mark.parametrize("case", ["missing", "neither", "assignment_on_results"])
def test_bad_folders_get_a_clear_error(tmp_path, capsys, case):
    if case == "missing":
        args, expected = [str(tmp_path / "nope")], "no such folder"
    elif case == "neither":
        args, expected = [str(tmp_path)], "neither an autograde results folder"
    else:
        (tmp_path / "students").mkdir()
        args, expected = [str(tmp_path), "--assignment", "x"], "--assignment is for an nbgrader"
    assert main(["class-report", *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_the_command_writes_both_files_beside_grades_csv(tmp_path, key, capsys):
    _synthetic(key, tmp_path)
    assert main(["class-report", str(tmp_path), "--lang", "en", "--names"]) == 0
    data = json.loads((tmp_path / JSON_NAME).read_text())
    assert data["names"] is True and data["lang"] == "en"
    assert (tmp_path / HTML_NAME).is_file()
    assert "class report written" in capsys.readouterr().out


# ------------------------------------------------------------------ the nbgrader path


def _course(tmp_path: Path, key: bytes) -> Path:
    course = tmp_path / "course"
    for student in ("ana", "beto"):
        folder = course / "autograded" / student / "practico2"
        folder.mkdir(parents=True)
        write_nbgrader_result(folder, student, "practico2", _result(student), key)
    # as nbgrader's FilesWriter stores the bytes the preprocessor hands it
    folder = course / "autograded" / "fede" / "practico2"
    folder.mkdir(parents=True)
    (folder / NBGRADER_RESULT_NAME).write_bytes(
        nbgrader_result_bytes("fede", "practico2", _result("fede"), key))
    # beto's result, copied as carla's: signed for beto
    (course / "autograded" / "carla" / "practico2").mkdir(parents=True)
    shutil.copy(course / "autograded" / "beto" / "practico2" / NBGRADER_RESULT_NAME,
                course / "autograded" / "carla" / "practico2" / NBGRADER_RESULT_NAME)
    # a result signed the autograde way (for the folder name) does not pass for nbgrader's
    (course / "autograded" / "dario" / "practico2").mkdir(parents=True)
    write_signed(course / "autograded" / "dario" / "practico2" / NBGRADER_RESULT_NAME, key,
                 "dario", _result("dario"))
    # eva graded, no result stored
    (course / "autograded" / "eva" / "practico2").mkdir(parents=True)
    # gabi only handed in another assignment: not one of this assignment's students
    (course / "autograded" / "gabi" / "practico1").mkdir(parents=True)
    return course


def test_a_course_folder_is_read_from_the_stored_results(tmp_path, key):
    course = _course(tmp_path, key)
    assert main(["class-report", str(course), "--names", "--lang", "en"]) == 0
    out = course / "reports" / "practico2"
    data = json.loads((out / JSON_NAME).read_text())
    assert data["source"] == {"kind": "nbgrader", "assignment": "practico2"}
    assert data["students"] == {"counted": 3, "not_counted": 3}
    assert {r["reason"]: r["names"] for r in data["not_counted"]} == {
        "unsigned": ["carla", "dario"], "missing": ["eva"]}
    assert "nbgrader course, assignment practico2" in (out / HTML_NAME).read_text("utf-8")
    assert nbgrader_signed_name("ana", "practico2") == "nbgrader/practico2/ana"


def test_a_course_with_several_assignments_asks_which(tmp_path, key, capsys):
    course = _course(tmp_path, key)
    folder = course / "autograded" / "ana" / "practico3"
    folder.mkdir()
    write_nbgrader_result(folder, "ana", "practico3", _result("ana"), key)
    assert main(["class-report", str(course)]) == 2
    assert "choose one with --assignment" in capsys.readouterr().err
    assert main(["class-report", str(course), "--assignment", "practico3", "--lang", "en"]) == 0
    data = json.loads((course / "reports" / "practico3" / JSON_NAME).read_text())
    assert data["students"]["counted"] == 1
    # practico2's result of ana does not pass for practico3's: signed for another assignment
    shutil.copy(course / "autograded" / "ana" / "practico2" / NBGRADER_RESULT_NAME,
                folder / NBGRADER_RESULT_NAME)
    assert main(["class-report", str(course), "--assignment", "practico3"]) == 0
    data = json.loads((course / "reports" / "practico3" / JSON_NAME).read_text())
    assert data["students"] == {"counted": 0, "not_counted": 1}  # only ana has practico3


def test_an_assignment_name_that_is_a_path_is_refused(tmp_path, key, capsys):
    course = _course(tmp_path, key)
    assert main(["class-report", str(course), "--assignment", "../../elsewhere"]) == 2
    assert "not an assignment name" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere").exists()


def test_a_course_without_stored_results_says_what_to_run(tmp_path, capsys):
    (tmp_path / "autograded" / "ana" / "practico2").mkdir(parents=True)
    assert main(["class-report", str(tmp_path)]) == 2
    assert "run `nbgrader autograde`" in capsys.readouterr().err


def test_aggregate_of_no_source_is_empty():
    report = aggregate(Source("autograde", [], []), "en")
    assert report["total"]["score_counts"] == [] and report["revisit"]["items"] == []
    assert all(task["graded"] == 0 for task in report["tasks"])


# ------------------------------------------------------- the sample class, graded once


def _open(browser: str, page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM of ``page`` after loading, and every console message Chromium logged (a CSP
    violation, a script error, a failed load)."""
    proc = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    return proc.stdout, [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def _expected(spec: dict, task_id: str):
    return spec["expect"].get(task_id, spec["expect"].get("*", TASK_BY_ID[task_id].points))


@pytest.fixture(scope="module")
def graded_class(graded_sample_class, tmp_path_factory):
    """fixtures/class graded by autograde (once for the session: conftest), then its report
    written without and with names into a copy of the results."""
    base = tmp_path_factory.mktemp("class_report")
    proc = graded_sample_class["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = copy_folder(graded_sample_class["out"], base / "results")
    # autograde wrote the report at the end of its run (in its language, Spanish); the
    # command renders the same bytes again from the same results
    by_autograde = {name: (out / name).read_bytes() for name in (HTML_NAME, JSON_NAME)}
    proc = run_py("-m", "grader", "class-report", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rendered_again = {name: (out / name).read_bytes() for name in (HTML_NAME, JSON_NAME)}
    reports = {"by_autograde": by_autograde, "rendered_again": rendered_again}
    for kind, flags in (("plain", []), ("named", ["--names"])):
        proc = run_py("-m", "grader", "class-report", str(out), "--lang", "en", *flags)
        assert proc.returncode == 0, proc.stderr[-3000:]
        copy_dir = base / kind
        copy_dir.mkdir()
        for name in (HTML_NAME, JSON_NAME):
            shutil.copy(out / name, copy_dir / name)
        reports[kind] = {"json": json.loads((copy_dir / JSON_NAME).read_text("utf-8")),
                         "html": copy_dir / HTML_NAME}
    spec = json.loads((ROOT / "fixtures" / "class" / "class.json").read_text())["students"]
    results = {name: json.loads((out / "students" / name / "result.json").read_text())
               for name in spec}
    return {"out": out, "spec": spec, "results": results, **reports}


@pytest.mark.slow
def test_the_sample_class_report_counts_what_class_json_says(graded_class):
    report, spec = graded_class["plain"]["json"], graded_class["spec"]
    assert report["students"] == {"counted": len(spec), "not_counted": 0}
    for task in TASKS:
        row = _task(report, task.id)
        wanted = [_expected(student, task.id) for student in spec.values()]
        assert row["graded"] == len(spec)
        assert row["full_marks"] == wanted.count(task.points), task.id
        assert row["zero"] == wanted.count(0), task.id
        partial = sum(n for score, n in row["score_counts"] if 0 < score < task.points)
        assert partial == wanted.count("partial"), task.id
    # totals: exact for students without a partial task, within bounds for the others
    totals = [n_score for score, n in report["total"]["score_counts"] for n_score in [score] * n]
    for name, student in spec.items():
        known = [_expected(student, t.id) for t in TASKS]
        if "partial" not in known:
            totals.remove(sum(known))
        else:
            low = sum(k for k in known if k != "partial")
            high = low + sum(t.points for t, k in zip(TASKS, known) if k == "partial")
            inside = [x for x in totals if low < x < high]
            assert inside, (name, totals)
            totals.remove(inside[0])
    assert totals == []
    # fede: os._exit at import of ex4 crashes relu_net; the endless probe_stats times out
    assert [(r["task"], r["status"], r["students"]) for r in report["lost_runs"]] == [
        ("relu_net", "crashed", 1), ("probe_stats", "timeout", 1)]


@pytest.mark.slow
def test_autograde_writes_the_report_the_command_renders_again(graded_class):
    written, again = graded_class["by_autograde"], graded_class["rendered_again"]
    assert written == again
    report = json.loads(written[JSON_NAME])
    assert report["lang"] == "es" and report["names"] is False
    assert report["students"]["counted"] == len(graded_class["spec"])


@pytest.mark.slow
def test_the_sample_class_report_agrees_with_the_results(graded_class):
    """Diagnoses and points to revisit, counted again here from the result files."""
    report, results = graded_class["plain"]["json"], graded_class["results"]
    diagnosed: dict[str, set] = {}
    lost = 0
    for name, data in results.items():
        for task in data["tasks"].values():
            for check in task.get("checks", {}).values():
                if check["status"] == "passed":
                    continue
                for mistake in check.get("diagnoses", []):
                    diagnosed.setdefault(mistake, set()).add(name)
                if check["status"] in ("failed", "error"):
                    lost += check["max_score"] - check["score"]
    assert {d["id"]: d["students"] for d in report["diagnoses"]} == {
        m: len(who) for m, who in diagnosed.items()}
    assert len(report["revisit"]["items"]) < REVISIT_LIMIT  # all of them shown, so:
    assert sum(i["points_lost"] for i in report["revisit"]["items"]) == lost > 0
    # carla's one-hot shifted by one is what the class lost most on
    assert report["revisit"]["items"][0]["tasks"] == ["onehot_mse"]


@pytest.mark.slow
def test_the_sample_class_report_names_students_only_with_names(graded_class):
    plain, named = graded_class["plain"], graded_class["named"]
    assert _name_lists(plain["json"]) == []
    assert "<details>" not in plain["html"].read_text("utf-8")
    assert named["json"]["lost_runs"][0]["names"] == ["fede"]
    assert "<li>fede</li>" in named["html"].read_text("utf-8")
    assert "<li>fede</li>" not in plain["html"].read_text("utf-8")


@pytest.mark.slow
@pytest.mark.browser
def test_the_sample_class_report_opens_in_headless_chromium(graded_class, tmp_path):
    """As written: no console message at all (no CSP violation, no failed load). A copy whose
    policy also lets one inline script run counts the figures the browser decoded."""
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    page = graded_class["plain"]["html"]
    dom, console = _open(browser, page, tmp_path / "profile")
    assert console == [], console
    assert "<title>Practical 2: class report</title>" in dom
    text = page.read_text("utf-8")
    assert text.count(f'content="{CSP}"') == 1
    probe = ("<script>var errors = 0; window.addEventListener('error', function () "
             "{ errors += 1; }, true); window.addEventListener('load', function () {"
             "var imgs = Array.from(document.images);"
             "var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });"
             "document.title = 'IMAGES ' + ok.length + '/' + imgs.length + ' ERRORS ' + errors;"
             "});</script>")
    copy_page = tmp_path / "probe.html"
    copy_page.write_text(text.replace(f'content="{CSP}"', f'content="{CSP}; script-src '
                                      "'unsafe-inline'\"").replace("<title>", probe + "<title>"),
                         encoding="utf-8")
    dom, console = _open(browser, copy_page, tmp_path / "profile-probe")
    match = re.search(r"<title>IMAGES (\d+)/(\d+) ERRORS (\d+)</title>", dom)
    assert match, (dom[:500], console)
    # total, per task, pass rates (the class has no diagnosis yet unless the kit gives some)
    figures = 4 if graded_class["plain"]["json"]["diagnoses"] else 3
    assert match.groups() == (str(figures), str(figures), "0"), console
    assert console == []
