"""A class report's content as plain data: what ``class_report.json`` holds and the page shows.

:func:`aggregate` reads the verified result JSONs of a class (:mod:`grader.class_report.sources`)
and counts: the total and every task's score distribution, every check's pass rate, the
diagnoses by frequency, the checks that timed out or crashed by reason, and the short list of
what to revisit in class (:data:`REVISIT_RULE_KEY` says how it is ranked). Student names are
in it only when ``names`` is true; otherwise every list of students is a count.

Nothing here imports torch or matplotlib: a report of 2,000 students is a matter of reading
JSON (``bench/class_report.py``).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from grader.class_report.sources import NOT_COUNTED_REASONS, Counted, NotCounted, Source
from grader.i18n import current_lang, render_reason, t
from grader.messages import MESSAGES
from grader.tasks import TASK_BY_ID, TASKS
from grader.textsafe import safe_text

REPORT_KIND = "practico2-class-report"
REPORT_VERSION = 1
#: items in "what to revisit in class"
REVISIT_LIMIT = 10
REVISIT_RULE_KEY = "cr_revisit_rule"
#: the code ran and gave a wrong answer, or raised: what a student misunderstood
ATTEMPTED = ("failed", "error")
#: work not finished: listed per task, never ranked as something to revisit
UNFINISHED = ("not_implemented", "missing_file", "missing_name", "import_error",
              "unreadable_file")
#: the run was lost: listed by reason
LOST = ("timeout", "crashed")
CHECK_STATUSES = ("passed", *ATTEMPTED, *UNFINISHED, *LOST)
TASK_STATUSES = ("passed", "partial", *ATTEMPTED, *UNFINISHED, *LOST, "not_graded")
#: longest example message kept per revisit item
EXAMPLE_CHARS = 300

#: a mistake id as the diagnoses catalogue writes them; anything else in a result is ignored
_MISTAKE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CHECK_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


def describe_mistake(mistake: str, lang: str | None) -> str:
    """What a diagnosis id means, in ``lang``: ``grader.diagnoses.describe`` where the kit
    has the catalogue, the bare id otherwise (or for an id it does not know)."""
    try:
        from grader.diagnoses import describe
    except ImportError:
        return mistake
    try:
        text = describe(mistake, lang)
    except Exception:  # an id from another kit version: the id says what it is
        return mistake
    return text if isinstance(text, str) and text else mistake


# ------------------------------------------------------------------ one student's result


class Malformed(ValueError):
    """A signed result of a shape this kit does not write (another version's)."""


@dataclass
class CheckView:
    task: str
    name: str
    score: float
    max_score: float
    status: str
    key: str
    values: dict[str, Any]
    message: str
    diagnoses: list[str]


@dataclass
class TaskView:
    score: float
    max_score: float
    status: str
    checks: list[CheckView] = field(default_factory=list)


@dataclass
class StudentView:
    name: str
    score: float
    max_score: float
    tasks: dict[str, TaskView]


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Malformed(f"not a score: {value!r}")
    return value


def _diagnoses(entry: dict[str, Any]) -> list[str]:
    """The check's diagnosis ids (absent: none), ranked, without repeats or foreign text."""
    found = entry.get("diagnoses")
    if not isinstance(found, list):
        return []
    ids = [d for d in found if isinstance(d, str) and _MISTAKE_ID.fullmatch(d)]
    return list(dict.fromkeys(ids))


def student_view(student: Counted) -> StudentView:
    """The parts of a result the report reads, checked; :class:`Malformed` otherwise."""
    data = student.data
    tasks_data = data.get("tasks")
    if not isinstance(tasks_data, dict):
        raise Malformed("no tasks")
    tasks: dict[str, TaskView] = {}
    for task in TASKS:
        entry = tasks_data.get(task.id)
        if not isinstance(entry, dict) or entry.get("status") not in TASK_STATUSES:
            raise Malformed(task.id)
        view = TaskView(_number(entry.get("score")), _number(entry.get("max_score")),
                        entry["status"])
        checks = entry.get("checks", {})
        if not isinstance(checks, dict):
            raise Malformed(task.id)
        for name, check in checks.items():
            if (not _CHECK_NAME.fullmatch(name) or not isinstance(check, dict)
                    or check.get("status") not in CHECK_STATUSES):
                raise Malformed(f"{task.id}::{name}")
            values = check.get("values")
            view.checks.append(CheckView(
                task.id, name, _number(check.get("score")), _number(check.get("max_score")),
                check["status"], check.get("key") if isinstance(check.get("key"), str) else "",
                values if isinstance(values, dict) else {},
                check.get("message") if isinstance(check.get("message"), str) else "",
                _diagnoses(check)))
        tasks[task.id] = view
    return StudentView(student.name, _number(data.get("score")), _number(data.get("max_score")),
                       tasks)


def check_message(check: CheckView, lang: str | None) -> str:
    """The check's message in ``lang`` from its key and values (the grader's own keys only),
    else the message it was graded with. ``grader.scoring.render_message`` does the same,
    but importing it imports torch."""
    if check.key not in MESSAGES:
        return check.message
    values = dict(check.values)
    if "reason" in values and not isinstance(values["reason"], str):
        values["reason"] = render_reason(values["reason"], lang) or "—"
    elif check.key.startswith("status_"):
        values.setdefault("reason", "—")
    return t(check.key, lang, **values)


def lost_reason(check: CheckView, lang: str | None) -> tuple[str, str]:
    """(reason key, reason text) of a check that timed out or crashed."""
    if check.status == "timeout":
        return "timeout", t("cr_reason_timeout", lang, seconds=check.values.get("seconds", "?"))
    reason = check.values.get("reason")
    text = render_reason(reason, lang)
    if text is None:
        return "unknown", t("cr_reason_unknown", lang)
    return reason["key"], text


# ------------------------------------------------------------------------- the counts


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "median": None, "min": None, "max": None}
    return {"mean": round(statistics.fmean(values), 2),
            "median": round(statistics.median(values), 2),
            "min": min(values), "max": max(values)}


