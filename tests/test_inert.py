"""What leaves the grader is inert, and class input is trusted no further than it can be (issue 18).

Every output kind has one escaper (grader/outputs/escape.py, grader/outputs/html.py); the
property tests feed them any text and check what a real reader makes of the result: a
Markdown renderer (markdown-it and mistune) shows a code span as exactly its text, the csv
module reads back no cell that begins with a formula character, a terminal gets no hidden
character. Display names (grader/textsafe.py) are proven injective by decoding them back.

Class input: the results and class folders may not hold one another, a symbolic link among
the students is reported and never followed, the signing key must live outside both and be
the user's own, and only a result.json this kit signed counts for resuming or grades.csv.

One real ``autograde`` (marked ``slow``) grades ``fixtures/inert/`` (hostile folder names,
hostile exception messages and links; each fixture states its outcome) on ``deep_net``
only, reruns it (everything skipped), tampers with results and reruns again. The
``browser`` test opens feedback.html, feedback.md rendered to HTML and report.html made from
hostile inputs in headless Chromium: no script runs and no request leaves the page.
"""

from __future__ import annotations

import csv
import html
import http.server
import io
import json
import os
import re
import runpy
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT, run_py
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.outputs.escape import FORMULA_START, csv_cell, csv_row, md_code, md_text, terminal
from grader.outputs.html import escape as html_escape
from grader.textsafe import MAX_NAME_CHARS, display_names, hidden, safe_name

INERT = ROOT / "fixtures" / "inert"
#: the characters the issue names, and their relatives: bidi controls, marks, isolates,
#: zero-width and other format characters, separators, invisible fillers
BIDI_AND_INVISIBLE = ("\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u200e",
                      "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u200b", "\u200c",
                      "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2028", "\u2029", "\u180e",
                      "\ufe0f", "\u034f", "\u3164", "\U000e0041")
#: any code point, surrogates included (what a student's exception text can hold)
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF,
                                          categories=None), max_size=60)
#: a folder name: bytes as the filesystem has them, read the way os.listdir reads them
FS_NAMES = st.binary(min_size=1, max_size=40).filter(
    lambda b: b"/" not in b and b"\0" not in b).map(os.fsdecode)
#: names built to look alike: Latin and look-alike letters, combining marks, blanks
LOOKALIKE_NAMES = st.text(alphabet="aаａeé\u0301 \u00a0\u200b\\xf1ΑA", min_size=1, max_size=6)


def unescape_name(shown: str) -> str:
    """The inverse of safe_name (and of the ASCII spelling of display_names), as a test
    reads it: ``\\\\`` a backslash, ``\\xNN`` a byte that is not UTF-8 (U+DCNN, as
    os.fsdecode reads it), ``\\uNNNN`` / ``\\UNNNNNNNN`` a code point."""
    out, i = [], 0
    while i < len(shown):
        if shown[i] != "\\":
            out.append(shown[i])
            i += 1
            continue
        kind = shown[i + 1]
        if kind == "\\":
            out.append("\\")
            i += 2
        else:
            width = {"x": 2, "u": 4, "U": 8}[kind]
            code = int(shown[i + 2:i + 2 + width], 16)
            out.append(chr(0xDC00 + code if kind == "x" else code))
            i += 2 + width
    return "".join(out)


def no_hidden(text: str, allowed: str = "") -> bool:
    return not any(hidden(ch) and ch not in allowed for ch in text)


# ------------------------------------------------------------------------ terminal


@given(ANY_TEXT)
def test_terminal_sends_no_hidden_character(text):
    for newlines in (True, False):
        out = terminal(text, newlines=newlines)
        assert no_hidden(out, "\n\t" if newlines else "")
        assert terminal(out, newlines=newlines) == out  # already safe text stays as it is
        out.encode("utf-8")


