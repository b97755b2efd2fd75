"""Gradescope's ``results.json`` of one student: one test per task, its messages as output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.tasks import TASKS
from grader.textsafe import safe_text

if TYPE_CHECKING:
    from grader.scoring import TaskResult


def gradescope_json(results: dict[str, TaskResult], seconds: float, lang: str | None
                    ) -> dict[str, Any]:
    """Gradescope's ``results.json``: one test per task, with its messages as output."""
    tests = []
    for number, task in enumerate(TASKS, start=1):
        res = results.get(task.id)
        score = res.score if res else 0.0
        tests.append({
            "name": f"{task.id}: {task.title(lang)}",
            "number": str(number),
            "score": score,
            "max_score": float(task.points),
            "status": "passed" if res and res.status == "passed" else "failed",
            # Gradescope's default format renders some HTML: plain text shows the
            # student's exception text as text.
            "output": safe_text(res.message) if res else "",
            "output_format": "text",
        })
    return {"score": sum(x["score"] for x in tests), "execution_time": round(seconds, 1),
            "tests": tests}
