"""Generate the nbgrader source notebook ``course/source/practico2/practico2.ipynb`` from ``solutions/``.

One authored source: every line of Python the notebook takes from the practical
(given code and the code of each solution region) is read from ``solutions/ex*.py``
at generation time; the narrative and the experiments are a document of their own,
``course/practico2.py`` (jupytext's percent format, linted as code), whose cells also say
where each definition of ``solutions/`` and each grade cell goes. This module assembles the
two; it fails loudly when a definition of ``solutions/`` is missing from the template or
used twice, so a new function cannot silently stay out of the notebook.

Cells, in nbgrader's terms:

- given code (read-only, ``locked``): the definitions without solution regions and
  the notebook's own helpers; autograde puts them back if a student edits them;
- solution cells: a definition holding regions, each region wrapped in nbgrader's
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (found with :func:`grader.authoring.stubs.find_regions`);
- grade cells (read-only, worth the task's points): :func:`grader.nb.check_task`, the
  same checks as ``pytest exercises``, public inputs first and a hidden variant in
  ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``;
- narrative (Markdown) and experiments (plain code cells students may change).

``python -m grader notebook`` writes the notebook; ``--check`` fails when the committed
file differs from what would be generated (``tests/test_nbgrader.py`` does the same).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.authoring.stubs import BEGIN_RE, find_regions, solution_files
from grader.budgets import BUDGETS
from grader.settings import KIT_ROOT
from grader.tasks import TASK_BY_ID, TASKS

ASSIGNMENT = "practico2"
NOTEBOOK_PATH = KIT_ROOT / "course" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

#: Imports the notebook needs besides those of ``solutions/`` (plots, widgets, the kit).
NOTEBOOK_IMPORTS = """\
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display
from matplotlib.ticker import MaxNLocator
from grader.data import FastLoader, fast_mnist_loaders
"""


class NotebookSourceError(ValueError):
    """``solutions/`` and the course template do not fit together; the message says how to fix it."""


# --------------------------------------------------------------------- reading solutions/


@dataclass(frozen=True)
class Definition:
    module: str
    name: str
    source: str  # the definition's lines, solution markers already in nbgrader's form
    tasks: tuple[str, ...]  # tasks of the regions inside it, in order


@dataclass
class ModuleSource:
    module: str
    imports: list[ast.stmt]
    definitions: dict[str, Definition]


def _target_name(node: ast.stmt) -> str | None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
        node.targets[0], ast.Name
    ):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def read_module(path: Path) -> ModuleSource:
    """Split one solution file into its imports and its top-level definitions."""
    text = path.read_text(encoding="utf-8")
    regions = find_regions(text, path)  # raises MarkerError on malformed markers
    tree = ast.parse(text, filename=str(path))
    lines = text.splitlines()
    imports: list[ast.stmt] = []
    definitions: dict[str, Definition] = {}
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring: the notebook has its own narrative
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue  # the notebook targets Python >= 3.10, where annotations evaluate fine
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
            continue
        name = _target_name(node)
        if name is None:
            raise NotebookSourceError(
                f"{path}:{node.lineno}: the notebook generator only knows imports, functions, "
                "classes and simple assignments at the top level; move this statement into "
                "a function or teach grader/authoring/course_notebook.py where it goes"
            )
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        # Comment lines right above a definition belong to it (e.g. ``#: doc`` of a constant).
        while first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        last = node.end_lineno or node.lineno
        inside = [r for r in regions if first <= r.begin <= last]
        # ``# END SOLUTION`` is a comment after the last statement: the AST ends before it.
        last = max([last] + [r.end for r in inside])
        chunk = lines[first - 1 : last]
        tasks = []
        for region in inside:
            tasks.append(region.task)
            chunk[region.begin - first] = BEGIN_RE.sub(r"\g<indent>### BEGIN SOLUTION",
                                                       chunk[region.begin - first])
            end_line = chunk[region.end - first]
            indent = end_line[: len(end_line) - len(end_line.lstrip())]
            chunk[region.end - first] = f"{indent}### END SOLUTION"
        definitions[name] = Definition(path.stem, name, "\n".join(chunk), tuple(tasks))
    return ModuleSource(path.stem, imports, definitions)


def _merge_imports(nodes: list[ast.stmt]) -> str:
    """All import statements, each module once, in the order they first appear.

    No sorting: the notebook is generated, and ruff is told not to sort its imports
    (``pyproject.toml``), so the kit needs no copy of isort's rules.
    """
    plain: dict[str, None] = {}
    froms: dict[str, dict[str, None]] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                plain[alias.name + (f" as {alias.asname}" if alias.asname else "")] = None
        elif isinstance(node, ast.ImportFrom):
            names = froms.setdefault("." * node.level + (node.module or ""), {})
            for alias in node.names:
                names[alias.name + (f" as {alias.asname}" if alias.asname else "")] = None
    lines = [f"import {m}" for m in plain]
    lines += [f"from {m} import {', '.join(names)}" for m, names in froms.items()]
    return "\n".join(lines)


# --------------------------------------------------------------------- the template

#: The notebook's prose and experiment cells (jupytext percent format; see its header).
TEMPLATE = KIT_ROOT / "course" / "practico2.py"
#: what a cell's ``kit`` metadata may say, and the metadata each kind needs
_KINDS = {"imports": (), "helper": ("name",), "given": ("source",), "solution": ("source",),
          "grade": ("task",)}


def read_template(path: Path = TEMPLATE) -> list[tuple[str, ...]]:
    """The notebook's layout, cell by cell, from the course template.

    Each entry is ``("md", text)``, ``("code", source)``, ``("imports",)``,
    ``("helper", name, source)``, ``("given"|"solution", module, name)`` or
    ``("grade", task_id)``.
    """
    import jupytext

    try:
        template = jupytext.read(path, fmt="py:percent")
    except OSError as exc:
        raise NotebookSourceError(f"{path}: cannot be read ({exc})") from None
    layout: list[tuple[str, ...]] = []
    for number, cell in enumerate(template.cells, 1):
        kind = cell.metadata.get("kit")
        if kind == "about":  # the template's own notes
            continue
        if cell.cell_type == "markdown":
            layout.append(("md", cell.source))
            continue
        if kind is None:
            layout.append(("code", cell.source))
            continue
        where = f"{path}, cell {number}"
        if kind not in _KINDS:
            raise NotebookSourceError(f"{where}: kit={kind!r} is not one of {', '.join(_KINDS)}")
        missing = [key for key in _KINDS[kind] if not isinstance(cell.metadata.get(key), str)]
        if missing:
            raise NotebookSourceError(f"{where}: kit={kind!r} needs {', '.join(missing)}=\"...\"")
        if kind in ("imports", "given", "solution", "grade") and cell.source.strip():
            raise NotebookSourceError(f"{where}: a kit={kind!r} cell takes its code from "
                                      "solutions/ or the kit; leave its body empty")
        if kind == "imports":
            layout.append(("imports",))
        elif kind == "helper":
            layout.append(("helper", cell.metadata["name"], cell.source))
        elif kind == "grade":
            if cell.metadata["task"] not in TASK_BY_ID:
                raise NotebookSourceError(f"{where}: no task {cell.metadata['task']!r}")
            layout.append(("grade", cell.metadata["task"]))
        else:
            module, _, name = cell.metadata["source"].partition(".")
            if not name:
                raise NotebookSourceError(f"{where}: source=\"module.name\", e.g. "
                                          "source=\"ex0_data.load_mnist\"")
            layout.append((kind, module, name))
    return layout


def _budget_rows() -> str:
    """The notebook's table of budgets, written from :data:`grader.budgets.BUDGETS`."""
    rows = []
    for b in BUDGETS.values():
        images = "None" if b.train_images is None else f"{b.train_images:_}"
        note = "  # None: las 54.000 imágenes" if b.train_images is None else ""
        rows.append(f'    "{b.name}": ({b.mnist_epochs}, {images}, {b.parity_epochs}, '
                    f'{b.parity_examples:_}),{note}')
    return "\n".join(rows)


