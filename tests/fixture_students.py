"""Every fixture of ``fixtures/`` as a student: a folder of ``ex*.py`` files, and a notebook.

``tests/test_official.py`` grades each fixture the five ways a student's code is graded
(``pytest exercises``, ``grade``, ``autograde``, the notebook's grade cells, ``nbgrader
autograde``), which needs each fixture in two shapes:

- a **folder** (:meth:`Student.write`): the whole submission for the reference and each
  independent correct submission (:data:`patching.ALT_CORRECTS`); for a fixture that changes
  one module (``fixtures/alt_variants``, ``fixtures/wrong``), that module patched into the
  reference (with the reference's modules it imports, if any: ``he_imports_sibling_in_init``
  builds on ex4's net) and the stubs of ``exercises/`` for every other module. The other
  modules' tasks are then unimplemented, and cost nothing to grade, wherever the student is
  graded (a reference module there would only grade the reference again, five times per
  fixture);
- a **notebook** (:func:`student_notebook`): the course notebook with the student's
  definitions in its solution cells, as a student who wrote that folder's code into the
  notebook would hand it in. A module's imports and top-level helpers that the notebook does
  not already define go at the top of that module's first solution cell; given (locked) code
  stays the notebook's own (nbgrader puts it back anyway): a fixture whose module changes
  given code cannot be written into the notebook, and :func:`student_notebook` says so. An
  import from a sibling module (``from ex4_activations import DeepMLPR``) becomes ``pass``:
  in a notebook that name is already a global.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from patching import (
    ALT_CORRECTS,
    EXERCISES,
    FIXTURES,
    SOLUTIONS,
    build,
    read_fixture,
    strip_markers,
)

from grader.impl import EX_MODULE_RE
from grader.tasks import TASKS

WRONG = FIXTURES / "wrong"
VARIANTS = FIXTURES / "alt_variants"
#: the cells of the course notebook a student writes (nbgrader's solution cells)
SOLUTION_PREFIX = "respuesta_"
GRADE_PREFIX = "prueba_"
#: what an experiment cell of a fixture's notebook holds instead of its code (see
#: :func:`student_notebook`)
EXPERIMENT_OMITTED = "# (experimento omitido: esta entrega solo se califica)"


def _read(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("ex*.py"))}


def module_tasks(module: str) -> list[str]:
    """The ids of the tasks that live in ``module`` (``ex5_init``), in task order."""
    return [t.id for t in TASKS if t.module == module]


@dataclass(frozen=True)
class Student:
    """One fixture as a student."""

    name: str  #: folder name and nbgrader student id (lower case, digits, ``_``)
    kind: str  #: ``reference``, ``alt_correct``, ``alt_variant`` or ``wrong``
    files: dict[str, str] = field(repr=False)  #: every ``ex*.py`` of its folder
    module: str | None = None  #: the one module it changes (``None``: all of them)
    task: str | None = None  #: a wrong fixture's declared task
    keys: tuple[str, ...] = ()  #: a wrong fixture's declared message keys
    #: the reference's modules it holds besides ``module``: those ``module`` imports from
    siblings: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        return self.kind != "wrong"

    @property
    def modules(self) -> list[str]:
        """The modules holding code of its own or the reference's (the others are the
        stubs), in file order."""
        if self.module is not None:
            return sorted({self.module, *self.siblings})
        return [name.removesuffix(".py") for name in sorted(self.files)]

    @property
    def tasks(self) -> list[str]:
        """The tasks of its own modules, in task order."""
        return [t for m in self.modules for t in module_tasks(m)]

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder


def sibling_imports(source: str) -> tuple[str, ...]:
    """The sibling modules (``ex4_activations``) ``source`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and EX_MODULE_RE.match(node.module):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if EX_MODULE_RE.match(a.name)}
    return tuple(sorted(found))


def _module_student(name: str, kind: str, patched: str, source: str, **more) -> Student:
    """The stubs, ``patched`` holding ``source`` and each sibling it imports the
    reference's (without them the module could not be right or wrong on its own)."""
    files = _read(EXERCISES)
    assert patched in files, patched
    files[patched] = source
    siblings = sibling_imports(source)
    for sibling in siblings:
        files[f"{sibling}.py"] = strip_markers(
            (SOLUTIONS / f"{sibling}.py").read_text(encoding="utf-8"))
    return Student(name, kind, files, module=patched.removesuffix(".py"), siblings=siblings,
                   **more)


def reference() -> Student:
    """``solutions/`` as a student hands it in (the region markers gone)."""
    return Student("referencia", "reference",
                   {n: strip_markers(t) for n, t in _read(SOLUTIONS).items()})


def alt_corrects() -> list[Student]:
    """Each independent correct submission (:data:`patching.ALT_CORRECTS`), whole."""
    out = []
    for folder in ALT_CORRECTS:
        files = _read(EXERCISES)
        for patch in sorted(folder.glob("ex*.py.diff")):
            name, source = build(patch, EXERCISES)
            files[name] = source
        out.append(Student(folder.name, "alt_correct", files))
    return out


def _only_patch(folder: Path) -> Path:
    (patch,) = sorted(folder.glob("ex*.py.diff"))
    return patch


def alt_variants() -> list[Student]:
    """Each ``fixtures/alt_variants`` idiom: its module patched into the reference."""
    out = []
    for folder in sorted(p for p in VARIANTS.iterdir() if p.is_dir()):
        name, source = build(_only_patch(folder), SOLUTIONS)
        out.append(_module_student(f"v_{folder.name}", "alt_variant", name, source))
    return out


def wrongs() -> list[Student]:
    """Each ``fixtures/wrong`` mistake: its module patched into the reference."""
    out = []
    for folder in sorted(p for p in WRONG.iterdir()
                         if p.is_dir() and not p.name.startswith("_")):
        patch = _only_patch(folder)
        fields, _ = read_fixture(patch)
        name, source = build(patch, SOLUTIONS)
        keys = tuple(k.strip() for k in fields["Keys"].split(","))
        out.append(_module_student(f"w_{folder.name}", "wrong", name, source,
                                   task=fields["Task"].strip(), keys=keys))
    return out


def every_student() -> list[Student]:
    """The reference, every independent correct submission, every correct idiom and every
    mistake, in that order."""
    students = [reference(), *alt_corrects(), *alt_variants(), *wrongs()]
    names = [s.name for s in students]
    assert len(set(names)) == len(names) and all(re.fullmatch(r"[a-z0-9_]+", n)
                                                   for n in names), names
    return students


# --------------------------------------------------------------------- the notebook


class NotNotebookable(ValueError):
    """The student's module changes code the notebook locks; nbgrader would put it back."""


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def _python(source: str) -> str:
    """A cell's source without IPython's own syntax (``%matplotlib``, ``!cmd``)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


def _chunk(lines: list[str], node: ast.stmt) -> str:
    """The lines of a top-level statement, decorators and the comments right above it in."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
    return "\n".join(lines[first - 1:node.end_lineno])


def _without_sibling_imports(text: str) -> str:
    """``text`` with each ``from ex<N>_<module> import ...`` (anywhere) turned into ``pass``:
    a notebook is one namespace, so what a module imports from a sibling is a global there
    already (and there is no ``ex4_activations`` to import)."""
    lines = text.split("\n")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and EX_MODULE_RE.match(node.module):
            first, last = node.lineno - 1, node.end_lineno - 1
            indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
            names = ", ".join(a.asname or a.name for a in node.names)
            lines[first] = f"{indent}pass  # {names}: defined in this notebook"
            for k in range(first + 1, last + 1):
                lines[k] = ""
    return "\n".join(lines)


def _same_code(a: str, b: str) -> bool:
    def norm(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip("\n").split("\n")
                if line.strip() and not line.lstrip().startswith("#")]
    return norm(a) == norm(b)


def _cell_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def student_notebook(base: nbformat.NotebookNode, student: Student,
                     drop_experiments: bool = False) -> nbformat.NotebookNode:
    """``base`` (the course's source or release notebook) with ``student``'s code written in.

    Each solution cell ``respuesta_<name>`` of the student's own modules holds the student's
    definition of ``<name>``; a module's imports and top-level definitions the notebook does
    not otherwise define go at the top of its first solution cell. Experiment cells (code
    cells that are not nbgrader's) hold one comment line instead of their code: they earn no
    points, a student may change them, and they would train for seconds per fixture in the
    kernel and again in the sandbox; with ``drop_experiments`` they and every Markdown cell
    are left out. Raises :class:`NotNotebookable` when the module changes given code.
    """
    nb = nbformat.from_dict(base)
    locked: set[str] = set()  # names the notebook's own code (imports, helpers, given) binds
    given: dict[str, str] = {}  # given definition name -> the notebook's source
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("solution") or meta.get("grade"):
            continue
        if not meta:
            continue  # an experiment: students may change it; never relied on
        for node in ast.parse(_python(cell.source)).body:
            locked |= _bound_names(node)
            if meta.get("grade_id", "").startswith("dado_") and isinstance(
                    node, (ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)):
                for name in _bound_names(node):
                    given[name] = cell.source
    solution_cells = {_cell_id(c).removeprefix(SOLUTION_PREFIX): c for c in nb.cells
                      if _cell_id(c).startswith(SOLUTION_PREFIX)}
    from grader.authoring.course_notebook import read_template

    cell_module = {entry[2]: entry[1] for entry in read_template() if entry[0] == "solution"}
    for module in student.modules:
        text = _without_sibling_imports(student.files[f"{module}.py"])
        lines = text.split("\n")
        tree = ast.parse(text)
        extras: list[str] = []
        for index, node in enumerate(tree.body):
            if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # the module docstring
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            names = _bound_names(node)
            chunk = _chunk(lines, node)
            mine = [n for n in names if cell_module.get(n) == module]
            if mine:
                solution_cells[mine[0]].source = chunk
            elif names & set(given) and isinstance(node, (ast.FunctionDef, ast.ClassDef,
                                                           ast.Assign, ast.AnnAssign)):
                name = sorted(names & set(given))[0]
                if not _same_code(chunk, given[name]):
                    raise NotNotebookable(f"{student.name}: {module}.{name} changes given "
                                          "code, which the notebook locks")
            elif not names or not names <= locked:
                extras.append(chunk)  # an import or helper of the student's own
        if extras:
            first = next(c for c in nb.cells if _cell_id(c).startswith(SOLUTION_PREFIX)
                         and cell_module[_cell_id(c).removeprefix(SOLUTION_PREFIX)] == module)
            first.source = "\n".join(extras) + "\n\n\n" + first.source
    kept = []
    for cell in nb.cells:
        experiment = cell.cell_type == "code" and not cell.get("metadata", {}).get("nbgrader")
        if drop_experiments and (experiment or cell.cell_type != "code"):
            continue
        if experiment:
            cell.source = EXPERIMENT_OMITTED
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        kept.append(cell)
    nb.cells = kept
    return nb


def grade_cell_tasks(nb: nbformat.NotebookNode) -> dict[int, str]:
    """Index of each grade cell -> its task."""
    return {i: _cell_id(c).removeprefix(GRADE_PREFIX) for i, c in enumerate(nb.cells)
            if _cell_id(c).startswith(GRADE_PREFIX)}
