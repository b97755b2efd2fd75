"""Every experiment of the practical: what each trains, measures and draws (the catalogue).

Each is a function of a :class:`~grader.experiments.harness.Run` and the
:class:`~grader.experiments.harness.Record` it fills; it calls student code only through
``run.call`` (see :mod:`grader.experiments.harness`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn

from grader.checks.loops import HISTORY_KEYS
from grader.training import make_adam

from . import figures, section7
from .harness import FAILED, CountingLoader, Experiment, Record, Run, seed_all
from .returns import BadReturn, read_float_pair, read_lists

#: Test accuracy the seed notebook printed for each MNIST model (15 epochs, full data).
SEED_TEST_ACC: dict[str, float] = {
    "onehot_mse": 0.951,
    "cross_entropy": 0.951,
    "deep_sigmoid": 0.965,
    "deep_relu": 0.973,
    "he_init": 0.975,
}

INIT_TYPES = ("xavier", "he", "orthogonal")
PROBE_DEPTH, PROBE_WIDTH, PROBE_IN = 15, 128, 100
GRID_ROWS, GRID_COLS = 2, 6  # sample grids: 12 digits each

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
    fig = figures.image_grid(images, GRID_COLS, run.label(f"exp_fig_grid_{which}",
                                                          call=f"{viewer.__name__}(dataset, i)"))
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
    return read_lists(value, HISTORY_KEYS, name,
                      "dict with lists 'train_loss', 'val_loss', 'val_acc'")


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
            return read_float_pair(train_net(net, train, test, epochs=epochs, lr=1e-3),
                                   "train_net", "(losses, accs): two lists of numbers")

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
    from grader.checks.nets import mlp_shapes
    from grader.checks.probe_stats import ProbeNet, make_weights

    gen = torch.Generator().manual_seed(seed)
    return ProbeNet(make_weights(init_type, mlp_shapes(PROBE_IN, 10, PROBE_WIDTH, PROBE_DEPTH),
                                 gen))


def _stats(value: Any) -> tuple[list[float], list[float]]:
    return read_float_pair(value, "probe_stats",
                           "(activation_stds, grad_stds): two lists of floats")


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
                                run.label("exp_fig_hidden_layer"), run.label("exp_fig_act_std"),
                                run.label)
    run.save(rec, fig, "init_activation_std.png")
    fig = figures.per_layer_std(results, "grad_std", run.label("exp_fig_grad_title") + suffix,
                                run.label("exp_fig_linear_layer"), run.label("exp_fig_grad_std"),
                                run.label)
    run.save(rec, fig, "init_grad_std.png")


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
    Experiment("lr_sweep", ("lr_sweep",), section7.exp_lr_sweep),
    Experiment("exploding", ("exploding",), section7.exp_exploding),
)
MNIST_IDS = tuple(SEED_TEST_ACC)


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, n: int = 10) -> list[list[int]]:
    """``m[true][predicted]`` counts over the test set."""
    idx = labels.long() * n + preds.long().clamp(0, n - 1)
    return torch.bincount(idx, minlength=n * n).reshape(n, n).tolist()
