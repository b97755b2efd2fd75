"""What students receive, and the generated nbgrader notebook.

- ``python -m grader release OUT_DIR``: builds the student release in ``OUT_DIR``:
  ``exercises/`` (stubs generated from ``solutions/`` and the public check wrappers),
  the ``grader`` package that runs them (the checks are public; it holds no reference
  code), a minimal ``pyproject.toml`` so ``pip install -e .`` works there, the student
  notebook made by the real ``nbgrader generate_assignment``, and a short README in Spanish.
  Nothing else of the kit goes in: not ``solutions/``, not ``fixtures/``, not the course.
- ``python -m grader notebook [--check]``: writes the nbgrader source notebook from
  ``solutions/`` (:mod:`grader.authoring.course_notebook`), or checks the committed one is up to date.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.cli_language import helptext
from grader.options import UserError, report_drift
from grader.settings import KIT_ROOT

#: The folder of the kit's ``grader`` package that only instructors use (stubs, the course
#: notebook, this release, the kernel client): it reads ``solutions/`` at run time, so it is
#: useless (and confusing) in a release, and it is left out as a whole.
INSTRUCTOR_ONLY = "authoring"

#: A file in every release, so ``--force`` only ever replaces a folder this command made.
MARKER = ".practico-release"

#: What the student release installs. Same packages as the kit's ``[project]
#: dependencies`` (``tests/test_nbgrader.py`` compares them), without nbgrader.
STUDENT_DEPENDENCIES = (
    "torch>=2.2",
    "torchvision>=0.17",
    "numpy>=1.24",
    "matplotlib>=3.7",
    "pytest>=8",
    "tqdm>=4.60",
)
STUDENT_NOTEBOOK_EXTRAS = ("ipywidgets>=8", "ipykernel>=6", "jupyterlab>=4")


def _pyproject() -> str:
    deps = "".join(f'    "{d}",\n' for d in STUDENT_DEPENDENCIES)
    extras = ", ".join(f'"{d}"' for d in STUDENT_NOTEBOOK_EXTRAS)
    return f"""\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "practico2"
version = "0.1.0"
description = "Práctico 2: ejercicios y pruebas (versión para estudiantes)"
requires-python = ">=3.10"
dependencies = [
{deps}]

[project.optional-dependencies]
notebook = [{extras}]

[project.scripts]
practico = "grader.cli:main"

# Activates the checks' pytest plugin, so `pytest exercises` works.
[project.entry-points.pytest11]
practico = "grader.pytest_plugin"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.pytest.ini_options]
addopts = "-ra"
"""


README = """\
# Práctico 2: activaciones, pérdidas, profundidad e inicialización

En esta carpeta está todo lo que necesitás para hacer el práctico:

| qué | dónde |
|---|---|
| el cuaderno del práctico, con la teoría, los experimentos y las celdas para completar | `practico2.ipynb` |
| los mismos ejercicios como archivos de Python, con sus pruebas | `exercises/` |
| las pruebas (se instalan con el paquete) | `grader/` |

## 1. Instalar (una vez)

Con Python 3.10 o más nuevo:

```bash
python3 -m venv .venv
source .venv/bin/activate          # en Windows: .venv\\Scripts\\activate
pip install -e ".[notebook]"       # sin Jupyter alcanza con: pip install -e .
```

Las pruebas y el cuaderno usan MNIST. Si ya lo tenés descargado, indicá la carpeta que contiene
`MNIST/raw/` con `export PRACTICO_DATA=/ruta/a/data`; si no, la primera vez se descarga solo en
`./data` (hace falta internet).

## 2. Dónde escribir

- **En el cuaderno**: abrí `practico2.ipynb` con `jupyter lab` y completá cada celda que dice
  `# TU CÓDIGO AQUÍ` (borrá el `raise NotImplementedError()`). Después de cada tarea hay una
  celda *Comprobación* que corre las pruebas sobre tu código y te muestra el puntaje.
