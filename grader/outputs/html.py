"""One way to write an HTML page: one escape function, the reader's language, a style sheet.

Used by ``autograde``'s ``feedback.html`` and by the experiments' ``report.html``. Every page
is well-formed XHTML-compatible markup (every tag closed), so an XML parser reads it as well
as a browser does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from grader.i18n import current_lang

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: object) -> str:
    """HTML-escaped text without control characters (a student's ANSI colours, a stray NUL)."""
    return html.escape(_CONTROL.sub("", str(text)))


def page(title: str, body: Iterable[str], lang: str | None, style: str) -> str:
    """A whole page: ``title`` is plain text (escaped here), ``body`` lines are markup."""
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{current_lang(lang)}">',
        "<head>",
        '<meta charset="utf-8" />',
        f"<title>{escape(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"