@pytest.mark.parametrize("char", BIDI_AND_INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_every_bidi_and_invisible_character_is_spelled_out(char):
    line = f"ana {char}0/120"
    for out in (terminal(line), html_escape(line), csv_cell(line), md_code(line),
                md_text(line), safe_name(line)):
        assert char not in out and re.search(rf"\\[xuU]0*{ord(char):x}", out), out


def test_format_table_and_progress_lines_escape_student_text():
    """grade's table and autograde's progress lines, with a message that would clear the
    screen, retitle the window and reverse the score line."""
    from grader.outputs.progress import Progress
    from grader.outputs.results import format_table
    from grader.scoring import TaskResult

    nasty = "\x1b[2J\x1b]0;pwned\x07 \u202e021/0 \u2066x\u2069\r\x08"
    result = TaskResult(task="deep_net", score=0, max_score=10, status="error",
                        message=nasty, checks=[])
    table = format_table({"deep_net": result}, "en")
    assert no_hidden(table, "\n") and "\\x1b[2J" in table and "\\u202e" in table
    stream = io.StringIO()
    progress = Progress(2, "student", enabled=False, stream=stream)
    progress.item_done(f"{nasty}: 0/120")
    progress.item_failed(f"{nasty}: NOT GRADED")
    progress.close()
    assert no_hidden(stream.getvalue(), "\n") and stream.getvalue().count("\n") == 2


def test_cli_errors_escape_the_paths_they_name(tmp_path, capsys):
    from grader.cli import main

    code = main(["autograde", str(tmp_path / "x\x1b]0;pwned\x07\u202e"), "--out",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "no existe esa carpeta" in err and no_hidden(err, "\n")


# --------------------------------------------------------------------------- names


@given(FS_NAMES)
def test_safe_name_decodes_back_to_the_folder_name(name):
    """Injective: the shown name determines the folder name (so two folders never show the
    same), and it holds no hidden character and no line break."""
    shown = safe_name(name)
    assert no_hidden(shown)
    if len(shown) <= MAX_NAME_CHARS:
        assert unescape_name(shown) == name


@given(st.lists(FS_NAMES | LOOKALIKE_NAMES, min_size=2, max_size=8, unique=True))
def test_display_names_are_unique_and_decode_back(names):
    shown = display_names(names)
    assert len(set(shown.values())) == len(names)
    for name, text in shown.items():
        assert no_hidden(text) and unescape_name(text) == name
    cells = [csv_cell(text) for text in shown.values()]
    assert len(set(cells)) == len(names)  # the spreadsheet neutraliser keeps them apart


@pytest.mark.parametrize("a, b", [
    ("José", "Jose\u0301"), ("ana", "\u0430na"), ("ana", "\uff41na"), ("ana", "ana "),
    ("ana", "ana\u200b"), ("ana b", "ana\u00a0b"), ("a\\xf1o", os.fsdecode(b"a\xf1o")),
    ("a\u0085o", os.fsdecode(b"a\x85o")), ("=1+1", "\uff1d1+1"), ("OLGA", "\u039fLGA"),
    ("L" * 230 + "1", "L" * 230 + "2"),
], ids=["nfc_nfd", "cyrillic", "fullwidth", "trailing_space", "zero_width", "nbsp",
        "byte_vs_literal", "c1_vs_byte", "fullwidth_equals", "greek_omicron", "long"])
def test_names_that_look_alike_are_shown_apart(a, b):
    """Each pair reads the same to a person; shown, they differ in plain ASCII letters."""
    shown = display_names([a, b])
    assert shown[a] != shown[b]
    ascii_a = "".join(ch for ch in shown[a] if ch < "\x80")
    ascii_b = "".join(ch for ch in shown[b] if ch < "\x80")
    assert ascii_a != ascii_b  # the difference is visible without telling glyphs apart


# ----------------------------------------------------------------------------- CSV


@given(st.lists(ANY_TEXT, min_size=1, max_size=5))
def test_no_csv_cell_reads_back_as_a_formula(cells):
    buffer = io.StringIO()
    csv.writer(buffer).writerow(csv_row(cells))
    (row,) = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert len(row) == len(cells)
    for cell in row:
        assert cell.lstrip(" ")[:1] not in FORMULA_START - {"'"} and no_hidden(cell)


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"x\",\"y\")", "'=HYPERLINK(\"x\",\"y\")"), ("+SUM(1,1)", "'+SUM(1,1)"),
    ("-2+3", "'-2+3"), ("@SUM(1)", "'@SUM(1)"), ("\t=1", "\\x09=1"), ("\r=1", "\\x0d=1"),
    ("  =1", "'  =1"), ("\uff1d1", "'\uff1d1"), ("'=1", "''=1"), ("10", "10"), ("ana", "ana"),
])
def test_csv_cells_are_neutralised_as_owasp_says(value, cell):
    assert csv_cell(value) == cell


