"""Make any string safe to write to a UTF-8 file or a terminal, bounded, and names unambiguous.

Text that reaches a result file, a feedback page, ``grades.csv`` or the terminal may come
from a student: an exception message, a type name, a file or folder name. Such text can hold
lone surrogates (which UTF-8 cannot encode: writing them raised ``UnicodeEncodeError``),
terminal control sequences, Unicode bidi controls and other invisible format characters
(which reorder or hide what is displayed around them), or megabytes. Everything printed or
written goes through here first; each kind of output then applies its own escaping where it
is written (:mod:`grader.outputs.escape`).

Names get more than messages: two different folders must never be *shown* the same, or
``grades.csv`` could hold one name twice with two totals. :func:`safe_name` is injective (a
literal backslash is escaped too, raw bytes and code points have different escapes, a cut
name keeps a hash of the whole), and :func:`display_names` spells out, across a class, names
that would still look alike (NFC vs NFD, full-width forms, Cyrillic or Greek look-alikes).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

#: longest student-derived value shown inside one message (an exception text, a type name)
MAX_VALUE_CHARS = 1000
#: longest message of one check, all values included
MAX_MESSAGE_CHARS = 4000
#: longest name (file, folder) shown
MAX_NAME_CHARS = 200
#: bits of the largest int a message shows as a number; a larger one is shown by its size
#: (printing it costs quadratic time, and Python refuses past 4300 digits)
MAX_SHOWN_INT_BITS = 256

#: Unicode categories never shown raw: controls, format characters (bidi embeddings,
#: overrides and isolates, zero-width spaces and joiners, the BOM, soft hyphen), surrogates,
#: private use, unassigned code points, line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: invisible or blank characters outside those categories (Unicode's Default_Ignorable_Code_Point
#: less what the categories cover, and the braille blank): they make two strings look alike.
INVISIBLE = frozenset([0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F,
                       0x2800, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10),
                       *range(0xE0100, 0xE01F0)])

# Everything outside printable ASCII is looked at one by one (the fast path keeps plain text
# cheap); newline and tab stay where a value may span lines.
_LOOK = re.compile("[^\x20-\x7e\n\t]")
_LOOK_LINE = re.compile("[^\x20-\x7e]")


def hidden(ch: str) -> bool:
    """True for a character that must not reach a reader raw: it is not seen (or not seen as
    itself) but changes what is displayed around it."""
    code = ord(ch)
    return code in INVISIBLE or unicodedata.category(ch) in HIDDEN_CATEGORIES


def code_point(code: int) -> str:
    """``\\uNNNN`` or ``\\UNNNNNNNN``: a code point spelled in ASCII, never as ``\\xNN`` (in a
    name that spelling means a raw byte)."""
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def code_escape(code: int) -> str:
    """``\\xNN`` (below 0x100), ``\\uNNNN`` or ``\\UNNNNNNNN``: a code point spelled in ASCII."""
    return f"\\x{code:02x}" if code < 0x100 else code_point(code)


def _escape_hidden(match: re.Match[str]) -> str:
    ch = match.group(0)
    return code_escape(ord(ch)) if hidden(ch) else ch


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [+{len(text) - limit} chars]"


def safe_text(text: Any, limit: int = MAX_MESSAGE_CHARS, newlines: bool = True) -> str:
    """``text`` (anything: it is turned into a ``str``) with hidden characters (:func:`hidden`:
    controls, surrogates, bidi and other format characters, separators) escaped as ``\\xNN`` /
    ``\\uNNNN`` and cut to ``limit`` characters. ``newlines=False`` escapes line breaks and
    tabs too (for values that must stay on one line)."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # a hostile __str__ must not stop grading
            text = "<unprintable>"
    # Cut first (bounded work on a huge string), then escape, then cut what escaping grew.
    text = _truncate(text, limit)
    text = (_LOOK if newlines else _LOOK_LINE).sub(_escape_hidden, text)
    return _truncate(text, limit + 40)


