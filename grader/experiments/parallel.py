"""Independent experiments in worker processes (``experiments --jobs N``), one torch thread each.

Why processes and why *forkserver*: the nets are small, so one torch thread per
experiment and one experiment per core beats several threads on one experiment
(bench/epoch_speed.py). The parent has already imported torch and matplotlib and runs
tqdm's monitor thread, and forking a process that has threads (or torch's thread pools)
can deadlock the child, so the parent itself is never forked. The forkserver is a fresh,
single-threaded interpreter that imports torch, matplotlib and the kit once (imports
start no torch thread pool: those are made on the first operation, which only happens in
the workers) and then forks each worker from that clean state, so the workers do not each
pay the seconds of those imports as spawned ones would. Where there is no forkserver
(Windows), spawn. Workers are reused: the rest of their start-up (the student's modules,
MNIST) is paid once per worker, not per experiment.

Same numbers as the serial run: every experiment seeds its own generators right before
it draws (``harness.seed_all`` and explicit ``torch.Generator`` objects), so it does not
depend on what ran before it in the same process; each worker gets the same budget,
seeds, device and thread count as the serial run. The student's code runs in the
workers exactly as it does in the serial run (it is the student's own run, not the
grading sandbox). Only the cross-experiment summary (validation overview, confusion
matrix of the best MNIST model) depends on other experiments: the parent draws it after
all of them, from the records and test predictions the workers send back.

One difference a reader may notice: what a student's module prints *while it is
imported* lands in the output of the first experiment that imports it in each process.
"""

from __future__ import annotations

import contextlib
import signal
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from grader.experiments.harness import Experiment, ExperimentBudget, Record

#: The Run of this worker process, made by :func:`_init_worker` (reused between experiments,
#: as the serial run reuses one Run: the student's modules are imported once per process).
_WORKER_RUN: Any = None


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build the same Run as the serial path (plain data)."""

    folder: str
    out: str
    budget: ExperimentBudget
    device: str
    lang: str | None
    threads: int
    seeds: dict[str, int]


def _init_worker(spec: WorkerSpec) -> None:
    """Runs once in each new worker: one torch thread, Ctrl-C left to the parent, a Run."""
    # The terminal sends Ctrl-C to the whole process group; the parent decides what stops
    # (it writes the report of what finished, then ends the workers).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import matplotlib

    matplotlib.use("Agg")  # as in the parent: student viewers must never open a window
    import torch

    from grader.experiments.harness import Run
    from grader.impl import DirImpl
    from grader.outputs.progress import Progress

    torch.set_num_threads(spec.threads)
    # No bars from workers (several processes cannot share one terminal line); the parent
    # shows one line or one bar step per finished experiment.
    quiet = Progress(1, "exp", enabled=False)
    global _WORKER_RUN
    _WORKER_RUN = Run(DirImpl(spec.folder), Path(spec.out), spec.budget, spec.device,
                      spec.lang, quiet)
    _WORKER_RUN.seeds = dict(spec.seeds)


def _run_one(exp_id: str) -> tuple[Record, tuple[float, Any] | None]:
    """One experiment in this worker: its record and, for an MNIST model, (acc, preds)."""
    from grader.experiments.catalogue import EXPERIMENTS
    from grader.experiments.harness import run_experiment

    exp = next(e for e in EXPERIMENTS if e.id == exp_id)
    run = _WORKER_RUN
    rec = run_experiment(run, exp)
    return rec, run.mnist.pop(exp_id, None)


def default_jobs(n_experiments: int) -> int:
    """The CPUs this process may use, at most one per experiment."""
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_experiments))


#: What the forkserver imports before it forks any worker (the slow imports of a worker).
PRELOAD = ["torch", "numpy", "matplotlib", "torchvision",
           "grader.data", "grader.experiments.catalogue", "grader.experiments.harness",
           "grader.experiments.figures"]


def _context() -> Any:
    """The forkserver with the heavy modules preloaded; spawn where there is none."""
    from multiprocessing import get_all_start_methods

    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    # The server only protects itself from Ctrl-C after its imports: started with SIGINT
    # ignored (kept across exec), a Ctrl-C during those seconds prints no traceback from it.
    from multiprocessing import forkserver

    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: no handler to swap, start it as it comes
        return ctx
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)
    return ctx


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C held back until the block ends, then raised as KeyboardInterrupt.

    Submitting starts the workers; a start cut short leaves a process the pool does not
    know yet, so it could not be ended (it fails later, printing a traceback of its own).
    """
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    except ValueError:  # not the main thread: Ctrl-C does not arrive here anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def run_parallel(spec: WorkerSpec, experiments: tuple[Experiment, ...], jobs: int,
                 ) -> Iterator[tuple[Experiment, Record, tuple[float, Any] | None]]:
    """Yield ``(experiment, record, mnist result)`` for each experiment as it finishes.

    Submitted in catalogue order, finished in any order. A worker that dies (the student's
    code ended its process, the OS killed it for memory) costs only the experiments that
    had not finished: each gets an internal-error record, as a kit failure gets in the
    serial path. Ctrl-C (KeyboardInterrupt in the parent) ends the workers at once.
    """
    from grader.experiments.harness import run_lost

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_context(),
                               initializer=_init_worker, initargs=(spec,))
    pending: dict[Future[Any], Experiment] = {}
    try:
        with _ctrl_c_deferred():
            pending = {pool.submit(_run_one, exp.id): exp for exp in experiments}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: experiments.index(pending[f])):
                exp = pending.pop(future)
                try:
                    rec, mnist = future.result()
                except BrokenProcessPool as exc:
                    rec, mnist = run_lost(exp, Path(spec.out), spec.lang, exc), None
                except Exception as exc:  # noqa: BLE001 - a result that did not come back
                    detail = "".join(traceback.format_exception(exc))
                    rec, mnist = run_lost(exp, Path(spec.out), spec.lang, exc, detail), None
                yield exp, rec, mnist
    finally:
        # Normal end: every future is done. Ctrl-C or an error in the parent: end the
        # workers now (they ignore SIGINT themselves); what had not started never will.
        # (No Future.cancel() here: it races with the pool's own thread, which marks what
        # was pending as failed once it sees the workers gone.)
        if pending:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(5)
        pool.shutdown(wait=True)
