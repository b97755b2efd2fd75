"""Running a failed check's detectors, ranking what they found, and writing the message.

Called by :func:`grader.scoring.judge` only when a verdict raised
:class:`~grader.checks.base.Fail` or the student's code raised on the check
(:func:`diagnose_crash`, from the exception's text alone) (and by tests and ``bench/diagnoses.py`` *forced*, with
``fail=None``, on data that passed). A detector that raises is skipped: a diagnosis never
costs a check its result.
"""

from __future__ import annotations

import math
from typing import Any

from grader.checks.base import Check, Fail
from grader.diagnoses.base import Diagnosis, Evidence
from grader.diagnoses.catalogue import BY_CHECK, CRASHES, MISTAKES, rank
from grader.i18n import t

#: at most this many diagnoses are kept per check (the most likely first)
MAX_DIAGNOSES = 3
#: the value a detector may set to pick its message's variant ``diag_<id>_<variant>``
VARIANT = "_message"


def _plain(value: Any) -> Any:
    """A message value as plain, bounded data (detectors return ints, floats and short text)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else str(value)[:40]
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    return str(value)[:200]


def diagnose(check: Check, inp: dict[str, Any], out: dict[str, Any], fail: Fail | None,
             device: str = "cpu", only: tuple[str, ...] | None = None) -> list[Diagnosis]:
    """The known mistakes that explain ``check``'s data, ranked (:func:`catalogue.rank`).

    ``fail``: the verdict's failure (``None`` forces the detectors on data that passed);
    ``only``: run just those mistakes' detectors (tests, benchmarks)."""
    ev = Evidence(check, inp, out if isinstance(out, dict) else {}, fail, device)
    found = []
    for mistake in BY_CHECK.get(check.id, []):
        if only is not None and mistake.id not in only:
            continue
        try:
            values = mistake.detectors[check.id](ev)
        except Exception:  # a detector must never break a verdict: it simply says nothing
            continue
        if values is not None:
            found.append(Diagnosis(mistake.id, {str(k)[:40]: _plain(v)
                                                for k, v in dict(values).items()}))
    found.sort(key=lambda d: rank(d.id))
    return found[:MAX_DIAGNOSES]


def diagnose_crash(check: Check, inp: dict[str, Any], outcome: dict[str, Any],
                   device: str = "cpu") -> list[Diagnosis]:
    """The known mistakes that explain the student's code raising on ``check`` (an ``error``
    outcome: ``exc_type``, ``exc_msg``), ranked; only the crash detectors of
    :data:`catalogue.CRASHES` run, on the exception's type and text."""
    crash = {k: outcome.get(k) for k in ("exc_type", "exc_msg")
             if isinstance(outcome.get(k), str)}
    ev = Evidence(check, inp, {"crash": crash}, None, device)
    found = []
    for mistake_id, detector in CRASHES.get(check.id, []):
        try:
            values = detector(ev)
        except Exception:  # as with failures: a detector never costs a check its result
            continue
        if values is not None:
            found.append(Diagnosis(mistake_id, {str(k)[:40]: _plain(v)
                                                for k, v in dict(values).items()}))
    found.sort(key=lambda d: rank(d.id))
    return found[:MAX_DIAGNOSES]


def message_key(diagnosis_id: str, values: dict[str, Any]) -> str:
    key = MISTAKES[diagnosis_id].message_key
    variant = values.get(VARIANT)
    return f"{key}_{variant}" if isinstance(variant, str) and variant else key


def render(diagnoses: dict[str, dict[str, Any]], lang: str | None) -> str:
    """The message of a check's diagnoses (``{id: values}``, ranked), in ``lang``: the first
    one's, then each other one's after a connector. Unknown ids are skipped."""
    parts = []
    for did, values in diagnoses.items():
        if did not in MISTAKES or not isinstance(values, dict):
            continue
        shown = {k: v for k, v in values.items() if k != VARIANT}
        parts.append(t(message_key(did, values), lang, **shown))
    if not parts:
        return ""
    also = t("diag_also", lang)
    return parts[0] + "".join(f" {also} {p}" for p in parts[1:])


__all__ = ["MAX_DIAGNOSES", "diagnose", "diagnose_crash", "render"]
