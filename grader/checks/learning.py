"""Short, seeded training runs: does the student's code actually learn?

The probe trains (MNIST through the kit's fast loader, or parity) and reports the
trained weights; the grader rebuilds the network from them with its own oracle,
checks it reproduces the student's outputs, and measures accuracy on held-out data
itself. Each threshold is re-measured over seeds, on the reference and on what it must
reject, by ``bench/thresholds.py`` (parts ``mnist`` and ``parity``); the measured ranges
and margins are in docs/thresholds.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from grader.checks import expect
from grader.checks.base import Check, Context, Fail, ProbeEnv, Stat, register, seed_everything
from grader.checks.capture import capture_mlp, capture_records
from grader.checks.loops import HISTORY_KEYS, read_history
from grader.data import (
    MNIST_TRAIN_IMAGES,
    FastLoader,
    fast_mnist_loaders,
    mnist_rows,
    mnist_tensors,
    split_indices,
)
from grader.probe_side import probe_side
from grader.training import accuracy, fit, make_adam


@dataclass(frozen=True)
class CheckRun:
    """One graded training run: how long it trains, on how much, and the accuracy it must reach.

    Fixed per check, whatever the student chose for the experiments (:mod:`grader.budgets`)."""

    epochs: int
    train_limit: int  # first N images of the 54,000-image training split
    threshold: float  # minimum test accuracy (measured: docs/thresholds.md)
    seed: int


@probe_side
def normal_init(model: nn.Module) -> None:
    """The practical's N(0, 1) weights and zero biases, applied by the grader."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 1.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


@torch.no_grad()
def accuracy_range(predict: Any, X: torch.Tensor, y: torch.Tensor,
                   chunk: int = 2048) -> tuple[float, float]:
    """The accuracy of ``predict`` on ``(X, y)`` as a range that allows for argmax ties.

    The grader recomputes outputs in float64; the student's loop saw float32 ones, where
    outputs within rounding of the top one (saturated sigmoids, above all) may tie and
    break the other way. An example counts surely when its label is the only output within
    ``expect_forward``'s tolerance of the top, possibly when its label is one of them.
    """
    sure = possible = 0
    for start in range(0, X.shape[0], chunk):
        out = predict(X[start : start + chunk]).double()
        labels = y[start : start + chunk].reshape(-1, 1)
        top = out.max(dim=1, keepdim=True).values
        near = out >= top - (1e-5 + 1e-4 * top.abs())
        hit = near.gather(1, labels).squeeze(1)
        possible += int(hit.sum())
        sure += int((hit & (near.sum(dim=1) == 1)).sum())
    return sure / X.shape[0], possible / X.shape[0]


class _MnistRun(Check):
    name = "mnist_short_run"
    points = 4
    cost = 6.0
    budget: CheckRun
    hidden: str = "relu"
    output: str = "none"
    what: str = ""
    loop_fn: str = ""  # the student's loop whose history is checked, for messages

    def inputs(self, ctx: Context) -> dict[str, Any]:
        X, _ = mnist_tensors("test")
        idx = torch.randperm(X.shape[0], generator=ctx.gen(f"{self.task}.mnist.probe"))[:16]
        return {"x": X[idx]}

    @probe_side
    def model(self, mod: Any) -> nn.Module:
        raise NotImplementedError

    @probe_side
    def train(self, mod: Any, model: nn.Module, loaders: tuple, env: ProbeEnv) -> Any:
        """Train with the kit's loop; returns the student's history or ``None``."""
        fit(model, loaders[0], self.budget.epochs, lr=1e-3, device=env.device)
        return None

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        seed_everything(self.budget.seed)
        model = self.model(mod)
        loaders = fast_mnist_loaders(64, seed=self.budget.seed, device=env.device,
                                     train_limit=self.budget.train_limit)
        optimizer_history = self.train(mod, model, loaders, env)
        model.to("cpu")
        report = {"model": capture_mlp(model, inp["x"])}
        if optimizer_history is not None:
            report["history"] = capture_records(optimizer_history, HISTORY_KEYS)
        return report

    def graded_accuracy(self, inp: dict[str, Any], out: dict[str, Any]
                      ) -> tuple[list[tuple[torch.Tensor, torch.Tensor | None]], float]:
        """The trained net's layers (checked against the student's outputs) and the grader's
        own test accuracy of them."""
        pairs = expect.expect_forward(out["model"], inp["x"], self.hidden, self.output, self.what)
        X_test, y_test = mnist_tensors("test")
        acc = accuracy(lambda xb: expect.mlp_forward(pairs, xb, self.hidden, self.output),
                       X_test, y_test)
        return pairs, acc

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        return [Stat("test accuracy", self.graded_accuracy(inp, out)[1], ">=",
                     self.budget.threshold, "accuracy_low")]

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        pairs, acc = self.graded_accuracy(inp, out)
        if "history" in out:
            hist = read_history(out["history"], self.budget.epochs)
            _, val_idx = split_indices(MNIST_TRAIN_IMAGES, 0.9, 0)
            X_val, y_val = mnist_rows("train", val_idx)
            low, high = accuracy_range(
                lambda xb: expect.mlp_forward(pairs, xb, self.hidden, self.output), X_val, y_val)
            reported = hist["val_acc"][-1]
            if not low - 2e-3 <= reported <= high + 2e-3:
                raise Fail("val_acc_inconsistent_fn", fn=self.loop_fn, reported=f"{reported:.4f}",
                           low=f"{low:.4f}", high=f"{high:.4f}")
        if acc < self.budget.threshold:
            raise Fail("accuracy_low", what=self.what, acc=f"{acc:.3f}",
                       threshold=f"{self.budget.threshold:.2f}", epochs=self.budget.epochs,
                       n=self.budget.train_limit)