# ------------------------------------------------------------------------ Markdown

markdown_it = pytest.importorskip("markdown_it")
mistune = pytest.importorskip("mistune")


def _markdown_it():
    # html=True as in VS Code's preview and most LMSs: raw HTML would pass through.
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table",
                                                                         "strikethrough"])


def _mistune():
    # escape=False: raw HTML passes through; "url" links bare URLs (GitLab/GFM-style).
    return mistune.create_markdown(escape=False, plugins=["table", "url", "strikethrough"])


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(ANY_TEXT)
def test_a_code_span_renders_as_exactly_its_text(text):
    body = terminal(text, newlines=False)
    for render in (_markdown_it().render, _mistune()):
        rendered = render("x " + md_code(text)).strip()
        if not body:
            assert rendered == "<p>x</p>"
            continue
        match = re.fullmatch(r"<p>x <code>(.*)</code></p>", rendered, flags=re.S)
        assert match, rendered
        assert html.unescape(match.group(1)) == body


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x17F), max_size=60))
def test_escaped_markdown_text_renders_as_text(text):
    rendered = _markdown_it().render("x " + md_text(text)).strip()
    assert rendered.startswith("<p>") and rendered.endswith("</p>")
    inner = rendered[3:-4]
    assert "<" not in inner.replace("&lt;", "")  # no element, only text
    assert html.unescape(inner) == ("x " + terminal(text, newlines=False)).rstrip()


def _payloads() -> dict[str, str]:
    """Each hostile message of fixtures/inert/messages, raised by its DeepNet."""
    found = {}
    for path in sorted((INERT / "messages").glob("*.py")):
        cls = runpy.run_path(str(path))["DeepNet"]
        with pytest.raises(ValueError) as info:
            cls()
        found[path.stem] = str(info.value)
    return found


