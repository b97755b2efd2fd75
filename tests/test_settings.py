"""One settings module, one CI rule, one progress helper, one atomic writer."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from grader import settings
from grader.outputs.atomic import atomic_path, write_atomic
from grader.outputs.progress import Progress, show_bars

ROOT = Path(__file__).resolve().parent.parent


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("value, ci", [
    (None, False), ("", False), ("0", False), ("false", False), ("False", False),
    (" no ", False), ("OFF", False),
    ("1", True), ("true", True), ("TRUE", True), ("yes", True), ("on", True), ("anything", True),
])
def test_one_ci_rule_decides_bars_or_log_lines(monkeypatch, value, ci):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert settings.in_ci() is ci
    assert show_bars(FakeTerminal()) is not ci
    assert show_bars(io.StringIO()) is False  # never bars into a log


def test_log_mode_writes_one_line_per_item(monkeypatch):
    monkeypatch.setenv("CI", "on")
    stream = FakeTerminal()
    progress = Progress(3, "student", done=1, stream=stream)
    progress.item_done("ana: 10/10")
    progress.item_failed("bob: NOT GRADED")
    progress.close()
    assert stream.getvalue() == "[2/3] ana: 10/10\n[3/3] bob: NOT GRADED\n"


def test_bar_mode_draws_a_bar_and_keeps_failures_on_screen(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    stream = FakeTerminal()
    progress = Progress(2, "exp", stream=stream)
    progress.item_done("first")
    progress.item_failed("second broke")
    progress.close()
    text = stream.getvalue()
    assert "2/2" in text and "second broke\n" in text and "[1/2]" not in text


def test_settings_are_read_when_called(monkeypatch, tmp_path):
    monkeypatch.setenv("PRACTICO_DATA", str(tmp_path))
    assert settings.data_folder() == tmp_path
    monkeypatch.delenv("PRACTICO_DATA")
    assert settings.data_folder() == Path("data")
    monkeypatch.setenv("PRACTICO_LANG", " EN_us")
    assert settings.language() == "en"
    monkeypatch.setenv("PRACTICO_LANG", "klingon")
    assert settings.language() == "es"
    monkeypatch.setenv("PRACTICO_SECRET", "  padded  ")
    assert settings.course_secret() == "padded"
    assert settings.course_secret({"PRACTICO_SECRET": "other"}) == "other"


def test_no_other_module_reads_these_variables():
    """Everything but the two stdlib-only jail entry points goes through grader.settings."""
    allowed = {"settings.py", "child.py", "jail.py"}
    reading = re.compile(r"environ(\.get)?[\[(]\s*[\"'](PRACTICO_\w+|CI|NBGRADER_EXECUTION)[\"']"
                         r"|getenv\(")
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "grader").rglob("*.py"))
                 # course_notebook.py: the text of the notebook's first cell, which reads the budget
                 if p.name not in allowed and p.name != "course_notebook.py"
                 and reading.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    write_atomic(target, "old")
    assert target.read_text() == "old" and (target.stat().st_mode & 0o777) == 0o644
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert os.listdir(target.parent) == ["out.txt"]  # no temp file left behind
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and os.listdir(target.parent) == ["out.txt"]