@register
class OneHotMnist(_MnistRun):
    task = "onehot_mse"
    needs = ("SimpleNet", "init_normal", "train_model0", "one_hot")
    budget = CheckRun(epochs=2, train_limit=30_000, threshold=0.25, seed=123)
    hidden, output, what = "sigmoid", "sigmoid", "SimpleNet(256) + train_model0"
    loop_fn = "train_model0"

    @probe_side
    def model(self, mod: Any) -> nn.Module:
        model = mod.SimpleNet(256)
        model.apply(mod.init_normal)
        return model

    @probe_side
    def train(self, mod: Any, model: nn.Module, loaders: tuple, env: ProbeEnv) -> Any:
        opt = make_adam(model.parameters(), lr=1e-3)
        return mod.train_model0(model, loaders[0], loaders[1], opt, epochs=self.budget.epochs,
                                device=env.device)


@register
class CrossEntropyMnist(_MnistRun):
    task = "ce_net"
    needs = ("SNet", "train_model")
    budget = CheckRun(epochs=2, train_limit=30_000, threshold=0.75, seed=123)
    hidden, output, what = "sigmoid", "none", "SNet(256) + train_model"
    loop_fn = "train_model"

    @probe_side
    def model(self, mod: Any) -> nn.Module:
        model = mod.SNet(256)
        normal_init(model)
        return model

    @probe_side
    def train(self, mod: Any, model: nn.Module, loaders: tuple, env: ProbeEnv) -> Any:
        opt = make_adam(model.parameters(), lr=1e-3)
        return mod.train_model(model, loaders[0], loaders[1], opt, nn.CrossEntropyLoss(),
                               epochs=self.budget.epochs, device=env.device)


@register
class ReluMnist(_MnistRun):
    task = "relu_net"
    needs = ("DeepMLPR",)
    points = 3
    cost = 1.5  # 1 epoch × 12,000 images: a fifth of the 2 × 30,000 runs (docs/thresholds.md)
    budget = CheckRun(epochs=1, train_limit=12_000, threshold=0.75, seed=13)
    what = "DeepMLPR(784, 10, 64, 4)"

    @probe_side
    def model(self, mod: Any) -> nn.Module:
        return mod.DeepMLPR(784, 10, 64, 4)


@register
class HeMnist(_MnistRun):
    task = "he_init"
    needs = ("DeepMLPI",)
    cost = 1.5  # as ReluMnist
    budget = CheckRun(epochs=1, train_limit=12_000, threshold=0.80, seed=234)
    what = "DeepMLPI(784, 10, 64, 4)"

    @probe_side
    def model(self, mod: Any) -> nn.Module:
        return mod.DeepMLPI(784, 10, 64, 4)


# ------------------------------------------------------------------ parity

PARITY = CheckRun(epochs=40, train_limit=2000, threshold=0.95, seed=7)


@register
class DeepNetParity(Check):
    task = "deep_net"
    name = "parity_8_bits"
    points = 3
    needs = ("DeepNet",)
    cost = 3.0
    what = "DeepNet(8, 32, 4)"

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen("deep_net.parity")
        X = torch.randint(0, 2, (PARITY.train_limit + 500, 8), generator=gen).float()
        y = X.sum(dim=1).long() % 2
        return {"X_train": X[: PARITY.train_limit], "y_train": y[: PARITY.train_limit],
                "X_test": X[PARITY.train_limit :], "y_test": y[PARITY.train_limit :]}

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        seed_everything(PARITY.seed)
        model = mod.DeepNet(8, 32, 4)
        dev = torch.device(env.device)
        loader = FastLoader(inp["X_train"].to(dev), inp["y_train"].to(dev), 64, shuffle=True,
                            generator=torch.Generator().manual_seed(PARITY.seed))
        fit(model, loader, PARITY.epochs, lr=1e-3, device=env.device)
        model.to("cpu")
        return {"model": capture_mlp(model, inp["X_test"])}

    def graded_accuracy(self, inp: dict[str, Any], out: dict[str, Any]) -> float:
        """The grader's accuracy of the trained net on the 500 held-out bit strings."""
        pairs = expect.expect_forward(out["model"], inp["X_test"], "relu", "none", self.what)
        return accuracy(lambda xb: expect.mlp_forward(pairs, xb, "relu", "none"),
                        inp["X_test"], inp["y_test"])

    def statistics(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> list[Stat]:
        return [Stat("test accuracy", self.graded_accuracy(inp, out), ">=", PARITY.threshold,
                     "accuracy_low")]

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        what = self.what
        acc = self.graded_accuracy(inp, out)
        if acc < PARITY.threshold:
            raise Fail("accuracy_low", what=what, acc=f"{acc:.3f}",
                       threshold=f"{PARITY.threshold:.2f}", epochs=PARITY.epochs,
                       n=PARITY.train_limit)
