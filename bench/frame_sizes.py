"""Size of every result frame the reference produces: what the frame cap must leave room for.

Runs each check's probe on ``solutions/`` in this process (trusted code) and prints the size
of the ``result`` frame the sandbox child would send for it, largest first. The sandbox's
``MAX_FRAME`` is chosen from the largest of these, with margin (see grader/sandbox/wire.py).

    PRACTICO_DATA=... python bench/frame_sizes.py [--tasks ID,ID]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from grader import codec
    from grader.checks import Context, ProbeEnv
    from grader.impl import DirImpl
    from grader.probing import probe_outcome
    from grader.scoring import check_inputs, checks_for

    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", default=None)
    args = parser.parse_args()
    ctx = Context()
    impl = DirImpl(ROOT / "solutions")
    sizes = []
    for check in checks_for(args.tasks.split(",") if args.tasks else None):
        start = time.monotonic()
        inp = codec.roundtrip(check_inputs(check, ctx))
        outcome = probe_outcome(check, impl, inp, ProbeEnv())
        frame = codec.encode({"ev": "result", "i": 0, "outcome": outcome})
        sizes.append((len(frame), check.id, time.monotonic() - start))
        containers = frame.count(b"[") + frame.count(b"{")
        print(f"{len(frame):>12,d} B  {containers:>8,d} containers  {frame.count(b','):>8,d} "
              f"commas  {check.id}  ({sizes[-1][2]:.1f} s)", flush=True)
    print("largest first:")
    for size, cid, _ in sorted(sizes, reverse=True)[:5]:
        print(f"{size:>12,d} B  {cid}")


if __name__ == "__main__":
    main()