- **En archivos**: completá cada `TODO [tarea]` de `exercises/ex*.py`. Las docstrings dicen qué
  formas y tipos devolver.

En los dos casos, no cambies los nombres de las funciones ni de las clases: las pruebas los
buscan por nombre.

## 3. Correr las pruebas

```bash
pytest exercises                              # todas
pytest exercises/test_ex1_onehot_mse.py       # las de un archivo
pytest exercises -k one_hot                   # por nombre
```

Cada prueba que falla dice qué esperaba, qué encontró y una pista. Al final hay una tabla con tus
puntos por tarea. Los mensajes están en castellano; `PRACTICO_LANG=en pytest exercises` los
muestra en inglés. Si tenés GPU, `pytest exercises --device cuda`.

## 4. Entregar

Entregá **el cuaderno** `practico2.ipynb` con tus respuestas: guardalo, y si el curso usa
JupyterHub con nbgrader, entregalo desde la pestaña *Assignments* con *Submit*; si no, subí el
archivo donde indique la cátedra. Antes de entregar, corré *Kernel → Restart & Run All* y
revisá que todas las celdas corran.

Si la cátedra te pide los archivos de Python en lugar del cuaderno, entregá tus
`exercises/ex*.py` (por ejemplo `zip entrega.zip exercises/ex*.py`).

