"""``python -m grader experiments``: every experiment of the practical, its figures and a report.

Runs, in the seed notebook's order, the data sample grids, the one-hot + MSE net,
the cross-entropy net, parity (8-bit curves and the 4-16-bit scaling), deep
sigmoid vs deep ReLU, the initialization probe and the He-initialised net, with
the reference (default) or any folder of ``ex*.py``. Writes PNG figures,
``results.json``, ``report.md`` and ``report.html`` into ``--out``.

Modules, each importing only those below it: :mod:`.returns` (what student code returned),
:mod:`.figures`, :mod:`.harness` (budgets, seeds, records, the one door to student code),
:mod:`.section7` and :mod:`.catalogue` (the experiments), :mod:`.report`, :mod:`.parallel`
(``--jobs`` workers); ``tests/test_import_cycles.py`` keeps it so.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.cli_language import helptext
from grader.options import (
    UserError,
    add_options,
    positive_int,
    require_data,
    resolve_device,
    submission_dir,
)
from grader.outputs.progress import Progress

__all__ = ["add_commands", "run_experiments"]


def add_commands(subparsers: Any) -> None:
    """Register ``experiments`` on the ``python -m grader`` parser."""
    p = subparsers.add_parser("experiments", help=helptext("cli_experiments"),
                              description=helptext("cli_experiments_description"))
    p.add_argument("--impl", default="solutions", metavar="solutions|exercises|PATH",
                   help=helptext("cli_experiments_impl"))
    p.add_argument("--out", default="report", metavar="DIR",
                   help=helptext("cli_experiments_out"))
    p.add_argument("--epochs", type=positive_int, default=None, metavar="N",
                   help=helptext("cli_experiments_epochs"))
    p.add_argument("--quick", action="store_true", help=helptext("cli_experiments_quick"))
    add_options(p, "--device")
    p.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help=helptext("cli_experiments_threads"))
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help=helptext("cli_experiments_jobs"))
    add_options(p, "--lang")
    p.set_defaults(func=_cmd_experiments)


def _check_out(value: str) -> None:
    """``--out`` is not a file (checked before anything is made, MNIST looked for included)."""
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise UserError(key="err_out_is_file", out=value)


def _out_dir(value: str) -> Path:
    out = Path(value)
    _check_out(value)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(key="err_out_unwritable", out=value,
                        reason=exc.strerror or str(exc)) from None
    return out.resolve()


def _cmd_experiments(args: argparse.Namespace) -> int:
    from grader.impl import ImplFolderMissing, resolve_impl_dir

    try:
        folder = resolve_impl_dir(args.impl, Path.cwd())
    except ImplFolderMissing as exc:
        raise UserError(key="err_impl_no_folder", **exc.values()) from None
    folder = submission_dir(str(folder))
    _check_out(args.out)
    # MNIST before the output folder: a run that cannot start leaves no empty folder behind.
    require_data()
    out = _out_dir(args.out)
    device = resolve_device(args.device)
    results = run_experiments(folder, out, quick=args.quick, epochs=args.epochs, device=device,
                              lang=args.lang, threads=args.threads, jobs=args.jobs)
    return 130 if not results["meta"]["finished"] else 0


def run_experiments(folder: Path, out: Path, *, quick: bool = False, epochs: int | None = None,
                    device: str = "cpu", lang: str | None = None, threads: int | None = None,
                    progress: Progress | None = None, jobs: int | None = None,
                    ) -> dict[str, Any]:
    """Run every experiment with the ``ex*.py`` of ``folder``; write the reports into ``out``.

    ``jobs``: experiments at once, in worker processes (:mod:`.parallel`); default the CPU
    count, at most one per experiment; 1 runs them one after the other in this process.

    Returns the ``results.json`` content. Never raises for problems in the implementation
    (they are reported); Ctrl-C stops after writing what finished (``meta.finished`` false).
    ``meta.total_seconds`` is the run's wall time from this call on (imports, workers and
    summary figures included), not the sum of the experiments' times, which overlap.
    """
    started = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")  # student viewers may use pyplot: never open a window from here
    import torch

    import grader
    from grader.experiments.catalogue import EXPERIMENTS, MNIST_IDS, confusion_matrix
    from grader.experiments.harness import Run, make_budget, summarize_tasks
    from grader.i18n import t
    from grader.impl import DirImpl

    from . import figures, report
    from .parallel import WorkerSpec, default_jobs, run_parallel

    torch.set_num_threads(threads or 1)
    jobs = min(jobs or default_jobs(len(EXPERIMENTS)), len(EXPERIMENTS))
    budget = make_budget(quick, epochs)
    progress = progress or Progress(
        len(EXPERIMENTS), "exp", bar_format="{desc:<28} {bar} {n_fmt}/{total_fmt} [{elapsed}]")
    run = Run(DirImpl(folder), out, budget, device, lang, progress)
    (out / "errors.log").unlink(missing_ok=True)
    for old in out.glob("*.png"):  # figures of an earlier run must not pass for this one's
        old.unlink()
    results: dict[str, Any] = {
        "schema": 1,
        "meta": {
            "impl": str(folder),
            "device": device,
            "budget": budget.as_dict(),
            "threads": torch.get_num_threads(),
            "jobs": jobs,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "kit": getattr(grader, "__version__", ""),
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "total_seconds": 0.0,
            "finished": False,
        },
        "seed_test_acc": dict(zip(MNIST_IDS, (report.SEED_TEST_ACC[k] for k in MNIST_IDS))),
        "experiments": {},
        "tasks": {},
        "summary": {},
    }
    records = []

    def write() -> None:
        results["meta"]["total_seconds"] = round(time.perf_counter() - started, 2)
        results["tasks"] = summarize_tasks(records)
        report.write_all(results, out, lang)

    def finished(rec: Any) -> None:
        """One more experiment done: into the results in catalogue order, progress, reports."""
        records.append(rec)
        records.sort(key=lambda r: order[r.id])
        results["experiments"] = {r.id: r.as_dict() for r in records}
        extra = ""
        if "test_acc" in rec.data:
            extra = f", test acc {rec.data['test_acc']:.3f}"
        progress.item_done(f"{t(f'exp_title_{rec.id}', lang)}: "
                           f"{report.status_label(rec.status, lang)}{extra} "
                           f"({rec.seconds:.1f} s)")
        write()

    from grader.experiments.harness import run_experiment

    order = {exp.id: i for i, exp in enumerate(EXPERIMENTS)}
    try:
        if jobs == 1:
            for exp in EXPERIMENTS:
                progress.start(t(f"exp_title_{exp.id}", lang))
                finished(run_experiment(run, exp))
        else:
            spec = WorkerSpec(str(folder), str(out), budget, device, lang,
                              torch.get_num_threads(), dict(run.seeds))
            progress.start(t("exp_parallel_desc", lang, jobs=jobs))
            mnist: dict[str, Any] = {}
            stream = run_parallel(spec, EXPERIMENTS, jobs)
            try:
                for _exp, rec, mnist_result in stream:
                    if mnist_result is not None:
                        mnist[rec.id] = mnist_result
                    finished(rec)
            finally:
                stream.close()  # on Ctrl-C here: the workers end now
            # In catalogue order, as the serial run fills it (the best model's tie-break).
            run.mnist = {k: mnist[k] for k in order if k in mnist}
        results["summary"] = _summary(run, records, figures, confusion_matrix, lang)
        results["meta"]["finished"] = True
    except KeyboardInterrupt:
        print(t("exp_interrupted", lang), file=sys.stderr)
    finally:
        progress.close()
        write()
    print(report.text_table(results, lang))
    print(t("exp_written", lang, path=str(out / "report.html")))
    return results


def _summary(run: Any, records: list[Any], figures: Any, confusion_matrix: Any,
             lang: str | None) -> dict[str, Any]:
    """The cross-experiment figures: validation accuracy of every MNIST model, confusion matrix."""
    from grader.i18n import t

    summary: dict[str, Any] = {"figures": []}
    histories = {r.id: r.data["history"] for r in records if "history" in r.data}
    if histories:
        titles = {k: t(f"exp_title_{k}", lang) for k in histories}
        figures.save_png(figures.mnist_overview(histories, titles, run.label),
                         run.out / "mnist_val_acc.png")
        summary["figures"].append("mnist_val_acc.png")
    if run.mnist:
        best = max(run.mnist, key=lambda k: run.mnist[k][0])
        acc, preds = run.mnist[best]
        from grader.data import mnist_tensors

        _, labels = mnist_tensors("test")
        matrix = confusion_matrix(preds, labels)
        title = t("exp_fig_confusion_title", lang, model=t(f"exp_title_{best}", lang),
                  acc=f"{acc:.3f}")
        figures.save_png(figures.confusion(matrix, title, run.label),
                         run.out / "confusion_matrix.png")
        summary["figures"].append("confusion_matrix.png")
        summary.update({"best_mnist_model": best, "best_test_acc": acc,
                        "confusion_matrix": matrix})
    return summary
