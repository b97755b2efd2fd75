"""What the commands share: the error for bad input, and checking the input they were given.

A :class:`UserError` is bad input from the person at the terminal (a missing folder, an
unknown task id, CUDA asked for where there is none); :func:`grader.cli.main` prints it as
one line and exits with status 2. The checks here are used by ``grade``, ``autograde``,
``experiments`` and ``release``, so they live apart from the parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path


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


def resolve_device(value: str) -> str:
    """``auto``, ``cpu`` or ``cuda`` as the device to use: ``auto`` is ``cuda`` where CUDA is
    available, else ``cpu``; ``cuda`` where it is not is a :class:`UserError`."""
    if value == "cpu":
        return value  # torch need not load for this
    import torch

    if value == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if value == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: CUDA is not available on this machine; use --device cpu")
    return value


def add_unsafe_flag(parser: argparse.ArgumentParser) -> None:
    """``--unsafe-no-isolation``, shared by ``grade`` and ``autograde``."""
    parser.add_argument(
        "--unsafe-no-isolation", action="store_true",
        help="where Linux namespaces are unavailable and the child cannot leave root (a "
             "needed folder under a closed one such as /root), grade anyway, as root "
             "(trusted code only; without it the grader refuses)")


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number
