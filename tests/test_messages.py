"""Every message exists in Spanish and English with the same placeholders, and every key used exists."""

from __future__ import annotations

import re

from grader.i18n import current_lang, fields, t
from grader.messages import MESSAGES
from grader.statuses import CHECK_STATUSES, REPORT_STATUSES


def test_both_languages_with_same_placeholders():
    for key, entry in MESSAGES.items():
        assert set(entry) == {"es", "en"}, key
        assert fields(entry["es"]) == fields(entry["en"]), key
        assert entry["es"] != entry["en"] or len(entry["es"]) < 12, f"{key} not translated"


def test_every_key_used_in_the_grader_exists(root):
    used = set()
    for path in (root / "grader").rglob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r'Fail\(\s*"([a-z_]+)"', text))
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+)"', text))
        # the command line's texts (grader/cli_language.py) and UserError(key=...)
        used |= set(re.findall(r'\b(?:say|helptext|error)\(\s*"((?:ap|cli|err|ag|rg|drift)_'
                               r'[a-z_]+)"', text))
        used |= set(re.findall(r'\bUserError\(\s*key="([a-z_]+)"', text))
    # keys built with f-strings, listed by hand
    fstring_keys = {"loss_shifted", "loss_sum", "loss_per_sample", "loss_ce", "loss_default_ce",
                    "loss_softmax_first", "wrong_output_logits", "wrong_output_map"}
    used = {k for k in used if not k.endswith("_")} | fstring_keys
    used |= {f"status_{s}" for s in CHECK_STATUSES if s not in ("passed", "failed")}
    used |= {f"label_{s}" for s in REPORT_STATUSES}  # every status a table can show
    missing = sorted(k for k in used if k not in MESSAGES)
    assert missing == []


def test_language_selection(monkeypatch):
    monkeypatch.delenv("PRACTICO_LANG", raising=False)
    assert current_lang() == "es"
    monkeypatch.setenv("PRACTICO_LANG", "en")
    assert current_lang() == "en"
    assert current_lang("es") == "es"
    monkeypatch.setenv("PRACTICO_LANG", "klingon")
    assert current_lang() == "es"
    assert "layer 3" in t("bias_not_zero", "en", what="net", layer=3)


# ------------------------------------------------- reasons and pages in the reader's language

def _crash_message(reason, lang):
    from grader.checks import CHECKS
    from grader.scoring import render_message, status_values

    outcome = {"status": "crashed", "reason": reason}
    return render_message("status_crashed", status_values("crashed", outcome, CHECKS[0]), lang)


def test_crash_reasons_are_rendered_in_the_readers_language():
    """The sandbox keeps why a child ended as a key and values; each language renders it."""
    from grader.sandbox.session import describe_event, exit_reason

    cases = {
        "segfault": exit_reason(-11, {}),
        "unknown signal": exit_reason(-63, {}),
        "exit": exit_reason(3, {}),
        "event": describe_event(["not", "an", "event"]),
        "named": describe_event({"ev": "result"}),
    }
    for name, reason in cases.items():
        es, en = _crash_message(reason, "es"), _crash_message(reason, "en")
        assert reason["key"] in MESSAGES, name
        assert es != en, name
        for english in ("segmentation", "protocol violation", "exited early", "signal ",
                        "instead of", "malformed"):
            assert english not in es, (name, es)
    assert "SIGSEGV" in _crash_message(cases["segfault"], "es")
    assert "violación de segmento" in _crash_message(cases["segfault"], "es")
    assert "segmentation fault" in _crash_message(cases["segfault"], "en")
    assert "63" in _crash_message(cases["unknown signal"], "es")


def test_a_reason_a_child_could_forge_renders_nothing_but_the_graders_own():
    """Only ``reason_*`` keys render: a tampered child cannot have any other message shown."""
    from grader.scoring import render_reason

    assert render_reason({"key": "feedback_title", "student": "x"}, "es") is None
    assert render_reason({"key": "no_such_key"}, "es") is None
    assert render_reason("texto", "es") is None
    assert render_reason({"key": "reason_exit_code", "code": 2, "x": {"nested": 1}}, "es") == (
        "terminó antes de tiempo con código 2")
    assert "—" in _crash_message({"key": "not_a_reason"}, "es")


def test_file_problems_are_reasons(tmp_path):
    from grader.submission import MAX_FILE_BYTES, collect_files

    (tmp_path / "ex5_init.py").mkdir()
    (tmp_path / "ex0_data.py").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    _, problems = collect_files(tmp_path)
    assert problems["ex5_init.py"] == {"key": "reason_not_regular"}
    assert problems["ex0_data.py"]["key"] == "reason_too_large"
    from grader.scoring import render_reason

    assert "no es un archivo común" in render_reason(problems["ex5_init.py"], "es")
    assert "KiB" in render_reason(problems["ex0_data.py"], "en")


def test_no_mixed_language_fragments_in_the_grader():
    """Spanish text is Spanish: no ``con/with`` or ``línea/line`` glued into messages."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "grader"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(con/with|línea/line|línea/line)\b", text), path


def test_feedback_page_follows_the_language():
    from grader.outputs.feedback import feedback_html
    from grader.tasks import TASKS

    data = {"score": 10, "max_score": 100, "tasks": {
        task.id: {"score": 0, "max_score": task.points, "status": "not_graded",
                  "message": "<b>x</b> & y"} for task in TASKS}}
    es, en = feedback_html("ana", data, "es"), feedback_html("ana", data, "en")
    assert '<html lang="es">' in es and '<html lang="en">' in en
    assert "<title>Práctico 2: devolución de ana</title>" in es
    assert "<title>Practical 2: feedback for ana</title>" in en
    assert "sin calificar" in es and "not graded" in en
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in es and "<b>x</b>" not in es


def test_a_result_keeps_its_message_key_and_values_for_either_language():
    """The grader decides once; the message can be written in either language afterwards."""
    from grader.checks import CHECKS, Context
    from grader.checks.base import Fail
    from grader.scoring import judge, render_message

    check = next(c for c in CHECKS if c.task == "onehot_mse")

    class Failing(type(check)):
        def verdict(self, inp, out, ctx):
            raise Fail("onehot_modifies_input")

    failing = Failing()
    for outcome in ({"status": "ok", "out": {}},
                    {"status": "crashed", "reason": {"key": "reason_SIGSEGV", "signal": "SIGSEGV"}},
                    {"status": "timeout", "seconds": "30"}):
        es = judge(failing, {}, outcome, Context(lang="es"))
        en = judge(failing, {}, outcome, Context(lang="en"))
        assert es.key == en.key and es.values == en.values and es.key
        assert render_message(es.key, es.values, "en") == en.message
        assert render_message(en.key, en.values, "es") == es.message
        assert es.message != en.message


def test_a_nan_value_keeps_its_format_and_the_json_stays_valid():
    """A diverged run reports NaN: the message still formats it, the JSON writes it as text."""
    import json

    from grader.checks import CHECKS, Context
    from grader.checks.base import Fail
    from grader.outputs.results import to_json_dict
    from grader.scoring import judge, summarize

    check = next(c for c in CHECKS if c.task == "onehot_mse")

    class Failing(type(check)):
        def verdict(self, inp, out, ctx):
            raise Fail("malformed_output", detail=float("nan"))

    result = judge(Failing(), {}, {"status": "ok", "out": {}}, Context(lang="en"))
    assert "nan" in result.message
    data = to_json_dict(summarize([result], "en"))
    text = json.dumps(data, allow_nan=False)  # raises on a NaN left in
    assert '"nan"' in text
