"""Grading results as the result JSON (docs/result-json.md) and as a terminal table."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from grader.i18n import t
from grader.outputs.atomic import write_atomic
from grader.outputs.escape import terminal
from grader.scoring import TaskResult
from grader.statuses import label
from grader.tasks import TASKS, Task
from grader.textsafe import safe_tree

#: longest string written to a result file (a task's messages together stay far below)
MAX_FILE_STRING = 64 * 1024



def _json_values(values: dict[str, Any]) -> dict[str, Any]:
    """A check's message values for JSON, which has no NaN or infinity: those become text."""
    def plain(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return repr(v)
        return {k: plain(x) for k, x in v.items()} if isinstance(v, dict) else v

    return {k: plain(v) for k, v in values.items()}


def to_json_dict(results: dict[str, TaskResult]) -> dict[str, Any]:
    """``{"score", "max_score", "tasks": {id: {"score", "max_score", "status", "message",
    "checks"}}}``; each check with its ``diagnoses`` (ids, ranked; empty when it passed or
    no known mistake explains it).

    Every task of the practical appears; a task without results counts as 0.
    """
    tasks: dict[str, Any] = {}
    for task in TASKS:
        res = results.get(task.id)
        if res is None:
            tasks[task.id] = {"score": 0, "max_score": task.points, "status": "not_graded",
                              "message": ""}
            continue
        tasks[task.id] = {
            "score": res.score,
            "max_score": res.max_score,
            "status": res.status,
            "message": res.message,
            "checks": {c.check: {"score": c.points, "max_score": c.max_points,
                                 "status": c.status, "message": c.message,
                                 "key": c.key, "values": _json_values(c.values),
                                 "diagnoses": list(c.diagnoses)}
                       for c in res.checks},
        }
    return {
        "score": sum(v["score"] for v in tasks.values()),
        "max_score": sum(v["max_score"] for v in tasks.values()),
        "tasks": tasks,
    }


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON so a reader never sees half a file (temp file + rename).

    Every string is made UTF-8-safe and bounded first (:mod:`grader.textsafe`): a lone
    surrogate from a student's exception text can never make the write fail.
    """
    data = safe_tree(data, MAX_FILE_STRING)
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def score_row(task: Task, score: float, max_score: float, status: str, lang: str | None
              ) -> str:
    """One task's row of a score table (``grade``'s and the pytest summary's)."""
    return (f"  {task.id:<14} {score:>5g}/{max_score:<4g} {label(status, lang):<18} "
            f"{task.title(lang)}")


def total_row(total: float, maximum: float) -> str:
    """The closing row of a score table."""
    return f"  {'TOTAL':<14} {total:>5g}/{maximum:<4g}"


def format_table(results: dict[str, TaskResult], lang: str | None = None,
                 messages: bool = True) -> str:
    """A per-task table, then each failing task's messages."""
    lines = [t("summary_title", lang)]
    total = maximum = 0.0
    for task in TASKS:
        res = results.get(task.id)
        score = res.score if res else 0.0
        lines.append(score_row(task, score, task.points, res.status if res else "not_graded",
                               lang))
        total += score
        maximum += task.points
    lines.append(total_row(total, maximum))
    if messages:
        for task in TASKS:
            res = results.get(task.id)
            if res and res.message:
                lines.append("")
                lines.append(f"[{task.id}]")
                lines.extend("  - " + m for m in res.message.splitlines())
    # Messages were made safe when rendered (grader.i18n.t); the terminal's escaper is still
    # applied here, where the table is written, whatever happened before.
    return terminal("\n".join(lines))
