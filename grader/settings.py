"""Everything the kit reads from the environment, and where the kit lives: one place to look.

================================  ==========  ==================================================
variable                          default     meaning
================================  ==========  ==================================================
``PRACTICO_DATA``                 ``./data``  folder holding ``MNIST/raw/*-ubyte``; where it is
                                              unset MNIST is downloaded into ``./data``
``PRACTICO_LANG``                 ``es``      language of every message, ``es`` or ``en``;
                                              anything else means ``es``. ``--lang`` wins
``PRACTICO_SECRET``               (none)      the course secret the hidden variants' inputs are
                                              drawn from (at least 16 characters); read in the
                                              grader's process only, never passed on
``PRACTICO_PRESUPUESTO``          ``rapido``  the notebook's training budget: ``minimo``,
                                              ``rapido`` or ``completo``. Read by the notebook's
                                              first cell; nbgrader's config and the sandbox set
                                              ``minimo`` when grading
``PRACTICO_RESULTS_KEY``          see right   the file holding the key ``autograde`` signs each
                                              ``result.json`` with (made 0600 on first use);
                                              default ``$XDG_CONFIG_HOME/practico2/results.key``,
                                              else ``~/.config/practico2/results.key``
                                              (:func:`results_key_file`)
``PRACTICO_VENV``                 ``.venv``   the virtual environment ``./kit`` makes and uses
                                              (read by that shell script only)
``CI``                            (unset)     log lines instead of progress bars: any value but
                                              empty, ``0``, ``false``, ``no`` or ``off``
                                              (:func:`in_ci`, the one rule every command uses)
``NBGRADER_EXECUTION``            (unset)     set by nbgrader, not by you: ``autograde`` inside
                                              its kernels (:func:`under_nbgrader_autograde`)
================================  ==========  ==================================================

Each setting is a function that reads the environment when it is called, never at import:
tests change variables after the kit is loaded, and the nbgrader kernel and the sandboxed
child get an environment of their own.

The sandboxed child imports this module (through :mod:`grader.data`, copied whole into its
harness, see :data:`grader.sandbox.probe_copy.WHOLE`), so it needs nothing but the standard library,
and it holds no secret: it only says which variable to read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: the kit's root folder: ``solutions/``, ``exercises/``, ``course/`` are under it (in a
#: student release, the release's folder; in the sandbox's harness copy, the harness)
KIT_ROOT = Path(__file__).resolve().parent.parent

DATA = "PRACTICO_DATA"
LANG = "PRACTICO_LANG"
SECRET = "PRACTICO_SECRET"
BUDGET = "PRACTICO_PRESUPUESTO"
NBGRADER_EXECUTION = "NBGRADER_EXECUTION"
RESULTS_KEY = "PRACTICO_RESULTS_KEY"

#: where MNIST goes when ``PRACTICO_DATA`` is unset (relative to the working folder)
DEFAULT_DATA = "data"
#: the languages of the messages; the first is the default
LANGS = ("es", "en")
#: values of ``CI`` that mean "not in CI" (compared stripped and lowercased)
CI_OFF = ("", "0", "false", "no", "off")


#: the four files torchvision reads, in ``<data folder>/MNIST/raw/``
MNIST_RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def mnist_missing(root: Path | None = None) -> list[str]:
    """The raw MNIST files not in ``root/MNIST/raw`` (the data folder by default); a look
    at the disk only, so commands can tell before torch loads whether they will need it."""
    raw = (data_folder() if root is None else root) / "MNIST" / "raw"
    return [name for name in MNIST_RAW_FILES if not (raw / name).is_file()]


def data_folder() -> Path:
    """``$PRACTICO_DATA`` (``~`` expanded), else ``./data``."""
    value = os.environ.get(DATA)
    return Path(value).expanduser() if value else Path(DEFAULT_DATA)


def data_setting() -> str:
    """``$PRACTICO_DATA`` as written (``""`` when unset): what batch jobs on a cluster are
    told to use, unless their own setup says otherwise."""
    return os.environ.get(DATA, "")


def normalize_lang(value: str | None) -> str:
    """``value`` as one of :data:`LANGS` (its first two letters, any case); else Spanish."""
    code = (value or "").strip().lower()[:2]
    return code if code in LANGS else LANGS[0]


def language() -> str:
    """``$PRACTICO_LANG`` as one of :data:`LANGS`; unset or unknown is Spanish."""
    return normalize_lang(os.environ.get(LANG))


def course_secret(environ: Mapping[str, str] | None = None) -> str:
    """``$PRACTICO_SECRET`` without surrounding blanks; ``""`` when unset.

    ``environ``: another environment to look in (default: this process's).
    """
    return (os.environ if environ is None else environ).get(SECRET, "").strip()


def in_ci() -> bool:
    """True when ``$CI`` is set to anything but an off value (:data:`CI_OFF`).

    CI services set ``CI=true``; people write ``CI=1``, ``CI=yes`` or ``CI=on``. Every
    command follows this one rule: in CI, progress is one line per item, never a bar.
    """
    return os.environ.get("CI", "").strip().lower() not in CI_OFF


def under_nbgrader_autograde() -> bool:
    """True inside the kernel of ``nbgrader autograde`` (nbgrader sets the variable there)."""
    return os.environ.get(NBGRADER_EXECUTION) == "autograde"


def results_key_file() -> Path:
    """``$PRACTICO_RESULTS_KEY`` (``~`` expanded), else ``results.key`` in the user's
    configuration folder (``$XDG_CONFIG_HOME/practico2``, or ``~/.config/practico2`` when it
    is unset or not absolute, as the XDG rules say): a place outside every class and results
    folder, so no student file can be, or replace, the key."""
    value = os.environ.get(RESULTS_KEY)
    if value:
        return Path(value).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(config) if os.path.isabs(config) else Path("~/.config").expanduser()
    return base / "practico2" / "results.key"
