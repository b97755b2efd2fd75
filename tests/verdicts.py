"""Per-check verdicts read back from what each way of grading shows, in one shape.

``tests/test_official.py`` grades every fixture through ``pytest exercises``, ``grade``,
``autograde``, the notebook's grade cells in a Jupyter kernel and ``nbgrader autograde``, and
reads each one's verdicts from what that path gives its reader: pytest's JUnit XML (one test
per check), the result JSON of ``grade`` and ``autograde``, and the lines a grade cell prints
(``  ✔ name (p/m)``, the message indented under a failed one, unless the cell showed the same
message already: then that check's message is ``None``, not compared) and the score it
returns.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.i18n import t
from grader.scoring import checks_for
from grader.tasks import TASK_BY_ID

#: check id (``task::name``) of every check
CHECK_BY_ID = {c.id: c for c in checks_for(None)}


def task_test_functions() -> dict[str, str]:
    """Task id -> the name of its test function in ``exercises/test_ex*.py``."""
    from grader.settings import KIT_ROOT

    found = {}
    for path in sorted((KIT_ROOT / "exercises").glob("test_ex*.py")):
        text = path.read_text(encoding="utf-8")
        for task, name in re.findall(r'@pytest\.mark\.task\("(\w+)"\)\s*\ndef (\w+)\(', text):
            found[task] = name
    return found




@dataclass(frozen=True)
class Verdict:
    """One check's verdict as one path shows it; ``None``: that path does not show it."""

    passed: bool
    points: float
    status: str | None = None
    key: str | None = None
    diagnoses: tuple[str, ...] | None = None
    message: str | None = None


#: per check id, the verdict one path gave
Verdicts = dict[str, Verdict]


def from_json(data: dict[str, Any]) -> Verdicts:
    """The verdicts of a result JSON (``grade --json``, ``autograde``'s ``result.json``)."""
    out: Verdicts = {}
    for task_id, entry in data["tasks"].items():
        for name, c in (entry.get("checks") or {}).items():
            out[f"{task_id}::{name}"] = Verdict(
                c["status"] == "passed", float(c["score"]), c["status"], c.get("key"),
                tuple(c.get("diagnoses") or ()), c.get("message") or "")
    return out


def read_json(path: Path) -> Verdicts:
    return from_json(json.loads(path.read_text(encoding="utf-8")))


def from_junit(path: Path) -> dict[str, Verdicts]:
    """Per student, the verdicts of a pytest run's JUnit XML, where each student's test files
    lie in a folder named after the student, right under pytest's root folder. A test
    ``<task's test function>[<id>]`` names its check by the plugin's pytest id."""
    from grader.pytest_plugin import param_id

    function = task_test_functions()
    by_param = {(function[c.task], param_id(c)): c for c in CHECK_BY_ID.values()}
    out: dict[str, Verdicts] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        match = re.fullmatch(r"(\w+)\[(.+)\]", case.get("name", ""))
        assert match, case.attrib
        check = by_param[match.groups()]
        student = case.get("classname", "").split(".")[0]
        problems = [e for e in case if e.tag in ("failure", "error", "skipped")]
        assert all(e.tag == "failure" for e in problems), (student, case.get("name"),
                                                           [e.tag for e in problems])
        message = None
        if problems:
            message = (problems[0].get("message") or "").removeprefix("Failed: ")
        out.setdefault(student, {})[check.id] = Verdict(
            not problems, float(check.points if not problems else 0), message=message)
    return out


# --------------------------------------------------------------------- grade cells

CHECK_LINE = re.compile(r"^  ([✔✘]) (\S+) \(([^/()]+)/([^/()]+)\)$")


def _pattern(key: str, lang: str, **fixed: str) -> re.Pattern:
    """A message of the catalogue as a regex: ``fixed`` placeholders filled, others any."""
    text = t(key, lang, **{**{k: f"QQ{k}QQ" for k in ("score", "max", "variant", "title")},
                           **fixed})
    parts = re.split(r"QQ(\w+?)QQ", text)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)"
                    for i, p in enumerate(parts))
    return re.compile(regex + "$")


@dataclass
class GradeCell:
    """What one grade cell showed: the public checks, the checks a hidden variant newly
    failed (``None``: no hidden run shown), the scores its headers give and its value."""

    public: Verdicts
    hidden_failed: Verdicts | None
    public_score: float
    combined_score: float | None
    value: float | None

    def combined(self) -> Verdicts:
        """Each check's verdict over the public and hidden inputs together."""
        out = dict(self.public)
        for cid, v in (self.hidden_failed or {}).items():
            out[cid] = Verdict(False, 0.0, message=v.message)
        return out


def read_grade_cell(task_id: str, outputs: list[Any], lang: str, sandbox: bool) -> GradeCell:
    """The verdicts a grade cell of ``task_id`` printed (``sandbox``: written by nbgrader's
    :class:`~grader.nbgrading.preprocessor.SandboxedGrades`, else by ``check_task`` in the
    kernel), and its value (the ``execute_result`` nbgrader reads)."""
    text = "".join(o.get("text", "") for o in outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, (task_id, errors)
    stderr = [o for o in outputs if o.get("output_type") == "stream" and o.get("name") != "stdout"]
    assert not stderr, (task_id, stderr)  # nbgrader would give 0 to a cell with stderr
    value = None
    for o in outputs:
        if o.get("output_type") == "execute_result":
            value = float(o["data"]["text/plain"])
    title = TASK_BY_ID[task_id].title(lang)
    header = _pattern("nb_sandbox_header" if sandbox else "nb_task_header", lang, task=task_id,
                      title=title)
    hidden_header = (_pattern("nb_sandbox_hidden", lang) if sandbox
                     else _pattern("nb_hidden_header", lang, task=task_id, title=title))
    sections: list[tuple[str, list[str]]] = []
    for line in text.rstrip("\n").split("\n"):
        if line.startswith(" ") and sections:
            sections[-1][1].append(line)
        else:
            sections.append((line, []))
    first = header.match(sections[0][0])
    assert first, (task_id, sections[0][0])
    public = _checks(task_id, sections[0][1])
    hidden = None
    combined_score = None
    for head, lines in sections[1:]:
        found = hidden_header.match(head)
        if found:
            hidden, combined_score = _checks(task_id, lines), float(found["score"])
        # any other section is a notice (isolation missing): no verdict in it
    return GradeCell(public, hidden, float(first["score"]), combined_score, value)


def _checks(task_id: str, lines: list[str]) -> Verdicts:
    out: Verdicts = {}
    current = None
    message: list[str] = []

    def close() -> None:
        if current is not None:
            cid, passed, points = current
            out[cid] = Verdict(passed, points, message="\n".join(message) if message else
                               ("" if passed else None))

    for line in lines:
        match = CHECK_LINE.match(line)
        if match:
            close()
            mark, name, points, _ = match.groups()
            current, message = (f"{task_id}::{name}", mark == "✔", float(points)), []
        else:
            assert line.startswith("      ") and current is not None, (task_id, line)
            message.append(line[6:])
    close()
    return out


def task_of(check_id: str) -> str:
    return check_id.split("::")[0]


def every_check(tasks: list[str]) -> list[str]:
    """The ids of every check of ``tasks``, in task order."""
    return [c.id for c in checks_for(tasks)]

