"""What nbgrader renders of a notebook is inert (grader/nbgrading/inert.py), without running
nbgrader: the hostile outputs and cells of tests/nb_markup_attacks.py rendered with nbgrader's
feedback template and formgrader's, before and after the kit's step. The same page made by
the real ``nbgrader autograde`` and ``generate_feedback``, opened in Chromium, is in
tests/test_nbgrader.py."""

from __future__ import annotations

import base64
import copy
import html
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

pytest.importorskip("nbgrader")

import nb_markup_attacks as attacks  # noqa: E402

from grader.authoring.course_notebook import NOTEBOOK_PATH  # noqa: E402
from grader.nbgrading.gradeids import LAYOUT_KEY  # noqa: E402
from grader.nbgrading.inert import (  # noqa: E402
    as_text,
    course_texts,
    inert_notebook,
    inert_output,
    is_text_block,
)

CANARY = "http://127.0.0.1:9"


def _hostile() -> nbformat.NotebookNode:
    """The hostile student's notebook as the kernel leaves it: every output of the catalogue
    (as the kernel would display it), the planted cells and notebook metadata."""
    outputs = [new_output("display_data", data=attacks._fill(bundle, name, CANARY))
               for name, (_, bundle) in attacks.OUTPUTS.items()]
    outputs += [new_output("display_data", data=attacks._fill(bundle, name, CANARY),
                           metadata=attacks._fill(meta, name, CANARY))
                for name, (_, bundle, meta) in attacks.METADATA_OUTPUTS.items()]
    markup = attacks._fill("<img src=x onerror=\"" + attacks.JS + "\">", "error_output", CANARY)
    outputs.append(new_output("error", ename="ValueError", evalue=markup,
                              traceback=[f"ValueError: {markup}"]))
    outputs.append(new_output("stream", name="stdout", text="<b>impreso</b>\n"))
    nb = new_notebook(cells=[new_code_cell("x = 1", outputs=outputs, execution_count=1),
                             *attacks.planted_cells(CANARY)])
    nb.metadata.update(attacks.notebook_metadata(CANARY))
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                              "language": "python"}
    return nb


def _benign() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell("# hola"), new_code_cell(
        "print(1)", outputs=[new_output("stream", name="stdout", text="1\n")],
        execution_count=1)])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _page_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize("view", ["feedback", "formgrader"])
def test_hostile_notebook_renders_inert(view, tmp_path):
    def render(nb) -> str:
        if view == "feedback":
            return attacks.feedback_html(nb)
        path = tmp_path / "nb.ipynb"
        nbformat.write(nb, path)
        return attacks.formgrader_html(path)

    benign = render(_benign())
    raw = render(_hostile())
    live = attacks.live_markup(raw, benign, CANARY)
    # The check can fail: without the kit's step the page is full of live markup.
    assert len(live) >= 10 and any("onerror" in f for f in live), live

    inert = render(inert_notebook(_hostile(), frozenset(), "es"))
    assert attacks.live_markup(inert, benign, CANARY) == []
    text = _page_text(inert)
    for name, (_, bundle) in attacks.OUTPUTS.items():
        value = attacks._fill(bundle, name, CANARY)
        shown = value.get("text/plain", next(iter(value.values())))
        if isinstance(shown, str):  # each payload still readable, as text
            assert shown[:60] in text, name
    for name, (_, source) in attacks.MARKDOWN.items():
        assert attacks._fill(source, name, CANARY).split("\n")[0][:40] in text, name
    assert "<b>impreso</b>" in text
    assert text.count("se muestra como texto") >= 10


def test_outputs_keep_text_and_checked_images():
    png = attacks.PNG_1X1
    split = png[:20] + "\n" + png[20:]  # nbformat may store base64 over several lines
    out = inert_output(new_output("display_data", data={"image/png": split},
                                  metadata={"image/png": {"width": 40, "height": "9 onerror=x"}}),
                       "en")
    assert out.data == {"image/png": base64.b64encode(base64.b64decode(png)).decode()}
    assert out.metadata == {"image/png": {"width": 40}}
    # base64 that would close the attribute, or bytes that are not a PNG: not an image
    for bad in (png + '" onerror="x', base64.b64encode(b"<svg onload=x>").decode()):
        out = inert_output(new_output("display_data", data={"image/png": bad}), "en")
        assert list(out.data) == ["text/plain"] and "shown as text" in out.data["text/plain"]
    # a rich output with a text/plain fallback keeps only the fallback, with no note
    out = inert_output(new_output("execute_result", execution_count=3, data={
        "text/html": "<b>x</b>", "text/plain": "x"}), "en")
    assert out.data == {"text/plain": "x"} and out.execution_count == 3
    # a widget (JSON, no text) becomes a note; forged stream names and counts are dropped
    out = inert_output(new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "m"}}), "en")
    assert out.data == {"text/plain": "[application/vnd.jupyter.widget-view+json output: "
                                      "not shown]"}
    stream = inert_output({"output_type": "stream", "name": 'stdout"><b', "text": ["a", "b"]},
                          "en")
    assert stream == {"output_type": "stream", "name": "stdout", "text": "ab"}
    forged = inert_output({"output_type": "execute_result", "execution_count": "<b>",
                           "data": {"text/plain": "1"}, "metadata": {}}, "en")
    assert forged.execution_count is None
    assert inert_output({"output_type": "clear_output"}, "en") is None


