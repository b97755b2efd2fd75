"""The command line speaks the reader's language (issue 22 item 4, grader/cli_language.py).

``python -m grader --help``, every command's ``--help``, argparse's usage errors of every
kind and the kit's own bad-input errors follow ``$PRACTICO_LANG`` (Spanish by default,
English with ``en``), and ``--lang`` on the command line wins, for ``--help`` too. Every help
text comes from the message catalogue. Each language is checked in a subprocess of its own
(its own environment, as a user runs it); one subprocess runs every case of a language.
"""

from __future__ import annotations

import argparse
import ast
import gettext
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.cli_language import ARGPARSE_KEYS, ARGPARSE_PLURALS
from grader.messages import MESSAGES

COMMANDS = ("grade", "build-stubs", "autograde", "experiments", "release", "notebook",
            "nbgrader-autograde", "class-report", "export", "similarity")

#: argparse's texts a user of the kit never sees (mistakes in building a parser)
ARGPARSE_INTERNAL = {
    "%r is not callable", "'required' is an invalid argument for positionals",
    ".__call__() not defined", 'argument "-" with mode %r',
    "cannot have multiple subparser arguments", "cannot merge actions - two groups are named %r",
    "conflicting subparser alias: %s", "conflicting subparser: %s",
    "dest= is required for options like %r", "invalid conflict_resolution value: %r",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r",
    "mutually exclusive arguments must be optional",
    "conflicting option string: %s", "conflicting option strings: %s",
}

#: words of argparse's English that no Spanish screen may show
ENGLISH = ("usage:", "options:", "positional arguments", "show this help message",
           "the following arguments are required", "invalid choice", "unrecognized arguments",
           "expected one argument", "not allowed with", "invalid int value", "choose from")
SPANISH = ("uso:", "opciones:", "argumentos posicionales", "muestra esta ayuda",
           "faltan estos argumentos", "opción inválida", "argumentos desconocidos",
           "falta su valor", "no se puede usar junto", "valor inválido", "elegí una de")


def _env(lang: str | None, **more: str) -> dict[str, str]:
    """This environment with $PRACTICO_LANG ``lang`` (None: unset, the default language)."""
    env = {k: v for k, v in os.environ.items() if k != "PRACTICO_LANG"}
    if lang is not None:
        env["PRACTICO_LANG"] = lang
    return {**env, **more}