HOSTILE_NAME = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) ``` \u202e"


def _hostile_feedback_data() -> dict:
    from grader.i18n import t
    from grader.tasks import TASKS

    payloads = list(_payloads().values())
    tasks = {}
    for i, task in enumerate(TASKS):
        payload = payloads[i % len(payloads)]
        tasks[task.id] = {"score": 0, "max_score": task.points, "status": "error",
                          "message": t("status_error", "en", task=task.id, exc_type="E",
                                       exc_msg=payload, where="", module="m")}
    return {"score": 0, "max_score": 120, "tasks": tasks}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def _assert_markdown_inert(text: str, student_texts: list[str]) -> None:
    """Rendered by two renderers, ``text`` makes no HTML, link or image (but the kit's own
    figures): every element is one Markdown itself makes; no text outside code holds a ``<``
    or a ``](``; and every line of student text is in a code span, whole."""
    for token in _markdown_it().parse(text):
        assert token.type not in ("html_block", "html_inline"), token
        for child in token.children or []:
            assert child.type not in ("html_inline", "link_open"), child
            if child.type == "image":  # only the kit's own figure files
                assert re.fullmatch(r"[a-z0-9_]+\.png", child.attrs["src"]), child
            if child.type == "text":
                assert "<" not in child.content and "](" not in child.content, child.content
    allowed = {"h1", "h2", "p", "strong", "code", "ul", "li", "table", "thead", "tbody", "tr",
               "th", "td", "img"}
    for render in (_markdown_it().render, _mistune()):
        parser = _Tags()
        parser.feed(render(text))
        assert set(parser.tags) <= allowed and not [a for a in parser.attrs
                                                    if a.startswith("on")]
    # every student text is in the file, whole, inside code (so it cannot be anything else)
    spans = re.findall(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", text)
    inside = "\n".join(body for _, body in spans)
    for student in student_texts:
        for line in student.splitlines():
            if line.strip():
                assert terminal(line, newlines=False) in inside


def test_feedback_markdown_makes_no_html_or_link_from_student_text():
    from grader.outputs.feedback import feedback_markdown

    data = _hostile_feedback_data()
    text = feedback_markdown(safe_name(HOSTILE_NAME), data, "en")
    _assert_markdown_inert(text, [safe_name(HOSTILE_NAME), *_payloads().values()])
    assert "<img" not in markdown_it.MarkdownIt("commonmark").render(text).replace(
        "&lt;img", "")


def _hostile_report_results(payloads: dict[str, str], url: str = "x") -> dict:
    from grader.experiments.harness import make_budget

    issues = [{"task": "ce_net", "status": "error", "message": p} for p in payloads.values()]
    entry = {"status": "error", "seconds": 1.0, "tasks": ["ce_net"], "task_status": {},
             "issues": issues, "notes": [payloads["markdown"]],
             "figures": [f"x.png)![y]({url}", "ok_figure.png"], "data": {},
             "output_tail": "\n".join(payloads.values())}
    return {"meta": {"impl": f"/class/{HOSTILE_NAME}", "device": "cpu",
                     "budget": make_budget(True).as_dict(), "total_seconds": 1.0,
                     "finished": True},
            "experiments": {"cross_entropy": entry},
            "tasks": {"ce_net": {"status": "error", "experiment": "cross_entropy",
                                 "message": payloads["html"]}},
            "summary": {}}


def test_report_markdown_makes_no_html_or_link_from_student_text(tmp_path):
    from grader.experiments.report import markdown

    payloads = _payloads()
    text = markdown(_hostile_report_results(payloads), "en")
    _assert_markdown_inert(text, list(payloads.values()))
    assert "x.png)" not in text and "![" in text  # the kit's own figure link stays


def test_gradescope_output_is_plain_text():
    from grader.outputs.gradescope import gradescope_json
    from grader.scoring import TaskResult

    res = TaskResult(task="deep_net", score=0, max_score=10, status="error",
                     message="<script>x</script>", checks=[])
    tests = gradescope_json({"deep_net": res}, 1.0, "en")["tests"]
    assert {test["output_format"] for test in tests} == {"text"}


@given(ANY_TEXT)
def test_html_escape_leaves_no_markup_and_no_hidden_character(text):
    out = html_escape(text)
    assert not set(out) & set("<>\"'") and no_hidden(out, "\n\t")


# --------------------------------------------------------------------- class input


def _autograde_cli(*args: str) -> tuple[int, str]:
    from grader.cli import main

    stderr = io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(stderr):
        code = main(["autograde", *args])
    return code, stderr.getvalue()


def _class(root: Path) -> Path:
    (root / "ana").mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "ex3_depth.py", root / "ana")
    return root


@pytest.mark.parametrize("layout", ["class_in_results", "results_in_class", "same",
                                    "class_in_results_through_a_link"])
def test_results_and_class_folders_may_not_hold_one_another(tmp_path, layout):
    if layout == "class_in_results":
        out = tmp_path / "out"
        root = _class(out / "students")
        expected = "está dentro de --out"
    elif layout == "results_in_class":
        root = _class(tmp_path / "class")
        out = root / "results"
        expected = "--out"
    elif layout == "same":
        root = out = _class(tmp_path / "class")
        expected = "--out"
    else:
        out = tmp_path / "out"
        _class(out / "students")
        (tmp_path / "link").symlink_to(out / "students")
        root = tmp_path / "link"
        expected = "está dentro de --out"
    code, err = _autograde_cli(str(root), "--out", str(out))
    assert code == 2 and expected in err and "Traceback" not in err, err


@pytest.mark.parametrize("where", ["class", "results"])
def test_a_key_inside_the_class_or_the_results_is_refused(tmp_path, monkeypatch, where):
    root, out = _class(tmp_path / "class"), tmp_path / "out"
    key = (root if where == "class" else out) / "ana" / "results.key"
    monkeypatch.setenv("PRACTICO_RESULTS_KEY", str(key))
    code, err = _autograde_cli(str(root), "--out", str(out))
    assert code == 2 and "clave de los resultados" in err and "PRACTICO_RESULTS_KEY" in err, err
    assert not key.exists()


def test_the_key_is_made_once_private_and_must_stay_so(tmp_path, monkeypatch):
    from grader.options import UserError
    from grader.outputs.signing import load_key

    monkeypatch.delenv("PRACTICO_RESULTS_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    key = load_key()
    path = tmp_path / "config" / "practico2" / "results.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert load_key() == key and len(key) == 32
    path.chmod(0o644)
    with pytest.raises(UserError, match="chmod 600"):
        load_key()
    path.unlink()
    (tmp_path / "elsewhere").write_text("00" * 32)
    (tmp_path / "elsewhere").chmod(0o600)
    path.symlink_to(tmp_path / "elsewhere")  # a link could be swapped for anything
    with pytest.raises(UserError, match="no se puede leer"):
        load_key()
    path.unlink()
    path.write_text("not a key")
    path.chmod(0o600)
    with pytest.raises(UserError, match="borrala"):
        load_key()


def test_only_results_this_kit_signed_count(tmp_path):
    from grader.outputs.grades_csv import write_grades_csv
    from grader.outputs.signing import sign, verify, write_signed

    key, other_key = b"k" * 32, b"o" * 32
    data = json.loads(json.dumps(_hostile_feedback_data()))
    data["fingerprint"] = "f" * 64
    out = tmp_path / "out"
    written = write_signed(out / "students" / "ana" / "result.json", key, "ana", data)
    assert verify(key, "ana", written)
    assert verify(key, "ana", json.loads((out / "students/ana/result.json").read_text()))
    assert not verify(other_key, "ana", written) and not verify(key, "bob", written)
    changed = dict(written, score=120)
    assert not verify(key, "ana", changed) and not verify(key, "ana", data)
    assert not verify(key, "ana", None) and not verify(key, "ana", [written])
    # planted: a copy of ana's, a result signed with another key, one without a signature
    for name, content in [("bob", written), ("eve", dict(data, mac=sign(other_key, "eve",
                                                                          data))),
                          ("zoe", data)]:
        target = out / "students" / name / "result.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(content))
    write_grades_csv(out, ["ana", "bob", "eve", "zoe"], key=key, links=["lnk"])
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        status = {row["student"]: row["status"] for row in csv.DictReader(fh)}
    assert status == {"ana": "graded", "bob": "pending", "eve": "pending", "zoe": "pending",
                      "lnk": "symlink_not_graded"}
    # ana's score raised after it was verified once, its mtime put back: read and refused
    path = out / "students" / "ana" / "result.json"
    before = path.stat()
    path.write_text(path.read_text().replace('"score": 0,', '"score": 9,', 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    write_grades_csv(out, ["ana"], key=key)
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        assert next(csv.DictReader(fh))["status"] == "pending"


# ------------------------------------------------------ one real autograde of the class


def _kit_state() -> dict[str, int]:
    """The grader's files and their change times: a rerun skips students only while the kit
    is unchanged (its code is part of every fingerprint)."""
    return {str(p): p.stat().st_mtime_ns for p in sorted((ROOT / "grader").rglob("*.py"))}


def _skip_if_the_kit_changed(before: dict[str, int]) -> None:
    if _kit_state() != before:
        pytest.skip("the grader's code changed while this test ran (an edit in this "
                    "checkout): every fingerprint changed, so nothing could be skipped")


@pytest.fixture(scope="module")
def inert_class(tmp_path_factory):
    kit = _kit_state()
    base = tmp_path_factory.mktemp("inert")
    root, out = base / "class", base / "out"
    built = runpy.run_path(str(INERT / "assemble.py"))["assemble"](root)
    args = ("-m", "grader", "autograde", str(root), "--out", str(out), "--jobs", "2",
            "--tasks", "deep_net", "--timeout", "60")
    first = run_py(*args, env={"CI": "true"})
    results = {name: json.loads((out / "students" / name / "result.json").read_text("utf-8"))
               for name in built["students"]
               if (out / "students" / name / "result.json").exists()}
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    grades = [dict(zip(rows[0], row)) for row in rows[1:]]
    second = run_py(*args, env={"CI": "true"})
    return {"root": root, "out": out, "built": built, "first": first, "second": second,
            "results": results, "rows": rows, "grades": grades, "args": args, "kit": kit}


@pytest.mark.slow
def test_every_inert_fixture_states_its_outcome():
    spec = json.loads((INERT / "names.json").read_text("utf-8"))
    for entry in [*spec["students"].values(), *spec["links"].values()]:
        assert entry["expect"]["status"] in ("graded", "symlink_not_graded") and entry["what"]
    for path in (INERT / "messages").glob("*.py"):
        assert "# Expected:" in path.read_text("utf-8"), path


@pytest.mark.slow
def test_the_hostile_class_is_graded_with_every_output_inert(inert_class):
    first, built = inert_class["first"], inert_class["built"]
    assert first.returncode == 0, first.stderr[-3000:]
    assert set(inert_class["results"]) == set(built["students"])
    for name, entry in built["students"].items():
        task = inert_class["results"][name]["tasks"]["deep_net"]
        assert task["score"] == entry["expect"]["deep_net"], (entry["id"], task)
        if "deep_net_status" in entry["expect"]:
            assert task["status"] == entry["expect"]["deep_net_status"], entry["id"]
    # the terminal: no hidden character in anything autograde printed
    assert no_hidden(first.stdout + first.stderr, "\n")
    # every file: no hidden character; every HTML page without an element from student text
    for path in inert_class["out"].rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text("utf-8")
        assert no_hidden(text, "\n\t\r" if path.name == "grades.csv" else "\n\t"), path
        if path.suffix == ".html":
            parser = _Tags()
            parser.feed(text)
            if path.name == "class_report.html":
                # autograde's class report: its own page (figures, sections; no script),
                # checked against the tags and attributes tests/test_class_report.py allows
                from test_class_report import REPORT_ATTRS, REPORT_TAGS

                assert set(parser.tags) <= REPORT_TAGS and "script" not in parser.tags, path
                assert set(parser.attrs) <= REPORT_ATTRS, path
                continue
            assert set(parser.tags) <= {"html", "head", "meta", "title", "style", "body", "h1",
                                        "h2", "p", "strong", "table", "tr", "th", "td", "code",
                                        "ul", "li"}, path
            assert not parser.attrs or set(parser.attrs) <= {"lang", "charset", "class"}, path
    payloads = _payloads()
    for name in built["students"]:
        folder = inert_class["out"] / "students" / name
        texts = [inert_class["results"][name]["student"]]
        if name.startswith("msg_"):
            texts.append(payloads[name[len("msg_"):]])
        _assert_markdown_inert((folder / "feedback.md").read_text("utf-8"), texts)
        gradescope = json.loads((folder / "results.json").read_text("utf-8"))
        assert {test["output_format"] for test in gradescope["tests"]} == {"text"}


@pytest.mark.slow
def test_grades_csv_holds_no_formula_and_unique_names(inert_class):
    rows, grades, built = inert_class["rows"], inert_class["grades"], inert_class["built"]
    assert all(len(row) == len(rows[0]) for row in rows)
    for row in rows:
        for cell in row:
            assert cell.lstrip(" ")[:1] not in FORMULA_START - {"'"}, row
            assert no_hidden(cell), row
    names = [g["student"] for g in grades]
    assert len(names) == len(set(names)) == len(built["students"]) + len(built["links"])
    shown = {inert_class["results"][n]["student"]: entry for n, entry in
             built["students"].items()}
    for grade in grades:
        student = grade["student"]
        if grade["status"] == "symlink_not_graded":
            continue
        entry = shown[student[1:] if student.startswith("'") else student]
        assert grade["status"] == entry["expect"]["status"]
        assert grade["deep_net"] == str(entry["expect"]["deep_net"])
        if "csv" in entry["expect"]:
            assert student == entry["expect"]["csv"], entry["id"]


@pytest.mark.slow
def test_symbolic_links_among_the_students_are_reported_not_graded(inert_class):
    built, out = inert_class["built"], inert_class["out"]
    linked = {g["student"]: g for g in inert_class["grades"]
              if g["status"] == "symlink_not_graded"}
    assert len(linked) == len(built["links"])
    for link, entry in built["links"].items():
        assert not (out / "students" / link).exists()  # never graded, nothing written
        assert entry["expect"].get("csv", link) in linked
        assert all(linked[entry["expect"].get("csv", link)][t] == "" for t in ("total",
                                                                              "deep_net"))
    err = inert_class["first"].stderr
    assert err.count("un enlace simbólico, no se sigue ni se califica") == len(built["links"])


@pytest.mark.slow
def test_a_rerun_trusts_only_what_this_kit_signed(inert_class):
    second = inert_class["second"]
    total = len(inert_class["built"]["students"])
    _skip_if_the_kit_changed(inert_class["kit"])
    assert second.returncode == 0 and f"{total} estudiante(s) ya calificado(s)" in second.stderr
    out = inert_class["out"]
    # tampered: a score raised (its signature left as it was), a classmate's result copied in,
    # a signature removed; the fingerprints all stay valid
    raised = out / "students" / "msg_html" / "result.json"
    data = json.loads(raised.read_text("utf-8"))
    data["score"] = data["tasks"]["deep_net"]["score"] = 120
    raised.write_text(json.dumps(data))
    copied = json.loads((out / "students" / "msg_bidi" / "result.json").read_text("utf-8"))
    copied["fingerprint"] = json.loads(
        (out / "students" / "msg_blocks" / "result.json").read_text("utf-8"))["fingerprint"]
    (out / "students" / "msg_blocks" / "result.json").write_text(json.dumps(copied))
    bare = out / "students" / "msg_fences" / "result.json"
    bare.write_text(json.dumps({k: v for k, v in json.loads(bare.read_text()).items()
                                if k != "mac"}))
    third = run_py(*inert_class["args"], env={"CI": "true"})
    _skip_if_the_kit_changed(inert_class["kit"])
    assert third.returncode == 0, third.stderr[-3000:]
    assert "3 result.json anterior(es) sin la firma de este kit" in third.stderr
    assert f"{total - 3} estudiante(s) ya calificado(s)" in third.stderr
    for name in ("msg_html", "msg_blocks", "msg_fences"):
        assert f"] {name}: 0/120" in third.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        totals = {row["student"]: row["total"] for row in csv.DictReader(fh)}
    assert totals["msg_html"] == "0"


# ----------------------------------------------------------------------- the browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if path := shutil.which(name):
            return path
    return None


class _Hits(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _open(browser: str, page: Path, profile: Path) -> str:
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
         "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_pages_run_no_script_and_fetch_nothing(tmp_path):
    """feedback.html, feedback.md rendered as HTML (as a Markdown previewer would) and
    report.html, all made from payloads that would retitle the page or fetch from a local
    server: the title stays and the server hears nothing. A control page with the same
    payloads unescaped proves the browser would have run and fetched them."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from grader.experiments.report import html_report
    from grader.outputs.feedback import feedback_html, feedback_markdown

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hits)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    _Hits.hits = []
    try:
        fetching = (f"<script>document.title='PWNED';fetch('{url}/script')</script>"
                    f"<img src=\"{url}/img\" onerror=\"document.title='PWNED'\">"
                    f"<img src=x onerror=\"document.title='PWNED';fetch('{url}/onerror')\">"
                    f"<link rel=stylesheet href=\"{url}/css\"><iframe src=\"{url}/frame\">"
                    f"</iframe><svg onload=\"fetch('{url}/svg')\"></svg>"
                    f"<style>@import url({url}/import);</style>"
                    f"![p]({url}/mdimage) <{url}/autolink> [l]({url}/mdlink)")
        payloads = {**_payloads(), "fetching": fetching}
        data = _hostile_feedback_data()
        for entry in data["tasks"].values():
            entry["message"] += "\n" + fetching
        pages = {
            "feedback.html": feedback_html(safe_name(HOSTILE_NAME), data, "en"),
            "feedback_md.html": "<!DOCTYPE html><html><head><title>KIT</title></head><body>"
                                + _markdown_it().render(feedback_markdown(
                                    safe_name(HOSTILE_NAME), data, "en")) + "</body></html>",
            "report.html": html_report(_hostile_report_results(payloads, url), tmp_path, "en"),
        }
        titles = {}
        for name, text in pages.items():
            page = tmp_path / name
            page.write_text(text, encoding="utf-8")
            dom = _open(browser, page, tmp_path / f"profile-{name}")
            titles[name] = re.search(r"<title>(.*?)</title>", dom, flags=re.S).group(1)
        assert _Hits.hits == []
        assert "PWNED" not in "".join(titles.values()), titles
        # the control: the same payloads, unescaped, do run and fetch in this browser
        control = tmp_path / "control.html"
        control.write_text(f"<!DOCTYPE html><html><head><title>KIT</title></head><body>"
                           f"{fetching}</body></html>", encoding="utf-8")
        dom = _open(browser, control, tmp_path / "profile-control")
        assert "<title>PWNED</title>" in dom and _Hits.hits, dom[:500]
    finally:
        server.shutdown()