Al calificar se corren las mismas pruebas y algunas más con otros datos, así que una solución
que solo sirve para los datos de ejemplo no alcanza.
"""


def _copy_grader(kit: Path, dest: Path) -> None:
    shutil.copytree(
        kit / "grader", dest,
        ignore=lambda folder, names: [
            n for n in names
            if n == "__pycache__" or n.endswith(".pyc")
            or (Path(folder).resolve() == (kit / "grader").resolve() and n == INSTRUCTOR_ONLY)
        ],
    )


def _write_exercises(kit: Path, dest: Path) -> list[str]:
    from grader.authoring.stubs import MarkerError, make_stub, solution_files

    dest.mkdir(parents=True)
    written = []
    sources = solution_files(kit / "solutions")
    if not sources:
        raise UserError(f"{kit / 'solutions'}: no ex*.py files; is {kit} the kit's root?")
    for src in sources:
        try:
            stub = make_stub(src.read_text(encoding="utf-8"), src)
        except MarkerError as exc:
            raise UserError(f"solution markers: {exc}") from None
        (dest / src.name).write_text(stub, encoding="utf-8")
        written.append(src.name)
    wrappers = sorted((kit / "exercises").glob("test_ex*.py"))
    if not wrappers:
        raise UserError(f"{kit / 'exercises'}: no test_ex*.py check wrappers to ship")
    for wrapper in wrappers:
        shutil.copy2(wrapper, dest / wrapper.name)
        written.append(wrapper.name)
    return written


def generate_student_notebook(kit: Path, dest: Path) -> Path:
    """Run the real ``nbgrader generate_assignment`` in a temporary copy of the course.

    The source notebook is generated afresh from ``kit/solutions`` (never read from disk),
    so the release always matches the solutions it was built from. Returns the folder
    holding the released assignment's files, copied into ``dest``.
    """
    from grader.authoring.course_notebook import ASSIGNMENT, notebook_text

    course = kit / "course"
    config = course / "nbgrader_config.py"
    if not config.is_file():
        raise UserError(f"{config}: missing; the release needs the course's nbgrader config")
    with tempfile.TemporaryDirectory(prefix="practico-release-") as tmp:
        root = Path(tmp) / "course"
        source = root / "source" / ASSIGNMENT
        source.mkdir(parents=True)
        shutil.copy2(config, root / "nbgrader_config.py")
        # Supporting files of the assignment travel too; the notebook itself is regenerated.
        for item in (course / "source" / ASSIGNMENT).glob("*"):
            if item.name == f"{ASSIGNMENT}.ipynb" or item.name.startswith("."):
                continue
            if item.is_dir():
                shutil.copytree(item, source / item.name)
            else:
                shutil.copy2(item, source / item.name)
        (source / f"{ASSIGNMENT}.ipynb").write_text(notebook_text(kit / "solutions"),
                                                    encoding="utf-8")
        cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"]
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
        released = root / "release" / ASSIGNMENT
        if proc.returncode != 0 or not (released / f"{ASSIGNMENT}.ipynb").is_file():
            tail = (proc.stdout + proc.stderr)[-3000:]
            raise UserError(f"`nbgrader generate_assignment {ASSIGNMENT}` failed "
                            f"(exit {proc.returncode}); is nbgrader installed "
                            f"(pip install -e \".[notebook]\")? Its output:\n{tail}")
        dest.mkdir(parents=True, exist_ok=True)
        for item in released.iterdir():
            target = dest / item.name
            if item.is_dir():
                shutil.copytree(item, target)
            else:
                shutil.copy2(item, target)
    return dest


def build_release(out: Path, kit: Path = KIT_ROOT, force: bool = False) -> list[Path]:
    """Build the student release in ``out``; returns the files written (relative paths)."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise UserError(f"{out}: exists and is not a folder; choose another OUT_DIR")
        if any(out.iterdir()):
            if not force:
                raise UserError(f"{out}: exists and is not empty; choose a new folder, or pass "
                                "--force to replace a release made earlier by this command")
            if not (out / MARKER).is_file():
                raise UserError(f"{out}: --force only replaces a folder made by `python -m "
                                f"grader release` (it has no {MARKER} file); not touching it")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the target and swap in at the end: a failure leaves no half release.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_exercises(kit, staging / "exercises")
        _copy_grader(kit, staging / "grader")
        generate_student_notebook(kit, staging)
        (staging / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
        (staging / "README.md").write_text(README, encoding="utf-8")
        (staging / MARKER).write_text("made by `python -m grader release`\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())


# --------------------------------------------------------------------- commands


def _cmd_release(args: argparse.Namespace) -> int:
    kit = Path(args.kit).resolve()
    files = build_release(Path(args.out_dir), kit, force=args.force)
    notebooks = [f for f in files if f.suffix == ".ipynb"]
    print(f"wrote the student release to {args.out_dir}: {len(files)} files "
          f"({', '.join(str(n) for n in notebooks)}, exercises/, grader/, README.md)")
    return 0


def _cmd_notebook(args: argparse.Namespace) -> int:
    from grader.authoring.course_notebook import (
        NOTEBOOK_PATH,
        NotebookSourceError,
        check_notebook,
        write_notebook,
    )
    from grader.authoring.stubs import MarkerError

    path, solutions = Path(args.out or NOTEBOOK_PATH), Path(args.solutions)
    try:
        if args.check:
            return report_drift(path, check_notebook(path, solutions), "python -m grader notebook")
        write_notebook(path, solutions)
    except (NotebookSourceError, MarkerError) as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {path}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    # Nothing heavy is imported here: every command's parser is built on each start-up
    # (nbformat alone takes ~1.8 s), so each command imports what it needs when it runs.
    p = subparsers.add_parser("release", help=helptext("cli_release"),
                              description=helptext("cli_release"))
    p.add_argument("out_dir", metavar="OUT_DIR", help=helptext("cli_release_out"))
    p.add_argument("--force", action="store_true", help=helptext("cli_release_force"))
    p.add_argument("--kit", default=str(KIT_ROOT), help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_release)

    p = subparsers.add_parser("notebook", help=helptext("cli_notebook"),
                              description=helptext("cli_notebook"))
    p.add_argument("--check", action="store_true", help=helptext("cli_notebook_check"))
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    p.add_argument("--solutions", default=str(KIT_ROOT / "solutions"), help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_notebook)
