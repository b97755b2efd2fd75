"""The one status vocabulary: how a check, a task and a row of a report can end, and labels.

A check ends with one of :data:`CHECK_STATUSES` (only ``passed`` earns points); a task with
its checks' status when they all agree, else ``partial`` or ``failed``
(:func:`grader.scoring.summarize`); a report row of a task no check graded says
``not_graded``. Every table, feedback page and pytest summary shows a status through
:func:`label`, in the reader's language.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CHECK_STATUSES", "LOST", "REPORT_STATUSES", "TASK_STATUSES", "label",
           "outcome_status"]

#: what one check can end with; only "passed" earns points
CHECK_STATUSES = (
    "passed", "failed", "not_implemented", "missing_file", "missing_name", "import_error",
    "unreadable_file", "error", "timeout", "crashed",
)
#: what a task can end with: its checks' one status, or ``partial`` when they differ
TASK_STATUSES = (*CHECK_STATUSES, "partial")
#: what a task's row in a report can say: also ``not_graded`` (no check of it ran)
REPORT_STATUSES = (*TASK_STATUSES, "not_graded")
#: a check that ended so lost its child (a time limit, a crash): the sandbox scores its
#: task's other checks the same way without running them
LOST = frozenset({"timeout", "crashed"})


def outcome_status(outcome: Any) -> str:
    """The status a probe's outcome stands for: ``ok`` (data for a verdict), else the
    check's status; whatever is not one of the vocabulary (a tampered child's) is
    ``crashed``."""
    status = outcome.get("status") if isinstance(outcome, dict) else None
    if status == "ok":
        return "ok"
    return status if status in CHECK_STATUSES else "crashed"


def label(status: str, lang: str | None) -> str:
    """A status as a reader sees it, in ``lang``; one outside the vocabulary as it is."""
    from grader.i18n import t

    return t(f"label_{status}", lang) if status in REPORT_STATUSES else status