def grade_source(task_id: str) -> str:
    """The grade cell of one task: public checks, then a hidden variant."""
    task = TASK_BY_ID[task_id]
    return (
        f"# Comprobación de la tarea {task.id} ({task.points} puntos): las mismas pruebas que\n"
        f"# `pytest exercises`, sobre tus definiciones de este cuaderno. Celda de solo lectura.\n"
        "from grader.nb import check_task\n"
        "\n"
        f"nota = check_task({task.id!r}, globals())\n"
        "### BEGIN HIDDEN TESTS\n"
        f"nota = check_task({task.id!r}, globals(), variant=1, after=nota)\n"
        "### END HIDDEN TESTS\n"
        "nota"
    )


# --------------------------------------------------------------------- building


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False,
          locked: bool = False, points: int | None = None) -> dict:
    from nbgrader.nbgraderformat import SCHEMA_VERSION

    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def build_notebook(solutions: Path = KIT_ROOT / "solutions",
                   template: Path = TEMPLATE) -> nbformat.NotebookNode:
    """The source notebook, built from the course template and the files in ``solutions``."""
    files = solution_files(solutions)
    if not files:
        raise NotebookSourceError(f"no ex*.py files in {solutions}")
    modules = {p.stem: read_module(p) for p in files}
    used: set[tuple[str, str]] = set()
    graded: list[str] = []
    cells = []

    def definition(module: str, name: str) -> Definition:
        if module not in modules or name not in modules[module].definitions:
            raise NotebookSourceError(
                f"{template} names {module}.{name}, which {solutions} does not define; "
                "update the template to match solutions/"
            )
        if (module, name) in used:
            raise NotebookSourceError(f"{template} uses {module}.{name} twice")
        used.add((module, name))
        return modules[module].definitions[name]

    for index, entry in enumerate(read_template(template)):
        kind = entry[0]
        cell_id = f"c{index:02d}"
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(entry[1].strip("\n"))
        elif kind == "imports":
            nodes = [n for m in modules.values() for n in m.imports]
            nodes += ast.parse(NOTEBOOK_IMPORTS).body
            source = "%matplotlib inline\n" + _merge_imports(nodes)
            cell = nbformat.v4.new_code_cell(source, metadata=_meta("dado_imports", locked=True))
            cell_id = "dado_imports"
        elif kind == "helper":
            cell_id = f"dado_{entry[1]}"
            source = entry[2].strip("\n").replace("__PRESUPUESTOS__", _budget_rows())
            cell = nbformat.v4.new_code_cell(source, metadata=_meta(cell_id, locked=True))
        elif kind == "given":
            d = definition(entry[1], entry[2])
            if d.tasks:
                raise NotebookSourceError(
                    f"{d.module}.{d.name} holds solution regions ({', '.join(d.tasks)}): "
                    "mark its cell kit=\"solution\" in the template"
                )
            cell_id = f"dado_{d.name}"
            cell = nbformat.v4.new_code_cell(d.source, metadata=_meta(cell_id, locked=True))
        elif kind == "solution":
            d = definition(entry[1], entry[2])
            if not d.tasks:
                raise NotebookSourceError(
                    f"{d.module}.{d.name} has no solution region: mark its cell kit=\"given\""
                )
            cell_id = f"respuesta_{d.name}"
            cell = nbformat.v4.new_code_cell(d.source, metadata=_meta(cell_id, solution=True))
        elif kind == "grade":
            task = TASK_BY_ID[entry[1]]
            graded.append(task.id)
            cell_id = f"prueba_{task.id}"
            cell = nbformat.v4.new_code_cell(
                grade_source(task.id),
                metadata=_meta(cell_id, grade=True, locked=True, points=task.points))
        elif kind == "code":
            cell = nbformat.v4.new_code_cell(entry[1].strip("\n"))
        else:  # pragma: no cover - read_template knows every kind
            raise NotebookSourceError(f"unknown template entry {entry!r}")
        cell.id = cell_id  # stable ids: the generated file must be byte-identical every time
        cells.append(cell)

    missing = [f"{m.module}.{name}" for m in modules.values() for name in m.definitions
               if (m.module, name) not in used]
    if missing:
        raise NotebookSourceError(
            f"solutions/ defines {', '.join(missing)}, which the notebook does not show; add "
            f"a cell for each to {template}"
        )
    if sorted(graded) != sorted(t.id for t in TASKS) or len(graded) != len(set(graded)):
        raise NotebookSourceError(
            f"{template} must grade every task exactly once; it grades {graded}")

    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": dict(KERNELSPEC),
                   "language_info": {"name": "python", "file_extension": ".py"}}
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """The notebook as the text written to disk."""
    return nbformat.writes(nb) + "\n"


def notebook_text(solutions: Path = KIT_ROOT / "solutions") -> str:
    return render(build_notebook(solutions))


def check_notebook(path: Path = NOTEBOOK_PATH,
                   solutions: Path = KIT_ROOT / "solutions") -> list[str]:
    """Problems found comparing the file at ``path`` with a fresh generation; empty if equal."""
    expected = notebook_text(solutions)
    if not path.is_file():
        return [f"{path}: missing (run `python -m grader notebook`)"]
    current = path.read_text(encoding="utf-8")
    if current == expected:
        return []
    diff = difflib.unified_diff(current.splitlines(keepends=True),
                                expected.splitlines(keepends=True),
                                fromfile=f"{path} (committed)", tofile=f"{path} (generated)", n=1)
    return ["".join(list(diff)[:200])]


def write_notebook(path: Path = NOTEBOOK_PATH, solutions: Path = KIT_ROOT / "solutions") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(solutions), encoding="utf-8")
    return path