def _score_counts(values: list[float]) -> list[list[float]]:
    """``[[score, students], ...]`` by increasing score."""
    return [[score, n] for score, n in sorted(Counter(values).items())]


def _sorted_names(names: set[str]) -> list[str]:
    return sorted(names, key=lambda n: (n.casefold(), n))


def _who(names: set[str], with_names: bool) -> dict[str, Any]:
    """How many students and, with names, which."""
    return {"students": len(names), **({"names": _sorted_names(names)} if with_names else {})}


def _ordered_counts(counter: Counter, order: tuple[str, ...]) -> dict[str, int]:
    return {status: counter[status] for status in order if counter[status]}


def aggregate(source: Source, lang: str | None, names: bool = False) -> dict[str, Any]:
    """Everything ``class_report.json`` holds (plain data), rendered in ``lang``."""
    lang = current_lang(lang)
    students: list[StudentView] = []
    not_counted = list(source.not_counted)
    for entry in source.counted:
        try:
            students.append(student_view(entry))
        except Malformed:
            not_counted.append(NotCounted(entry.name, "malformed"))
    students.sort(key=lambda s: (s.name.casefold(), s.name))
    report: dict[str, Any] = {
        "report": REPORT_KIND,
        "version": REPORT_VERSION,
        "lang": lang,
        "names": names,
        "source": {"kind": source.kind, "assignment": source.assignment},
        "students": {"counted": len(students), "not_counted": len(not_counted)},
        "not_counted": _not_counted(not_counted, names),
        "total": _total(students),
        "tasks": [_task(task.id, students, lang) for task in TASKS],
        "diagnoses": _diagnosis_rows(students, lang, names),
        "lost_runs": _lost_rows(students, lang, names),
        "revisit": _revisit(students, lang, names),
    }
    return report


def _not_counted(entries: list[NotCounted], with_names: bool) -> list[dict[str, Any]]:
    by_reason: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        by_reason[entry.reason].add(entry.name)
    return [{"reason": reason, **_who(by_reason[reason], with_names)}
            for reason in NOT_COUNTED_REASONS if by_reason[reason]]


def _total(students: list[StudentView]) -> dict[str, Any]:
    scores = [s.score for s in students]
    return {"max_score": max((s.max_score for s in students), default=0), **_stats(scores),
            "score_counts": _score_counts(scores)}


def _task(task_id: str, students: list[StudentView], lang: str | None) -> dict[str, Any]:
    """One task: who was graded on it, its scores, how it ended, and each check's pass rate."""
    task = TASK_BY_ID[task_id]
    graded = [s.tasks[task_id] for s in students if s.tasks[task_id].status != "not_graded"]
    scores = [v.score for v in graded]
    checks: dict[str, dict[str, Any]] = {}
    for view in graded:
        for check in view.checks:
            row = checks.setdefault(check.name, {"name": check.name, "max_score": 0,
                                                 "students": 0, "passed": 0, "points_lost": 0,
                                                 "statuses": Counter()})
            row["max_score"] = max(row["max_score"], check.max_score)
            row["students"] += 1
            row["passed"] += check.status == "passed"
            row["points_lost"] += check.max_score - check.score
            row["statuses"][check.status] += 1
    for row in checks.values():
        row["pass_rate"] = round(row["passed"] / row["students"], 4)
        row["statuses"] = _ordered_counts(row["statuses"], CHECK_STATUSES)
    return {
        "id": task_id,
        "title": task.title(current_lang(lang)),
        "max_score": task.points,
        "graded": len(graded),
        **_stats(scores),
        "full_marks": sum(v.score >= v.max_score for v in graded),
        "zero": sum(v.score == 0 for v in graded),
        "score_counts": _score_counts(scores),
        "statuses": _ordered_counts(Counter(v.status for v in graded), TASK_STATUSES),
        "points_lost": sum(v.max_score - v.score for v in graded),
        "checks": list(checks.values()),
    }


