"""Which ``result.json`` files this kit wrote: an HMAC-SHA256 under a key kept outside every class.

``autograde`` skips a student whose earlier ``result.json`` carries the fingerprint of their
files, and builds ``grades.csv`` from those files. A fingerprint proves nothing by itself: it
is a hash of public things (the kit, the settings, the student's files), so whoever can put a
file among the results (a class folder inside the results folder, a shared drive, a copied
results folder) could write one with a valid fingerprint and any score. So each result is
signed (:func:`sign`, the ``mac`` field) with a key that only the grading account holds
(:func:`load_key`: a file made 0600 on first use, outside the class and results folders),
and a result is trusted only when its signature checks out (:func:`verify`). Anything else
is graded again.

The signature covers the folder name too, so a result copied from another student's folder
does not check out either.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader import settings
from grader.i18n import t
from grader.options import UserError
from grader.outputs.atomic import write_atomic

#: the field of ``result.json`` that holds the signature
MAC_FIELD = "mac"
KEY_BYTES = 32
#: what this MAC is of: a signature made for another purpose never checks out here
_DOMAIN = b"practico2 autograde result.json v1\0"


def canonical(data: dict[str, Any]) -> bytes:
    """The bytes a signature covers: every field but :data:`MAC_FIELD`, keys sorted, no
    spaces. ``json.loads`` of the written file gives back the same bytes."""
    body = {k: v for k, v in data.items() if k != MAC_FIELD}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def _folder_bytes(folder: str) -> bytes:
    try:
        return os.fsencode(folder)
    except UnicodeEncodeError:
        return folder.encode("utf-8", "surrogatepass")


def sign(key: bytes, folder: str, data: dict[str, Any]) -> str:
    """HMAC-SHA256 (hex) of ``data`` as graded for the student folder named ``folder``."""
    message = _DOMAIN + _folder_bytes(folder) + b"\0" + canonical(data)
    return hmac.new(key, message, "sha256").hexdigest()


def verify(key: bytes, folder: str, data: Any) -> bool:
    """True when ``data`` (a parsed ``result.json``) was signed with ``key`` for ``folder``."""
    if not isinstance(data, dict) or not isinstance(data.get(MAC_FIELD), str):
        return False
    try:
        expected = sign(key, folder, data)
    except (TypeError, ValueError):  # not something this kit could have written
        return False
    return hmac.compare_digest(data[MAC_FIELD], expected)


def signed_json(key: bytes, folder: str, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``data`` with its signature, as a reader will parse it (strings made safe and bounded
    first), and the JSON text to store (for a writer that is not :func:`write_signed`, such
    as nbgrader's, which writes the files a preprocessor hands it)."""
    from grader.outputs.results import MAX_FILE_STRING
    from grader.textsafe import safe_tree

    # One round trip first: what is signed is exactly what a reader gets back (tuples become
    # lists, non-finite numbers were made text before).
    final = json.loads(json.dumps(safe_tree(data, MAX_FILE_STRING), ensure_ascii=False))
    final.pop(MAC_FIELD, None)
    final[MAC_FIELD] = sign(key, folder, final)
    return final, json.dumps(final, ensure_ascii=False, indent=2) + "\n"


def write_signed(path: Path, key: bytes, folder: str, data: dict[str, Any]) -> dict[str, Any]:
    """Write ``data`` to ``path`` as JSON with its signature (atomically); returns what was
    written, as a reader will parse it (:func:`signed_json`)."""
    final, text = signed_json(key, folder, data)
    write_atomic(path, text)
    return final


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def load_key(forbidden: Iterable[Path] = ()) -> bytes:
    """The signing key, from :func:`grader.settings.results_key_file`, made on first use.

    ``forbidden``: folders the key may not lie in (the class and the results: a student file
    there could be the key). The file must be a regular file of this user that nobody else
    can read or write; a clear :class:`UserError` says what to do otherwise.
    """
    path = settings.results_key_file()
    where = path.resolve()

    def error(key: str, **values: object) -> UserError:
        # the hint (how to choose another key file) worded in the same language as the error
        return UserError(render=lambda lang: t(key, lang, path=str(path), **values,
                                               hint=t("err_key_hint", lang,
                                                      var=settings.RESULTS_KEY)))

    for folder in forbidden:
        if _inside(where, Path(folder).resolve()):
            raise error("err_key_inside", folder=str(folder))
    try:
        if not path.exists() and not path.is_symlink():
            _create(path)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            content = fh.read(4 * KEY_BYTES)
    except OSError as exc:
        raise error("err_key_unreadable", reason=exc.strerror or type(exc).__name__) from None
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        raise error("err_key_not_regular")
    if info.st_mode & 0o077:
        raise UserError(key="err_key_shared", path=str(path), mode=stat.filemode(info.st_mode))
    try:
        key = bytes.fromhex(content.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise UserError(key="err_key_malformed", path=str(path), digits=2 * KEY_BYTES)
    return key


def _create(path: Path) -> None:
    """A new random key at ``path``, 0600, in a folder made 0700; written beside it and then
    linked into place, so a second ``autograde`` starting at the same moment reads a whole
    key (its own attempt loses the race and reads the winner's)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results.key.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
