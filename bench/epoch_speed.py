"""How fast one MNIST epoch trains, three ways, and how far that is from the machine's peak.

    python bench/epoch_speed.py [--threads 1 2] [--repeats 2]
    python bench/epoch_speed.py --estimate-full      # + the full default run, both ways
    python bench/epoch_speed.py --time-full          # + really run `experiments` (minutes)
    python bench/epoch_speed.py --load               # + what loading MNIST costs, two ways

One epoch of ``SimpleNet(256)`` (one-hot + MSE, Adam 1e-3, what ``train_model0``
does per batch) over the practical's 54,000 training images:

1. ``dataloader``: torchvision ``DataLoader`` over the ``ToTensor`` dataset, batch 64
   (the seed notebook's way: every batch collates 64 PIL-decoded images);
2. ``fast-64``: the kit's in-memory ``FastLoader``, batch 64;
3. ``fast-512``: the same at batch 512 (fewer, bigger matrix products);
4. ``fast-64+fused``: batch 64 with PyTorch's fused Adam, what ``experiments`` uses.

Prints seconds per epoch (best of ``--repeats``), the ratio to the DataLoader, and
the fraction of the measured float32 matmul peak reached, taking the FLOPs of an
epoch as 6 x parameters x samples (forward 2, backward 4 per parameter and sample).

``--estimate-full`` times one epoch of each of the five MNIST models of the
practical (training and validation, the reference loops) and the parity runs, with
the seed's DataLoaders and with the kit's loader, and scales them to the default
budgets (15 MNIST epochs, 40 parity epochs). ``--time-full`` runs
``python -m grader experiments`` with the default budgets and reports its wall time.
``--load`` times, in fresh interpreters that have imported torch, loading both MNIST splits
through torchvision's ``MNIST`` class (its import included, as the grader did before) and
through the kit's own reader of the raw files (``grader.data``, what every grading process
does now), best of ``--repeats``.
Nothing here is asserted: speed is measured, never tested.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from grader.data import FastLoader, ensure_mnist, fast_mnist_loaders, split_indices  # noqa: E402
from grader.impl import DirImpl  # noqa: E402
from grader.training import make_adam  # noqa: E402

N_TRAIN = 54000


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """Best float32 GFLOP/s of an ``n x n`` by ``n x n`` matmul (2 n^3 FLOPs) on this CPU."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    a @ b  # warm-up: first call allocates and picks kernels
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def seed_way_loaders(batch_size: int = 64):
    """Train/val/test DataLoaders as the seed notebook builds them (ToTensor, shuffled train)."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    root = str(ensure_mnist())
    full = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
    test = datasets.MNIST(root, train=False, download=False, transform=transforms.ToTensor())
    train_idx, val_idx = split_indices(len(full), 0.9, seed=0)
    return (DataLoader(Subset(full, train_idx), batch_size=batch_size, shuffle=True),
            DataLoader(Subset(full, val_idx), batch_size=batch_size),
            DataLoader(test, batch_size=batch_size))


def one_epoch(model: nn.Module, loader, one_hot, fused: bool = False) -> float:
    """Seconds for one pass of what ``train_model0`` does per batch (no validation)."""
    if fused:
        optimizer = make_adam(model.parameters())
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    model.train()
    start = time.perf_counter()
    for X, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(X), one_hot(y, 10))
        loss.backward()
        optimizer.step()
        loss.item()  # the reference loop reads every loss, which syncs
    return time.perf_counter() - start


def bench_epochs(threads: int, repeats: int) -> None:
    torch.set_num_threads(threads)
    ex1 = DirImpl(KIT / "solutions").get("ex1_onehot_mse")
    peak = matmul_peak()
    params = sum(p.numel() for p in ex1.SimpleNet(256).parameters())
    flops = 6 * params * N_TRAIN
    dl_train, _, _ = seed_way_loaders(64)
    fast64, _, _ = fast_mnist_loaders(64, seed=0)
    fast512 = FastLoader(fast64.X, fast64.y, 512, shuffle=True,
                         generator=torch.Generator().manual_seed(0))
    print(f"\n== threads={threads}: matmul peak {peak:.0f} GFLOP/s; SimpleNet(256) has "
          f"{params:,} parameters; an epoch is {flops / 1e9:.1f} GFLOP")
    base = None
    ways = (("dataloader", dl_train, False), ("fast-64", fast64, False),
            ("fast-512", fast512, False), ("fast-64+fused", fast64, True))
    # Round-robin over the ways, best of each: a burst of load from other processes
    # then hits every way alike instead of whichever happened to run during it.
    best = dict.fromkeys((w[0] for w in ways), float("inf"))
    for r in range(repeats):
        for name, loader, fused in ways:
            torch.manual_seed(r)
            seconds = one_epoch(ex1.SimpleNet(256), loader, ex1.one_hot, fused)
            best[name] = min(best[name], seconds)
    for name, seconds in best.items():
        base = base or seconds
        print(f"{name:<14} {seconds:7.2f} s/epoch   x{base / seconds:5.1f} vs DataLoader   "
              f"{flops / seconds / 1e9 / peak:6.1%} of matmul peak")


def _quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def estimate_full(threads_ours: int, threads_seed: int) -> None:
    """Seconds of the full default run, scaled from one timed epoch of every model.

    "seed@N": DataLoaders and plain Adam on N threads, as the notebook runs (N = torch's
    default, and 1). "ours": FastLoader, fused Adam, ``threads_ours`` threads, as
    ``experiments`` runs. The same reference training loops in every case.
    """
    impl = DirImpl(KIT / "solutions")
    ex1, ex2 = impl.get("ex1_onehot_mse"), impl.get("ex2_cross_entropy")
    ex3, ex4, ex5 = impl.get("ex3_depth"), impl.get("ex4_activations"), impl.get("ex5_init")
    models = {
        "onehot_mse": lambda: ex1.SimpleNet(256).apply(ex1.init_normal),
        "cross_entropy": lambda: ex2.SNet(256).apply(ex1.init_normal),
        "deep_sigmoid": lambda: ex4.DeepMLP(784, 10, 64, 4),
        "deep_relu": lambda: ex4.DeepMLPR(784, 10, 64, 4),
        "he_init": lambda: ex5.DeepMLPI(784, 10, 64, 4),
    }
    seed_loaders, fast_loaders = seed_way_loaders(64), fast_mnist_loaders(64, seed=0)
    ways = {f"seed@{threads_seed}": (seed_loaders, threads_seed),
            "seed@1": (seed_loaders, 1),
            "ours": (fast_loaders, threads_ours)}
    totals = {}
    for way, ((train, val, _), threads) in ways.items():
        torch.set_num_threads(threads)
        total = 0.0
        for name, make in models.items():
            torch.manual_seed(0)
            model = make()
            if way == "ours":
                opt = make_adam(model.parameters())
            else:
                opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            start = time.perf_counter()
            if name == "onehot_mse":
                _quiet(ex1.train_model0, model, train, val, opt, 1)
            else:
                _quiet(ex2.train_model, model, train, val, opt, nn.CrossEntropyLoss(), 1)
            seconds = time.perf_counter() - start
            total += 15 * seconds
            print(f"  {way:<7} {name:<14} {seconds:6.2f} s/epoch (train + validation)",
                  flush=True)
        # Parity: one epoch of the 8-bit pair and of every scaling size, scaled to 40.
        from torch.utils.data import DataLoader, TensorDataset

        gen = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        for n_bits, n_train in ((8, 2000), (4, 6000), (8, 6000), (12, 6000), (16, 6000)):
            X, y = ex3.generate_parity_torch(n_bits, n_train, generator=gen)
            Xt, yt = ex3.generate_parity_torch(n_bits, 500, generator=gen)
            if way.startswith("seed"):
                tr = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
                te = DataLoader(TensorDataset(Xt, yt), batch_size=64)
            else:
                tr, te = FastLoader(X, y, 64, shuffle=True), FastLoader(Xt, yt, 64)
            for net in (ex3.ShallowNet(n_bits, 128), ex3.DeepNet(n_bits, 32, 4)):
                ex3.train_net(net, tr, te, epochs=1)
        parity = 40 * (time.perf_counter() - start)
        print(f"  {way:<7} parity (all runs) {parity:6.1f} s for 40 epochs", flush=True)
        totals[way] = total + parity
    print("\nestimated full default run (5 MNIST models x 15 epochs + parity x 40 epochs):")
    for way, total in totals.items():
        print(f"  {way:<7} {total:6.0f} s   x{total / totals['ours']:.1f} of ours")
    print(f"  (seed@N: the notebook's DataLoaders and plain Adam on N torch threads; ours: "
          f"the kit's loader, fused Adam, {threads_ours} thread)")


def time_full(threads: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "CI": "true"}
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "grader", "experiments", "--out", out,
                               "--device", "cpu", "--threads", str(threads)],
                              cwd=KIT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        print(proc.stdout)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
        print(f"full default run of `experiments` ({threads} thread(s)): {seconds:.0f} s wall, "
              f"exit {proc.returncode}")


_LOAD = {
    "torchvision MNIST (import + decode)": """
