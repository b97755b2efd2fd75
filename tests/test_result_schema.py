"""The result JSON, its schema (docs/result.schema.json) and its description (docs/result-json.md)
cannot drift apart.

Static tests compare the schema with the page's field table, with the kit's task ids and
statuses, and with every key the sandbox child can report about its isolation. One real
``autograde`` run (the reference and a submission that kills its child, with an unusable and
an ignored file) and one real ``grade --json`` run are validated against the schema.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_py

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_PATH = ROOT / "docs" / "result.schema.json"
DOC_PATH = ROOT / "docs" / "result-json.md"
HOSTILE = ROOT / "fixtures" / "adversarial" / "os_exit_in_task" / "ex5_init.py"


def load_schema() -> dict:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def schema_paths(schema: dict, node: dict, prefix: str = "") -> set[str]:
    """Dotted paths of every field the schema allows; ``*`` stands for any key of an object
    whose keys are data (task ids, check names, file names)."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    paths: set[str] = set()
    props = node.get("properties", {})
    targets = {json.dumps(v, sort_keys=True) for v in props.values()}
    if len(props) > 1 and len(targets) == 1 and "$ref" in next(iter(props.values())):
        # every key maps to the same definition: the keys are ids (the tasks), not fields
        items = [("*", next(iter(props.values())))]
    else:
        items = list(props.items())
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        items.append(("*", extra))
    for key, sub in items:
        path = f"{prefix}.{key}" if prefix else key
        paths.add(path)
        paths |= schema_paths(schema, sub, path)
    return paths


def doc_paths() -> set[str]:
    """The first cell of every row of the page's field table."""
    rows = re.findall(r"^\| `([^`]+)` \|", DOC_PATH.read_text("utf-8"), flags=re.MULTILINE)
    assert rows, f"{DOC_PATH}: no field table found"
    return set(rows)


def test_the_page_describes_exactly_the_fields_of_the_schema():
    schema = load_schema()
    in_schema, in_doc = schema_paths(schema, schema), doc_paths()
    assert in_schema - in_doc == set(), "fields in the schema but not in docs/result-json.md"
    assert in_doc - in_schema == set(), "fields in docs/result-json.md but not in the schema"


def test_schema_names_the_kits_tasks_and_statuses():
    from grader.statuses import CHECK_STATUSES, REPORT_STATUSES
    from grader.tasks import TASKS

    schema = load_schema()
    tasks = schema["properties"]["tasks"]
    assert list(tasks["required"]) == [t.id for t in TASKS]
    assert list(tasks["properties"]) == [t.id for t in TASKS]
    assert set(schema["$defs"]["check"]["properties"]["status"]["enum"]) == set(CHECK_STATUSES)
    assert set(schema["$defs"]["task"]["properties"]["status"]["enum"]) == set(REPORT_STATUSES)


def test_every_isolation_key_the_child_can_report_is_in_the_schema():
    """A key the child adds to what it reports (``applied``) must be added to the schema,
    and so to the page; a key no longer reported must leave both."""
    source = "\n".join(
        Path(importlib.util.find_spec(name).origin).read_text("utf-8")
        for name in ("grader.sandbox.child", "grader.sandbox.jail", "grader.sandbox.mounts"))
    assigned = set(re.findall(r'applied\["(\w+)"\]\s*=', source))
    literal = set(re.findall(r'"(\w+)":', " ".join(
        re.findall(r"applied: dict = \{[^}]*\}|return \{\"namespaces\"[^}]*\}", source))))
    reported = assigned | literal
    assert {"namespaces", "uid", "visible", "cgroup", "refused"} <= reported  # the scan works
    allowed = set(load_schema()["$defs"]["isolation"]["properties"])
    assert reported == allowed


@pytest.mark.parametrize("change", ["add_top", "add_task_field", "add_check_field",
                                    "remove_task_field", "wrong_status", "missing_task",
                                    "no_diagnoses", "diagnoses_not_ids"])
