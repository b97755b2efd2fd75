"""Training-loop checks shared by ``onehot_mse`` (``train_model0``) and ``ce_net`` (``train_model``).

The loop under test trains a *frozen* network (a fixed 784->10 linear map) with an
SGD optimizer whose learning rate is 0, on small random batches made by the grader.
Nothing changes while it trains, so every number it reports is exactly computable
here: the losses per epoch, the validation accuracy, and the gradient that must be
in the parameters at each ``optimizer.step()``. The network logs, for every forward
call, the batch it saw, whether it was in ``train()`` mode and whether autograd was on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.checks import expect
from grader.checks.base import Check, Context, Fail, ProbeEnv, register
from grader.checks.capture import capture_records, plain_tensor
from grader.data import FastLoader
from grader.probe_side import probe_side

BATCH = 8
N_TRAIN = 4  # batches per epoch
N_VAL = 3
EPOCHS = 2
HISTORY_KEYS = ("train_loss", "val_loss", "val_acc")


@probe_side
class FrozenNet(nn.Module):
    """A fixed linear map 784 -> 10 (sigmoid on top for the MSE loop) that logs its calls."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, squash: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.fc.weight.copy_(weight)
            self.fc.bias.copy_(bias)
        self.squash = squash
        self.calls: list[list[Any]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fingerprint = float(x.detach().double().sum().cpu())
        self.calls.append([bool(self.training), torch.is_grad_enabled(), fingerprint,
                           int(x.shape[0])])
        z = self.fc(x.reshape(x.shape[0], -1))
        return torch.sigmoid(z) if self.squash else z


@probe_side
class SpySGD(torch.optim.SGD):
    """SGD with lr=0 that records the gradients present at each ``step()``."""

    def __init__(self, net: FrozenNet) -> None:
        super().__init__(net.parameters(), lr=0.0)
        self.net = net
        self.steps: list[list[Any]] = []

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # noqa: D102
        grads = [self.net.fc.weight.grad, self.net.fc.bias.grad]
        if len(self.steps) < 200:
            self.steps.append([None if g is None else plain_tensor(g.detach()) for g in grads])
        return super().step(closure)


def read_history(value: Any, epochs: int) -> dict[str, list[float]]:
    """The three history lists, each ``epochs`` finite floats, or a Fail that says what is off
    (``value``: the probe's :func:`grader.checks.capture.capture_records` of the history)."""
    return expect.float_lists(value, HISTORY_KEYS, "history", epochs, history=True)


class _LoopCheck(Check):
    """Inputs and probe for one training-loop function; subclasses judge one aspect."""

    kind: str = "mse"  # "mse" (train_model0) or "ce" (train_model)
    cost = 0.3

    def inputs(self, ctx: Context) -> dict[str, Any]:
        gen = ctx.gen(f"loop.{self.kind}")
        n_tr, n_va = BATCH * N_TRAIN, BATCH * N_VAL
        # Rows of the weight sum to zero and the biases are small: the class an example gets
        # depends on the example (pixels are all positive, so a shared row sum would give
        # every example the same class). A net that predicts one class for everything lets a
        # wrong val_acc (say, (N,) == (N, 1) broadcast to (N, N)) pass for the right one.
        weight = torch.randn(10, 784, generator=gen) * 0.05
        weight = weight - weight.mean(dim=1, keepdim=True)
        bias = torch.randn(10, generator=gen) * 0.1
        X_val = torch.rand(n_va, 1, 28, 28, generator=gen)
        # About half the validation labels agree with the net: val_acc far from 0 and from 1.
        predicted = (X_val.reshape(n_va, -1) @ weight.T + bias).argmax(dim=1)
        agree = torch.rand(n_va, generator=gen) < 0.5
        y_val = torch.where(agree, predicted, torch.randint(0, 10, (n_va,), generator=gen))
        return {
            "weight": weight,
            "bias": bias,
            "X_train": torch.rand(n_tr, 1, 28, 28, generator=gen),
            "y_train": torch.randint(0, 10, (n_tr,), generator=gen),
            "X_val": X_val,
            "y_val": y_val,
            "class_weight": torch.rand(10, generator=gen) + 0.5,
            "smoothing": 0.05,
        }

    def probe(self, mod: Any, inp: dict[str, Any], env: ProbeEnv) -> dict[str, Any]:
        net = FrozenNet(inp["weight"], inp["bias"], squash=self.kind == "mse")
        opt = SpySGD(net)
        train = FastLoader(inp["X_train"], inp["y_train"], BATCH)
        val = FastLoader(inp["X_val"], inp["y_val"], BATCH)
        if self.kind == "mse":
            history = mod.train_model0(net, train, val, opt, epochs=EPOCHS, device=env.device)
        else:
            criterion = given_criterion(inp)
            history = mod.train_model(net, train, val, opt, criterion, epochs=EPOCHS,
                                      device=env.device)
        return {"history": capture_records(history, HISTORY_KEYS), "calls": net.calls[:2000],
                "steps": opt.steps}


@probe_side
def given_criterion(inp: dict[str, Any]) -> nn.Module:
    """The criterion handed to ``train_model``: class-weighted, label-smoothed cross-entropy.

    Deliberately not the default ``nn.CrossEntropyLoss()``, so a loop that ignores its
    ``criterion`` argument reports different losses.
    """
    return nn.CrossEntropyLoss(weight=inp["class_weight"], label_smoothing=float(inp["smoothing"]))


def loop_batches(X: torch.Tensor, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(X[i : i + BATCH], y[i : i + BATCH]) for i in range(0, X.shape[0], BATCH)]


def loop_outputs(inp: dict[str, Any], X: torch.Tensor, kind: str,
             params: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    w, b = params if params is not None else (inp["weight"], inp["bias"])
    z = X.reshape(X.shape[0], -1) @ w.T + b
    return torch.sigmoid(z) if kind == "mse" else z


def batch_loss(inp: dict[str, Any], X: torch.Tensor, y: torch.Tensor, kind: str,
               mistake: str | None = None,
               params: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """The loss of one batch as the correct loop computes it, or, with ``mistake`` (one of
    :data:`MISTAKES`), as a loop making that known mistake does (the verdict's alternative
    oracles)."""
    out = loop_outputs(inp, X, kind, params)
    if kind == "mse":
        target = F.one_hot(y, 10).float()
        if mistake == "shifted":
            target = F.one_hot((y - 1) % 10, 10).float()
        if mistake == "sum":
            return F.mse_loss(out, target, reduction="sum")
        if mistake == "per_sample":
            return ((out - target) ** 2).sum(dim=1).mean()
        if mistake == "ce":
            return F.cross_entropy(out, y)
        return F.mse_loss(out, target)
    if mistake == "default_ce":
        return F.cross_entropy(out, y)
    if mistake == "softmax_first":
        return given_criterion(inp)(torch.softmax(out, dim=1), y)
    return given_criterion(inp)(out, y)


MISTAKES = {
    "mse": ("shifted", "sum", "per_sample", "ce"),
    "ce": ("default_ce", "softmax_first"),
}


def expected_history(inp: dict[str, Any], kind: str, mistake: str | None = None
                     ) -> dict[str, float]:
    """One epoch's ``train_loss``, ``val_loss`` and ``val_acc`` (all epochs are equal: lr=0),
    of the correct loop or of one making ``mistake`` (see :func:`batch_loss`)."""
    tr = loop_batches(inp["X_train"], inp["y_train"])
    va = loop_batches(inp["X_val"], inp["y_val"])
    with torch.no_grad():
        train_loss = sum(float(batch_loss(inp, X, y, kind, mistake)) for X, y in tr) / len(tr)
        val_loss = sum(float(batch_loss(inp, X, y, kind, mistake)) for X, y in va) / len(va)
        pred = loop_outputs(inp, inp["X_val"], kind).argmax(dim=1)
    return {"train_loss": train_loss, "val_loss": val_loss,
            "val_acc": float((pred == inp["y_val"]).double().mean())}


def batch_grads(inp: dict[str, Any], kind: str,
                mistake: str | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The gradient (weight, bias) of each training batch's loss, alone (the right loss, or
    a known mistaken one)."""
    grads = []
    for X, y in loop_batches(inp["X_train"], inp["y_train"]):
        w = inp["weight"].clone().requires_grad_(True)
        b = inp["bias"].clone().requires_grad_(True)
        loss = batch_loss(inp, X, y, kind, mistake, (w, b))
        gw, gb = torch.autograd.grad(loss, [w, b])
        grads.append((gw, gb))
    return grads


def _fresh(recorded: list[tuple[torch.Tensor, torch.Tensor]],
           truth: list[tuple[torch.Tensor, torch.Tensor]]) -> bool:
    """Each step holds exactly its own batch's gradient (weights and biases)."""
    return all(expect.close(gw, truth[s % N_TRAIN][0], 1e-3, 1e-7)
               and expect.close(gb, truth[s % N_TRAIN][1], 1e-3, 1e-7)
               for s, (gw, gb) in enumerate(recorded))


#: the function under test, for messages
LOOP_FUNCTION = {"mse": "train_model0", "ce": "train_model"}


class _Losses(_LoopCheck):
    points = 3

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        hist = read_history(out["history"], EPOCHS)
        want = expected_history(inp, self.kind)
        for key in HISTORY_KEYS:
            for epoch, got in enumerate(hist[key], start=1):
                if expect.rel_close(got, want[key], 1e-4, 1e-6):
                    continue
                if key == "val_acc":
                    raise Fail("val_acc_wrong", fn=LOOP_FUNCTION[self.kind], epoch=epoch,
                               expected=f"{want[key]:.6f}", found=f"{got:.6f}")
                for mistake in MISTAKES[self.kind]:
                    alt = expected_history(inp, self.kind, mistake)[key]
                    if expect.rel_close(got, alt, 1e-4, 1e-6):
                        raise Fail(f"loss_{mistake}", key=key)
                raise Fail("history_value", key=key, epoch=epoch, expected=f"{want[key]:.6f}",
                           found=f"{got:.6f}")


class _ZeroGrad(_LoopCheck):
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        steps = out["steps"]
        expected_steps = EPOCHS * N_TRAIN
        if not isinstance(steps, list) or len(steps) != expected_steps:
            found = len(steps) if isinstance(steps, list) else "?"
            raise Fail("step_count", expected=expected_steps, found=found,
                       batches=N_TRAIN, epochs=EPOCHS)
        recorded = []
        for s, pair in enumerate(steps):
            if pair[0] is None or pair[1] is None:
                raise Fail("no_grad_at_step", step=s + 1)
            recorded.append((expect.tensor(pair[0], "grad"), expect.tensor(pair[1], "grad")))
        truth = batch_grads(inp, self.kind)
        if _fresh(recorded, truth):
            return
        fn = LOOP_FUNCTION[self.kind]
        # What step() used must never be zeros: a loop that zeroes the gradients between
        # backward() and step() trains nothing (a real batch loss has no zero gradient here).
        for s, (gw, gb) in enumerate(recorded):
            if not bool(gw.abs().max() > 0) and not bool(gb.abs().max() > 0):
                raise Fail("grads_zero_at_step", fn=fn, step=s + 1)
        # Fresh gradients repeat from one epoch to the next (lr=0); accumulated ones grow.
        repeats = all(
            expect.close(recorded[s][0], recorded[s + N_TRAIN][0], 1e-3, 1e-7)
            for s in range(N_TRAIN)
        )
        cumulative = expect.close(recorded[1][0], truth[0][0] + truth[1][0], 1e-3, 1e-7)
        if not repeats or cumulative:
            raise Fail("grads_accumulate")
        if expect.close(recorded[0][0], truth[0][0], 1e-3, 1e-7):
            raise Fail("grad_mismatch")
        # Otherwise the loop used another loss (other gradients, but fresh, nonzero ones each
        # batch): the loss check reports that mistake (or one_hot's checks do, when the
        # targets are wrong); this check does not count it twice.


def batch_part(inp: dict[str, Any]) -> Callable[[float], str | None]:
    """Which part a logged forward call's batch belongs to, from its fingerprint (the sum of
    its inputs): ``"train"``, ``"val"`` or ``None`` (a batch the loop made itself)."""
    train_fp = [float(X.double().sum()) for X, _ in loop_batches(inp["X_train"], inp["y_train"])]
    val_fp = [float(X.double().sum()) for X, _ in loop_batches(inp["X_val"], inp["y_val"])]

    def which(fp: float) -> str | None:
        if any(abs(fp - f) <= 1e-6 * abs(f) for f in train_fp):
            return "train"
        if any(abs(fp - f) <= 1e-6 * abs(f) for f in val_fp):
            return "val"
        return None

    return which


class _Modes(_LoopCheck):
    points = 2

    def verdict(self, inp: dict[str, Any], out: dict[str, Any], ctx: Context) -> None:
        which = batch_part(inp)
        seen = {"train": 0, "val": 0}
        for call in out["calls"]:
            training, grad_on, fp = bool(call[0]), bool(call[1]), float(call[2])
            part = which(fp)
            if part is None:
                continue
            seen[part] += 1
            if part == "train" and not training:
                raise Fail("train_not_train_mode")
            if part == "train" and not grad_on:
                raise Fail("train_without_grad")
            if part == "val" and training:
                raise Fail("val_in_train_mode")
            if part == "val" and grad_on:
                raise Fail("val_with_grad")
        if seen["train"] < EPOCHS * N_TRAIN:
            raise Fail("train_batches_missing", expected=EPOCHS * N_TRAIN, found=seen["train"])
        if seen["val"] < EPOCHS * N_VAL:
            raise Fail("val_batches_missing", expected=EPOCHS * N_VAL, found=seen["val"])


@register
class MSELosses(_Losses):
    task, name, kind, needs = "onehot_mse", "mse_losses_exact", "mse", ("train_model0", "one_hot")


@register
class MSEZeroGrad(_ZeroGrad):
    task, name, kind, needs = "onehot_mse", "fresh_gradients_each_batch", "mse", ("train_model0",)


@register
class MSEModes(_Modes):
    task, name, kind, needs = "onehot_mse", "train_eval_modes", "mse", ("train_model0",)


@register
class CELosses(_Losses):
    task, name, kind, needs = "ce_net", "uses_given_criterion", "ce", ("train_model",)


@register
class CEZeroGrad(_ZeroGrad):
    task, name, kind, needs = "ce_net", "fresh_gradients_each_batch", "ce", ("train_model",)
    points = 1


@register
class CEModes(_Modes):
    task, name, kind, needs = "ce_net", "train_eval_modes", "ce", ("train_model",)