from torchvision import datasets
for train in (True, False):
    datasets.MNIST(ROOT, train=train, download=False).data
""",
    "kit reader (grader.data)": """
from grader.data import _mnist_uint8
for train in (True, False):
    _mnist_uint8(ROOT, train)
""",
}


def bench_load(repeats: int) -> None:
    """Seconds to load both MNIST splits in a fresh interpreter that has imported torch."""
    root = str(ensure_mnist().resolve())
    print("\n== loading MNIST (both splits), fresh interpreter, torch already imported")
    for what, body in _LOAD.items():
        code = ("import time, torch\nROOT = " + repr(root) + "\nstart = time.perf_counter()\n"
                + body + "print(time.perf_counter() - start)\n")
        best = min(float(subprocess.run([sys.executable, "-c", code], cwd=KIT, check=True,
                                        capture_output=True, text=True).stdout)
                   for _ in range(max(1, repeats)))
        print(f"{what:40s} {best:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, torch.get_num_threads()],
                        help="torch thread counts to try (default: 1 and torch's default)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--estimate-full", action="store_true")
    parser.add_argument("--time-full", action="store_true")
    parser.add_argument("--load", action="store_true")
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, default threads "
          f"{default_threads}, load average {os.getloadavg()[0]:.1f} (others on the machine "
          "skew every number)")
    for threads in dict.fromkeys(args.threads):
        bench_epochs(threads, args.repeats)
    if args.estimate_full:
        print("\n== full default run, estimated from one epoch of each model")
        estimate_full(threads_ours=1, threads_seed=default_threads)
    if args.time_full:
        time_full(1)
    if args.load:
        bench_load(args.repeats)


if __name__ == "__main__":
    main()
