"""Language selection and message lookup (Spanish by default, English with PRACTICO_LANG=en)."""

from __future__ import annotations

import string
from typing import Any

from grader.settings import LANGS, language, normalize_lang

__all__ = ["LANGS", "current_lang", "fields", "render_reason", "t"]


def current_lang(lang: str | None = None) -> str:
    """``lang`` if given, else ``$PRACTICO_LANG``; anything unknown falls back to Spanish."""
    return normalize_lang(lang) if lang else language()


def fields(template: str) -> set[str]:
    """The ``{names}`` a template formats."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """The message ``key`` in the chosen language, formatted with ``values``.

    ``key`` and ``lang`` are positional-only, so a message may use ``{key}`` or ``{lang}``.
    """
    from grader.messages import MESSAGES
    from grader.textsafe import safe_text, shown_value

    entry = MESSAGES[key]
    template = entry[current_lang(lang)]
    # Values may come from student code (exception texts, type names, file names): each is
    # bounded and made UTF-8-safe before it is shown, and so is the whole message.
    values = {k: shown_value(v) for k, v in values.items()}
    try:
        text = template.format(**values)
    except Exception:
        # A message must never crash grading: show it raw with what we had.
        text = f"{template} {values!r}"
    return safe_text(text)


def render_reason(reason: Any, lang: str | None) -> str | None:
    """A reason the grader wrote as a message key and values, in the reader's language.

    Only ``reason_*`` keys render: a reason that reached here from a tampered child can at
    most pick one of the grader's own reasons. Anything else renders as nothing (``None``).
    """
    from grader import messages

    if not isinstance(reason, dict):
        return None
    key = reason.get("key")
    if not (isinstance(key, str) and key.startswith("reason_") and key in messages.MESSAGES):
        return None
    values = {k: v for k, v in reason.items()
              if k != "key" and isinstance(k, str) and isinstance(v, (str, int, float))}
    return t(key, lang, **values)
