"""Every experiment of the practical, run with one implementation (a folder of ``ex*.py``).

Each experiment fills a :class:`Record`: its status, the numbers behind its figures,
the figures' file names and any problem found in the implementation. Student code
is only ever called through :meth:`Run.call`, which captures its printing and turns
any exception into a reported problem, so one missing task never stops the others.
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
import torch.nn as nn

from grader.i18n import t
from grader.impl import Impl, ImplError, describe_exception
from grader.tasks import TASK_BY_ID, TASKS

from . import figures

#: Test accuracy the seed notebook printed for each MNIST model (15 epochs, full data).
SEED_TEST_ACC: dict[str, float] = {
    "onehot_mse": 0.951,
    "cross_entropy": 0.951,
    "deep_sigmoid": 0.965,
    "deep_relu": 0.973,
    "he_init": 0.975,
}

#: Seeds of the practical (MNIST models) and the kit's own (parity data, init probe).
SEEDS = {"onehot_mse": 123, "cross_entropy": 123, "deep_sigmoid": 13, "deep_relu": 13,
         "he_init": 234, "parity": 8, "probe": 15}

INIT_TYPES = ("xavier", "he", "orthogonal")
PROBE_DEPTH, PROBE_WIDTH, PROBE_IN = 15, 128, 100
GRID_ROWS, GRID_COLS = 2, 6  # sample grids: 12 digits each

#: Statuses, worst last: an experiment or task takes the worst status of its parts.
STATUS_ORDER = ("not_run", "ok", "partial", "not_implemented", "error")


@dataclass(frozen=True)
class Budget:
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


def make_budget(quick: bool, epochs: int | None = None) -> Budget:
    """The seed notebook's budgets, or the ``--quick`` ones (about a minute on 2 cores).

    ``epochs`` overrides the MNIST epochs of either.
    """
    if quick:
        # Enough for every curve to move and the ReLU nets to leave chance far behind,
        # not enough to compare accuracies with the seed's (the report says so).
        budget = Budget(True, 3, 6000, 20, 2000, 500, (4, 8), 2000, 500, 20)
    else:
        budget = Budget(False, 15, None, 40, 2000, 500, (4, 8, 12, 16), 6000, 500, 40)
    if epochs is not None:
        budget = Budget(**{**budget.__dict__, "mnist_epochs": epochs})
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


class BadReturn(Exception):
    """Student code ran but returned something of the wrong kind."""

    def __init__(self, name: str, expected: str, found: Any) -> None:
        text = type(found).__name__ if not isinstance(found, (int, float, str)) else repr(found)
        super().__init__(f"{name}: expected {expected}, got {text}")
        self.values = {"name": name, "expected": expected, "found": text[:200]}


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

    def __init__(self, impl: Impl, out: Path, budget: Budget, device: str, lang: str | None,
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


# ---------------------------------------------------------------- experiments
def _grid(run: Run, rec: Record, viewer: Callable[..., Any], dataset: Any, task: str | None,
          module: str, which: str) -> bool:
    """Draw the implementation's viewer for the first digits of ``dataset`` as one grid."""
    images = []
    for index in range(GRID_ROWS * GRID_COLS):
        rgba = run.call(rec, task, lambda i=index: figures.render_rgba(viewer(dataset, i),
                                                                       viewer.__name__),
                        module=module)
        if rgba is FAILED:
            return False
        images.append(rgba)
    labels = [int(dataset.targets[i]) for i in range(len(images))]
    rec.data[f"{which}_indices"] = list(range(len(images)))
    rec.data[f"{which}_labels"] = labels
    fig = figures.image_grid(images, GRID_COLS, f"{which}: {viewer.__name__}(dataset, i)")
    run.save(rec, fig, f"data_{which}_grid.png")
    rec.data["produced"] = True
    return True


