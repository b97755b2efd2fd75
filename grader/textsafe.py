"""Make any string safe to write to a UTF-8 file or a terminal, and bounded in length.

Text that reaches a result file, a feedback page, ``grades.csv`` or the terminal may come
from a student: an exception message, a type name, a file or folder name. Such text can hold
lone surrogates (which UTF-8 cannot encode: writing them raised ``UnicodeEncodeError``),
terminal control sequences, or megabytes. Everything printed or written goes through here.
"""

from __future__ import annotations

import os
import re
from typing import Any

#: longest student-derived value shown inside one message (an exception text, a type name)
MAX_VALUE_CHARS = 1000
#: longest message of one check, all values included
MAX_MESSAGE_CHARS = 4000
#: longest name (file, folder) shown
MAX_NAME_CHARS = 200

# C0 controls except newline and tab, DEL, C1 controls, and every surrogate code point.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [+{len(text) - limit} chars]"


def safe_text(text: Any, limit: int = MAX_MESSAGE_CHARS, newlines: bool = True) -> str:
    """``text`` (anything: it is turned into a ``str``) with unsafe characters escaped as
    ``\\xNN`` / ``\\uNNNN`` and cut to ``limit`` characters. ``newlines=False`` escapes line
    breaks too (for values that must stay on one line)."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # a hostile __str__ must not stop grading
            text = "<unprintable>"
    # Cut first (bounded work on a huge string), then escape, then cut what escaping grew.
    text = _truncate(text, limit)
    text = (_UNSAFE if newlines else _UNSAFE_LINE).sub(_escape, text)
    return _truncate(text, limit + 40)


def safe_name(name: str) -> str:
    """A file or folder name as the user should see it: bytes that are not UTF-8 (read by
    Python as lone surrogates) shown as ``\\xNN``, control characters escaped, bounded."""
    try:
        raw = os.fsencode(name)
    except (UnicodeEncodeError, TypeError):
        return safe_text(name, MAX_NAME_CHARS, newlines=False)
    return safe_text(raw.decode("utf-8", "backslashreplace"), MAX_NAME_CHARS, newlines=False)


def safe_tree(value: Any, limit: int = MAX_MESSAGE_CHARS) -> Any:
    """A JSON-able tree with every string (keys included) passed through :func:`safe_text`."""
    if isinstance(value, str):
        return safe_text(value, limit)
    if isinstance(value, dict):
        return {safe_text(k, MAX_NAME_CHARS): safe_tree(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_tree(v, limit) for v in value]
    return value
