"""The command line in the reader's language: argparse's own words, every help text, the errors.

argparse writes its words ("usage:", "options", "error:", "the following arguments are
required", "invalid choice"...) through ``gettext``, looked up in the process-wide ``messages``
domain, where no translation is ever installed for the kit. Installing one there would change
every other argparse user of the process (pytest's own command line among them), so instead,
for as long as :func:`parser_language` is active, argparse's two lookup functions are this
module's, which take each text from the message catalogue (:data:`ARGPARSE_KEYS` -> ``ap_*``
keys of :mod:`grader.cli_messages`) in the chosen language; on leaving, argparse's own come
back. The texts keep argparse's ``%(name)s`` placeholders, which argparse fills in afterwards.

The language (:func:`cli_lang`) is the one :func:`command_language` was given (``--lang`` on
the command line, else ``$PRACTICO_LANG``, else Spanish); :func:`helptext` gives a help text
of the catalogue in it, the option types (:mod:`grader.options`) word their errors in it, and
a command says what it says in it (:func:`say`).
"""

from __future__ import annotations

import argparse
import contextvars
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from grader.i18n import current_lang, t
from grader.settings import LANGS

__all__ = ["ARGPARSE_KEYS", "ARGPARSE_PLURALS", "argparse_words", "argv_lang", "cli_lang",
           "command_language", "helptext", "parser_language", "say"]

#: argparse's texts (its gettext message ids, Python 3.9-3.13) -> the catalogue's keys
ARGPARSE_KEYS = {
    "usage: ": "ap_usage",
    "options": "ap_options",
    "optional arguments": "ap_options",
    "positional arguments": "ap_positionals",
    "show this help message and exit": "ap_help",
    "%(prog)s: error: %(message)s\n": "ap_error",
    "argument %(argument_name)s: %(message)s": "ap_argument",
    "the following arguments are required: %s": "ap_required",
    "unrecognized arguments: %s": "ap_unrecognized",
    "invalid choice: %(value)r (choose from %(choices)s)": "ap_invalid_choice",
    "invalid %(type)s value: %(value)r": "ap_invalid_value",
    "expected one argument": "ap_expected_one",
    "expected at most one argument": "ap_expected_at_most_one",
    "expected at least one argument": "ap_expected_at_least_one",
    "not allowed with argument %s": "ap_not_allowed_with",
    "one of the arguments %s is required": "ap_one_required",
    "ambiguous option: %(option)s could match %(matches)s": "ap_ambiguous",
    "ignored explicit argument %r": "ap_ignored_explicit",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "ap_unknown_parser",
    "can't open '%(filename)s': %(error)s": "ap_cannot_open",
    "unexpected option string: %s": "ap_unexpected_option",
}
#: argparse's singular/plural pairs -> the catalogue's keys of each form
ARGPARSE_PLURALS = {
    ("expected %s argument", "expected %s arguments"): ("ap_expected_n_one", "ap_expected_n"),
}

_lang: contextvars.ContextVar[str | None] = contextvars.ContextVar("practico_cli_lang",
                                                                  default=None)
#: the swap of argparse's lookup functions is process-wide: one parser language at a time
_swap_lock = threading.RLock()


def cli_lang() -> str:
    """The language of the command line being parsed (:func:`parser_language`), else the
    environment's (``$PRACTICO_LANG``, else Spanish)."""
    return current_lang(_lang.get())


def say(key: str, /, **values: object) -> str:
    """Message ``key`` of the catalogue in :func:`cli_lang`."""
    return t(key, cli_lang(), **values)


def helptext(key: str, /, **values: object) -> str:
    """A help text of the catalogue in :func:`cli_lang`, ready for argparse (which formats help
    with ``%``: a literal ``%`` is doubled)."""
    return say(key, **values).replace("%", "%%")


def argv_lang(argv: Sequence[str]) -> str | None:
    """The language a command line asks for with ``--lang es|en`` or ``--lang=es|en`` (the
    last one given), so that ``--help`` and usage errors follow it too; None when it names
    none, or names one the kit does not have (argparse then says so, in the environment's)."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in LANGS:
            found = value
    return found


def _gettext(message: str) -> str:
    key = ARGPARSE_KEYS.get(message)
    return message if key is None else t(key, cli_lang())


def _ngettext(singular: str, plural: str, n: int) -> str:
    keys = ARGPARSE_PLURALS.get((singular, plural))
    if keys is None:
        return singular if n == 1 else plural
    return t(keys[0] if n == 1 else keys[1], cli_lang())


@contextmanager
def command_language(lang: str | None = None) -> Iterator[str]:
    """Inside this block the command line's language (:func:`cli_lang`) is ``lang`` (default:
    the environment's); yields it."""
    token = _lang.set(current_lang(lang))
    try:
        yield cli_lang()
    finally:
        _lang.reset(token)


@contextmanager
def argparse_words() -> Iterator[None]:
    """Inside this block argparse words what it says in :func:`cli_lang`; its own lookup
    functions are back when the block ends, however it ends (``--help`` and usage errors end
    it with ``SystemExit``). Keep the block to building and parsing: the swap is
    process-wide, so one block runs at a time."""
    with _swap_lock:
        saved = argparse._, argparse.ngettext  # noqa: SLF001 - argparse's gettext hooks
        argparse._, argparse.ngettext = _gettext, _ngettext
        try:
            yield
        finally:
            argparse._, argparse.ngettext = saved


@contextmanager
def parser_language(lang: str | None = None) -> Iterator[str]:
    """:func:`command_language` and :func:`argparse_words` together: build a parser, parse,
    print help or a usage error in ``lang``; yields the language."""
    with command_language(lang) as chosen, argparse_words():
        yield chosen
