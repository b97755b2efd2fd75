"""Grading in this process that keeps each check's data: what the diagnosis tests run the
detectors on, *forced* (as if the check had failed), without grading anything twice.

:func:`record` grades with the grading loop's own in-process runner and input cache
(:mod:`grader.grading`: inputs, probe, both through the wire format, verdict) and keeps
``(check, inp, outcome, result)`` of each check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grader.checks import Check, Context
from grader.grading import InProcess, InputCache, select_checks
from grader.impl import Impl
from grader.request import GradeRequest
from grader.scoring import CheckResult, judge


@dataclass
class Record:
    check: Check
    inp: dict[str, Any]
    outcome: dict[str, Any]
    result: CheckResult


def record(impl: Impl, ctx: Context, task_ids: Iterable[str] | None = None,
           skip: Iterable[Check] = ()) -> list[Record]:
    skipped = {c.id for c in skip}
    request = GradeRequest(tasks=task_ids, device=ctx.device, lang=ctx.lang, variant=ctx.variant)
    checks = [c for c in select_checks(request) if c.id not in skipped]
    cache = InputCache()
    run = InProcess(impl).run(request, checks, lambda check: cache.get(check, ctx))
    records = []
    for outcome in run.outcomes:
        check = checks[outcome.index]
        inp = cache.get(check, ctx)
        data = outcome.data if outcome.data is not None else {}
        records.append(Record(check, inp, data, judge(check, inp, data, ctx)))
    return records


def forced_diagnoses(records: list[Record]) -> list[tuple[str, list[str]]]:
    """Every check's detectors run on its data as if it had failed: ``(check id, ids found)``
    for each check where any detector matched (none, on correct code)."""
    from grader.diagnoses.engine import diagnose

    found = []
    for rec in records:
        if rec.outcome.get("status") != "ok" or not isinstance(rec.outcome.get("out"), dict):
            continue
        ids = [d.id for d in diagnose(rec.check, rec.inp, rec.outcome["out"], None)]
        if ids:
            found.append((rec.check.id, ids))
    return found
