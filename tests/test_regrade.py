"""The regrade preview: ``autograde --dry-run`` says whose score would change and why, writing
nothing in the results folder; ``--apply`` writes it (grader/regrade.py,
grader/outputs/provenance.py).

The fast tests work on signed results made here (no grading). The ``slow`` ones grade the
sample class (``fixtures/class``, on ``test_viewer``: 7 students in ~15 s) for real, then:

- change one submission (ana's viewer title) and preview with the kit as it is: ana alone;
- preview again with a *changed kit*: a copy of ``grader/`` whose ``gray_axes_off`` threshold
  is edited so that no colour map passes it, run as the kit (``python -m grader`` from that
  copy). This is a real kit change, not a simulated one: a check's code differs, so every
  result's ``kit_digest`` differs, as after any fix to a check, and the verdicts move for
  exactly the students whose code passed that check (five of seven);
- apply it, from the same kit copy.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_py

from grader.outputs.provenance import causes, changed_files, changed_options, fingerprint
from grader.outputs.signing import write_signed
from grader.regrade import (
    SCRATCH_MARKER,
    check_scratch,
    compare,
    default_scratch,
    format_preview,
    make_scratch,
    take_from_scratch,
)

KEY = b"r" * 32
HASH = {"a": "a" * 64, "b": "b" * 64}


def _record(kit: str = "k1", files: dict | None = None, tasks=None, lang: str = "es",
            timeout=None) -> dict:
    return {"kit_version": "0.1.0", "kit_digest": kit * 32 if len(kit) == 2 else kit,
            "options": {"tasks": tasks, "device": "cpu", "variant": 0, "secret": None,
                        "timeout": timeout, "lang": lang},
            "files": files if files is not None else {"ex0_data.py": HASH["a"]},
            "unusable": {}}


def _result(name: str, checks: dict[str, tuple[str, float, float]], record: dict | None
            ) -> dict:
    """A result of ``test_viewer`` with ``checks`` (name -> (status, score, max))."""
    task_checks = {c: {"score": s, "max_score": m, "status": st, "message": "", "key": "",
                       "values": {}, "diagnoses": []} for c, (st, s, m) in checks.items()}
    score = sum(v["score"] for v in task_checks.values())
    data = {"score": score, "max_score": 120,
            "tasks": {"test_viewer": {"score": score, "max_score": 10, "status": "partial",
                                      "message": "", "checks": task_checks}},
            "student": name}
    if record is not None:
        data["produced_by"] = record
        data["fingerprint"] = fingerprint(record)
    else:
        data["fingerprint"] = "f" * 64
    return data


PASS = {"shows_test_image": ("passed", 6, 6), "title_shows_label": ("passed", 2, 2),
        "gray_axes_off": ("passed", 2, 2)}
GRAY_FAILS = {**PASS, "gray_axes_off": ("failed", 0, 2)}
NONE = {name: ("not_implemented", 0, m) for name, (_, _, m) in PASS.items()}


def _write(folder: Path, name: str, data: dict, key: bytes = KEY) -> Path:
    path = folder / "students" / name / "result.json"
    write_signed(path, key, name, data)
    for other in ("feedback.md", "feedback.html", "results.json"):
        (path.parent / other).write_text(f"{other} of {name} {data['score']}\n")
    return path


# ------------------------------------------------------------------ what produced a result


def test_causes_name_the_kit_the_files_and_the_options():
    base = {"produced_by": _record()}
    kit = {"produced_by": _record(kit="k2")}
    files = {"produced_by": _record(files={"ex0_data.py": HASH["b"], "ex1_onehot_mse.py":
                                           HASH["a"]})}
    tasks = {"produced_by": _record(tasks=["test_viewer"])}
    both = {"produced_by": _record(kit="k2", files={})}
    assert causes(base, kit) == ["kit"]
    assert causes(base, files) == ["submission"]
    assert changed_files(base, files) == ["ex0_data.py", "ex1_onehot_mse.py"]
    assert causes(base, tasks) == ["options"] and changed_options(base, tasks) == ["tasks"]
    assert causes(base, both) == ["kit", "submission"] and changed_files(base, both) == [
        "ex0_data.py"]
    # another language or time limit decides no verdict: the same run, as far as a cause goes
    assert causes(base, {"produced_by": _record(lang="en", timeout=5)}) == ["none"]
    assert causes({"score": 3}, base) == ["unknown"]  # written by a kit that kept no record


def test_the_fingerprint_leaves_out_the_time_limit_and_the_language():
    assert fingerprint(_record()) == fingerprint(_record(lang="en", timeout=9.0))
    for other in (_record(kit="k2"), _record(tasks=["deep_net"]),
                  _record(files={"ex0_data.py": HASH["b"]})):
        assert fingerprint(other) != fingerprint(_record())


# ------------------------------------------------------------------ the preview, on data


def test_the_preview_lists_exactly_the_students_whose_score_changes(tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    old, new_kit = _record(), _record(kit="k2")
    same = _result("cy", NONE, old)
    for name, data in {"ana": _result("ana", PASS, old), "bo": _result("bo", NONE, old),
                       "cy": same, "dee": _result("dee", PASS, old)}.items():
        _write(out, name, data)
    # dee's earlier result was edited after it was signed: not compared
    path = out / "students" / "dee" / "result.json"
    path.write_text(path.read_text().replace('"score": 10', '"score": 11', 1))
    for name, data in {"ana": _result("ana", GRAY_FAILS, new_kit),
                       "bo": _result("bo", NONE, new_kit), "cy": same,
                       "dee": _result("dee", GRAY_FAILS, new_kit),
                       "eli": _result("eli", PASS, new_kit)}.items():
        _write(scratch, name, data)
    names = ["ana", "bo", "cy", "dee", "eli", "fay"]
    preview = compare(names, out, scratch, KEY, {n: n for n in names}, errors=["fay"])
    assert [c.student for c in preview.changed] == ["ana"]
    ana = preview.changed[0]
    assert (ana.old, ana.new, ana.causes) == ([10, 120], [8, 120], ["kit"])
    assert ana.checks == [{"task": "test_viewer", "check": "gray_axes_off",
                           "old": {"status": "passed", "score": 2, "max_score": 2},
                           "new": {"status": "failed", "score": 0, "max_score": 2}}]
    assert preview.same_score == ["bo"] and preview.unchanged == 1
    assert preview.unsigned == ["dee"] and preview.errors == ["fay"]
    assert preview.new == [{"student": "eli", "score": [10, 120]}]
    es = format_preview(preview, "es", "python -m grader autograde c --out o --apply")
    en = format_preview(preview, "en", "python -m grader autograde c --out o --apply")
    assert "  ana: de 10/120 a 8/120 (por el kit)" in es
    assert "  ana: 10/120 -> 8/120 (from the kit)" in en
    assert "test_viewer/gray_axes_off: was passed, 2 of 2, now failed, 0 of 2" in en
    assert "1 regraded with the same score: bo" in en
    assert "1 unchanged" in en and "eli (10/120)" in en and "not signed by this kit" in en
    assert "nada se escribió en" in es and "--apply" in es.splitlines()[-1]
    for english in ("from the", "would change", "regraded", "unchanged"):
        assert english not in es


def test_the_preview_escapes_what_it_shows(tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    name = "x\x1b]0;pwned\x07\u202e"
    _write(out, "s", _result(name, PASS, _record()))
    _write(scratch, "s", _result(name, GRAY_FAILS, _record(kit="k2")))
    preview = compare(["s"], out, scratch, KEY, {"s": name})
    text = format_preview(preview, "en", "cmd")
    assert "\x1b" not in text and "\u202e" not in text and "\\u202e" in text


def test_apply_takes_only_results_that_still_hold_for_this_run(tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    make_scratch(scratch)
    now = _record(kit="k2")
    records = {n: now for n in ("ana", "bo", "cy", "dee", "eve")}
    prints = {n: fingerprint(now) for n in records}
    written = _write(scratch, "ana", _result("ana", GRAY_FAILS, now))
    _write(scratch, "bo", _result("bo", GRAY_FAILS, _record(kit="k2", lang="en")))  # other lang
    _write(scratch, "cy", _result("cy", GRAY_FAILS, _record(kit="k3")))  # another kit since
    tampered = _write(scratch, "dee", _result("dee", GRAY_FAILS, now))
    tampered.write_text(tampered.read_text().replace('"score": 8', '"score": 10', 1))
    _write(scratch, "eve", _result("eve", GRAY_FAILS, now), key=b"o" * 32)  # another key
    taken = take_from_scratch(list(records), out, scratch, KEY, records, prints)
    assert taken == ["ana"]
    assert (out / "students" / "ana" / "result.json").read_bytes() == written.read_bytes()
    assert (out / "students" / "ana" / "feedback.md").read_text() == "feedback.md of ana 8\n"
    assert sorted(p.name for p in (out / "students").iterdir()) == ["ana"]
    # out already holding a result that holds: left as it is
    assert take_from_scratch(["ana"], out, scratch, KEY, records, prints) == []


def test_the_scratch_folder_is_apart_and_ours(tmp_path, monkeypatch):
    from grader.options import UserError

    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    for scratch in (root / "s", out / "s", tmp_path):
        with pytest.raises(UserError, match="--scratch"):
            check_scratch(scratch, root, out)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    with pytest.raises(UserError, match=SCRATCH_MARKER):
        check_scratch(foreign, root, out)
    made = tmp_path / "scratch"
    make_scratch(made)
    check_scratch(made, root, out)
    assert made.stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = default_scratch(out)
    assert first.parent == tmp_path / "cache" / "practico2" / "regrade"
    assert first == default_scratch(tmp_path / "." / "out") != default_scratch(root)


def test_dry_run_and_apply_do_not_go_together(tmp_path, capsys):
    from grader.cli import main

    (tmp_path / "class" / "ana").mkdir(parents=True)
    code = main(["autograde", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                 "--dry-run", "--apply", "--lang", "en"])
    assert code == 2 and "--dry-run and --apply do not go together" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ a real class


def _state(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: its kind, bytes (files) and modification time."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        found[str(path.relative_to(folder))] = (
            path.is_dir(), path.read_bytes() if path.is_file() else None, info.st_mtime_ns,
            info.st_mode)
    found["."] = (True, None, folder.lstat().st_mtime_ns, folder.lstat().st_mode)
    return found


def _autograde(root: Path, out: Path, *flags: str, kit: Path = ROOT):
    env = {"CI": "true", "PYTHONPATH": str(kit)}
    return run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--tasks",
                  "test_viewer", "--jobs", "2", *flags, cwd=kit, env=env)


def _changed_kit(dest: Path) -> Path:
    """A copy of the kit's ``grader/`` whose ``gray_axes_off`` accepts no colour map."""
    shutil.copytree(ROOT / "grader", dest / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    viewer = dest / "grader" / "checks" / "viewer.py"
    text = viewer.read_text(encoding="utf-8")
    threshold = ".max() < 0.02)"
    assert text.count(threshold) == 1
    viewer.write_text(text.replace(threshold, ".max() < -1.0)"), encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def regraded(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("regrade")
    root, out, scratch = base / "class", base / "out", base / "scratch"
    assert run_py(str(ROOT / "fixtures" / "class" / "assemble.py"), str(root)).returncode == 0
    first = _autograde(root, out)
    assert first.returncode == 0, first.stderr[-3000:]
    # ana's viewer no longer puts the label in the title
    ex0 = root / "ana" / "ex0_data.py"
    text = ex0.read_text(encoding="utf-8")
    title = 'f"Test #{index}, etiqueta real: {int(label)}"'
    assert text.count(title) == 1
    ex0.write_text(text.replace(title, 'f"Test #{index}"'), encoding="utf-8")
    steps: dict = {"root": root, "out": out, "scratch": scratch}
    before = _state(out)
    steps["submission"] = _autograde(root, out, "--dry-run", "--scratch", str(scratch))
    steps["submission_preview"] = json.loads((scratch / "preview.json").read_text("utf-8"))
    steps["after_submission"] = _state(out) == before
    kit = _changed_kit(base / "kit")
    steps["kit"] = _autograde(root, out, "--dry-run", "--scratch", str(scratch), "--lang", "en",
                              kit=kit)
    steps["kit_preview"] = json.loads((scratch / "preview.json").read_text("utf-8"))
    steps["after_kit"] = _state(out) == before
    steps["scratch_results"] = {p.parent.name: p.read_bytes()
                                for p in (scratch / "students").glob("*/result.json")}
    steps["scratch_report"] = (scratch / "class_report.html").is_file()
    steps["apply"] = _autograde(root, out, "--apply", "--scratch", str(scratch), "--lang", "en",
                                kit=kit)
    return steps


@pytest.mark.slow
def test_a_changed_submission_is_the_one_change_and_nothing_is_written(regraded):
    proc, preview = regraded["submission"], regraded["submission_preview"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert regraded["after_submission"], "the dry run changed the results folder"
    assert [(c["student"], c["old"], c["new"], c["causes"], c["files"])
            for c in preview["changed"]] == [("ana", [10, 120], [8, 120], ["submission"],
                                               ["ex0_data.py"])]
    assert preview["unchanged"] == 6 and preview["same_score"] == [] == preview["new"]
    assert "ana: de 10/120 a 8/120 (por la entrega: ex0_data.py)" in proc.stdout
    assert "test_viewer/title_shows_label: antes completa, 2 de 2" in proc.stdout


@pytest.mark.slow
def test_a_changed_kit_lists_exactly_the_students_that_change(regraded):
    proc, preview = regraded["kit"], regraded["kit_preview"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert regraded["after_kit"], "the dry run changed the results folder"
    changed = {c["student"]: c for c in preview["changed"]}
    assert set(changed) == {"ana", "carla", "dario", "eva", "fede"}
    assert changed["ana"]["causes"] == ["kit", "submission"] and changed["ana"]["new"] == [6, 120]
    for name in ("carla", "dario", "eva", "fede"):
        assert changed[name]["causes"] == ["kit"] and (changed[name]["old"],
                                                      changed[name]["new"]) == ([10, 120],
                                                                                [8, 120])
        assert [(c["check"], c["old"]["status"], c["new"]["status"])
                for c in changed[name]["checks"]] == [("gray_axes_off", "passed", "failed")]
    # the stubs and the empty folder were regraded (another kit) to the same 0
    assert sorted(preview["same_score"]) == ["beto", "gabi"] and preview["unchanged"] == 0
    assert "5 of 7 student(s) would change score:" in proc.stdout
    assert "  ana: 10/120 -> 6/120 (from the kit and from the submission: ex0_data.py)" in (
        proc.stdout)
    assert proc.stdout.rstrip().endswith("--lang en --apply")
    assert regraded["scratch_report"]  # the class after the regrade, in the scratch folder


@pytest.mark.slow
def test_apply_writes_the_preview_without_grading_again(regraded):
    proc, out = regraded["apply"], regraded["out"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "7 student(s) taken from the preview" in proc.stderr
    assert "[1/7]" not in proc.stderr  # nobody graded again
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        import csv

        totals = {row["student"]: row["total"] for row in csv.DictReader(fh)}
    assert totals == {"ana": "6", "beto": "0", "carla": "8", "dario": "8", "eva": "8",
                      "fede": "8", "gabi": "0"}
    for name, data in regraded["scratch_results"].items():
        assert (out / "students" / name / "result.json").read_bytes() == data, name
    assert not regraded["scratch"].exists()  # applied: the scratch folder is gone
    report = json.loads((out / "class_report.json").read_text("utf-8"))
    assert report  # rewritten from the applied results at the end of the run
    assert os.path.getmtime(out / "class_report.json") >= os.path.getmtime(
        out / "students" / "ana" / "result.json")