def _diagnosis_rows(students: list[StudentView], lang: str | None, with_names: bool
                    ) -> list[dict[str, Any]]:
    """Every diagnosis id given to a failed check, with the students who got it, most
    students first (then most checks, then the id)."""
    who: dict[str, set[str]] = defaultdict(set)
    occurrences: Counter = Counter()
    tasks: dict[str, dict[str, None]] = defaultdict(dict)
    for student in students:
        for task_id, view in student.tasks.items():
            for check in view.checks:
                if check.status == "passed":
                    continue
                for mistake in check.diagnoses:
                    who[mistake].add(student.name)
                    occurrences[mistake] += 1
                    tasks[mistake][task_id] = None
    ranked = sorted(who, key=lambda m: (-len(who[m]), -occurrences[m], m))
    return [{"id": m, "description": describe_mistake(m, lang), "tasks": list(tasks[m]),
             "occurrences": occurrences[m], **_who(who[m], with_names)} for m in ranked]


def _lost_rows(students: list[StudentView], lang: str | None, with_names: bool
               ) -> list[dict[str, Any]]:
    """Checks that timed out or crashed, one row per task, status and reason (the sandbox
    scores a task's remaining checks as its first lost one: they share the row)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for student in students:
        for task_id, view in student.tasks.items():
            for check in view.checks:
                if check.status not in LOST:
                    continue
                reason_key, reason = lost_reason(check, lang)
                row = rows.setdefault((task_id, check.status, reason), {
                    "task": task_id, "status": check.status, "reason_key": reason_key,
                    "reason": reason, "checks": {}, "who": set()})
                row["checks"][check.name] = row["checks"].get(check.name, 0) + 1
                row["who"].add(student.name)
    order = {task.id: i for i, task in enumerate(TASKS)}
    ranked = sorted(rows.values(), key=lambda r: (order[r["task"]], -len(r["who"]),
                                                  r["status"], r["reason"]))
    return [{**{k: v for k, v in row.items() if k != "who"},
             "checks": [{"name": n, "count": c} for n, c in row["checks"].items()],
             **_who(row["who"], with_names)} for row in ranked]


def _revisit(students: list[StudentView], lang: str | None, with_names: bool
             ) -> dict[str, Any]:
    """What to revisit in class: the rule (``cr_revisit_rule``) and its first items."""
    items: dict[tuple[str, ...], dict[str, Any]] = {}
    task_order = {task.id: i for i, task in enumerate(TASKS)}
    for student in students:
        for task_id, view in student.tasks.items():
            for index, check in enumerate(view.checks):
                lost = check.max_score - check.score
                if check.status not in ATTEMPTED or lost <= 0:
                    continue
                if check.diagnoses:
                    item_key: tuple[str, ...] = ("diagnosis", check.diagnoses[0])
                else:
                    item_key = ("check", task_id, check.name)
                item = items.setdefault(item_key, {
                    "points_lost": 0, "who": set(), "tasks": {}, "messages": [],
                    "order": (task_order[task_id], index)})
                item["points_lost"] += lost
                item["who"].add(student.name)
                item["tasks"][task_id] = None
                item["order"] = min(item["order"], (task_order[task_id], index))
                if item_key[0] == "check":
                    item["messages"].append((student.name, check))
    ranked = sorted(items.items(), key=lambda kv: (-kv[1]["points_lost"], -len(kv[1]["who"]),
                                                   kv[1]["order"]))
    out = []
    for item_key, item in ranked[:REVISIT_LIMIT]:
        row: dict[str, Any] = {"kind": item_key[0], "points_lost": item["points_lost"],
                               "tasks": list(item["tasks"])}
        if item_key[0] == "diagnosis":
            row.update(id=item_key[1], what=describe_mistake(item_key[1], lang))
        else:
            task_id, name = item_key[1], item_key[2]
            row.update(id=f"{task_id}::{name}", check=name,
                       what=t("cr_revisit_check", lang, task=task_id, check=name,
                              title=TASK_BY_ID[task_id].title(lang)),
                       example_message=_example(item["messages"], lang))
        row.update(_who(item["who"], with_names))
        out.append(row)
    return {"rule": t(REVISIT_RULE_KEY, lang, limit=REVISIT_LIMIT), "limit": REVISIT_LIMIT,
            "items": out}


def _example(failures: list[tuple[str, CheckView]], lang: str | None) -> str:
    """The message of the most common message key among these failures (the first student's
    by name when several share it), in ``lang``, shortened."""
    keys = Counter(check.key for _, check in failures)
    top = max(keys.values())
    key = min(k for k, n in keys.items() if n == top)
    _, check = min(((name, c) for name, c in failures if c.key == key),
                   key=lambda pair: (pair[0].casefold(), pair[0]))
    return safe_text(check_message(check, lang), EXAMPLE_CHARS, newlines=False)
