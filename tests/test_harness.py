"""The sandbox child's copy of the grader holds probe-side code only (``grader/sandbox/probe_copy.py``).

Three views of the same rule: the harness files define no verdict, oracle or expected-value
helper (read as syntax); a process set up like the child, importing every harness module,
reaches none of them (searched like a hostile submission would); and, graded for real in the
sandbox, the reference keeps full marks while a submission hunting for the oracle gets 0.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, sandbox_grade

from grader.sandbox.probe_copy import PROBE_ONLY, build_harness

GRADER = ROOT / "grader"
#: helpers that compute what a correct answer is, named here independently of the marker
KNOWN_ORACLES = (
    "probe_expected", "expected_history", "batch_grads", "batch_loss", "first_layer_grad",
    "mlp_forward", "expect_forward", "identify_forward", "fits_uniform", "check_layer",
    "guess_scheme", "is_orthogonal", "read_history", "judge", "verdict",
)


def _functions(tree: ast.AST) -> set[str]:
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _verdict_side_names() -> set[str]:
    """Every function of ``checks/expect.py``, every check method but ``probe``, and the
    known oracles: read from the real package, so a new one is covered when it appears."""
    names = set(KNOWN_ORACLES) | _functions(ast.parse((GRADER / "checks/expect.py").read_text()))
    for rel in PROBE_ONLY:
        tree = ast.parse((GRADER / rel).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ("verdict", "inputs", "each",
                                                                  "cases", "figures"):
                names.add(node.name)
    return names


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("harness")
    build_harness(dest)
    return dest


def test_harness_defines_no_verdict_side_function(harness):
    files = sorted((harness / "grader").rglob("*.py"))
    assert files, "the harness holds the grader package"
    forbidden = _verdict_side_names()
    for path in files:
        text = path.read_text(encoding="utf-8")
        leaked = _functions(ast.parse(text)) & forbidden
        assert not leaked, (path.name, leaked)
        for name in ("probe_expected", "expected_history", "batch_grads", "mlp_forward"):
            assert name not in text, (path.name, name)  # not even as a string
    assert not (harness / "grader" / "checks" / "expect.py").exists()
    assert not (harness / "grader" / "messages.py").exists()


#: run with the interpreter's packages and the harness only, as the child does
CHILD_SEARCH = r"""
import gc, importlib, json, pkgutil, sys, types
sys.path[:0] = [sys.argv[1]]
import grader
from grader.checks import CHECKS
from grader.probing import probe_outcome
import grader.sandbox.child
for info in pkgutil.walk_packages(grader.__path__, "grader."):
    importlib.import_module(info.name)
names = set()
for modname, mod in list(sys.modules.items()):
    if not modname.startswith("grader"):
        continue
    for value in list(vars(mod).values()):
        members = [value]
        if isinstance(value, type):
            for klass in value.__mro__:
                members += list(vars(klass).values())
        for member in members:
            func = getattr(member, "fget", member)
            if isinstance(func, types.FunctionType):
                names.add(func.__name__)
for obj in gc.get_objects():
    if isinstance(obj, types.FunctionType) and str(obj.__module__).startswith("grader"):
        names.add(obj.__name__)
missing = []
for modname in ("grader.checks.expect", "grader.i18n", "grader.messages", "grader.sandbox.supervisor"):
    try:
        importlib.import_module(modname)
    except ImportError:
        missing.append(modname)
print(json.dumps({"names": sorted(names), "missing": missing, "checks": len(CHECKS),
                  "with_verdict": [c.id for c in CHECKS if hasattr(c, "verdict")]}))
"""


def test_nothing_verdict_side_is_reachable_in_a_child_process(harness):
    from grader.checks import CHECKS
    from grader.sandbox.children import site_paths

    env = {"PYTHONPATH": "", "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    code = f"import sys; sys.path[:] = {site_paths()!r} + sys.path\n" + CHILD_SEARCH
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(harness)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=str(harness))
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["checks"] == len(CHECKS)  # every check is there, to be probed
    assert found["with_verdict"] == []
    assert set(found["missing"]) == {"grader.checks.expect", "grader.i18n", "grader.messages",
                                     "grader.sandbox.supervisor"}
    assert "probe" in found["names"] or "probe_outcome" in found["names"]
    assert set(found["names"]) & _verdict_side_names() == set()


@pytest.mark.slow
def test_reference_full_marks_and_oracle_hunt_zero_in_the_sandbox(tmp_path):
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox
    from grader.tasks import TASKS

    hunt = tmp_path / "hunt"
    hunt.mkdir()
    attack = (ROOT / "fixtures" / "adversarial" / "call_the_oracle" / "ex5_init.py").read_text()
    (hunt / "ex5_init.py").write_text((ROOT / "solutions" / "ex5_init.py").read_text()
                                      + "\n\n" + attack)
    with Sandbox(SandboxOptions()) as sandbox:
        reference = sandbox_grade(sandbox, ROOT / "solutions", threads=1).results
        hunted = sandbox_grade(sandbox, hunt, ["probe_stats"], threads=1).results
    for task in TASKS:
        res = reference[task.id]
        assert res.score == task.points, (task.id, res.message)
    res = hunted["probe_stats"]
    assert res.score == 0
    assert "ORACLE NOT FOUND; verdict-side names seen: []" in res.message
