"""The commands' shared options: declared once, one device default, one resolver, --variant.

``--device``, ``--lang``, ``--tasks``, ``--timeout``, ``--variant`` and
``--unsafe-no-isolation`` are declared in :data:`grader.options.SHARED_OPTIONS` only; each
command (and the pytest plugin) takes them from there. The device defaults to ``cpu``
everywhere and is resolved once per command; a hidden variant needs the course secret.
"""

from __future__ import annotations

import argparse
import ast
import os

import pytest
from conftest import ROOT, run_py

from grader.options import (
    DEFAULT_DEVICE,
    SHARED_OPTIONS,
    UserError,
    option_keywords,
    resolve_device,
)

#: which shared options each command takes
TAKES = {
    "grade": ("--device", "--lang", "--tasks", "--timeout", "--variant", "--unsafe-no-isolation"),
    "autograde": ("--device", "--lang", "--tasks", "--timeout", "--variant",
                  "--unsafe-no-isolation"),
    "experiments": ("--device", "--lang"),
}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from grader.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_each_command_takes_the_shared_options_as_declared():
    commands = _subcommands()
    for command, flags in TAKES.items():
        actions = {opt: a for a in commands[command]._actions for opt in a.option_strings}
        for flag in flags:
            declared = SHARED_OPTIONS[flag]
            # the help is the catalogue's text of the declared key, in the parser's language
            assert actions[flag].help == option_keywords(flag)["help"], (command, flag)
            assert actions[flag].default == declared.get("default", actions[flag].default)
            if "choices" in declared:
                assert tuple(actions[flag].choices) == tuple(declared["choices"])


#: an option of the same name that means something else: nbgrader-autograde's --timeout is
#: the wall time of one student's whole nbgrader run, not of one check
HOMONYMS = {("grader/nbgrading/parallel.py", "--timeout")}


def test_no_module_declares_a_shared_option_again():
    """Only grader/options.py spells a shared flag in an add_argument/addoption call."""
    found = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        if path.name == "options.py" and path.parent.name == "grader":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("add_argument", "addoption")):
                flags = {a.value for a in node.args if isinstance(a, ast.Constant)}
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {f}"
                          for f in flags & set(SHARED_OPTIONS)
                          if (path.relative_to(ROOT).as_posix(), f) not in HOMONYMS]
    assert found == []


def test_the_device_defaults_to_cpu_everywhere():
    from grader.nb import check_task
    from grader.request import GradeRequest

    assert DEFAULT_DEVICE == "cpu"
    commands = _subcommands()
    for command in TAKES:
        assert commands[command].get_default("device") == "cpu", command
    assert GradeRequest().device == "cpu"
    assert check_task.__defaults__ is not None and "cpu" in check_task.__defaults__


@pytest.mark.slow
def test_the_nbgrader_preprocessor_grades_on_the_cpu_by_default():
    pytest.importorskip("nbgrader")
    from grader.nbgrading.preprocessor import SandboxedGrades

    assert SandboxedGrades().device == DEFAULT_DEVICE == "cpu"


def test_one_resolver_one_default():
    import torch

    assert resolve_device(None) == resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UserError, match="indicá uno de cpu, cuda, auto"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="CUDA no está disponible en esta máquina"):
            resolve_device("cuda")


def test_a_request_carries_one_resolved_device_and_its_variant(monkeypatch):
    from grader.grading import context, probe_env
    from grader.request import GradeRequest

    with pytest.raises(ValueError, match="resolve 'auto' first"):
        GradeRequest(device="auto")
    with pytest.raises(ValueError, match="variant"):
        GradeRequest(variant=-1)
    monkeypatch.setenv("PRACTICO_SECRET", "s" * 32)
    hidden = GradeRequest(variant=3, device="cpu", lang="en")
    assert context(hidden).device == probe_env(hidden).device == "cpu"
    assert context(hidden).variant == 3 and context(hidden).lang == "en"
    assert context(hidden).seed("x") != context(GradeRequest()).seed("x")


@pytest.mark.parametrize("command", ["grade", "autograde"])
def test_a_hidden_variant_without_the_course_secret_stops_with_one_line(command, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PRACTICO_SECRET"}
    args = (["grade", str(ROOT / "solutions")] if command == "grade"
            else ["autograde", str(ROOT / "fixtures"), "--out", str(tmp_path / "out")])
    proc = run_py("-m", "grader", *args, "--variant", "2", "--lang", "en", env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: --variant 2 cannot be used:") and "PRACTICO_SECRET" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing was graded
    bad = run_py("-m", "grader", *args, "--variant", "-1", env=env)
    assert bad.returncode == 2 and "tiene que ser 0 (las entradas públicas) o más" in bad.stderr


@pytest.mark.slow
def test_grade_with_a_hidden_variant_grades_it(tmp_path):
    out = tmp_path / "r.json"
    env = {**os.environ, "PRACTICO_SECRET": "s" * 32}
    proc = run_py("-m", "grader", "grade", str(ROOT / "solutions"), "--in-process", "--tasks",
                  "init_schemes", "--variant", "1", "--json", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    import json

    assert json.loads(out.read_text())["tasks"]["init_schemes"]["score"] == 15


@pytest.mark.slow
def test_pytest_on_a_missing_gpu_stops_once_with_one_line():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: --device cuda is valid here")
    proc = run_py("-m", "pytest", str(ROOT / "exercises"), "--impl", "solutions", "--device",
                  "cuda", "-q", "-p", "no:cacheprovider")
    assert proc.returncode == 4, proc.stdout + proc.stderr  # a usage error: nothing ran
    text = proc.stdout + proc.stderr
    assert text.count("CUDA no está disponible en esta máquina") == 1, text
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 3, text


@pytest.mark.slow
@pytest.mark.parametrize("lang, said", [("es", "no existe esa carpeta"),
                                        ("en", "no such folder")])
def test_pytest_with_a_missing_impl_folder_stops_once_with_one_line(lang, said, tmp_path):
    """Before: every check errored at its fixture (39 errors, the reason shown in none)."""
    proc = run_py("-m", "pytest", str(ROOT / "exercises"), "--impl", str(tmp_path / "mi_tp"),
                  "-q", "-p", "no:cacheprovider", env={"PRACTICO_LANG": lang})
    assert proc.returncode == 4, proc.stdout + proc.stderr  # a usage error: nothing ran
    text = proc.stdout + proc.stderr
    assert text.count(said) == 1 and "ex*.py" in text, text
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 3, text
