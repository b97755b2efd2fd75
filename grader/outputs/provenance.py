"""What produced a result: the record each ``result.json`` keeps, and its one-hash fingerprint.

A result is a function of three things: the kit (its version and the hash of every grader
file, :func:`grader.kitprint.kit_digest`), the student's graded files, and the options that
decide a verdict (tasks, device, input variant and, for a hidden variant, which course secret).
:func:`produced_by` writes them down as the ``produced_by`` object of a result
(docs/result-json.md), with the two options that shape a result without deciding a verdict on
working code (the time limit and the language of the messages); :func:`fingerprint` hashes the
deciding part. ``autograde`` skips a student while the fingerprint of their signed result is
still the current one; the regrade preview (:mod:`grader.regrade`) uses the record to say
whether a score changes because of the kit, the submission, or the options (:func:`causes`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from grader import __version__
from grader.i18n import current_lang
from grader.kitprint import kit_digest
from grader.request import GradeRequest
from grader.submission import Submission

__all__ = ["CAUSES", "VERDICT_OPTIONS", "causes", "changed_files", "changed_options",
           "fingerprint", "produced_by", "secret_id"]

#: the options that decide a verdict, in ``produced_by.options`` (the rest only shape it)
VERDICT_OPTIONS = ("tasks", "device", "variant", "secret")
#: what a score change can come from, in the order a preview names them
CAUSES = ("kit", "submission", "options", "unknown", "none")


def secret_id(variant: int) -> str | None:
    """A short name of the course secret a hidden variant's inputs were drawn from (None for
    the public variant 0): 16 hex digits of a hash of the variant's token, so a result says
    that another secret drew its inputs without holding anything the secret can be found from
    (the token is itself a keyed digest of the secret)."""
    if not variant:
        return None
    from grader.hidden import variant_token

    token = variant_token(variant).encode()
    return hashlib.sha256(b"practico2 secret id\0" + token).hexdigest()[:16]


def produced_by(submission: Submission, request: GradeRequest) -> dict[str, Any]:
    """The ``produced_by`` record of a result: the kit, the options, the graded files.

    ``files``: sha256 (hex) of each file graded, by name; ``unusable``: the files with a kit
    module's name that were refused (a link, too large...), by name, with the reason's key."""
    return {
        "kit_version": __version__,
        "kit_digest": kit_digest(),
        "options": {
            "tasks": list(request.tasks) if request.tasks is not None else None,
            "device": request.device,
            "variant": request.variant,
            "secret": secret_id(request.variant),
            "timeout": request.timeout,
            "lang": current_lang(request.lang),
        },
        "files": {name: hashlib.sha256(data).hexdigest()
                  for name, data in sorted(submission.files.items())},
        "unusable": {name: _reason_key(why) for name, why in sorted(submission.problems.items())},
    }


def _reason_key(why: Any) -> str:
    if isinstance(why, dict) and isinstance(why.get("key"), str):
        return why["key"]
    return str(why)


def fingerprint(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of what in ``record`` decides a verdict: the kit, the verdict options
    (:data:`VERDICT_OPTIONS`) and the files. The time limit and the language are left out: a
    rerun with another of either keeps the finished students (``--force`` grades them again)."""
    deciding = {
        "kit_version": record["kit_version"], "kit_digest": record["kit_digest"],
        "options": {name: record["options"][name] for name in VERDICT_OPTIONS},
        "files": record["files"], "unusable": record["unusable"],
    }
    return hashlib.sha256(json.dumps(deciding, sort_keys=True).encode()).hexdigest()


def _record(data: Any) -> dict[str, Any] | None:
    """The ``produced_by`` of a parsed result when it has the shape this module writes."""
    record = data.get("produced_by") if isinstance(data, dict) else None
    if not isinstance(record, dict):
        return None
    if not isinstance(record.get("options"), dict) or not isinstance(record.get("files"), dict):
        return None
    return record


def changed_files(old: Any, new: Any) -> list[str]:
    """The names of the files that differ between two results' records (added, removed,
    edited, refused or no longer refused), sorted; empty when either has no record."""
    a, b = _record(old), _record(new)
    if a is None or b is None:
        return []
    unusable_a = a.get("unusable") if isinstance(a.get("unusable"), dict) else {}
    unusable_b = b.get("unusable") if isinstance(b.get("unusable"), dict) else {}
    names = set(a["files"]) | set(b["files"]) | set(unusable_a) | set(unusable_b)
    return sorted(str(n) for n in names if a["files"].get(n) != b["files"].get(n)
                  or unusable_a.get(n) != unusable_b.get(n))


def changed_options(old: Any, new: Any) -> list[str]:
    """The verdict options (:data:`VERDICT_OPTIONS`) that differ between two results' records."""
    a, b = _record(old), _record(new)
    if a is None or b is None:
        return []
    return [name for name in VERDICT_OPTIONS if a["options"].get(name) != b["options"].get(name)]


def causes(old: Any, new: Any) -> list[str]:
    """Why ``new`` (a result) may differ from ``old``, among :data:`CAUSES`: ``kit`` (another
    version or another grader file), ``submission`` (the graded files differ), ``options`` (a
    verdict option differs); ``unknown`` when ``old`` has no record (a kit that kept none wrote
    it); ``none`` when all three are the same (the difference then comes from the run itself: a
    time limit reached once and not the other time, a crash)."""
    a, b = _record(old), _record(new)
    if a is None or b is None:
        return ["unknown"]
    found = []
    if (a.get("kit_version"), a.get("kit_digest")) != (b.get("kit_version"), b.get("kit_digest")):
        found.append("kit")
    if changed_files(old, new):
        found.append("submission")
    if changed_options(old, new):
        found.append("options")
    return found or ["none"]
