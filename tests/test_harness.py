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
    # section 7 (checks/lr_sweep.py, checks/exploding.py, checks/replay.py)
    "true_grads", "verify_norms", "verify_grads_kept", "verify_clipping", "verify_rescue",
    "seeded_sweep_init", "sweep_replay", "sweep_same_seed", "accuracy_bounds",
    "mnist_test_accuracy", "take_steps", "landing_error", "read_run", "explain_break",
)
#: modules that are verdict side through and through: never copied, every function forbidden
VERDICT_MODULES = ("checks/expect.py", "checks/replay.py")
#: the section-7 checks modules and the spies they share (issue 19: one module per task)
SECTION7 = ("checks/lr_sweep.py", "checks/exploding.py", "checks/spies.py")


def _functions(tree: ast.AST) -> set[str]:
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


#: nested helpers of the diagnoses whose names say nothing (``compute`` of a memo, ...)
GENERIC_NAMES = {"compute", "detect", "given", "loss", "which"}


def _diagnosis_names() -> set[str]:
    """Every function of the diagnoses package (issue 20): verdict side, like the oracles."""
    names: set[str] = set()
    for path in sorted((GRADER / "diagnoses").glob("*.py")):
        names |= _functions(ast.parse(path.read_text()))
    return names - GENERIC_NAMES


def _marked(node: ast.AST) -> bool:
    """Decorated ``@probe_side`` (read here, not with probe_copy's own reader)."""
    for deco in getattr(node, "decorator_list", []):
        target = deco.func if isinstance(deco, ast.Call) else deco
        if getattr(target, "id", getattr(target, "attr", None)) == "probe_side":
            return True
    return False


def _unmarked_functions(rel: str) -> set[str]:
    """Top-level functions of a mixed module that are not marked probe side."""
    tree = ast.parse((GRADER / rel).read_text())
    return {n.name for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _marked(n)}


def _verdict_side_names() -> set[str]:
    """Every function of the verdict-only modules, every unmarked top-level function of the
    mixed ones, every check method but ``probe``, and the known oracles: read from the real
    package, so a new one is covered when it appears."""
    names = set(KNOWN_ORACLES)
    for rel in VERDICT_MODULES:
        names |= _functions(ast.parse((GRADER / rel).read_text()))
    names |= _diagnosis_names()
    for rel in PROBE_ONLY:
        names |= _unmarked_functions(rel)
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
        for name in ("probe_expected", "expected_history", "batch_grads", "mlp_forward",
                     "true_grads", "seeded_sweep_init", "take_steps", "verify_clipping"):
            assert name not in text, (path.name, name)  # not even as a string
    for rel in VERDICT_MODULES:
        assert not (harness / "grader" / rel).exists(), rel
    assert not (harness / "grader" / "messages.py").exists()
    # the diagnoses: no module, and no import of one left in a rewritten module
    assert not (harness / "grader" / "diagnoses").exists()
    assert len(_diagnosis_names()) > 40  # the scan of the real package works
    for path in files:
        assert "grader.diagnoses" not in path.read_text(encoding="utf-8"), path.name


def test_section7_modules_keep_their_probe_side_and_nothing_else(harness):
    """Each section-7 module reaches the child with exactly its marked definitions, its check
    classes reduced to attributes, ``probe`` and marked methods; the spies are there."""
    for rel in SECTION7:
        source = ast.parse((GRADER / rel).read_text())
        copy = ast.parse((harness / "grader" / rel).read_text(encoding="utf-8"))
        marked = {n.name for n in source.body if isinstance(n, ast.FunctionDef) and _marked(n)}
        kept = {n.name for n in copy.body if isinstance(n, ast.FunctionDef)}
        assert kept == marked, (rel, kept ^ marked)
        assert _unmarked_functions(rel) & _functions(copy) == set(), rel
        classes = {n.name: n for n in source.body if isinstance(n, ast.ClassDef)}
        for node in copy.body:
            if isinstance(node, ast.ClassDef) and not _marked(node):
                methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
                probe_side = {n.name for n in classes[node.name].body
                              if isinstance(n, ast.FunctionDef) and _marked(n)}
                assert methods <= {"probe"} | probe_side, (rel, node.name, methods)
    spies = ast.parse((harness / "grader" / "checks" / "spies.py").read_text(encoding="utf-8"))
    assert {"ModelSpy", "ForwardLog"} <= {n.name for n in spies.body
                                          if isinstance(n, ast.ClassDef)}
    assert {"spy_optimizer", "net_params"} <= _functions(spies)


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
for modname in ("grader.checks.expect", "grader.checks.replay", "grader.i18n", "grader.messages",
                "grader.sandbox.supervisor", "grader.diagnoses", "grader.diagnoses.engine",
                "grader.diagnoses.catalogue"):
    try:
        importlib.import_module(modname)
    except ImportError:
        missing.append(modname)
print(json.dumps({"names": sorted(names), "missing": missing, "checks": len(CHECKS),
                  "with_verdict": [c.id for c in CHECKS if hasattr(c, "verdict")]}))
"""


@pytest.mark.slow
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
    assert set(found["missing"]) == {"grader.checks.expect", "grader.checks.replay",
                                     "grader.i18n", "grader.messages",
                                     "grader.sandbox.supervisor", "grader.diagnoses",
                                     "grader.diagnoses.engine", "grader.diagnoses.catalogue"}
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
