"""How the experiments call student code: budgets, records, and the one door to student code.

Each experiment fills a :class:`Record`: its status, the numbers behind its figures,
the figures' file names and any problem found in the implementation. Student code
is only ever called through :meth:`Run.call`, which captures its printing and turns
any exception into a reported problem, so one missing task never stops the others.
The experiments themselves are in :mod:`grader.experiments.catalogue`, which imports this
module (never the other way round: what a :class:`Run` needs, its seeds included, is here).
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from grader.budgets import BUDGETS, DEFAULT, FULL, PARITY_8_BITS_EXAMPLES
from grader.i18n import t
from grader.impl import Impl, ImplError, describe_exception
from grader.tasks import TASK_BY_ID, TASKS

from . import figures
from .returns import BadReturn

#: Statuses, worst last: an experiment or task takes the worst status of its parts.
STATUS_ORDER = ("not_run", "ok", "partial", "not_implemented", "error")


@dataclass(frozen=True)
class ExperimentBudget:
    """How much training each experiment gets."""

    quick: bool
    mnist_epochs: int
    train_limit: int | None  # training images kept from the 54,000 of the split (None: all)
    parity_epochs: int
    parity_train: int
    parity_test: int
    scaling_bits: tuple[int, ...]
    scaling_train: int
    scaling_test: int
    scaling_epochs: int

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


#: Seeds of the practical (MNIST models) and the kit's own (parity data, init probe), by
#: experiment: each :class:`Run` starts with these (bench/seed_spread.py runs others).
SEEDS = {"onehot_mse": 123, "cross_entropy": 123, "deep_sigmoid": 13, "deep_relu": 13,
         "he_init": 234, "parity": 8, "probe": 15}


def make_budget(quick: bool, epochs: int | None = None) -> ExperimentBudget:
    """The named training budget ``rapido`` (``--quick``) or ``completo`` (the seed
    notebook's; see :mod:`grader.budgets`, shared with the notebook), plus the experiments'
    own test-set sizes and bit counts. ``epochs`` overrides the MNIST epochs of either."""
    named = BUDGETS[DEFAULT if quick else FULL]
    parity_train = min(PARITY_8_BITS_EXAMPLES, named.parity_examples)
    # Quick: enough for every curve to move and the ReLU nets to leave chance far behind,
    # not enough to compare accuracies with the seed's (the report says so).
    bits = (4, 8) if quick else (4, 8, 12, 16)
    budget = ExperimentBudget(quick, named.mnist_epochs, named.train_images, named.parity_epochs,
                    parity_train, 500, bits, named.parity_examples, 500, named.parity_epochs)
    if epochs is not None:
        budget = ExperimentBudget(**{**budget.__dict__, "mnist_epochs": epochs})
    return budget


@dataclass
class Record:
    """What one experiment produced; ``as_dict`` is its entry in ``results.json``."""

    id: str
    tasks: tuple[str, ...]
    status: str = "not_run"
    seconds: float = 0.0
    issues: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    task_status: dict[str, str] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)

    def touch(self, task: str | None, status: str) -> None:
        """Record that ``task`` was exercised here with ``status`` (the worst one sticks)."""
        if task is None:
            return
        old = self.task_status.get(task, "not_run")
        if STATUS_ORDER.index(status) > STATUS_ORDER.index(old):
            self.task_status[task] = status

    def finish(self) -> None:
        if not self.issues:
            self.status = "ok"
        elif self.data.get("produced"):
            self.status = "partial"
        elif all(i["status"] == "not_implemented" for i in self.issues):
            self.status = "not_implemented"
        else:
            self.status = "error"

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.data.items() if k != "produced"}
        return {
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "tasks": list(self.tasks),
            "task_status": dict(self.task_status),
            "issues": list(self.issues),
            "notes": list(self.notes),
            "figures": list(self.figures),
            "data": data,
            "output_tail": "\n".join(self.output[-30:]),
        }


class Failed:
    """What :meth:`Run.call` returns when the student's code did not give a value."""

    def __repr__(self) -> str:
        return "FAILED"


FAILED = Failed()


_TASK_OF_NAME = {name: task.id for task in TASKS for name in task.names}
_TASK_TAG = re.compile(r"\[([a-z_]+)\]")


def _task_from(exc_msg: str, where: str) -> str | None:
    """The task a failure belongs to: a ``[task]`` tag in the message, or the function it hit."""
    tag = _TASK_TAG.search(exc_msg or "")
    if tag and tag.group(1) in TASK_BY_ID:
        return tag.group(1)
    if ", " in where:
        qualname = where.split(", ", 1)[1]
        return _TASK_OF_NAME.get(qualname.split(".")[0])
    return None


class CountingLoader:
    """A loader passed through unchanged; ``on_pass`` runs after each full pass (one epoch).

    Student loops iterate it, take ``len`` of it and read ``.dataset`` exactly as they
    would on the loader it wraps.
    """

    def __init__(self, loader: Any, on_pass: Callable[[], None]) -> None:
        self._loader = loader
        self._on_pass = on_pass

    def __iter__(self) -> Iterator[Any]:
        yield from self._loader
        self._on_pass()

    def __len__(self) -> int:
        return len(self._loader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _Tee(io.TextIOBase):
    """Collects what student code prints, line by line, instead of showing it."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        # tqdm-style carriage returns redraw a line: keep only its last state.
        chunks = (self._partial + text).split("\n")
        self._partial = chunks.pop()[-2000:]
        for chunk in chunks:
            self._lines.append(chunk.rsplit("\r", 1)[-1][:2000])
        del self._lines[:-200]  # a chatty loop must not fill memory
        return len(text)

    def flush_partial(self) -> None:
        if self._partial:
            self._lines.append(self._partial.rsplit("\r", 1)[-1])
            self._partial = ""


def seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


class Run:
    """One run of the experiments: the implementation, where outputs go, budgets, progress."""

    def __init__(self, impl: Impl, out: Path, budget: ExperimentBudget, device: str, lang: str | None,
                 progress: Any) -> None:
        self.impl = impl
        self.out = out
        self.budget = budget
        self.device = device
        self.lang = lang
        self.progress = progress
        #: the seed of each experiment (bench/seed_spread.py runs others)
        self.seeds = dict(SEEDS)
        #: MNIST models that finished: id -> (test accuracy, test predictions (10000,))
        self.mnist: dict[str, tuple[float, torch.Tensor]] = {}
        self._test: tuple[torch.Tensor, torch.Tensor] | None = None

    # ------------------------------------------------------------ student code
    def call(self, rec: Record, task: str | None, fn: Callable[[], Any],
             module: str | None = None) -> Any:
        """``fn()`` with its printing captured; on any exception, a reported problem and FAILED.

        ``task`` is the task this call exercises (None for code the practical gives);
        ``module`` names the file for messages when ``task`` is None.
        """
        tee = _Tee(rec.output)
        try:
            with contextlib.redirect_stdout(tee), contextlib.redirect_stderr(tee):
                value = fn()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit from student code is just an error here
            self._failure(rec, task, module, exc)
            return FAILED
        finally:
            tee.flush_partial()
            plt = sys.modules.get("matplotlib.pyplot")
            if plt is not None:  # figures a student opened with pyplot
                plt.close("all")
        rec.touch(task, "ok")
        return value

    def name(self, rec: Record, task: str | None, module: str, attr: str) -> Any:
        """``module.attr`` of the implementation, or FAILED (reported) if it is not there."""
        return self.call(rec, task, lambda: getattr(self.impl.names(module, (attr,)), attr),
                         module=module)

    def _failure(self, rec: Record, task: str | None, module: str | None,
                 exc: BaseException) -> None:
        if isinstance(exc, ImplError):
            values = {"where": "", "exc_type": "", "exc_msg": "", "names": "", **exc.values}
            module = values.get("module", module)
            status = "error" if exc.kind == "import_error" else "not_implemented"
            key = f"status_{exc.kind}"
        elif isinstance(exc, BadReturn):
            values = dict(exc.values)
            status, key = "error", "exp_bad_return"
        else:
            values = describe_exception(exc, self.impl.roots)
            task = _task_from(values["exc_msg"], values["where"]) or task
            status = "not_implemented" if isinstance(exc, NotImplementedError) else "error"
            key = f"status_{status}"
        if values.get("where"):
            values["where"] = f" ({values['where']})"
        if task is not None:
            module = TASK_BY_ID[task].module
        values.setdefault("module", module or "?")
        label = task or values["module"]
        message = t(key, self.lang, **{**values, "task": label})
        rec.issues.append({"task": task or "", "status": status, "message": message})
        rec.touch(task, status)

    # ------------------------------------------------------------ helpers
    def save(self, rec: Record, fig: Any, name: str) -> None:
        figures.save_png(fig, self.out / name)
        rec.figures.append(name)

    def note(self, rec: Record, key: str, **values: Any) -> None:
        rec.notes.append(t(key, self.lang, **values))

    def label(self, key: str, **values: Any) -> str:
        return t(key, self.lang, **values)

    def mnist_loaders(self, seed: int) -> tuple[Any, Any, Any]:
        from grader.data import fast_mnist_loaders

        return fast_mnist_loaders(64, seed, self.device, train_limit=self.budget.train_limit)

    def epoch_bar(self, desc: str, total: int) -> Any:
        return self.progress.sub_bar(desc, total, "epoch")


@dataclass(frozen=True)
class Experiment:
    id: str
    tasks: tuple[str, ...]  # graded tasks this experiment exercises
    fn: Callable[[Run, Record], None]


def run_experiment(run: Run, exp: Experiment) -> Record:
    """One experiment, timed; a bug of the kit itself is reported, never raised."""
    rec = Record(exp.id, exp.tasks)
    start = time.perf_counter()
    try:
        exp.fn(run, rec)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        # Student code never gets here (Run.call catches it): this is the kit's own failure.
        # The traceback goes to a log file for whoever maintains the kit.
        with open(run.out / "errors.log", "a", encoding="utf-8") as log:
            log.write(f"--- {exp.id}\n{traceback.format_exc()}\n")
        rec.issues.append({"task": "", "status": "error", "message": t(
            "exp_internal_error", run.lang, exc_type=type(exc).__name__,
            exc_msg=str(exc)[:300], log=str(run.out / "errors.log"))})
    rec.seconds = time.perf_counter() - start
    rec.finish()
    return rec


def run_lost(exp: Experiment, out: Path, lang: str | None, exc: BaseException,
             detail: str = "") -> Record:
    """The record of an experiment whose worker process gave no result (``--jobs`` > 1).

    Reported like a kit failure in the serial path: an internal error, the detail logged.
    """
    rec = Record(exp.id, exp.tasks)
    if isinstance(exc, BrokenProcessPool):
        msg = ("the worker process running it ended abruptly (the code called os._exit, "
               "crashed the interpreter, or the system killed it for memory)")
    else:
        msg = str(exc)[:300]
    with open(out / "errors.log", "a", encoding="utf-8") as log:
        log.write(f"--- {exp.id}\n{type(exc).__name__}: {msg}\n{detail}\n")
    rec.issues.append({"task": "", "status": "error", "message": t(
        "exp_internal_error", lang, exc_type=type(exc).__name__, exc_msg=msg,
        log=str(out / "errors.log"))})
    rec.finish()
    return rec


def summarize_tasks(records: list[Record]) -> dict[str, dict[str, str]]:
    """Each graded task's status over all experiments (the worst), with its first problem."""
    tasks: dict[str, dict[str, str]] = {}
    for task in TASKS:
        status, message, where = "not_run", "", ""
        for rec in records:
            st = rec.task_status.get(task.id)
            if st is None:
                continue
            if STATUS_ORDER.index(st) > STATUS_ORDER.index(status):
                status, where = st, rec.id
                message = next((i["message"] for i in rec.issues if i["task"] == task.id), "")
            elif status == "not_run":
                status, where = st, rec.id
        tasks[task.id] = {"status": status, "experiment": where, "message": message}
    return tasks