def test_text_blocks_hold_any_source_and_are_recognised_again():
    from nbconvert.filters.markdown import markdown2html

    for source in ("plain", "```\n<script>x</script>\n```", "````` ``` `", "$x$ \\(y\\)",
                   "", "*nota*\n\n```text\nfake\n```"):
        block = as_text(source, "es")
        assert is_text_block(block), source
        page = markdown2html(block)
        # the whole source is inside the one <pre>, escaped; nothing of it outside
        pre = re.search(r"<pre>(.*)</pre>", page, re.S)
        assert pre and html.unescape(re.sub(r"<[^>]+>", "", pre.group(1))).strip() == \
            source.strip(), page
        outside = page.replace(pre.group(0), "")
        assert "<script" not in outside and "$" not in outside
    assert not is_text_block("*otra nota*\n\n```text\n<b>\n```\n")
    assert not is_text_block(as_text("x", "es").replace("```text\nx\n```",
                                                        "```text\n```\n<b>x</b>\n```"))


def test_only_the_course_own_markdown_renders():
    texts = course_texts(NOTEBOOK_PATH)
    source = nbformat.read(NOTEBOOK_PATH, as_version=4)
    narrative = next(c for c in source.cells if c.cell_type == "markdown")
    edited = copy.deepcopy(narrative)
    edited.source += "\n<img src=x onerror=alert(1)>"
    attached = copy.deepcopy(narrative)
    attached["attachments"] = {"a.png": {"image/png": attacks.PNG_1X1}}
    edited["id"], attached["id"] = "editada", "adjunto"
    nb = new_notebook(cells=[narrative, edited, attached])
    nb.metadata[LAYOUT_KEY] = {"problems": [], "restored": ["prueba_x"]}
    nb.metadata["widgets"] = {"state": {}}
    once = inert_notebook(copy.deepcopy(nb), texts, "es")
    assert once.cells[0].source == narrative.source
    assert [is_text_block(c.source) for c in once.cells] == [False, True, True]
    assert "attachments" not in once.cells[2]
    assert set(once.metadata) == {LAYOUT_KEY}
    # applied again (feedback after autograde): the same notebook
    assert inert_notebook(copy.deepcopy(once), texts, "es") == once
    # no source notebook: every markdown cell is text
    none = inert_notebook(copy.deepcopy(nb), course_texts(None), "es")
    assert all(is_text_block(c.source) for c in none.cells)


def test_metadata_keeps_only_checked_values():
    cell = new_code_cell("1", metadata={
        "tags": ["ok-tag", 'x"><img src=x onerror=y>'], "editable": False, "collapsed": True,
        "nbgrader": {"grade": True, "grade_id": "prueba_x", "locked": True, "points": 1,
                     "solution": False, "schema_version": 3}})
    bad_id = new_code_cell("1", metadata={"nbgrader": {
        "grade": True, "grade_id": '"><script>', "locked": True, "points": 1,
        "solution": False, "schema_version": 3}})
    bad_id["id"] = 'x" onmouseover="y'
    nb = new_notebook()
    nb.cells = [cell, bad_id]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "</title><script>",
                              "language": "python"}
    nb.metadata.language_info = {"name": "python", "codemirror_mode": {"name": "<x>"}}
    out = inert_notebook(nb, frozenset(), "en")
    assert out.cells[0].metadata == {"editable": False, "tags": ["ok-tag"],
                                     "nbgrader": cell.metadata.nbgrader}
    assert "nbgrader" not in out.cells[1].metadata
    assert re.fullmatch(r"[A-Za-z0-9_-]+", out.cells[1].id)
    assert out.metadata == {"kernelspec": {"name": "python3", "language": "python",
                                           "display_name": "python3"},
                            "language_info": {"name": "python"}}
    nbformat.validate(out)


def test_a_student_id_formgrader_would_render_as_markup_is_refused(tmp_path):
    """formgrader writes the student id (the folder's name) into its page unescaped: shown
    here with formgrader's own template; the kit refuses such an id before grading."""
    from grader.nbgrading.studentid import CheckStudentId, UnsafeStudentId

    path = tmp_path / "nb.ipynb"
    nbformat.write(_benign(), path)
    hostile = 'x<img src=x onerror="fetch(\'' + CANARY + '/id\')">'
    benign = attacks.formgrader_html(path)
    assert attacks.live_markup(attacks.formgrader_html(path, hostile), benign, CANARY)
    resources = {"nbgrader": {"student": hostile}}
    with pytest.raises(UnsafeStudentId, match="onerror") as raised:
        CheckStudentId().preprocess(_benign(), resources)
    assert "submitted/" in str(raised.value)
    for name in ("ana", "José Pérez", "m.gómez-2@x+y", "李"):
        CheckStudentId().preprocess(_benign(), {"nbgrader": {"student": name}})
    for name in ("a\u202eb", "a\nb", "a'b", "a&b"):
        with pytest.raises(UnsafeStudentId):
            CheckStudentId().preprocess(_benign(), {"nbgrader": {"student": name}})