def _name_char(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if ch == "\\":
        return "\\\\"
    if hidden(ch) or (unicodedata.category(ch) == "Zs" and ch != " "):
        # Code points as \u, so that a raw byte (\x) and a character never read the same.
        return code_point(code)
    return ch


def safe_name(name: str) -> str:
    """A file or folder name as the user should see it, one line, bounded, and injective: two
    different names never give the same string.

    ``\\xNN`` is a byte that is not UTF-8, ``\\uNNNN`` / ``\\UNNNNNNNN`` a character that would
    be invisible, reorder the line or look like a plain space (controls, bidi and format
    characters, separators, spaces other than U+0020, and spaces at either end), ``\\\\`` a
    backslash. A name longer than :data:`MAX_NAME_CHARS` is cut and keeps a hash of the whole.
    """
    # Python reads a byte that is not UTF-8 as one of the code points U+DC80-U+DCFF
    # (os.fsdecode): each character maps to its own spelling, so the map is injective.
    text = name if isinstance(name, str) else os.fsdecode(name)
    shown = "".join(ch if "\x21" <= ch <= "\x7e" and ch != "\\" else _name_char(ch)
                    for ch in text)
    # Leading and trailing spaces are invisible at the edge of a cell or a line.
    stripped = shown.strip(" ")
    if stripped != shown:
        lead = len(shown) - len(shown.lstrip(" "))
        trail = len(shown) - len(shown.rstrip(" ")) if stripped else 0
        shown = "\\u0020" * lead + stripped + "\\u0020" * trail
    if len(shown) > MAX_NAME_CHARS:
        # Longer than any uncut name, and the hash tells two cut names apart.
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        shown = f"{shown[:MAX_NAME_CHARS]}… [+{len(shown) - MAX_NAME_CHARS} chars, #{digest}]"
    return shown


# Letters of other scripts that look like Latin ones (after case folding), for spotting names
# that read the same; partial on purpose: a look-alike it misses is still shown as its own
# code points, never merged with another name.
_CONFUSABLE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s",
    "т": "t", "у": "y", "ԝ": "w", "х": "x", "с": "c", "ԁ": "d", "ɡ": "g", "ı": "i",
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y",
})


def lookalike_key(shown: str) -> str:
    """What a reader is likely to see in a shown name: compatibility forms folded (full-width,
    ligatures), accents dropped, case folded, common Cyrillic and Greek look-alikes mapped."""
    decomposed = unicodedata.normalize("NFKD", shown)
    bare = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return bare.casefold().translate(_CONFUSABLE)


def spelled_out(shown: str) -> str:
    """``shown`` with every non-ASCII character as ``\\uNNNN``: pure ASCII, still injective
    (``shown`` holds its backslashes doubled)."""
    return "".join(ch if ch < "\x80" else code_point(ord(ch)) for ch in shown)


def display_names(names: Iterable[str]) -> dict[str, str]:
    """Each name of a class -> how every output shows it: :func:`safe_name`, except that names
    which would look alike (:func:`lookalike_key`: ``José`` composed and decomposed, ``ana`` in
    Latin and in Cyrillic letters) are all :func:`spelled_out`, so the reader sees they differ.
    Never two names shown the same."""
    shown = {name: safe_name(name) for name in names}
    groups: dict[str, list[str]] = defaultdict(list)
    for name, text in shown.items():
        groups[lookalike_key(text)].append(name)
    for members in groups.values():
        if len(members) > 1:
            for name in members:
                shown[name] = spelled_out(shown[name])
    # safe_name and spelled_out are injective, so this never fires; it is the last guard of
    # the promise that no two folders read the same.
    seen: dict[str, int] = defaultdict(int)
    for name in sorted(shown):
        seen[shown[name]] += 1
        if seen[shown[name]] > 1:
            shown[name] = f"{shown[name]} [#{seen[shown[name]]}]"
    return shown


def shown_int(value: int) -> int | str:
    """An int as a message shows it: itself, or ``<int of N bits>`` past
    :data:`MAX_SHOWN_INT_BITS`."""
    bits = value.bit_length()
    return value if bits <= MAX_SHOWN_INT_BITS else f"<int of {bits} bits>"


def shown_value(value: object, limit: int = MAX_VALUE_CHARS) -> object:
    """A message value fit to format: numbers as they are (format specs keep working), a huge
    int as its size (printing it could raise), everything else as bounded, safe text."""
    if isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return shown_int(value)
    return safe_text(value, limit)


def safe_tree(value: Any, limit: int = MAX_MESSAGE_CHARS) -> Any:
    """A JSON-able tree with every string (keys included) passed through :func:`safe_text`."""
    if isinstance(value, str):
        return safe_text(value, limit)
    if isinstance(value, dict):
        return {safe_text(k, MAX_NAME_CHARS): safe_tree(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_tree(v, limit) for v in value]
    return value
