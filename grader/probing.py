"""The student's side of a check, run wherever the student's code runs: plain data back.

:func:`probe_outcome` runs one check's probe on an implementation and turns whatever
happens (a missing file or name, ``NotImplementedError``, any exception, ``SystemExit``
included) into plain data. It decides nothing: the verdict is :mod:`grader.scoring`'s, in
the grader. The sandboxed child runs it (:mod:`grader.sandbox.child`), and so does the
in-process runner of :mod:`grader.grading`.
"""

from __future__ import annotations

import sys
from typing import Any

from grader.checks import Check, ProbeEnv, seed_everything
from grader.impl import Impl, ImplError, describe_exception
from grader.probe_side import probe_side


@probe_side
def _close_figures() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


@probe_side
def probe_outcome(check: Check, impl: Impl, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
    """Run the student's side of a check. Returns plain data, whatever the student's code does."""
    try:
        mod = impl.names(check.module, check.needs)
    except ImplError as exc:
        return {"status": exc.kind, **exc.values}
    seed_everything(int(inp["_seed"]))
    try:
        out = check.probe(mod, inp, env)
    except NotImplementedError as exc:
        return {"status": "not_implemented", **describe_exception(exc, impl.roots)}
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit from student code included: it is just an error
        return {"status": "error", **describe_exception(exc, impl.roots)}
    finally:
        _close_figures()
    return {"status": "ok", "out": out}
