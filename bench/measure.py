"""What the threshold scripts share (``bench/thresholds.py``, ``bench/section7_thresholds.py``).

The reference implementation, contexts seeded as the grader seeds them (seed 0: the public
inputs; seed k > 0: another input stream, no course secret needed), a check's probe run on
trusted code in this process, and one printed row: the min–max over seeds next to the
threshold. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks import CHECKS, Context, ProbeEnv  # noqa: E402
from grader.checks.base import seed_everything  # noqa: E402
from grader.impl import DirImpl  # noqa: E402
from grader.scoring import check_inputs  # noqa: E402

REFERENCE = DirImpl(ROOT / "solutions")
ENV = ProbeEnv()


class Seeds:
    """Contexts and probes of one script's input stream (its name keeps streams apart)."""

    def __init__(self, stream: str) -> None:
        self.stream = stream

    def context(self, seed: int) -> Context:
        return Context() if seed == 0 else Context(_token=f"{self.stream}-{seed}")

    def probe(self, chk: Any, mod: Any, seed: int) -> tuple[dict, dict]:
        """The check's inputs and its probe's report, seeded as the grader seeds them."""
        inp = check_inputs(chk, self.context(seed))
        seed_everything(int(inp["_seed"]))
        return inp, chk.probe(mod, inp, ENV)


def check(task: str, name: str) -> Any:
    return next(c for c in CHECKS if c.task == task and c.name == name)


def ref(chk: Any) -> Any:
    """The reference's names that check needs."""
    return REFERENCE.names(chk.module, chk.needs)


def row(what: str, values: list[float], threshold: str, fmt: str = ".3f") -> None:
    """``what``, the min–max of ``values`` (NaNs counted apart), and the threshold."""
    shown = [v for v in values if not math.isnan(v)]
    nans = len(values) - len(shown)
    if not values:
        span = "(no value)"
    else:
        span = f"{min(shown):{fmt}} – {max(shown):{fmt}}" if shown else "(all nan)"
    extra = f" ({nans} nan)" if nans else ""
    print(f"  {what:<58} {span}{extra}   threshold {threshold}")


def run_parts(parts: dict[str, Callable[[list[int]], None]], doc: str | None) -> None:
    """The command line of a threshold script: ``--seeds N``, ``--quick`` (3 seeds), ``--only``
    parts; each part measured over seeds 0..N-1 on one torch thread, timed."""
    import torch

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds per measurement (8)")
    parser.add_argument("--quick", action="store_true", help="3 seeds")
    parser.add_argument("--only", nargs="+", choices=sorted(parts), default=list(parts))
    args = parser.parse_args()
    torch.set_num_threads(1)
    count = args.seeds or (3 if args.quick else 8)
    seeds = list(range(count))
    print(f"seeds 0..{count - 1} (0 = the public inputs), torch {torch.__version__}, 1 thread")
    for part in args.only:
        start = time.monotonic()
        print(f"{part}:")
        parts[part](seeds)
        print(f"  [{part}: {time.monotonic() - start:.0f} s]")