def _py(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``python *args`` with exactly ``env`` (conftest's run_py adds this process's own)."""
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


#: runs each command line given as JSON through grader.cli.main, as `python -m grader` would,
#: and prints what it wrote, case by case
RUNNER = """
import contextlib, io, json, sys
from grader.cli import main
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    print(json.dumps({"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue()}))
"""


def _run(cases: list[list[str]], lang: str | None) -> list[dict]:
    """Each command line of ``cases`` in one subprocess whose $PRACTICO_LANG is ``lang``
    (None: unset); what each wrote and its exit status."""
    proc = _py("-c", RUNNER, json.dumps(cases), env=_env(lang))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


# ----------------------------------------------------------------------- help


@pytest.fixture(scope="module", params=["es", "en"])
def helps(request) -> tuple[str, dict[str, str]]:
    lang = request.param
    cases = [["--help"], *([c, "--help"] for c in COMMANDS)]
    # Spanish is the default: that language runs with PRACTICO_LANG unset
    results = _run(cases, None if lang == "es" else lang)
    return lang, {" ".join(r["argv"][:-1]) or "python -m grader": r for r in results}


def test_every_help_is_in_the_chosen_language(helps):
    lang, results = helps
    assert set(results) == {"python -m grader", *COMMANDS}
    mine, other = (SPANISH, ENGLISH) if lang == "es" else (ENGLISH, SPANISH)
    for command, result in results.items():
        text = result["out"]
        assert result["code"] == 0 and result["err"] == "", command
        assert text.startswith(mine[0]), (command, text[:200])
        assert f"\n{mine[1]}\n" in text and mine[3] in text, command
        for word in other[:4]:
            assert word not in text, (command, word)
    usage = results["grade"]["out"]
    if lang == "es":
        assert "carpeta con los ex*.py del estudiante" in usage
        assert "dónde corren las pruebas" in usage  # a shared option's help
        assert "COMANDO" in results["python -m grader"]["out"]
    else:
        assert "folder holding the student's ex*.py" in usage
        assert "where probes run and models train" in usage


def test_lang_on_the_command_line_wins_for_help_too():
    [spanish_env_english_flag, english_env_spanish_flag] = _run(
        [["grade", "--lang", "en", "--help"]], "es") + _run(
        [["autograde", "--lang=es", "--help"]], "en")
    assert spanish_env_english_flag["out"].startswith("usage:")
    assert "grade only these tasks" in spanish_env_english_flag["out"]
    assert english_env_spanish_flag["out"].startswith("uso:")
    assert "vista previa de una recalificación" in english_env_spanish_flag["out"]


def _help_texts(parser: argparse.ArgumentParser) -> list[str]:
    texts = [parser.description] if parser.description else []
    for group in parser._action_groups:  # noqa: SLF001 - argparse keeps them only there
        texts += [t for t in (group.title, group.description) if t]
    for action in parser._actions:  # noqa: SLF001
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for choice in action._choices_actions:  # noqa: SLF001
                texts.append(choice.help)
            for sub in action.choices.values():
                texts += _help_texts(sub)
        elif action.help != argparse.SUPPRESS:
            assert action.help, f"{parser.prog}: {action.option_strings or action.dest} has no help"
            texts.append(action.help)
    return texts


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_help_text_comes_from_the_catalogue(lang):
    from grader.cli import build_parser

    catalogue = {entry[lang].replace("%", "%%") for entry in MESSAGES.values()}
    texts = _help_texts(build_parser(lang))
    assert len(texts) > 80
    missing = sorted({t for t in texts if t not in catalogue})
    assert missing == [], missing
    # and argparse's own lookups are back once the parser is built
    assert argparse._ is gettext.gettext  # noqa: SLF001


def test_every_argparse_text_a_user_can_see_is_in_the_catalogue():
    """argparse's texts, read from this Python's argparse: a new one fails here."""
    tree = ast.parse(open(argparse.__file__, encoding="utf-8").read())
    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("_", "ngettext"):
            seen |= {a.value for a in node.args if isinstance(a, ast.Constant)
                     and isinstance(a.value, str)}
    plurals = {text for pair in ARGPARSE_PLURALS for text in pair}
    assert seen - ARGPARSE_INTERNAL - plurals <= set(ARGPARSE_KEYS)
    for key in [*ARGPARSE_KEYS.values(), *(k for pair in ARGPARSE_PLURALS.values()
                                           for k in pair)]:
        es, en = MESSAGES[key]["es"], MESSAGES[key]["en"]
        # argparse fills these in with %: both languages take the same ones
        assert sorted(re.findall(r"%(?:\(\w+\))?[sr]", es)) == sorted(
            re.findall(r"%(?:\(\w+\))?[sr]", en)), key


# ----------------------------------------------------------------------- errors

USAGE_ERRORS = {
    "required": (["grade"], ("faltan estos argumentos, que son obligatorios: submission",
                             "the following arguments are required: submission")),
    "no command": ([], ("faltan estos argumentos, que son obligatorios: COMANDO",
                        "the following arguments are required: COMMAND")),
    "unknown command": (["grades"], ("argumento COMANDO: opción inválida: 'grades' (elegí una "
                                     "de 'grade'", "argument COMMAND: invalid choice: 'grades' "
                                     "(choose from 'grade'")),
    "invalid choice": (["grade", "x", "--device", "gpu"],
                       ("argumento --device: opción inválida: 'gpu' (elegí una de 'cpu', "
                        "'cuda', 'auto')",
                        "argument --device: invalid choice: 'gpu' (choose from 'cpu', 'cuda', "
                        "'auto')")),
    "unrecognized": (["grade", "x", "--nope"], ("argumentos desconocidos: --nope",
                                                "unrecognized arguments: --nope")),
    "missing value": (["grade", "x", "--json"], ("argumento --json: falta su valor (uno)",
                                                 "argument --json: expected one argument")),
    "type": (["autograde", "c", "--out", "o", "--jobs", "many"],
             ("argumento --jobs: valor inválido (int): 'many'",
              "argument --jobs: invalid int value: 'many'")),
    "kit's type": (["grade", "x", "--children", "0"],
                   ("argumento --children: tiene que ser al menos 1; se dio 0",
                    "argument --children: must be at least 1, got 0")),
    "not a number": (["grade", "x", "--children", "two"],
                     ("argumento --children: 'two' no es un número entero",
                      "argument --children: 'two' is not a whole number")),
    "exclusive": (["autograde", "c", "--out", "o", "--cluster", "local", "--scheduler",
                   "tcp://h:1"],
                  ("argumento --scheduler: no se puede usar junto con el argumento --cluster",
                   "argument --scheduler: not allowed with argument --cluster")),
}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_usage_errors_of_every_kind_in_the_chosen_language(lang):
    index = 0 if lang == "es" else 1
    results = _run([argv for argv, _ in USAGE_ERRORS.values()], None if lang == "es" else lang)
    mine, other = (SPANISH, ENGLISH) if lang == "es" else (ENGLISH, SPANISH)
    for (kind, (_, expected)), result in zip(USAGE_ERRORS.items(), results):
        err = result["err"]
        assert result["code"] == 2 and result["out"] == "", kind
        assert err.startswith(mine[0]), (kind, err)
        last = err.rstrip("\n").splitlines()[-1]
        prefix = "error de uso: " if lang == "es" else "error: "
        assert prefix + expected[index] in last, (kind, last)
        for word in other:
            assert word not in err, (kind, word, err)
    assert argparse._ is gettext.gettext  # noqa: SLF001 - nothing changed in this process


@pytest.mark.parametrize("lang", ["es", "en"])
def test_bad_input_errors_in_the_chosen_language(tmp_path, lang):
    (tmp_path / "class").mkdir()
    (tmp_path / "empty").mkdir()
    cases = [["grade", str(tmp_path / "nope")],
             ["grade", str(tmp_path / "empty")],
             ["grade", str(ROOT / "exercises"), "--tasks", "nope"],
             ["autograde", str(tmp_path / "class"), "--out", str(tmp_path / "out")],
             ["autograde", str(tmp_path), "--out", str(tmp_path / "out")],
             ["experiments", "--out", str(ROOT / "README.md")]]
    results = _run(cases, None if lang == "es" else lang)
    expected = {
        "es": ["no existe esa carpeta", "no tiene archivos ex*.py",
               "tarea(s) desconocida(s): nope", "no tiene carpetas de estudiantes",
               "está dentro de", "es un archivo"],
        "en": ["no such folder", "holds no ex*.py files", "unknown task id(s): nope",
               "holds no student folders", "is inside", "this is a file"]}[lang]
    prefix = "hay un problema: " if lang == "es" else "error: "
    for argv, result, text in zip(cases, results, expected):
        assert result["code"] == 2, (argv, result)
        assert result["err"].startswith(prefix) and text in result["err"], (argv, result["err"])
        assert result["err"].count("\n") == 1, result["err"]
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------- MNIST, --lang


OFFLINE = {name: "http://127.0.0.1:9" for name in ("http_proxy", "https_proxy")}


def test_grade_lang_en_reaches_the_mnist_message(tmp_path):
    """PRACTICO_LANG unset (Spanish), --lang en on the command line: the English message."""
    env = _env(None, PRACTICO_DATA=str(tmp_path / "data"), **OFFLINE)
    proc = _py("-m", "grader", "grade", str(ROOT / "exercises"), "--lang", "en", env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: MNIST was not found in"), proc.stderr[-2000:]
    assert "No encontré MNIST" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_pytest_lang_en_reaches_the_mnist_message_without_pytests_prefix(tmp_path):
    env = _env(None, PRACTICO_DATA=str(tmp_path / "data"), **OFFLINE)
    proc = _py("-m", "pytest", str(ROOT / "exercises"), "-q", "-p", "no:cacheprovider",
               "--lang", "en", env=env, cwd=tmp_path)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 3, text[-3000:]
    assert text.count("MNIST was not found in") == 1 and "No encontré MNIST" not in text
    assert "_pytest.outcomes.Exit" not in text and "Exit:" not in text, text[-3000:]
    assert "Traceback" not in text
    # the fix, as commands to paste, each on a line of its own
    assert re.search(r"^\s+export PRACTICO_DATA=", text, re.M), text[-3000:]


def test_pytest_options_say_their_help_in_the_chosen_language():
    proc = _py("-m", "pytest", "--help", "-p", "no:cacheprovider", env=_env(None))
    assert proc.returncode == 0
    assert "carpeta con los ex*.py a revisar" in proc.stdout
    assert "dónde corren las pruebas" in proc.stdout
    english = _py("-m", "pytest", "--help", "-p", "no:cacheprovider", env=_env("en"))
    assert "folder with the ex*.py files to check" in english.stdout

