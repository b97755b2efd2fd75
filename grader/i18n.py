"""Language selection and message lookup (Spanish by default, English with PRACTICO_LANG=en)."""

from __future__ import annotations

import os
import string

LANGS = ("es", "en")


def current_lang(lang: str | None = None) -> str:
    """``lang`` if given, else ``$PRACTICO_LANG``; anything unknown falls back to Spanish."""
    value = (lang or os.environ.get("PRACTICO_LANG") or "es").strip().lower()[:2]
    return value if value in LANGS else "es"


def fields(template: str) -> set[str]:
    """The ``{names}`` a template formats."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """The message ``key`` in the chosen language, formatted with ``values``.

    ``key`` and ``lang`` are positional-only, so a message may use ``{key}`` or ``{lang}``.
    """
    from grader.messages import MESSAGES

    entry = MESSAGES[key]
    template = entry[current_lang(lang)]
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        # A message must never crash grading: show it raw with what we had.
        return f"{template} {values}"