def test_the_schema_rejects_an_undocumented_change(change):
    data = {"score": 4, "max_score": 100.0, "tasks": {
        t: {"score": 0, "max_score": 10, "status": "not_graded", "message": ""}
        for t in load_schema()["properties"]["tasks"]["required"]}}
    data["tasks"]["deep_net"] = {"score": 4, "max_score": 10.0, "status": "partial",
                                 "message": "x", "checks": {"structure": {
                                     "score": 4, "max_score": 4, "status": "passed",
                                     "message": "", "key": "", "values": {},
                                     "diagnoses": []}}}
    assert not list(validator().iter_errors(data))
    bad = copy.deepcopy(data)
    task, check = bad["tasks"]["deep_net"], bad["tasks"]["deep_net"]["checks"]["structure"]
    if change == "add_top":
        bad["grader_version"] = "1"
    elif change == "add_task_field":
        task["key"] = "accuracy_low"
    elif change == "add_check_field":
        check["seconds"] = 1.0
    elif change == "remove_task_field":
        del task["message"]
    elif change == "wrong_status":
        check["status"] = "ok"
    elif change == "no_diagnoses":
        del check["diagnoses"]
    elif change == "diagnoses_not_ids":
        check["diagnoses"] = ["Not an id!"]
    else:
        del bad["tasks"]["he_init"]
    assert list(validator().iter_errors(bad))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``autograde`` of three students and ``grade --json`` of one, through the real sandbox
    (``cy``'s ``DeepNet`` is one hidden layer short: a diagnosed failure)."""
    from patching import build

    base = tmp_path_factory.mktemp("schema")
    root, out = base / "class", base / "out"
    reference = (ROOT / "solutions" / "ex5_init.py").read_text()
    for name in ("ana", "bo", "cy"):
        (root / name).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "ex3_depth.py", root / name / "ex3_depth.py")
    (root / "ana" / "ex5_init.py").write_text(reference)
    (root / "cy" / "ex5_init.py").write_text(reference)
    fixture = ROOT / "fixtures" / "wrong" / "deepnet_off_by_one" / "ex3_depth.py.diff"
    (root / "cy" / "ex3_depth.py").write_text(build(fixture, ROOT / "solutions")[1])
    (root / "bo" / "ex5_init.py").write_text(reference + "\n\n" + HOSTILE.read_text())
    (root / "bo" / "ex0_data.py").symlink_to(ROOT / "solutions" / "ex0_data.py")
    (root / "bo" / "notes.txt").write_text("not graded\n")
    tasks = "probe_stats,deep_net"
    proc = run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "1",
                  "--tasks", tasks, env={"CI": "true"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = base / "bo.json"
    proc = run_py("-m", "grader", "grade", str(root / "bo"), "--tasks", tasks,
                  "--json", str(single))
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {n: json.loads((out / "students" / n / "result.json").read_text("utf-8"))
               for n in ("ana", "bo", "cy")}
    return {"autograde": results, "grade": json.loads(single.read_text("utf-8"))}


@pytest.mark.slow
def test_real_output_follows_the_schema(graded):
    check = validator()
    for name, data in [*graded["autograde"].items(), ("grade", graded["grade"])]:
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in check.iter_errors(data)]
        assert errors == [], name
    ana, bo = graded["autograde"]["ana"], graded["autograde"]["bo"]
    # the run really exercised what the schema describes
    assert ana["tasks"]["probe_stats"]["status"] == "passed"
    assert ana["tasks"]["deep_net"]["status"] == "passed"
    assert bo["tasks"]["probe_stats"]["status"] == "crashed"
    assert bo["tasks"]["he_init"]["status"] == "not_graded"
    assert set(bo["unusable_files"]) == {"ex0_data.py"} and bo["ignored_files"] == ["notes.txt"]
    assert bo["sandbox"]["children"] >= 1 and "student" not in graded["grade"]
    assert graded["grade"]["tasks"]["probe_stats"]["status"] == "crashed"
    # a diagnosed failure: its ids, its values, and the diagnosis's message, through the sandbox
    cy = graded["autograde"]["cy"]["tasks"]["deep_net"]["checks"]
    assert cy["structure"]["diagnoses"] == ["depth_off_by_one"], cy["structure"]
    assert cy["structure"]["key"] == "layer_count"
    assert set(cy["structure"]["values"]["diagnosis"]) == {"depth_off_by_one"}
    assert "capa oculta de más o de menos" in cy["structure"]["message"]
    assert all(c["diagnoses"] == [] for c in ana["tasks"]["deep_net"]["checks"].values())