def exp_data(run: Run, rec: Record) -> None:
    from torchvision import datasets, transforms

    from grader.data import ensure_mnist

    root = str(ensure_mnist())
    to_tensor = transforms.ToTensor()
    train_full = datasets.MNIST(root, train=True, download=False, transform=to_tensor)
    test_ds = datasets.MNIST(root, train=False, download=False, transform=to_tensor)
    rec.data["train_size"], rec.data["test_size"] = len(train_full), len(test_ds)
    show_example = run.name(rec, None, "ex0_data", "show_example")
    if show_example is not FAILED:
        _grid(run, rec, show_example, train_full, None, "ex0_data", "train")
    show_test = run.name(rec, "test_viewer", "ex0_data", "show_test_example")
    if show_test is not FAILED:
        _grid(run, rec, show_test, test_ds, "test_viewer", "ex0_data", "test")


def _history(value: Any, name: str) -> dict[str, list[float]]:
    """The training history a student loop returned, as floats; BadReturn if it is not one."""
    expected = "dict with lists 'train_loss', 'val_loss', 'val_acc'"
    if not isinstance(value, dict) or not all(k in value for k in ("train_loss", "val_loss",
                                                                    "val_acc")):
        raise BadReturn(name, expected, value)
    try:
        return {k: [float(x) for x in value[k]] for k in ("train_loss", "val_loss", "val_acc")}
    except (TypeError, ValueError):
        raise BadReturn(name, expected, value) from None


@torch.no_grad()
def _predict(model: nn.Module, X: torch.Tensor, chunk: int = 2500) -> torch.Tensor:
    """Predicted class of every row of ``X`` (N, 1, 28, 28) -> long (N,) on the CPU."""
    model.eval()
    preds = []
    for start in range(0, X.shape[0], chunk):
        out = model(X[start : start + chunk])
        if not isinstance(out, torch.Tensor) or out.ndim != 2:
            raise BadReturn(f"{type(model).__name__}.forward", "a (B, 10) tensor", out)
        preds.append(out.argmax(dim=1).cpu())
    return torch.cat(preds)


