"""Time the nbgrader source notebook cell by cell, the way nbgrader executes it.

    PRACTICO_DATA=... python bench/bench_notebook.py [--budget minimo|rapido|completo]
        [--threads N] [--notebook PATH] [--json OUT]

Runs the notebook in a fresh kernel with nbclient (what ``nbgrader autograde`` and
``nbgrader validate`` use), in the environment ``course/nbgrader_config.py`` gives
kernels (budget ``minimo``, one thread) unless told otherwise, and prints the slowest
cells, the total, and each grade cell's output value. The numbers chose ``Execute.timeout`` in
``course/nbgrader_config.py``; rerun after changing the notebook or the budgets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.authoring.course_notebook import NOTEBOOK_PATH  # noqa: E402
from grader.authoring.kernel_client import SteadyKernelClient  # noqa: E402


def _seconds(cell) -> float | None:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default=str(NOTEBOOK_PATH))
    parser.add_argument("--json", default=None, help="write per-cell times here")
    parser.add_argument("--save", default=None, help="write the executed notebook here")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--timeout", type=int, default=600, help="per-cell limit, seconds")
    parser.add_argument("--stock-client", action="store_true",
                        help="nbclient's own kernel client instead of grader.authoring.kernel_client's "
                             "(which course/nbgrader_config.py installs)")
    parser.add_argument("--budget", default="minimo", choices=("minimo", "rapido", "completo"),
                        help="PRACTICO_PRESUPUESTO for the kernel (nbgrader uses minimo)")
    parser.add_argument("--threads", default="1", help="OMP_NUM_THREADS for the kernel")
    args = parser.parse_args()
    os.environ["PRACTICO_PRESUPUESTO"] = args.budget
    os.environ["OMP_NUM_THREADS"] = args.threads

    nb = nbformat.read(args.notebook, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        marks: list[tuple[float, str]] = []

        def mark(what: str):
            def hook(**kwargs):
                cell = kwargs.get("cell")
                marks.append((time.perf_counter() - t0, f"{what} {cell.get('id') if cell else ''}"))
            return hook

        def name_client(**_):
            # The kernel client exists only once the notebook starts: record which one runs.
            marks.append((time.perf_counter() - t0, f"client {type(client.kc).__name__}"))

        config = Config()
        if not args.stock_client:
            config.AsyncKernelManager.client_factory = SteadyKernelClient
        client = NotebookClient(nb, config=config, timeout=args.timeout, kernel_name="python3",
                                allow_errors=True, record_timing=True,
                                resources={"metadata": {"path": tmp}},
                                on_notebook_start=name_client,
                                on_cell_start=mark("cell_start"),
                                on_cell_complete=mark("cell_complete"),
                                on_notebook_complete=mark("notebook_complete"))
        client.execute()
        total = time.perf_counter() - t0
    print(next(what for _, what in marks if what.startswith("client ")))
    # A step far longer than any cell is a stall (e.g. a missed ZMQ wake-up: see grader.authoring.kernel_client).
    previous = 0.0
    for at, what in marks + [(total, "closed")]:
        if at - previous > 30:
            print(f"  stall of {at - previous:.1f} s before: {what}")
        previous = at

    if args.save:
        nbformat.write(nb, args.save)
    rows = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o.get("ename") for o in cell.outputs if o.get("output_type") == "error"]
        value = [o["data"].get("text/plain") for o in cell.outputs
                 if o.get("output_type") == "execute_result"]
        rows.append({"index": i, "id": cell.get("id"), "seconds": _seconds(cell),
                     "errors": errors, "value": value[-1] if value else None,
                     "grade": cell.metadata.get("nbgrader", {}).get("grade", False)})
    print(f"budget {args.budget}, OMP_NUM_THREADS={args.threads}, "
          f"{'stock' if args.stock_client else 'sliced'} kernel client")
    print(f"total wall time (kernel start included): {total:.1f} s")
    print(f"sum of cell times: {sum(r['seconds'] or 0 for r in rows):.1f} s")
    print("slowest cells:")
    for r in sorted(rows, key=lambda r: -(r["seconds"] or 0))[: args.top]:
        print(f"  {r['seconds']:7.2f} s  #{r['index']:<3} {r['id']}")
    print("grade cells:")
    for r in rows:
        if r["grade"]:
            print(f"  {r['id']:<22} value={r['value']} errors={r['errors']} "
                  f"{r['seconds']:.2f} s")
    failed = [r for r in rows if r["errors"]]
    for r in failed:
        print(f"  ERROR in #{r['index']} {r['id']}: {r['errors']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"total": total, "cells": rows}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
