"""The verdict side of grading: a probe's outcome judged into a result, results added up.

:func:`judge` is the one place an outcome becomes a :class:`CheckResult` (whichever runner
produced it, see :mod:`grader.grading`); :func:`summarize` adds up the points per task;
:func:`render_message` writes a result's message again in another language from the key
and values it keeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from grader.checks import CHECKS, Check, Context, Fail
from grader.i18n import render_reason, t
from grader.statuses import outcome_status
from grader.tasks import TASKS, get_task
from grader.textsafe import safe_text, shown_int


@dataclass
class CheckResult:
    task: str
    check: str
    points: float
    max_points: float
    status: str
    message: str = ""
    #: the message key behind ``message`` (a ``Fail`` key or ``status_<status>``) and its
    #: values: ``render_message(key, values, lang)`` writes the message in either language
    key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    #: ids of the known mistakes that explain a failed verdict, most likely first
    #: (:mod:`grader.diagnoses`); their values are ``values["diagnosis"]`` and ``message`` is
    #: theirs. Empty for passed checks and failures no detector explains.
    diagnoses: list[str] = field(default_factory=list)


@dataclass
class TaskResult:
    task: str
    score: float
    max_score: float
    status: str
    message: str
    checks: list[CheckResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("task",)}


def checks_for(task_ids: Iterable[str] | None = None) -> list[Check]:
    """The registered checks of those tasks (all tasks when ``None``), in task order."""
    wanted = [get_task(tid).id for tid in task_ids] if task_ids is not None else None
    order = {task.id: i for i, task in enumerate(TASKS)}
    chosen = [c for c in CHECKS if wanted is None or c.task in wanted]
    return sorted(chosen, key=lambda c: order[c.task])


def check_inputs(check: Check, ctx: Context) -> dict[str, Any]:
    """The check's inputs plus the seed its probe starts from."""
    inp = check.inputs(ctx)
    inp["_seed"] = ctx.seed(check.id)
    return inp


