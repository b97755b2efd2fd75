"""Generate the student stubs (``exercises/``) from the reference (``solutions/``).

The reference marks each part students write with a region::

    def one_hot(y, num_classes=10):
        \"\"\"docstring (kept)\"\"\"
        # BEGIN SOLUTION onehot_mse
        ... reference code (removed) ...
        # END SOLUTION

Everything outside regions is given code and is copied as is. Each region becomes a
TODO comment and a ``NotImplementedError`` that names the task and what to write.
Regions must sit inside a function body, carry a known task id, and neither nest
nor stay open; any violation is a :class:`MarkerError` naming file and line.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.cli_language import helptext
from grader.options import UserError, report_drift
from grader.settings import KIT_ROOT
from grader.tasks import TASK_BY_ID

BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\b(?P<rest>.*)$")
END_RE = re.compile(r"^[ \t]*#\s*END SOLUTION\b(?P<rest>.*)$")

HEADER = (
    "# Práctico 2: completá cada TODO de este archivo y corré `pytest exercises`.\n"
    "# (Generado con `python -m grader build-stubs` a partir de la solución de referencia.)\n"
)


class MarkerError(ValueError):
    """A malformed ``BEGIN/END SOLUTION`` region, with file and line."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


@dataclass(frozen=True)
class Region:
    task: str
    begin: int  # 1-based line of the BEGIN marker
    end: int  # 1-based line of the END marker
    indent: str
    qualname: str  # enclosing function, e.g. "SNet.forward"


def _functions(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function in the module with its qualified name (``Class.method``)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found.append((name, child))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def find_regions(source: str, path: Path | str) -> list[Region]:
    """Parse the solution regions of one file; raise :class:`MarkerError` on bad markers."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise MarkerError(path, exc.lineno or 0, f"not valid Python: {exc.msg}") from None
    functions = _functions(tree)
    regions: list[Region] = []
    open_at: tuple[int, str, str] | None = None  # (line, task, indent)
    for lineno, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN_RE.match(line)
        end = END_RE.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(
                    path, lineno, f"nested BEGIN SOLUTION (the region opened at line "
                    f"{open_at[0]} is still open)"
                )
            task = begin.group("rest").strip()
            if not task:
                raise MarkerError(path, lineno, "BEGIN SOLUTION needs a task id, e.g. "
                                  "'# BEGIN SOLUTION onehot_mse'")
            if task not in TASK_BY_ID:
                raise MarkerError(path, lineno, f"unknown task id {task!r}; valid ids: "
                                  f"{', '.join(TASK_BY_ID)}")
            open_at = (lineno, task, begin.group("indent"))
        elif end:
            if open_at is None:
                raise MarkerError(path, lineno, "END SOLUTION without a matching BEGIN SOLUTION")
            start, task, indent = open_at
            if lineno == start + 1:
                raise MarkerError(path, start, "empty solution region")
            owner = [
                name for name, fn in functions
                if fn.lineno < start <= (fn.end_lineno or 0)
            ]
            if not owner:
                raise MarkerError(path, start, "a solution region must sit inside a function body")
            # The innermost function is the last one visited that contains the region.
            regions.append(Region(task, start, lineno, indent, owner[-1]))
            open_at = None
    if open_at is not None:
        raise MarkerError(path, open_at[0], "BEGIN SOLUTION is never closed by END SOLUTION")
    return regions


def _todo_lines(region: Region, filename: str) -> list[str]:
    ind = region.indent
    what = region.qualname
    message = (
        f"[{region.task}] Falta implementar {what} en {filename} (TODO). "
        f"/ {what} is not implemented yet."
    )
    return [
        f"{ind}# TODO [{region.task}]: implementá {what} (ver la docstring).\n",
        f"{ind}raise NotImplementedError({message!r})\n",
    ]


def make_stub(source: str, path: Path | str) -> str:
    """The student version of one solution file."""
    regions = find_regions(source, path)
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    cursor = 0
    for region in regions:
        out.extend(lines[cursor : region.begin - 1])
        out.extend(_todo_lines(region, Path(path).name))
        cursor = region.end
    out.extend(lines[cursor:])
    text = "".join(out)
    return HEADER + text


def solution_files(solutions: Path) -> list[Path]:
    return sorted(p for p in solutions.glob("ex*.py") if p.is_file())


def build_stubs(solutions: Path, exercises: Path, check: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) ``exercises/ex*.py`` generated from ``solutions/``.

    Returns the list of problems found in check mode (a unified diff per drifted
    file, or a missing/extra file); empty when everything matches. Raises
    :class:`MarkerError` for malformed regions in either mode.
    """
    sources = solution_files(solutions)
    if not sources:
        raise FileNotFoundError(f"no ex*.py files in {solutions}")
    problems: list[str] = []
    expected_names = set()
    for src in sources:
        stub = make_stub(src.read_text(encoding="utf-8"), src)
        target = exercises / src.name
        expected_names.add(src.name)
        if check:
            current = target.read_text(encoding="utf-8") if target.exists() else None
            if current is None:
                problems.append(f"{target}: missing (run `python -m grader build-stubs`)")
            elif current != stub:
                diff = difflib.unified_diff(
                    current.splitlines(keepends=True), stub.splitlines(keepends=True),
                    fromfile=f"{target} (committed)", tofile=f"{target} (generated)", n=1,
                )
                problems.append("".join(diff))
        else:
            exercises.mkdir(parents=True, exist_ok=True)
            target.write_text(stub, encoding="utf-8")
    if check:
        for extra in solution_files(exercises):
            if extra.name not in expected_names:
                problems.append(f"{extra}: has no counterpart in {solutions}")
    return problems


def _cmd_build_stubs(args: argparse.Namespace) -> int:
    try:
        problems = build_stubs(Path(args.solutions), Path(args.exercises), check=args.check)
    except MarkerError as exc:
        raise UserError(f"solution markers: {exc}") from None
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    if args.check:
        return report_drift(f"exercises/ ({args.exercises})", problems,
                            "python -m grader build-stubs")
    print(f"wrote stubs to {args.exercises}")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("build-stubs", help=helptext("cli_stubs"),
                       description=helptext("cli_stubs"))
    p.add_argument("--solutions", default=str(KIT_ROOT / "solutions"),
                   help=helptext("cli_stubs_solutions"))
    p.add_argument("--exercises", default=str(KIT_ROOT / "exercises"),
                   help=helptext("cli_stubs_exercises"))
    p.add_argument("--check", action="store_true", help=helptext("cli_stubs_check"))
    p.set_defaults(func=_cmd_build_stubs)
