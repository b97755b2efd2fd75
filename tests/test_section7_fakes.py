"""Section 7 pays only for training that happened (issue 18): ``fixtures/fakes/``.

Each fake is one ``ex6_hyperparams.py.diff`` against the reference (``tests/patching.py``):
a submission that makes ``lr_sweep`` or ``train_clipped`` *look* trained to checks that
believed what the spies were told (steps without gradients, made-up histories, a rate
rewritten after construction, a private optimizer, the grader's records or harness functions
rewritten from the student's own process). Its header declares ``Task:``, the exact message
keys of the checks that fail (``Keys:``) and what it earned before (``Before:``).

The fakes rebind the grader's own modules, so they are graded where that does no harm: one
real ``autograde`` of all of them, in real sandbox children (a rebinding in this process would
leak into every later test). Both tasks of ``ex6_hyperparams.py`` are graded, training runs
included: the task a fake targets must lose exactly its declared checks, the other keeps full
marks.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_py
from patching import build, read_fixture

from grader.messages import MESSAGES
from grader.tasks import TASK_BY_ID

FAKES = ROOT / "fixtures" / "fakes"
NAMES = sorted(p.name for p in FAKES.iterdir() if p.is_dir())
SECTION7 = ("lr_sweep", "exploding")


def declaration(name: str) -> tuple[Path, str, list[str], str]:
    (patch,) = sorted((FAKES / name).glob("ex*.py.diff"))
    fields, _ = read_fixture(patch)
    keys = [k.strip() for k in fields["Keys"].split(",")]
    return patch, fields["Task"].strip(), keys, fields["Before"].strip()


def test_every_fake_declares_its_outcome():
    assert len(NAMES) >= 8
    for name in NAMES:
        patch, task, keys, before = declaration(name)
        assert patch.name == "ex6_hyperparams.py.diff", name
        assert task in SECTION7, name
        assert keys and all(k in MESSAGES for k in keys), (name, keys)
        assert re.fullmatch(r"\d+/10 .+", before), (name, before)


def test_fixture_readme_lists_every_fake():
    text = (ROOT / "fixtures" / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        _, task, keys, _ = declaration(name)
        row = next((line for line in text.splitlines()
                    if line.startswith(f"| `fakes/{name}/")), None)
        assert row is not None, name
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert cells[2] == f"`{task}`", name
        assert [k.strip(" `") for k in cells[3].split(",")] == keys, name


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """Every fake as one student (the reference with the fake's ex6), graded by ``autograde``
    on the two section-7 tasks."""
    base = tmp_path_factory.mktemp("fakes")
    students = base / "class"
    for name in NAMES:
        folder = students / name
        folder.mkdir(parents=True)
        for path in (ROOT / "solutions").glob("ex*.py"):
            shutil.copy(path, folder / path.name)
        patch, *_ = declaration(name)
        file_name, source = build(patch, ROOT / "solutions")
        (folder / file_name).write_text(source, encoding="utf-8")
    out = base / "out"
    res = run_py("-m", "grader", "autograde", str(students), "--out", str(out),
                 "--tasks", ",".join(SECTION7), "--jobs", "2", "--timeout", "120",
                 env={"CI": "true"}, timeout=900)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_fake_earns_only_what_happened(name, graded):
    _, task, keys, _ = declaration(name)
    data = json.loads((graded / "students" / name / "result.json").read_text("utf-8"))
    entry = data["tasks"][task]
    failing = {check: c for check, c in entry["checks"].items() if c["status"] != "passed"}
    assert sorted({c["key"] for c in failing.values()}) == sorted(keys), {
        k: (c["key"], c["message"][:200]) for k, c in failing.items()}
    assert entry["score"] < TASK_BY_ID[task].points
    for c in failing.values():
        assert c["score"] == 0 and c["message"] and "Traceback" not in c["message"]
    other = next(t for t in SECTION7 if t != task)
    assert data["tasks"][other]["score"] == TASK_BY_ID[other].points, data["tasks"][other]