def _plain_value(value: Any) -> Any:
    """A message value as plain data: numbers (NaN kept: a format spec still applies to it)
    and bounded text, a reason as its plain key and values, anything else as bounded text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return shown_int(value)
    if isinstance(value, (bool, float)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k)[:100]: _plain_value(v) for k, v in list(value.items())[:20]
                if isinstance(v, (bool, int, float, str))}
    return safe_text(value, 2000)


def status_values(status: str, outcome: dict[str, Any], check: Check) -> dict[str, Any]:
    """The values of the ``status_<status>`` message (the reason stays a key and values)."""
    values: dict[str, Any] = {k: _plain_value(v) for k, v in outcome.items()
                              if isinstance(v, (str, int, float)) and k != "status"}
    if isinstance(outcome.get("reason"), dict):
        values["reason"] = _plain_value(outcome["reason"])
    values.setdefault("module", check.module)
    values.setdefault("task", check.task)
    values.setdefault("where", "")
    values.setdefault("exc_type", "")
    values.setdefault("exc_msg", "")
    if values["where"]:
        values["where"] = f" ({values['where']})"
    return values


def render_message(key: str, values: dict[str, Any], lang: str | None) -> str:
    """A result's message, in ``lang``, from the key and values it keeps (a diagnosed
    failure's is its diagnoses', kept in ``values["diagnosis"]``)."""
    diagnosed = values.get(DIAGNOSIS_VALUES)
    if isinstance(diagnosed, dict) and diagnosed:
        from grader.diagnoses.engine import render

        text = render(diagnosed, lang)
        if text and key.startswith("status_"):
            # a crash keeps its own account (what raised, where) before the mistake's
            rest = {k: v for k, v in values.items() if k != DIAGNOSIS_VALUES}
            return f"{render_message(key, rest, lang)} {text}"
        if text:
            return text
    values = dict(values)
    if "reason" in values and not isinstance(values["reason"], str):
        values["reason"] = render_reason(values["reason"], lang) or "—"
    elif key.startswith("status_"):
        values.setdefault("reason", "—")
    return t(key, lang, **values)


def judge(check: Check, inp: dict[str, Any], outcome: dict[str, Any], ctx: Context) -> CheckResult:
    """Turn a probe outcome into a scored result. All decisions happen here, in the grader.

    Never raises (but for Ctrl-C): whatever the data, this check gets a result. Data no
    verdict can handle (a 400-digit int where a flag belongs, nesting that exhausts the
    stack, a value that overflows a conversion) fails this check with the reason, and the
    other checks go on.
    """
    try:
        return _judge(check, inp, outcome, ctx)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {safe_text(exc, 300, newlines=False)}"
        return CheckResult(check.task, check.name, 0, check.points, "failed",
                           t("malformed_output", ctx.lang, detail=detail), "malformed_output",
                           {"detail": detail})


def _judge(check: Check, inp: dict[str, Any], outcome: dict[str, Any], ctx: Context
           ) -> CheckResult:
    status = outcome_status(outcome)
    if status != "ok":
        values = status_values(status, outcome if isinstance(outcome, dict) else {}, check)
        found = _diagnose_crash(check, inp, outcome, ctx) if status == "error" else []
        if found:
            values[DIAGNOSIS_VALUES] = {d.id: d.values for d in found}
        return CheckResult(check.task, check.name, 0, check.points, status,
                           render_message(f"status_{status}", values, ctx.lang),
                           f"status_{status}", values, [d.id for d in found])
    out = outcome.get("out")
    if not isinstance(out, dict):
        values = {"detail": "probe output is not a dict"}
        return CheckResult(check.task, check.name, 0, check.points, "failed",
                           t("malformed_output", ctx.lang, **values), "malformed_output", values)
    try:
        check.verdict(inp, out, ctx)
    except Fail as fail:
        values = {k: _plain_value(v) for k, v in fail.values.items()}
        found = _diagnose(check, inp, out, fail, ctx)
        if found:
            values[DIAGNOSIS_VALUES] = {d.id: d.values for d in found}
        return CheckResult(check.task, check.name, 0, check.points, "failed",
                           render_message(fail.key, values, ctx.lang), fail.key, values,
                           [d.id for d in found])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        # Data shaped in a way no verdict expected (e.g. from a tampered child): a failure,
        # never a crash of the grader.
        values = {"detail": f"{type(exc).__name__}: {exc}"[:300]}
        return CheckResult(check.task, check.name, 0, check.points, "failed",
                           t("malformed_output", ctx.lang, **values), "malformed_output", values)
    return CheckResult(check.task, check.name, check.points, check.points, "passed", "")


#: where a diagnosed failure keeps its diagnoses' values (``{id: {name: value}}``)
DIAGNOSIS_VALUES = "diagnosis"


def _diagnose(check: Check, inp: dict[str, Any], out: dict[str, Any], fail: Fail,
              ctx: Context) -> list[Any]:
    """The known mistakes that explain this failure (issue 20), ranked; never raises."""
    try:
        from grader.diagnoses.engine import diagnose

        return diagnose(check, inp, out, fail, ctx.device)
    except Exception:
        return []


def _diagnose_crash(check: Check, inp: dict[str, Any], outcome: dict[str, Any],
                    ctx: Context) -> list[Any]:
    """The known mistakes that explain the student's code raising on ``check``; never
    raises."""
    try:
        from grader.diagnoses.engine import diagnose_crash

        return diagnose_crash(check, inp, outcome, ctx.device)
    except Exception:
        return []


def scored_as(check: Check, first: CheckResult) -> CheckResult:
    """``check`` scored 0 for the reason ``first`` was (a timeout or crash of the same task,
    or a notebook that never ran to its end): it was not run."""
    return replace(first, task=check.task, check=check.name, points=0,
                   max_points=check.points, values=dict(first.values))


def summarize(results: list[CheckResult], lang: str | None = None) -> dict[str, TaskResult]:
    """Per-task totals, in task order; tasks without any result are left out."""
    by_task: dict[str, TaskResult] = {}
    for task in TASKS:
        mine = [r for r in results if r.task == task.id]
        if not mine:
            continue
        score = sum(r.points for r in mine)
        statuses = {r.status for r in mine}
        if statuses == {"passed"}:
            status = "passed"
        elif len(statuses) == 1:
            status = next(iter(statuses))
        else:
            status = "partial" if score > 0 else "failed"
        messages: list[str] = []
        for r in mine:
            if r.message and r.message not in messages:
                messages.append(r.message)
        by_task[task.id] = TaskResult(
            task.id, score, float(task.points), status, "\n".join(messages), mine
        )
    return by_task
