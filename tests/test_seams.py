"""The grader package's seams, read from its syntax: who may import whom, and what.

The package is built in floors; a module imports modules of its own floor or of a lower
one, never of a higher one, and no chain of imports comes back to where it started:

====  ============  =======================================================================
floor what          modules
====  ============  =======================================================================
0     foundations   ``grader`` itself, ``settings``, ``probe_side``, ``textsafe``,
                    ``messages``, ``i18n``, ``tasks``, ``hidden``, ``budgets``, ``codec``
                    (the wire format, under both sides), ``statuses``, ``submission``,
                    ``diagnosis_messages`` (the diagnoses' texts, merged into ``messages``),
                    ``cli_messages`` (the command line's texts, merged likewise)
1     the kit       ``impl``, ``data``, ``training``, ``options``, ``kitprint``,
                    ``cli_language`` (argparse and every help text in the reader's language)
2     checks        ``checks/``, ``probing`` (a probe's outcome, whatever happens),
                    ``request`` (how to grade; what a runner reports)
3     runners and   ``sandbox/`` (runs probes in children), ``scoring`` (judges
      verdicts      outcomes) and ``diagnoses/`` (which mistake explains a failed verdict):
                    the sandbox walled off from the other two
4     the loop      ``grading`` (every runner's inputs, outcomes, verdicts and summary)
5     outputs       ``outputs/``
6     front ends    ``cli``, ``__main__``, ``autograde``, ``cluster``, ``cluster_worker``,
                    ``nb``, ``pytest_plugin``, ``nbgrading/``, ``experiments/``,
                    ``authoring/``, ``class_report/``, ``lms/``, ``similarity/``,
                    ``regrade`` (autograde's regrade preview)
====  ============  =======================================================================

Every import counts, at module level or inside a function (a lazy import is still a
dependency), but for those under ``if TYPE_CHECKING:`` (annotations only). And no module
imports another's private names (``from grader.x import _name``, or ``x._name`` on a grader
module it imported): what crosses a module's border is public, and listed in its
``__all__`` where it has one.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "grader"

#: module (or package prefix) -> floor; the longest matching prefix wins
FLOORS = {
    "grader": 0, "grader.settings": 0, "grader.probe_side": 0, "grader.textsafe": 0,
    "grader.messages": 0, "grader.i18n": 0, "grader.tasks": 0, "grader.hidden": 0,
    "grader.budgets": 0, "grader.codec": 0, "grader.statuses": 0, "grader.submission": 0,
    "grader.diagnosis_messages": 0, "grader.cli_messages": 0,
    "grader.impl": 1, "grader.cli_language": 1, "grader.data": 1, "grader.training": 1, "grader.options": 1,
    "grader.kitprint": 1,
    "grader.checks": 2, "grader.probing": 2, "grader.request": 2,
    "grader.sandbox": 3, "grader.scoring": 3, "grader.diagnoses": 3,
    "grader.grading": 4,
    "grader.outputs": 5,
    "grader.cli": 6, "grader.__main__": 6, "grader.autograde": 6, "grader.cluster": 6,
    "grader.cluster_worker": 6, "grader.nb": 6, "grader.pytest_plugin": 6,
    "grader.nbgrading": 6, "grader.experiments": 6, "grader.authoring": 6,
    "grader.class_report": 6, "grader.lms": 6, "grader.similarity": 6, "grader.regrade": 6,
}
#: (importer prefix, imported prefix) pairs that never meet, floors aside: the sandbox runs
#: probes and decides nothing; the verdicts know nothing of how probes were run
WALLS = [("grader.sandbox", "grader.scoring"), ("grader.scoring", "grader.sandbox"),
         ("grader.sandbox", "grader.diagnoses"), ("grader.diagnoses", "grader.sandbox")]


def module_name(path: Path) -> str:
    parts = ["grader", *path.relative_to(PACKAGE).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def floor(module: str) -> int:
    best = max((prefix for prefix in FLOORS
                if module == prefix or module.startswith(prefix + ".")), key=len)
    return FLOORS[best]


@functools.cache
def parsed(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            ids |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return ids


def imports(module: str) -> list[tuple[str, str | None, int]]:
    """``(imported module, name taken from it or None, line)`` for every grader import."""
    tree = parsed(module)
    skip = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names
                      if a.name == "grader" or a.name.startswith("grader.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "grader" or node.module.startswith("grader.")):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in MODULES:  # a module imported from its package
                    found.append((full, None, node.lineno))
                else:
                    found.append((node.module, alias.name, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    return {m: {target for target, _, _ in imports(m) if target != m} for m in MODULES}


def test_every_module_has_a_floor():
    assert all(floor(m) >= 0 for m in MODULES)
    unknown = [m for m in MODULES if not any(m == p or m.startswith(p + ".") for p in FLOORS)]
    assert unknown == []


@pytest.mark.slow
def test_no_import_runs_up_a_floor():
    upward = [f"{m}:{line} imports {target} (floor {floor(m)} -> {floor(target)})"
              for m in MODULES for target, _, line in imports(m)
              if target in MODULES and floor(target) > floor(m)]
    assert upward == []


def test_the_sandbox_and_the_verdicts_never_import_each_other():
    crossing = [f"{m}:{line} imports {target}"
                for m in MODULES for target, _, line in imports(m)
                for low, high in WALLS
                if (m == low or m.startswith(low + "."))
                and (target == high or target.startswith(high + "."))]
    assert crossing == []


def test_no_import_circle():
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for target in sorted(edges.get(m, ())):
            if target not in MODULES:
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m)
    assert cycles == []


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def test_no_module_imports_another_modules_private_names():
    private = []
    for m in MODULES:
        tree = parsed(m)
        modules_bound: dict[str, str] = {}  # local name -> grader module it stands for
        for target, name, line in imports(m):
            if name is not None and name.startswith("_") and not _dunder(name) and target != m:
                private.append(f"{m}:{line} from {target} import {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in MODULES:
                        modules_bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in MODULES:
                        modules_bound[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules_bound and node.attr.startswith("_")
                    and not _dunder(node.attr) and modules_bound[node.value.id] != m):
                private.append(f"{m}:{node.lineno} {modules_bound[node.value.id]}.{node.attr}")
    assert private == []


def _all(module: str) -> set[str] | None:
    for node in parsed(module).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return None


#: the seams named by the issue: each says what crosses it
SEAMS = ("grader.request", "grader.grading", "grader.statuses", "grader.submission",
         "grader.sandbox.supervisor", "grader.sandbox.session", "grader.sandbox.spawn",
         "grader.sandbox.children", "grader.sandbox.zygote", "grader.sandbox.wire",
         "grader.sandbox.jail", "grader.sandbox.mounts", "grader.sandbox.child")


@pytest.mark.parametrize("seam", SEAMS)
def test_a_seam_lists_what_crosses_it_and_others_take_only_that(seam):
    listed = _all(seam)
    assert listed, f"{seam} has no __all__"
    defined = set()
    for node in parsed(seam).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    assert listed <= defined, f"{seam}.__all__ names what it lacks: {listed - defined}"
    taken = {(m, name) for m in MODULES if m != seam for target, name, _ in imports(m)
             if target == seam and name is not None}
    assert {(m, name) for m, name in taken if name not in listed} == set()
