"""No import circles in ``grader/experiments`` and ``grader/checks`` (issue 19, item 3).

Read as syntax, not by importing: every ``import`` and ``from ... import`` of a module counts,
at the top or inside a function (a lazy import that runs back up is a circle all the same: it
only moves the moment the half-initialised module is seen). ``from pkg import name`` is an
edge to ``pkg.name`` when that is a module, else to ``pkg`` itself; the package a module sits
in, which Python imports first, is not an edge of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

#: the packages whose modules must import one another without a circle
PACKAGES = ("grader/experiments", "grader/checks")


def module_names(root: Path, package: str) -> dict[str, Path]:
    """``{dotted name: file}`` of every module of ``package`` (a folder under ``root``)."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
            source = ".".join(p for p in (base, node.module or "") if p)
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                       for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a circle
    ``[a, b, ..., a]`` through its members, sorted for a stable message."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle(graph, group) for group in sorted(groups)]


def _circle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """One path from the group's first module back to it, inside the group (breadth first)."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return group  # pragma: no cover - a strongly connected group always closes


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    modules = {}
    for package in packages:
        modules.update(module_names(root, package))
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    graph = import_graph(ROOT, (package,))
    assert len(graph) > 3, graph  # the package was found and read
    found = cycles(graph)
    assert not found, "import circles (one path through each group of modules that import " \
        "one another): " + "; ".join(" -> ".join(c) for c in found)


def test_no_import_cycle_between_the_two():
    assert cycles(import_graph(ROOT, PACKAGES)) == []


def test_the_scan_finds_lazy_relative_and_package_circles(tmp_path):
    """The scan can fail: a circle closed by an import inside a function, one through
    ``from . import``, and one through a package's ``__init__``."""
    pkg = tmp_path / "grader" / "experiments"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from grader.experiments.c import C\n")
    (pkg / "a.py").write_text("from .b import B\nA = 1\n")
    (pkg / "b.py").write_text("B = 2\n\ndef later():\n    from grader.experiments.a import A\n")
    (pkg / "c.py").write_text("from grader.experiments import d\nC = 3\n")
    (pkg / "d.py").write_text("from grader.experiments import C\n")
    (pkg / "e.py").write_text("from . import a\n")
    found = cycles(import_graph(tmp_path, ("grader/experiments",)))
    assert found == [
        ["grader.experiments", "grader.experiments.c", "grader.experiments.d",
         "grader.experiments"],
        ["grader.experiments.a", "grader.experiments.b", "grader.experiments.a"],
    ]
