"""What nbgrader shows of a student's notebook holds no live markup: only text and images.

Why: everything in a submitted notebook is the student's (the cells, their metadata, the
outputs the student's kernel produced, even those of the course's own cells), and nbgrader
renders it as HTML twice: ``generate_feedback`` (nbconvert's HTMLExporter; the student opens
it) and formgrader, which renders ``autograded/<student>/<assignment>/*.ipynb`` with its own
exporter inside the instructor's logged-in session, where a script could call formgrader's API
and change grades. Neither escapes: ``text/html``, ``text/markdown`` and
``application/javascript`` outputs, raw cells and the HTML of markdown cells go to the page as
they are, ``javascript:`` links stay links, formgrader renders markdown without any cleaning,
and widget state is rendered by scripts from a CDN.

:class:`InertNotebook` rewrites the notebook so that nothing of it can run or load anything,
whatever renders it afterwards:

- outputs keep ``text/plain``, PNG and JPEG (decoded and checked, re-encoded, so the base64
  cannot break out of its attribute) with numeric width and height; streams and errors stay
  (nbconvert escapes them). An output that only had HTML, Markdown, LaTeX, SVG, JavaScript or
  JSON becomes its text, after a note saying so; widgets and other binary kinds become a note;
- a markdown cell renders only when its source (and attachments) is exactly a markdown cell of
  the course's source notebook, the instructor's own text; any other (an answer, an edited or
  added cell) and every raw cell becomes its source in a fenced code block, after a note, so
  Markdown, HTML and MathJax never see it;
- metadata is cut to what nbgrader and nbconvert need, each value checked (nbgrader's schema,
  tags and ids of safe characters, integer execution counts); the notebook's keeps kernelspec
  and language names only, so widget state and anything else a student wrote there are gone.

It runs last in ``Autograde.autograde_preprocessors`` (after ``SaveAutoGrades``: the grades
are read from the untouched cells) so the autograded notebook on disk, the one formgrader
reads, is already inert; and first in ``GenerateFeedback.preprocessors``, so feedback is inert
even from an autograded notebook made before this step existed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode, from_dict
from nbformat.v4.nbbase import random_cell_id
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from grader.i18n import current_lang, t
from grader.nbgrading.gradeids import LAYOUT_KEY

#: image kinds kept, each with the bytes its data must begin with
IMAGES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
#: decoded bytes of one image kept (a plot is ~50 KB)
MAX_IMAGE_BYTES = 8 * 1024 * 1024
#: characters of an output's HTML / JavaScript / ... shown as text
TEXT_CHARS = 4000
#: largest width or height kept for an image, in pixels
MAX_PIXELS = 10000
_SAFE_WORD = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")
_SAFE_LABEL = re.compile(r"^[\w .()+-]{1,80}$")
_CELL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)


def _image(kind: str, value: Any) -> str | None:
    """The image's base64, re-encoded, when it decodes to an image of that kind; else None."""
    if not isinstance(value, str) or len(value) > MAX_IMAGE_BYTES * 4 // 3 + 1024:
        return None
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(IMAGES[kind]) or len(raw) > MAX_IMAGE_BYTES:
        return None
    return base64.b64encode(raw).decode("ascii")


