"""What the commands share: their common options, the error for bad input, input checks.

:data:`SHARED_OPTIONS` declares, once and with its help, every option that more than one
command takes (``--device``, ``--lang``, ``--tasks``, ``--timeout``, ``--variant``,
``--unsafe-no-isolation``); each command, and the pytest plugin, picks the ones it takes
with :func:`add_options`. A :class:`UserError` is bad input from the person at the terminal
(a missing folder, an unknown task id, CUDA asked for where there is none);
:func:`grader.cli.main` prints it as one line and exits with status 2. The checks here are
used by ``grade``, ``autograde``, ``experiments`` and ``release``, so they live apart from
the parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from grader.settings import LANGS

#: what ``--device`` accepts: ``auto`` is ``cuda`` where CUDA is available, else ``cpu``
DEVICES = ("cpu", "cuda", "auto")
#: what a device is once resolved (:func:`resolve_device`): all a grading request takes
RESOLVED_DEVICES = ("cpu", "cuda")
#: the one default of every command and runner: the CPU (results never depend on a GPU
#: being there; ``--device auto`` or ``cuda`` asks for one)
DEFAULT_DEVICE = "cpu"


class UserError(Exception):
    """Bad input from the person at the terminal: printed as one clear line, exit code 2."""


def report_drift(generated: object, problems: list[str], command: str) -> int:
    """What a ``--check`` prints: the exit status, and the differences on stderr (1) or a
    line saying ``generated`` matches ``solutions/`` (0)."""
    import sys

    if problems:
        print(f"{generated} is out of date with solutions/ (run `{command}`):", file=sys.stderr)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"{generated} matches solutions/")
    return 0


def submission_dir(value: str) -> Path:
    """A folder holding at least one ``ex*.py``; anything else is a :class:`UserError`."""
    path = Path(value)
    if not path.exists():
        raise UserError(f"{value}: no such folder. Give the folder that holds the student's "
                        "ex*.py files.")
    if not path.is_dir():
        raise UserError(f"{value}: not a folder. Give the folder that holds the ex*.py files, "
                        "not a file.")
    try:
        found = sorted(p.name for p in path.glob("ex*.py"))
    except PermissionError:
        raise UserError(f"{value}: cannot read this folder (permission denied).") from None
    if not found:
        raise UserError(f"{value}: holds no ex*.py files (expected e.g. ex1_onehot_mse.py). "
                        "Is this the right folder?")
    return path.resolve()


def require_data() -> Path:
    """MNIST on disk (downloading it if possible), or a UserError that says how to fix it."""
    from grader.data import MNISTCorruptError, MNISTNotFoundError, ensure_mnist

    try:
        return ensure_mnist(download=True)
    except (MNISTNotFoundError, MNISTCorruptError) as exc:
        raise UserError(str(exc)) from None


def parse_task_ids(values: list[str] | None) -> list[str] | None:
    """``--tasks`` values (each ``ID[,ID]``) as task ids; None when none were given."""
    from grader.tasks import TASK_BY_ID

    if not values:
        return None
    ids = [v for value in values for v in value.split(",") if v]
    unknown = [v for v in ids if v not in TASK_BY_ID]
    if unknown:
        raise UserError(f"unknown task id(s): {', '.join(unknown)}; valid ids: "
                        f"{', '.join(TASK_BY_ID)}")
    return ids


def resolve_device(value: str | None = None) -> str:
    """The one device resolver: ``cpu`` (the default, :data:`DEFAULT_DEVICE`), ``cuda``, or
    ``auto`` (``cuda`` where CUDA is available, else ``cpu``), as the device to use; ``cuda``
    where there is none, or any other value, is a :class:`UserError`. Called once per
    command: every grading request then carries the result."""
    value = DEFAULT_DEVICE if value is None else value
    if value == "cpu":
        return value  # torch need not load for this
    if value not in DEVICES:
        raise UserError(f"--device {value}: give one of {', '.join(DEVICES)}")
    import torch

    if value == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise UserError("--device cuda: CUDA is not available on this machine; use --device cpu")
    return value


def check_variant(variant: int, lang: str | None = None) -> None:
    """A hidden variant (any but 0) needs the course secret: a :class:`UserError` that says
    how to set it when it is missing or too short (never a silent public seed)."""
    if variant:
        from grader.hidden import MissingSecretError, require_secret

        try:
            require_secret(lang)
        except MissingSecretError as exc:
            raise UserError(f"--variant {variant}: {exc}") from None


def _whole_number(value: str, least: int, below: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < least:
        raise argparse.ArgumentTypeError(f"{below}, got {number}")
    return number


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole_number(value, 1, "must be at least 1")


def variant_number(value: str) -> int:
    """An argparse type: an input variant, a whole number of at least 0."""
    return _whole_number(value, 0, "must be 0 (the public inputs) or more")


#: every option more than one command takes, declared once: flag -> its ``add_argument``
#: keywords, help included (each help string is here and nowhere else)
SHARED_OPTIONS: dict[str, dict[str, Any]] = {
    "--device": {
        "default": DEFAULT_DEVICE, "choices": DEVICES,
        "help": "where probes run and models train: cpu (the default), cuda, or auto (cuda "
                "where it is available)"},
    "--lang": {
        "default": None, "choices": LANGS,
        "help": "language of the messages and reports (default: $PRACTICO_LANG, else es)"},
    "--tasks": {
        "action": "append", "metavar": "ID[,ID]", "help": "grade only these tasks"},
    "--timeout": {
        "type": float, "default": None, "metavar": "S",
        "help": "wall seconds allowed per check (default: from each check's cost)"},
    "--variant": {
        "type": variant_number, "default": 0, "metavar": "N",
        "help": "input variant: 0 (the default) is the public one; others draw hidden "
                "inputs from the course secret, $PRACTICO_SECRET"},
    "--unsafe-no-isolation": {
        "action": "store_true",
        "help": "where Linux namespaces are unavailable and the child cannot leave root (a "
                "needed folder under a closed one such as /root), grade anyway, as root "
                "(trusted code only; without it the grader refuses)"},
}


def add_options(parser: argparse.ArgumentParser, *flags: str) -> None:
    """Add the :data:`SHARED_OPTIONS` named by ``flags`` to ``parser`` (the pytest plugin
    gives the same keywords to pytest's ``addoption``)."""
    for flag in flags:
        parser.add_argument(flag, **SHARED_OPTIONS[flag])
