"""What makes two installations of the kit grade alike: a fingerprint to compare machines.

A class graded on many machines (``autograde --cluster``/``--scheduler``) is only fair if
every machine runs the same checks on the same data. :func:`kit_fingerprint` describes one
machine: the grader's own files (each by hash, so a difference can be named), the kit,
torch and Python versions, and the MNIST files the checks read (by hash: another copy of the
data would draw other inputs). :func:`differences` says, in words, how two fingerprints
differ; :func:`kit_digest` is the same files as one hash (``autograde``'s fingerprint of a
result). It needs neither torch nor Dask to be imported.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
from pathlib import Path
from typing import Any

#: differing grader files named in a message, at most (a whole other version differs in many)
MAX_FILES_NAMED = 5

_mnist_cache: dict[str, Any] = {}


def package_files() -> dict[str, str]:
    """sha256 of each ``.py`` file of the grader package, by path inside the package."""
    package = Path(__file__).resolve().parent
    return {str(path.relative_to(package)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(package.rglob("*.py"))}


_kit_digest_cache: list[str] = []


def kit_digest() -> str:
    """One hash of the grader's own code (every file's path and hash): a change to any check
    changes it, so ``autograde`` grades again results of another kit. Computed once per
    process."""
    if not _kit_digest_cache:
        digest = hashlib.sha256()
        for path, sha in package_files().items():
            digest.update(f"{path}\0{sha}\n".encode())
        _kit_digest_cache.append(digest.hexdigest())
    return _kit_digest_cache[0]


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _mnist() -> dict[str, Any]:
    """Where MNIST is and a hash of its raw files, or what is missing (cached per process:
    the files are 55 MB and do not change while a worker lives)."""
    from grader.data import RAW_FILES, data_root

    root = data_root().resolve()
    key = str(root)
    if key not in _mnist_cache:
        raw = root / "MNIST" / "raw"
        missing = [name for name in RAW_FILES if not (raw / name).is_file()]
        if missing:
            _mnist_cache[key] = {"folder": str(raw), "missing": missing}
        else:
            digest = hashlib.sha256()
            for name in RAW_FILES:
                with open(raw / name, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023
                        digest.update(block)
            _mnist_cache[key] = {"folder": str(raw), "sha256": digest.hexdigest()}
    return _mnist_cache[key]


def kit_fingerprint() -> dict[str, Any]:
    """This machine's kit, as plain data (it travels between client and workers)."""
    from grader import __version__

    return {
        "kit": __version__,
        "files": package_files(),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "mnist": _mnist(),
    }


def differences(mine: dict[str, Any], theirs: Any) -> list[str]:
    """How ``theirs`` (another machine's fingerprint) differs from ``mine``, one phrase each;
    empty when they grade alike. ``theirs`` is validated, not trusted to be well formed."""
    if not isinstance(theirs, dict):
        return [f"it answered {type(theirs).__name__} instead of a kit fingerprint"]
    found = []
    mnist = theirs.get("mnist")
    if not isinstance(mnist, dict) or "sha256" not in mnist:
        where = mnist.get("folder", "?") if isinstance(mnist, dict) else "?"
        found.append(f"MNIST is missing there ({where}: set PRACTICO_DATA on the worker to "
                     "the folder that holds MNIST/raw/)")
    elif mnist.get("sha256") != mine["mnist"].get("sha256"):
        found.append(f"its MNIST files ({mnist.get('folder')}) differ from this machine's")
    for key, what in (("kit", "kit version"), ("python", "Python"), ("torch", "torch"),
                      ("torchvision", "torchvision")):
        if theirs.get(key) != mine[key]:
            found.append(f"{what} {theirs.get(key)!s:.40} there, {mine[key]} here")
    files = theirs.get("files")
    if not isinstance(files, dict):
        found.append("it sent no list of grader files")
    elif files != mine["files"]:
        changed = sorted(name for name in set(files) | set(mine["files"])
                         if files.get(name) != mine["files"].get(name))
        shown = ", ".join(f"grader/{name!s:.80}" for name in changed[:MAX_FILES_NAMED])
        more = len(changed) - MAX_FILES_NAMED
        found.append(f"its grader code differs ({shown}{f' and {more} more' if more > 0 else ''}"
                     ")")
    return found
