"""Grading in this process that keeps each check's data: what the diagnosis tests run the
detectors on, *forced* (as if the check had failed), without grading anything twice.

:func:`record` does what :func:`grader.scoring.run_check_in_process` does (inputs, probe,
both through the wire format, verdict) and keeps ``(check, inp, outcome, result)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grader.checks import Check, Context, ProbeEnv
from grader.impl import Impl
from grader.sandbox.codec import roundtrip
from grader.scoring import CheckResult, check_inputs, checks_for, judge, probe_outcome


@dataclass
class Record:
    check: Check
    inp: dict[str, Any]
    outcome: dict[str, Any]
    result: CheckResult


def record(impl: Impl, ctx: Context, task_ids: Iterable[str] | None = None,
           skip: Iterable[Check] = ()) -> list[Record]:
    skipped = {c.id for c in skip}
    records = []
    for check in checks_for(task_ids):
        if check.id in skipped:
            continue
        inp = check_inputs(check, ctx)
        outcome = roundtrip(probe_outcome(check, impl, roundtrip(inp), ProbeEnv(device=ctx.device)))
        records.append(Record(check, inp, outcome, judge(check, inp, outcome, ctx)))
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
