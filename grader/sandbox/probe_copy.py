"""Build the sandbox child's copy of the grader: probe-side code only.

Student code runs in a child whose only kit code is this copy. If the copy held the
checks' verdicts or the grader's oracles (``probe_stats``' expected values, the float64
MLP, the exact losses of a training loop), a submission could import them and hand the
grader its own answers. So the copy is built from an explicit list of modules:

- ``WHOLE``: modules that are probe-side through and through (the child's entry point, the
  zygote, the wire format, importing an implementation, MNIST loading, the task table),
  copied as they are;
- ``PROBE_ONLY``: modules that mix both sides (the checks, running a probe, the training
  helpers). Each is rewritten from its syntax tree keeping only imports, module-level
  statements that are not definitions (constants, registrations), definitions marked
  :func:`grader.probe_side.probe_side`, and, in every other class, its class attributes
  and its ``probe`` method. Verdicts, ``inputs`` builders and unmarked helpers are gone;
  imports of what is gone are dropped with them;
- every other module (``checks/expect.py``, the CLI, messages, the sandbox itself, ...)
  is not copied at all.

The rule is fail-closed: forgetting to mark a probe helper breaks that check on the
reference (``tests/test_harness.py`` grades it in the sandbox); forgetting to mark a
verdict helper cannot leak it.
"""

from __future__ import annotations

import ast
from pathlib import Path

GRADER_DIR = Path(__file__).resolve().parent.parent

#: copied byte for byte (paths relative to the ``grader`` package folder)
WHOLE = (
    "__init__.py", "data.py", "impl.py", "probe_side.py", "settings.py", "tasks.py",
    "checks/capture.py", "sandbox/run_cells.py",
    "codec.py", "sandbox/__init__.py", "sandbox/child.py", "sandbox/children.py",
    "sandbox/jail.py", "sandbox/mounts.py", "sandbox/zygote.py",
)
#: rewritten to their probe side (see the module docstring)
PROBE_ONLY = (
    "checks/__init__.py", "checks/base.py", "checks/he_init.py", "checks/lr_sweep.py",
    "checks/exploding.py", "checks/spies.py",
    "checks/init_schemes.py", "checks/learning.py", "checks/probe_stats.py",
    "checks/loops.py", "checks/nets.py", "checks/onehot.py", "checks/viewer.py", "probing.py",
    "training.py", "sandbox/wire.py",
)
#: the method of a check class that runs next to student code, marked or not
PROBE_METHOD = "probe"
MARKER = "probe_side"

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def module_name(relative: str) -> str:
    """``checks/init.py`` -> ``grader.checks.init_schemes``; ``checks/__init__.py`` -> ``grader.checks``."""
    parts = ["grader", *relative.removesuffix(".py").split("/")]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _marked(node: ast.AST) -> bool:
    for deco in getattr(node, "decorator_list", []):
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
        if name == MARKER:
            return True
    return False


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _probe_class(node: ast.ClassDef) -> ast.ClassDef:
    """An unmarked class: its docstring, class attributes and probe-side methods only."""
    body: list[ast.stmt] = []
    for item in node.body:
        if isinstance(item, _DEFS):
            if _marked(item) or (isinstance(item, ast.FunctionDef) and item.name == PROBE_METHOD):
                body.append(item)
        elif isinstance(item, (ast.Assign, ast.AnnAssign, ast.Pass)) or _is_docstring(item):
            body.append(item)
    node.body = body or [ast.Pass()]
    return node


def _defined(tree: ast.Module) -> set[str]:
    """Top-level names a module defines (definitions, assignments, imports)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, _DEFS):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _filter_import(node: ast.stmt, modules: set[str], exported: dict[str, set[str]]):
    """The import without what the harness does not hold (``None`` if nothing is left)."""
    if isinstance(node, ast.Import):
        keep = [a for a in node.names
                if not a.name.startswith("grader") or a.name in modules]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
        node.module == "grader" or node.module.startswith("grader.")
    ):
        if node.module not in modules:
            return None
        keep = [a for a in node.names if f"{node.module}.{a.name}" in modules
                or a.name in exported.get(node.module, set())]
    else:
        return node
    if not keep:
        return None
    node.names = keep
    return node


def probe_only(source: str, modules: set[str], exported: dict[str, set[str]]) -> ast.Module:
    """The probe side of one module's source, as a syntax tree (see the module docstring)."""
    tree = ast.parse(source)
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept = _filter_import(node, modules, exported)
            if kept is not None:
                body.append(kept)
        elif isinstance(node, ast.ClassDef):
            body.append(node if _marked(node) else _probe_class(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _marked(node):
                body.append(node)
        else:
            body.append(node)
    tree.body = body
    return tree


def harness_sources(source_dir: Path = GRADER_DIR) -> dict[str, str]:
    """``{path relative to the package: text}`` of the harness copy of the grader."""
    modules = {module_name(rel) for rel in (*WHOLE, *PROBE_ONLY)}
    texts = {rel: (source_dir / rel).read_text(encoding="utf-8") for rel in (*WHOLE, *PROBE_ONLY)}
    exported = {module_name(rel): _defined(ast.parse(texts[rel])) for rel in WHOLE}
    trees: dict[str, ast.Module] = {}
    # Dropping a definition can empty an import elsewhere, which drops a name that a third
    # module imports: repeat until nothing changes (a few passes for this package).
    for _ in range(10):
        before = {m: set(v) for m, v in exported.items()}
        for rel in PROBE_ONLY:
            trees[rel] = probe_only(texts[rel], modules, exported)
            exported[module_name(rel)] = _defined(trees[rel])
        if exported == before:
            break
    else:  # pragma: no cover - would need a pathological import graph
        raise RuntimeError("harness: the probe-side import graph did not settle")
    out = {rel: texts[rel] for rel in WHOLE}
    for rel, tree in trees.items():
        header = (f"# Probe side of grader/{rel}, generated by grader.sandbox.probe_copy: verdicts and "
                  "oracles are not here.\n")
        out[rel] = header + ast.unparse(tree) + "\n"
    return out


def build_harness(dest: Path, source_dir: Path = GRADER_DIR) -> None:
    """Write the harness copy of the grader package into ``dest/grader``."""
    for rel, text in harness_sources(source_dir).items():
        path = dest / "grader" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
