"""One escaping function per kind of output, applied where that output is written.

Student text (folder and file names, exception messages, what their code printed) ends up
in four kinds of output, each with a syntax of its own that would otherwise run it:

- **terminal** (:func:`terminal`): control characters are escape sequences (colours, the
  window title, moving the cursor over a score), Unicode bidi controls reorder a line
  (``ana 0/120`` displayed as ``ana 021/0``), invisible characters hide text;
- **CSV** opened in a spreadsheet (:func:`csv_cell`): a cell that begins with ``=``, ``+``,
  ``-``, ``@``, tab or CR is a formula (OWASP "CSV injection": ``=HYPERLINK(...)``);
- **Markdown** rendered by GitLab, VS Code or an LMS (:func:`md_code`, :func:`md_text`): raw
  HTML runs, ``[x](javascript:...)`` is a link, ``![](url)`` loads, a bare URL is linked;
- **HTML** (:func:`grader.outputs.html.escape`): markup and attribute quotes.

Each writer calls the function of its kind on every string it did not write itself, even
when an earlier step already made it safe (:mod:`grader.textsafe`): no output depends on
another having escaped its text, so a new path to a writer cannot bring student text in live.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from grader.textsafe import safe_text

# --------------------------------------------------------------------------- terminal


def terminal(text: object, *, newlines: bool = True) -> str:
    """``text`` fit for a terminal or a log: every control, bidi, format and separator
    character spelled out (``\\x1b``, ``\\u202e``), never sent raw. ``newlines=False`` for
    one line (a progress line, a table cell): line breaks and tabs are spelled out too."""
    return safe_text(text, 10**7, newlines=newlines)


# ------------------------------------------------------------------------------- CSV

#: a cell beginning with one of these is a formula in Excel, LibreOffice or Google Sheets
#: (OWASP's list, their full-width forms, which some locales accept), or begins with the quote
#: that neutralises them (quoted again so that ``'=1`` and ``=1`` stay two cells)
FORMULA_START = frozenset("=+-@\t\r\n'＝＋－＠")


def csv_cell(value: object) -> str:
    """One CSV cell that a spreadsheet shows as text: one line, no hidden characters, and
    prefixed with ``'`` when it would begin (after blanks) with a formula character. The
    quoting of commas, quotes and newlines is the ``csv`` module's."""
    text = terminal(value, newlines=False)
    if text.lstrip(" ")[:1] in FORMULA_START:
        text = "'" + text
    return text


def csv_row(cells: Iterable[object]) -> list[str]:
    """Every cell of a row through :func:`csv_cell` (the kit's numbers never begin with a
    formula character: scores are at least 0, so they pass unchanged)."""
    return [csv_cell(cell) for cell in cells]


# -------------------------------------------------------------------------- Markdown

_BACKTICKS = re.compile("`+")
# Inline markup starts with one of these (emphasis, code, links and images, strikethrough,
# table cells, HTML and entities); CommonMark lets any ASCII punctuation be backslash-escaped.
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
# At the start of a line: a heading, list item, quote, setext underline or numbered item.
_MD_LINE_START = re.compile(r"^(\s*(?:\d+)?)([#>+=.)-])")


def md_code(text: object, *, in_table: bool = False) -> str:
    """``text`` as one inline code span: nothing inside a code span is markup in any Markdown
    renderer (no HTML, no link, no image, no autolinked URL). The fence is one backtick longer
    than the longest run of backticks in ``text``, so the text cannot close it. One line: line breaks are spelled out. ``in_table``: the span is in a table cell, where
    GFM splits cells at ``|`` even inside code, so pipes are escaped (``\\|``, which tables
    read as ``|``)."""
    body = terminal(text, newlines=False)
    if in_table:
        body = body.replace("|", "\\|")
    if not body:
        return ""
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(body)), default=0) + 1)
    # CommonMark strips one space from each end of a span that begins and ends with one (and
    # is not only blanks): a space pads text that would otherwise touch the fence with a
    # backtick, or lose its own spaces.
    if body.strip(" ") and (body[0] == "`" or body[-1] == "`"
                            or (body[0] == " " and body[-1] == " ")):
        return f"{fence} {body} {fence}"
    return f"{fence}{body}{fence}"


def md_text(text: object, *, line_start: bool = False) -> str:
    """Plain text in Markdown prose, a heading or a table cell (the kit's own labels and
    numbers): one line, ``<`` and ``&`` as entities, inline markup backslash-escaped; with
    ``line_start``, text that begins a line and would make a block (a heading, a list item)
    is escaped too. Student text goes in :func:`md_code` instead, where no renderer links a
    URL either."""
    body = terminal(text, newlines=False)
    body = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = _MD_INLINE.sub(r"\\\1", body)
    if line_start:
        body = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), body, count=1)
    return body
