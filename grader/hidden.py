"""Seeds of the hidden input variants: derived from a course secret, never from the kit.

Variant 0 is public: its inputs come from constants in the kit, so ``pytest exercises``
gives every student the same checks the instructor runs. Any other variant (nbgrader's
hidden tests, ``grade``, ``autograde`` or ``pytest exercises`` with ``--variant N``) must be
unpredictable from the release, so its seeds are an HMAC of the variant number under the
course secret, read from ``PRACTICO_SECRET`` in the grader's process only (the sandboxed
child and the student's kernel never get it).

A missing or too short secret is an error that names the fix, never a silent fall back
to a public seed: that would hand the hidden inputs to anyone who reads the checks.
"""

from __future__ import annotations

import hashlib
import hmac

from grader import settings
from grader.i18n import t
from grader.settings import course_secret

#: the variable that holds the course secret (see :mod:`grader.settings`)
ENV_VAR = settings.SECRET
#: 16 characters: a typed word is guessable, a token from `secrets.token_hex(16)` (32) is not
MIN_LENGTH = 16


class MissingSecretError(RuntimeError):
    """A hidden variant was asked for without a usable course secret."""


def secret_problem(environ: dict[str, str] | None = None, lang: str | None = None) -> str | None:
    """Why the course secret cannot be used (a message with the fix), or None when it can."""
    value = course_secret(environ)
    if not value:
        return t("secret_missing", lang, var=ENV_VAR, min=MIN_LENGTH)
    if len(value) < MIN_LENGTH:
        return t("secret_short", lang, var=ENV_VAR, min=MIN_LENGTH, length=len(value))
    return None


def require_secret(lang: str | None = None) -> None:
    """Raise :class:`MissingSecretError` (a message with the fix) unless the secret is usable."""
    problem = secret_problem(lang=lang)
    if problem is not None:
        raise MissingSecretError(problem)


def variant_token(variant: int) -> str:
    """What a variant's seeds are derived from: ``"0"`` in public, a keyed digest otherwise."""
    if isinstance(variant, bool) or not isinstance(variant, int) or variant < 0:
        raise ValueError(f"variant must be a whole number >= 0, not {variant!r}")
    if variant == 0:
        return "0"
    require_secret()
    key = course_secret().encode()
    return hmac.new(key, f"practico2/variant/{variant}".encode(), hashlib.sha256).hexdigest()