def _pixels(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if 0 < value <= MAX_PIXELS else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def inert_output(output: Any, lang: str) -> NotebookNode | None:
    """One output as text and checked images; None to drop it."""
    if not isinstance(output, dict) or output.get("output_type") not in _OUTPUT_TYPES:
        return None
    kind = output["output_type"]
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return from_dict({"output_type": "stream", "name": name,
                          "text": _text(output.get("text", ""))})
    if kind == "error":
        trace = output.get("traceback")
        return from_dict({"output_type": "error", "ename": _text(output.get("ename", "")),
                          "evalue": _text(output.get("evalue", "")),
                          "traceback": [_text(line) for line in trace]
                          if isinstance(trace, list) else [_text(trace or "")]})
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    meta = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
    kept: dict[str, Any] = {}
    kept_meta: dict[str, Any] = {}
    dropped: dict[str, Any] = {}
    for mime, value in data.items():
        if mime == "text/plain":
            kept[mime] = _text(value)
        elif mime in IMAGES and (image := _image(mime, value)) is not None:
            kept[mime] = image
            size = meta.get(mime) if isinstance(meta.get(mime), dict) else {}
            dims = {k: _pixels(size.get(k)) for k in ("width", "height")}
            if any(v is not None for v in dims.values()):
                kept_meta[mime] = {k: v for k, v in dims.items() if v is not None}
        else:
            dropped[str(mime)] = value
    if dropped and "text/plain" not in kept:
        kinds = ", ".join(sorted(m[:60] for m in dropped))
        texts = [v for v in dropped.values() if isinstance(v, (str, list))]
        if texts and not kept:
            shown = _text(texts[0])
            cut = "" if len(shown) <= TEXT_CHARS else "\n[...]"
            kept["text/plain"] = t("nb_inert_text", lang, kinds=kinds) + "\n" + (
                shown[:TEXT_CHARS] + cut)
        else:
            kept["text/plain"] = t("nb_inert_omitted", lang, kinds=kinds)
    node: dict[str, Any] = {"output_type": kind, "data": kept, "metadata": kept_meta}
    if kind == "execute_result":
        node["execution_count"] = _count(output.get("execution_count"))
    return from_dict(node)


def as_text(source: str, lang: str) -> str:
    """Markdown that shows ``source`` verbatim: a note, then a fence longer than any run of
    backticks in it (so no line of it can close the fence)."""
    longest = max((len(m) for m in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"*{t('nb_inert_markdown', lang)}*\n\n{fence}text\n{source}\n{fence}\n"


def is_text_block(source: str) -> bool:
    """Whether ``source`` is already what :func:`as_text` writes (in either language), so
    that applying this step again (feedback after autograde) leaves it as it is. Whoever
    wrote it, such a cell renders as a note and a code block, nothing else."""
    from grader.messages import MESSAGES

    notes = {f"*{note}*" for note in MESSAGES["nb_inert_markdown"].values()}
    head, _, rest = source.partition("\n\n")
    found = re.fullmatch(r"(`{3,})text\n(.*)\n\1\n", rest, re.S)
    if head not in notes or found is None:
        return False
    longest = max((len(m) for m in re.findall(r"`+", found.group(2))), default=0)
    return longest < len(found.group(1))


def _nbgrader_meta(meta: Any) -> dict[str, Any] | None:
    """nbgrader's own metadata when its schema accepts it (its grade_id pattern is of safe
    characters only), else None."""
    if not isinstance(meta, dict):
        return None
    import jsonschema
    from nbgrader.nbgraderformat import MetadataValidator

    try:
        jsonschema.validate(meta, MetadataValidator().schema)
    except jsonschema.ValidationError:
        return None
    return dict(meta)


def _cell_metadata(meta: Any) -> dict[str, Any]:
    meta = meta if isinstance(meta, dict) else {}
    kept: dict[str, Any] = {}
    for flag in ("deletable", "editable"):
        if isinstance(meta.get(flag), bool):
            kept[flag] = meta[flag]
    tags = meta.get("tags")
    if isinstance(tags, list):
        kept["tags"] = [tag for tag in tags if isinstance(tag, str) and _SAFE_WORD.match(tag)]
    nbg = _nbgrader_meta(meta.get("nbgrader"))
    if nbg is not None:
        kept["nbgrader"] = nbg
    return kept


def _notebook_metadata(meta: Any) -> dict[str, Any]:
    """kernelspec and language_info, each field of safe characters (nbformat requires a
    kernelspec's name and display_name, a language_info's name); the kit's findings."""
    meta = meta if isinstance(meta, dict) else {}

    def fields(key: str, names: tuple[str, ...], pattern: re.Pattern[str]) -> dict[str, str]:
        given = meta.get(key) if isinstance(meta.get(key), dict) else {}
        return {name: given[name] for name in names
                if isinstance(given.get(name), str) and pattern.match(given[name])}

    kept: dict[str, Any] = {}
    spec = fields("kernelspec", ("name", "language"), _SAFE_WORD)
    if "name" in spec:
        label = fields("kernelspec", ("display_name",), _SAFE_LABEL)
        kept["kernelspec"] = {**spec, "display_name": label.get("display_name", spec["name"])}
    info = fields("language_info", ("name", "pygments_lexer", "version", "file_extension"),
                  _SAFE_WORD)
    if "name" in info:
        kept["language_info"] = info
    if isinstance(meta.get(LAYOUT_KEY), dict):
        kept[LAYOUT_KEY] = meta[LAYOUT_KEY]  # the kit's own findings (gradeids.py)
    return kept


def _attachments_key(cell: Any) -> str:
    attachments = cell.get("attachments")
    return json.dumps(attachments, sort_keys=True) if attachments else ""


def inert_notebook(nb: Any, course_texts: frozenset[tuple[str, str]], lang: str) -> Any:
    """Rewrite ``nb`` in place (see the module's docstring); returns it.

    ``course_texts``: ``(source, attachments)`` of the course's own markdown cells, the only
    ones rendered as Markdown (see :func:`course_texts`)."""
    nb["metadata"] = from_dict(_notebook_metadata(nb.get("metadata")))
    cells = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        source = _text(cell.get("source", ""))
        new: dict[str, Any] = {"metadata": _cell_metadata(cell.get("metadata"))}
        if "id" in cell:  # nbformat 4.5 and later; a cell id is rendered into an attribute
            new["id"] = cell["id"] if isinstance(cell["id"], str) and _CELL_ID.match(
                cell["id"]) else random_cell_id()
        if kind == "code":
            outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
            new.update(cell_type="code", source=source,
                       execution_count=_count(cell.get("execution_count")),
                       outputs=[o for o in (inert_output(o, lang) for o in outputs) if o])
        elif kind == "markdown" and (source, _attachments_key(cell)) in course_texts:
            new.update(cell_type="markdown", source=source)
            if cell.get("attachments"):
                new["attachments"] = cell["attachments"]  # the course's own, byte for byte
        elif kind == "markdown" and is_text_block(source):
            new.update(cell_type="markdown", source=source)  # made inert by an earlier pass
        else:
            # An answer, an edited or added text cell, a raw cell: its source, as text.
            new.update(cell_type="markdown", source=as_text(source, lang))
        cells.append(from_dict(new))
    nb["cells"] = cells
    return nb


@lru_cache(maxsize=8)
def _read_texts(path: str, mtime_ns: int, size: int) -> frozenset[tuple[str, str]]:
    nb = nbformat.read(path, as_version=4)
    return frozenset((_text(c.get("source", "")), _attachments_key(c))
                     for c in nb.cells if c.get("cell_type") == "markdown")


def course_texts(source_notebook: Path | None) -> frozenset[tuple[str, str]]:
    """The markdown cells of the course's source notebook (none when it cannot be read:
    then every markdown cell is shown as text)."""
    if source_notebook is None:
        return frozenset()
    try:
        stat = source_notebook.stat()
        return _read_texts(str(source_notebook), stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError):
        return frozenset()


class InertNotebook(NbGraderPreprocessor):
    """Last of ``Autograde.autograde_preprocessors``, first of
    ``GenerateFeedback.preprocessors``: see the module's docstring."""

    lang = Unicode("", help="Language of the notes that replace student markup: es or en "
                            "(default: $PRACTICO_LANG, else es).").tag(config=True)

    def _source_notebook(self, resources: dict[str, Any]) -> Path | None:
        info = resources.get("nbgrader") or {}
        coursedir = getattr(getattr(self.parent, "parent", None), "coursedir", None)
        if coursedir is None or not info.get("assignment") or not info.get("notebook"):
            return None
        folder = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
        return Path(folder) / f"{info['notebook']}.ipynb"

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        source = self._source_notebook(resources)
        texts = course_texts(source)
        if not texts:
            self.log.warning("no course source notebook at %s: every markdown cell is shown "
                             "as text", source)
        return inert_notebook(nb, texts, current_lang(self.lang or None)), resources
