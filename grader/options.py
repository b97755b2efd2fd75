"""What the commands share: their common options, the error for bad input, input checks.

:data:`SHARED_OPTIONS` declares, once and with its help, every option that more than one
command takes (``--device``, ``--lang``, ``--tasks``, ``--timeout``, ``--variant``,
``--unsafe-no-isolation``); each command, and the pytest plugin, picks the ones it takes
with :func:`add_options`, each help worded from the message catalogue in the command line's
language (:mod:`grader.cli_language`). A :class:`UserError` is bad input from the person at
the terminal (a missing folder, an unknown task id, CUDA asked for where there is none), a
message key and its values worded when shown; :func:`grader.cli.main` prints it as one line,
in the reader's language, and exits with status 2. The checks here are
used by ``grade``, ``autograde``, ``experiments`` and ``release``, so they live apart from
the parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.cli_language import helptext, say
from grader.settings import LANGS

#: what ``--device`` accepts: ``auto`` is ``cuda`` where CUDA is available, else ``cpu``
DEVICES = ("cpu", "cuda", "auto")
#: what a device is once resolved (:func:`resolve_device`): all a grading request takes
RESOLVED_DEVICES = ("cpu", "cuda")
#: the one default of every command and runner: the CPU (results never depend on a GPU
#: being there; ``--device auto`` or ``cuda`` asks for one)
DEFAULT_DEVICE = "cpu"


class UserError(Exception):
    """Bad input from the person at the terminal: printed as one clear line, exit code 2.

    Made from a message key of the catalogue and its values (``UserError(key="err_...",
    path=...)``), it is worded when it is shown, in the reader's language
    (:meth:`message`: ``--lang``, else ``$PRACTICO_LANG``); ``render`` is any other way of
    wording it in a language (an exception's own ``message(lang)``); plain text is shown as
    it is (a module that has no message of its own for it yet).
    """

    def __init__(self, text: str = "", *, key: str | None = None,
                 render: Callable[[str | None], str] | None = None, **values: object) -> None:
        self.text, self.key, self.values, self.render = text, key, values, render
        super().__init__(self.message())

    def message(self, lang: str | None = None) -> str:
        """The error in ``lang`` (default: ``$PRACTICO_LANG``, else Spanish)."""
        if self.render is not None:
            return self.render(lang)
        if self.key is not None:
            from grader.i18n import t

            return t(self.key, lang, **self.values)
        return self.text

    def __str__(self) -> str:
        return self.message()


def report_drift(generated: object, problems: list[str], command: str) -> int:
    """What a ``--check`` prints: the exit status, and the differences on stderr (1) or a
    line saying ``generated`` matches ``solutions/`` (0), in the command line's language."""
    import sys

    if problems:
        print(say("drift_out_of_date", generated=str(generated), command=command),
              file=sys.stderr)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    print(say("drift_ok", generated=str(generated)))
    return 0


def submission_dir(value: str) -> Path:
    """A folder holding at least one ``ex*.py``; anything else is a :class:`UserError`."""
    path = Path(value)
    if not path.exists():
        raise UserError(key="err_no_submission_folder", folder=value)
    if not path.is_dir():
        raise UserError(key="err_submission_is_file", folder=value)
    try:
        found = sorted(p.name for p in path.glob("ex*.py"))
    except PermissionError:
        raise UserError(key="err_permission", folder=value) from None
    if not found:
        raise UserError(key="err_no_ex_files", folder=value)
    return path.resolve()


def require_data() -> Path:
    """MNIST on disk (downloading it if possible), or a UserError that says how to fix it, in
    the language it is shown in (``grade --lang en`` gets the English message)."""
    from grader.data import MNISTCorruptError, MNISTNotFoundError, ensure_mnist

    try:
        return ensure_mnist(download=True)
    except (MNISTNotFoundError, MNISTCorruptError) as exc:
        raise UserError(render=exc.message) from None


def parse_task_ids(values: list[str] | None) -> list[str] | None:
    """``--tasks`` values (each ``ID[,ID]``) as task ids; None when none were given."""
    from grader.tasks import TASK_BY_ID

    if not values:
        return None
    ids = [v for value in values for v in value.split(",") if v]
    unknown = [v for v in ids if v not in TASK_BY_ID]
    if unknown:
        raise UserError(key="err_unknown_tasks", unknown=", ".join(unknown),
                        valid=", ".join(TASK_BY_ID))
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
        raise UserError(key="err_device", value=value, choices=", ".join(DEVICES))
    import torch

    if value == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise UserError(key="err_no_cuda")
    return value


def check_variant(variant: int, lang: str | None = None) -> None:
    """A hidden variant (any but 0) needs the course secret: a :class:`UserError` that says
    how to set it when it is missing or too short (never a silent public seed)."""
    if variant:
        from grader.hidden import secret_problem
        from grader.i18n import t

        if secret_problem() is not None:
            raise UserError(render=lambda shown: t(
                "err_variant", shown or lang, variant=variant,
                reason=secret_problem(lang=shown or lang)))


def _whole_number(value: str, least: int, below: str) -> int:
    """``value`` as a whole number of at least ``least``; else argparse's type error, worded
    by message ``below`` in the command line's language."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(say("ap_not_whole_number", value=repr(value))) from None
    if number < least:
        raise argparse.ArgumentTypeError(say(below, number=number))
    return number


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole_number(value, 1, "ap_at_least_one")


def variant_number(value: str) -> int:
    """An argparse type: an input variant, a whole number of at least 0."""
    return _whole_number(value, 0, "ap_variant_min")


#: every option more than one command takes, declared once: flag -> its ``add_argument``
#: keywords; ``help`` is the key of its text in the message catalogue (``cli_opt_*``), which
#: :func:`option_keywords` words in the command line's language
SHARED_OPTIONS: dict[str, dict[str, Any]] = {
    "--device": {"default": DEFAULT_DEVICE, "choices": DEVICES, "help": "cli_opt_device"},
    "--lang": {"default": None, "choices": LANGS, "help": "cli_opt_lang"},
    "--tasks": {"action": "append", "metavar": "ID[,ID]", "help": "cli_opt_tasks"},
    "--timeout": {"type": float, "default": None, "metavar": "S", "help": "cli_opt_timeout"},
    "--variant": {"type": variant_number, "default": 0, "metavar": "N",
                  "help": "cli_opt_variant"},
    "--unsafe-no-isolation": {"action": "store_true", "help": "cli_opt_unsafe"},
}


def option_keywords(flag: str) -> dict[str, Any]:
    """The ``add_argument`` keywords of shared option ``flag``, its help worded in the command
    line's language (:func:`grader.cli_language.cli_lang`; the pytest plugin gives the same
    keywords to pytest's ``addoption``)."""
    keywords = dict(SHARED_OPTIONS[flag])
    keywords["help"] = helptext(keywords["help"])
    return keywords


def add_options(parser: argparse.ArgumentParser, *flags: str) -> None:
    """Add the :data:`SHARED_OPTIONS` named by ``flags`` to ``parser``."""
    for flag in flags:
        parser.add_argument(flag, **option_keywords(flag))
