"""One way to write an HTML page: one escape function, the reader's language, a style sheet.

Used by ``autograde``'s ``feedback.html`` and by the experiments' ``report.html``. Every page
is well-formed XHTML-compatible markup (every tag closed), so an XML parser reads it as well
as a browser does. Every string a page shows goes through :func:`escape` where the page is
written (:mod:`grader.outputs.escape` has the other outputs' escapers).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from grader.i18n import current_lang
from grader.textsafe import safe_text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape(text: object) -> str:
    """Text for an HTML text node or a quoted attribute value: ``<``, ``>``, ``&`` and both
    quotes as entities; C0 control characters but newline and tab dropped (a student's ANSI
    colours, a stray NUL: XML forbids them, and a page of printed output stays readable);
    every other hidden character (bidi controls, zero-width and format characters, separators) spelled out as
    ``\\u202e``, since a browser would reorder or hide the text around it."""
    text = text if isinstance(text, str) else safe_text(text, 10**7)  # a hostile __str__
    return html.escape(safe_text(_CONTROL.sub("", text), 10**7), quote=True)


def page(title: str, body: Iterable[str], lang: str | None, style: str,
         head: Iterable[str] = ()) -> str:
    """A whole page: ``title`` is plain text (escaped here), ``body`` lines are markup, and so
    are ``head`` lines (e.g. a ``Content-Security-Policy`` meta), put before the title."""
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{current_lang(lang)}">',
        "<head>",
        '<meta charset="utf-8" />',
        *head,
        f"<title>{escape(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"