def make_adam(params: Any, lr: float = 1e-3) -> torch.optim.Optimizer:
    """Adam as in the practical, in PyTorch's fused form where the parameters allow it.

    The fused kernel does the same update in one pass over all parameters instead of a
    dozen small operations per tensor: about a third less time per step for these nets.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError, TypeError):  # a device or dtype the fused kernel lacks
        return torch.optim.Adam(params, lr=lr)


def _mnist(run: Run, rec: Record, *, build: tuple[str | None, str, str, tuple[Any, ...]],
           loss: str, init_normal: bool = False) -> None:
    """Train one MNIST model as the seed notebook does, with the fast loader.

    build: (task, module, class name, constructor args) of the network.
    loss: ``"mse"`` (``train_model0``, one-hot targets) or ``"ce"`` (``train_model`` with
    ``nn.CrossEntropyLoss``).
    """
    task, module, cls_name, args = build
    seed = run.seeds[rec.id]
    epochs = run.budget.mnist_epochs
    train_loader, val_loader, test_loader = run.mnist_loaders(seed)
    X_test, y_test = test_loader.X, test_loader.y.cpu()
    cls = run.name(rec, task, module, cls_name)
    if cls is FAILED:
        return
    if loss == "mse":
        loop_task, loop_module, loop_name = "onehot_mse", "ex1_onehot_mse", "train_model0"
    else:
        loop_task, loop_module, loop_name = "ce_net", "ex2_cross_entropy", "train_model"
    init = run.name(rec, None, "ex1_onehot_mse", "init_normal") if init_normal else None
    if init is FAILED:
        return
    # Seeded right before the network is built, so its initial weights and the order
    # of the batches are the same on every run (the seed notebook seeded after building).
    seed_all(seed)

    def build_model() -> nn.Module:
        model = cls(*args)
        if init is not None:
            model.apply(init)
        return model

    model = run.call(rec, task, build_model, module=module)
    if model is FAILED:
        return
    optimizer = run.call(rec, task, lambda: make_adam(model.parameters()), module=module)
    loop = run.name(rec, loop_task, loop_module, loop_name)
    if optimizer is FAILED or loop is FAILED:
        return
    bar = run.epoch_bar(rec.id, epochs)
    watched = CountingLoader(train_loader, lambda: bar.update(1))
    if loss == "mse":
        result = run.call(rec, loop_task, lambda: _history(
            loop(model, watched, val_loader, optimizer, epochs, run.device), loop_name))
    else:
        criterion = nn.CrossEntropyLoss()
        result = run.call(rec, loop_task, lambda: _history(
            loop(model, watched, val_loader, optimizer, criterion, epochs, run.device),
            loop_name))
    bar.close()
    if result is FAILED:
        return
    # The trained network may live on the GPU; the test set is already where the loaders are.
    preds = run.call(rec, task, lambda: _predict(model.to(run.device), X_test), module=module)
    if preds is FAILED:
        return
    acc = float((preds == y_test).float().mean())
    run.mnist[rec.id] = (acc, preds)
    rec.data.update({
        "produced": True,
        "history": result,
        "test_acc": acc,
        "seed_test_acc": SEED_TEST_ACC[rec.id],
        "epochs": epochs,
        "train_size": len(train_loader.dataset),
        "seed": seed,
    })
    if init_normal:
        run.note(rec, "exp_normal_init_note", seed=seed)
    fig = figures.learning_curves(result, run.label(f"exp_title_{rec.id}"), run.label)
    run.save(rec, fig, f"curves_{rec.id}.png")


def exp_onehot_mse(run: Run, rec: Record) -> None:
    _mnist(run, rec, build=(None, "ex1_onehot_mse", "SimpleNet", (256,)), loss="mse",
           init_normal=True)


def exp_cross_entropy(run: Run, rec: Record) -> None:
    _mnist(run, rec, build=("ce_net", "ex2_cross_entropy", "SNet", (256,)), loss="ce",
           init_normal=True)


def exp_deep_sigmoid(run: Run, rec: Record) -> None:
    _mnist(run, rec, build=(None, "ex4_activations", "DeepMLP", (784, 10, 64, 4)), loss="ce")


def exp_deep_relu(run: Run, rec: Record) -> None:
    _mnist(run, rec, build=("relu_net", "ex4_activations", "DeepMLPR", (784, 10, 64, 4)),
           loss="ce")


def exp_he_init(run: Run, rec: Record) -> None:
    _mnist(run, rec, build=("he_init", "ex5_init", "DeepMLPI", (784, 10, 64, 4)), loss="ce")


def _parity_pair(run: Run, rec: Record, n_bits: int, n_train: int, n_test: int, epochs: int,
                 skip_deep: bool, bar: Any) -> dict[str, Any] | None:
    """Shallow and deep nets trained on one parity problem with the implementation's code.

    Returns ``{"shallow": (losses, accs) | None, "deep": ...}`` or None if the given code
    (data generator, ShallowNet, train_net) is unusable.
    """
    from grader.data import FastLoader

    mod = "ex3_depth"
    generate = run.name(rec, None, mod, "generate_parity_torch")
    shallow_cls = run.name(rec, None, mod, "ShallowNet")
    train_net = run.name(rec, None, mod, "train_net")
    if FAILED in (generate, shallow_cls, train_net):
        return None
    gen = torch.Generator().manual_seed(run.seeds["parity"] * 1000 + n_bits)
    data = run.call(rec, None, lambda: (generate(n_bits, n_train, generator=gen),
                                        generate(n_bits, n_test, generator=gen)), module=mod)
    if data is FAILED:
        return None
    (X_tr, y_tr), (X_te, y_te) = data
    nets: dict[str, Any] = {"shallow": None, "deep": None}
    builders = {"shallow": (None, lambda: shallow_cls(n_bits, 128))}
    if not skip_deep:
        deep_cls = run.name(rec, "deep_net", mod, "DeepNet")
        if deep_cls is not FAILED:
            builders["deep"] = ("deep_net", lambda: deep_cls(n_bits, 32, 4))
    for kind, (task, make) in builders.items():
        # Same seed and same batch order for both nets: only the architecture differs.
        seed_all(run.seeds["parity"])
        net = run.call(rec, task, make, module=mod)
        if net is FAILED:
            continue
        order = torch.Generator().manual_seed(run.seeds["parity"])
        train = CountingLoader(FastLoader(X_tr, y_tr, 64, shuffle=True, generator=order),
                               lambda: bar.update(1))
        test = FastLoader(X_te, y_te, 64)

        def fit(net: nn.Module = net, train: Any = train, test: Any = test) -> Any:
            out = train_net(net, train, test, epochs=epochs, lr=1e-3)
            losses, accs = out
            return [float(v) for v in losses], [float(v) for v in accs]

        nets[kind] = run.call(rec, task, fit, module=mod)
        if nets[kind] is FAILED:
            nets[kind] = None
    return nets


def exp_parity(run: Run, rec: Record) -> None:
    b = run.budget
    bar = run.epoch_bar(rec.id, 2 * b.parity_epochs)
    nets = _parity_pair(run, rec, 8, b.parity_train, b.parity_test, b.parity_epochs, False, bar)
    bar.close()
    if nets is None or all(v is None for v in nets.values()):
        return
    rec.data.update({"produced": True, "n_bits": 8, "n_train": b.parity_train,
                     "n_test": b.parity_test, "epochs": b.parity_epochs})
    for kind, value in nets.items():
        if value is not None:
            rec.data[kind] = {"train_loss": value[0], "test_acc": value[1],
                              "final_test_acc": value[1][-1] if value[1] else None}
    fig = figures.parity_curves(rec.data, run.label)
    run.save(rec, fig, "parity_curves.png")


def exp_parity_scaling(run: Run, rec: Record) -> None:
    b = run.budget
    bar = run.epoch_bar(rec.id, 2 * b.scaling_epochs * len(b.scaling_bits))
    bits_done: list[int] = []
    finals: dict[str, list[float | None]] = {"shallow": [], "deep": []}
    skip_deep = False
    for n_bits in b.scaling_bits:
        nets = _parity_pair(run, rec, n_bits, b.scaling_train, b.scaling_test, b.scaling_epochs,
                            skip_deep, bar)
        if nets is None:
            break
        bits_done.append(n_bits)
        for kind in ("shallow", "deep"):
            value = nets[kind]
            finals[kind].append(value[1][-1] if value is not None and value[1] else None)
        # A deep net that failed once fails for every size: report it once.
        skip_deep = skip_deep or nets["deep"] is None
    bar.close()
    if not bits_done or all(v is None for vs in finals.values() for v in vs):
        return
    rec.data.update({"produced": True, "bits": bits_done, "n_train": b.scaling_train,
                     "n_test": b.scaling_test, "epochs": b.scaling_epochs,
                     "shallow_final_test_acc": finals["shallow"],
                     "deep_final_test_acc": finals["deep"]})
    fig = figures.parity_scaling(rec.data, run.label)
    run.save(rec, fig, "parity_scaling.png")


def stand_in_net(init_type: str, seed: int) -> nn.Module:
    """The checks' own ``ProbeNet`` with the ``DeepMLP_i`` contract, for a missing ``DeepMLP_i``.

    Weights of that scheme drawn from a seeded generator; ``forward(x (B, in_dim))`` returns
    ``(out (B, 10), [std after each ReLU])``. Lets ``probe_stats`` be tried before
    ``DeepMLP_i`` is written.
    """
    from grader.checks.init import ProbeNet, make_weights
    from grader.checks.nets import mlp_shapes

    gen = torch.Generator().manual_seed(seed)
    return ProbeNet(make_weights(init_type, mlp_shapes(PROBE_IN, 10, PROBE_WIDTH, PROBE_DEPTH),
                                 gen))


def _stats(value: Any) -> tuple[list[float], list[float]]:
    expected = "(activation_stds, grad_stds): two lists of floats"
    try:
        acts, grads = value
        return [float(v) for v in acts], [float(v) for v in grads]
    except (TypeError, ValueError):
        raise BadReturn("probe_stats", expected, value) from None


def exp_init_probe(run: Run, rec: Record) -> None:
    mod = "ex5_init"
    net_cls = run.name(rec, "init_schemes", mod, "DeepMLP_i")
    probe = run.name(rec, "probe_stats", mod, "probe_stats")
    if probe is FAILED:
        return
    nets: dict[str, Any] = {}
    if net_cls is not FAILED:
        for init in INIT_TYPES:
            seed_all(run.seeds["probe"])
            net = run.call(rec, "init_schemes", lambda i=init: net_cls(
                init_type=i, depth=PROBE_DEPTH, width=PROBE_WIDTH, in_dim=PROBE_IN, out_dim=10),
                module=mod)
            if net is FAILED:
                break
            nets[init] = net
    stand_in = len(nets) < len(INIT_TYPES)
    if stand_in:
        # Without the student's nets, probe_stats still gets measured (and drawn, marked).
        nets = {init: stand_in_net(init, run.seeds["probe"]) for init in INIT_TYPES}
    results: dict[str, Any] = {}
    for init, net in nets.items():
        # The same random input for every init: probe_stats draws it right after this.
        seed_all(run.seeds["probe"] + 1)
        stats = run.call(rec, "probe_stats", lambda n=net: _stats(probe(n, 64, PROBE_IN)),
                         module=mod)
        if stats is FAILED:
            return
        results[init] = {"activation_std": stats[0], "grad_std": stats[1]}
    if stand_in:
        run.note(rec, "exp_standin_note")
    rec.data.update({"produced": True, "depth": PROBE_DEPTH, "width": PROBE_WIDTH,
                     "stand_in_net": stand_in, "inits": results})
    suffix = run.label("exp_standin_suffix") if stand_in else ""
    fig = figures.per_layer_std(results, "activation_std", run.label("exp_fig_act_title") + suffix,
                                run.label("exp_fig_hidden_layer"), run.label("exp_fig_act_std"))
    run.save(rec, fig, "init_activation_std.png")
    fig = figures.per_layer_std(results, "grad_std", run.label("exp_fig_grad_title") + suffix,
                                run.label("exp_fig_linear_layer"), run.label("exp_fig_grad_std"))
    run.save(rec, fig, "init_grad_std.png")


@dataclass(frozen=True)
class Experiment:
    id: str
    tasks: tuple[str, ...]  # graded tasks this experiment exercises
    fn: Callable[[Run, Record], None]


from grader.experiments import hyperparams as _hp  # noqa: E402  (section 7; no cycle)

#: In the order of the seed notebook.
EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("data", ("test_viewer",), exp_data),
    Experiment("onehot_mse", ("onehot_mse",), exp_onehot_mse),
    Experiment("cross_entropy", ("ce_net",), exp_cross_entropy),
    Experiment("parity", ("deep_net",), exp_parity),
    Experiment("parity_scaling", ("deep_net",), exp_parity_scaling),
    Experiment("deep_sigmoid", ("ce_net",), exp_deep_sigmoid),
    Experiment("deep_relu", ("relu_net", "ce_net"), exp_deep_relu),
    Experiment("init_probe", ("init_schemes", "probe_stats"), exp_init_probe),
    Experiment("he_init", ("he_init", "ce_net"), exp_he_init),
    Experiment("lr_sweep", ("lr_sweep",), _hp.exp_lr_sweep),  # section 7
    Experiment("exploding", ("exploding",), _hp.exp_exploding),
)
MNIST_IDS = tuple(SEED_TEST_ACC)


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


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, n: int = 10) -> list[list[int]]:
    """``m[true][predicted]`` counts over the test set."""
    idx = labels.long() * n + preds.long().clamp(0, n - 1)
    return torch.bincount(idx, minlength=n * n).reshape(n, n).tolist()
