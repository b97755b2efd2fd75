"""Detectors of the training-loop checks (``train_model0`` of ``onehot_mse``, ``train_model`` of
``ce_net``; :mod:`grader.checks.loops`).

The loop under test trained a frozen net at rate 0, so everything it reports is exactly
computable: each detector recomputes it as a loop making one mistake would (its alternative
oracle) and compares with what the loop reported. The losses are searched as a small product,
a per-batch loss from a family of wrong ones (other targets, another loss, another reduction,
a squashing before the criterion) times an epoch aggregation (the mean asked for, the sum, the
last batch, a division by the number of examples, a running total never reset); the gradients
each ``step()`` found as windows of accumulated batch gradients; the modes as the pattern of
``train()``/``eval()`` over the calls the net logged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks import expect
from grader.checks.loops import (
    BATCH,
    EPOCHS,
    LOOP_FUNCTION,
    N_TRAIN,
    N_VAL,
    batch_grads,
    batch_part,
    given_criterion,
    loop_batches,
    loop_outputs,
    read_history,
)
from grader.diagnoses.base import Detector, Evidence, explained_by

LossFn = Callable[[torch.Tensor, torch.Tensor, dict[str, Any]], torch.Tensor]


def _onehot(y: torch.Tensor) -> torch.Tensor:
    return F.one_hot(y, 10).float()


def _mse_family() -> list[tuple[str, LossFn, tuple[str, ...]]]:
    """Per-batch losses of ``train_model0`` (``out`` is the net's sigmoid output): the one
    asked for, then each known wrong one with the mistake ids it stands for."""
    family: list[tuple[str, LossFn, tuple[str, ...]]] = [
        ("asked", lambda o, y, i: F.mse_loss(o, _onehot(y)), ()),
    ]
    # Targets put at another class: any shift of the digits, or the order reversed.
    for k in range(1, 10):
        family.append((f"shift{k}", lambda o, y, i, k=k: F.mse_loss(o, _onehot((y + k) % 10)),
                       ("onehot_wrong_class",)))
    family.append(("reversed", lambda o, y, i: F.mse_loss(o, _onehot(9 - y)),
                   ("onehot_wrong_class",)))
    family += [
        ("sum", lambda o, y, i: F.mse_loss(o, _onehot(y), reduction="sum"),
         ("loss_not_averaged",)),
        ("per_sample", lambda o, y, i: ((o - _onehot(y)) ** 2).sum(dim=1).mean(),
         ("loss_not_averaged",)),
        ("per_class", lambda o, y, i: ((o - _onehot(y)) ** 2).mean(dim=1).sum(),
         ("loss_not_averaged",)),
        ("ce", lambda o, y, i: F.cross_entropy(o, y), ("wrong_loss",)),
        ("nll", lambda o, y, i: F.nll_loss(o, y), ("wrong_loss",)),
        ("l1", lambda o, y, i: F.l1_loss(o, _onehot(y)), ("wrong_loss",)),
        ("smooth_l1", lambda o, y, i: F.smooth_l1_loss(o, _onehot(y)), ("wrong_loss",)),
        ("bce", lambda o, y, i: F.binary_cross_entropy(o, _onehot(y)), ("wrong_loss",)),
        ("bce_logits", lambda o, y, i: F.binary_cross_entropy_with_logits(o, _onehot(y)),
         ("wrong_loss",)),
        ("mse_softmax", lambda o, y, i: F.mse_loss(torch.softmax(o, dim=1), _onehot(y)),
         ("wrong_loss",)),
        ("rmse", lambda o, y, i: F.mse_loss(o, _onehot(y)).sqrt(), ("wrong_loss",)),
    ]
    return family


def _ce(weight: bool, smoothing: bool) -> LossFn:
    def loss(z: torch.Tensor, y: torch.Tensor, inp: dict[str, Any]) -> torch.Tensor:
        return F.cross_entropy(z, y, weight=inp["class_weight"] if weight else None,
                               label_smoothing=float(inp["smoothing"]) if smoothing else 0.0)
    return loss


def _ce_family() -> list[tuple[str, LossFn, tuple[str, ...]]]:
    """Per-batch losses of ``train_model`` (``z`` is the net's logits): the given criterion,
    then each known wrong one."""
    def given(z: torch.Tensor, y: torch.Tensor, i: dict[str, Any]) -> torch.Tensor:
        return given_criterion(i)(z, y)

    return [
        ("asked", given, ()),
        # A cross-entropy of the loop's own: the criterion it was given is not the one used.
        ("default_ce", _ce(False, False), ("criterion_ignored",)),
        ("ce_weight_only", _ce(True, False), ("criterion_ignored",)),
        ("ce_smoothing_only", _ce(False, True), ("criterion_ignored",)),
        # Probabilities handed to a criterion that expects logits.
        ("softmax_first", lambda z, y, i: given(torch.softmax(z, dim=1), y, i),
         ("softmax_before_ce",)),
        ("sigmoid_first", lambda z, y, i: given(torch.sigmoid(z), y, i),
         ("softmax_before_ce",)),
        ("default_ce_softmax_first", lambda z, y, i: F.cross_entropy(torch.softmax(z, dim=1), y),
         ("softmax_before_ce", "criterion_ignored")),
        # Another loss altogether.
        ("nll_logits", lambda z, y, i: F.nll_loss(z, y), ("wrong_loss",)),
        ("mse_onehot", lambda z, y, i: F.mse_loss(z, _onehot(y)), ("wrong_loss",)),
        ("mse_softmax", lambda z, y, i: F.mse_loss(torch.softmax(z, dim=1), _onehot(y)),
         ("wrong_loss",)),
    ]


#: epoch aggregations of the batch losses ``L`` (``e``: the epoch, from 1), with their ids
AGGREGATIONS: tuple[tuple[str, Callable[[list[float], int], float], tuple[str, ...]], ...] = (
    ("mean", lambda L, e: math.fsum(L) / len(L), ()),
    ("sum", lambda L, e: math.fsum(L), ("loss_not_averaged",)),
    ("last", lambda L, e: L[-1], ("loss_not_averaged",)),
    ("per_example", lambda L, e: math.fsum(L) / (len(L) * BATCH), ("loss_not_averaged",)),
    ("not_reset", lambda L, e: e * math.fsum(L) / len(L), ("loss_not_averaged",)),
)


def batch_losses(inp: dict[str, Any], kind: str) -> dict[str, dict[str, list[float]]]:
    """Per family member: the batch losses of the training and of the validation set."""
    family = _mse_family() if kind == "mse" else _ce_family()
    parts = {"train_loss": loop_batches(inp["X_train"], inp["y_train"]),
             "val_loss": loop_batches(inp["X_val"], inp["y_val"])}
    table: dict[str, dict[str, list[float]]] = {}
    with torch.no_grad():
        outs = {key: [(loop_outputs(inp, X, kind), y) for X, y in batches]
                for key, batches in parts.items()}
        for name, fn, _ in family:
            table[name] = {key: [float(fn(o, y, inp)) for o, y in pairs]
                           for key, pairs in outs.items()}
    return table


def _kind(ev: Evidence) -> str:
    return getattr(ev.check, "kind", "mse")


def _history(ev: Evidence) -> dict[str, list[float]]:
    return ev.memo("history", lambda: read_history(ev.out.get("history"), EPOCHS))


#: how close a reported loss must be to a mistaken loop's to be told as that mistake. Far
#: tighter than the verdict's 1e-4: the frozen net's outputs are nearly uniform, so wrong
#: losses lie close together (a sigmoid before the criterion lands 1.3e-5 from a softmax,
#: targets shifted by 3 within 7e-5 of all-zero targets); the same float32 arithmetic lands
#: on the very bits, and another correct order of additions within about 1e-7.
LOSS_RTOL = 3e-6


def explain_losses(ev: Evidence) -> set[str]:
    """The mistake ids that explain the reported ``train_loss`` and ``val_loss``. A loop
    usually computes both the same way: one per-batch loss of the family that explains both
    wrong keys (each with its own epoch aggregation) is the story told; else each wrong key is
    explained alone (a loop that changed only its training loss). Of several stories, the one
    naming fewest mistakes; a key nothing explains adds nothing. Empty when the losses are
    right."""
    def compute() -> set[str]:
        hist = _history(ev)
        kind = _kind(ev)
        family = {name: ids for name, _, ids in (_mse_family() if kind == "mse"
                                                  else _ce_family())}
        table = batch_losses(ev.inp, kind)
        # per key: loss name -> the aggregations' id sets that reproduce every epoch
        fits: dict[str, dict[str, list[frozenset[str]]]] = {}
        for key in ("train_loss", "val_loss"):
            got = hist[key]
            fits[key] = {}
            for name in family:
                L = table[name][key]
                for _, agg, agg_ids in AGGREGATIONS:
                    if all(expect.rel_close(g, agg(L, e + 1), LOSS_RTOL, 1e-9)
                           for e, g in enumerate(got)):
                        fits[key].setdefault(name, []).append(frozenset(agg_ids))
        wrong = [k for k in fits if frozenset() not in fits[k].get("asked", [])]

        def story(name: str, keys: list[str]) -> frozenset[str]:
            told = set(family[name])
            for key in keys:
                told |= min(fits[key][name], key=len)
            return frozenset(told)

        def fewest(stories: list[frozenset[str]]) -> set[str]:
            if not stories:
                return set()
            least = min(len(st) for st in stories)
            return set().union(*(st for st in stories if len(st) == least))

        if not wrong:
            return set()
        common = set.intersection(*(set(fits[k]) for k in wrong))
        if common:
            return fewest([story(name, wrong) for name in common])
        return set().union(*(fewest([story(name, [k]) for name in fits[k]]) for k in wrong))

    return ev.memo("loss_ids", compute)


def _loss_detector(mistake: str) -> Detector:
    return explained_by(mistake, explain_losses, lambda ev: {"fn": LOOP_FUNCTION[_kind(ev)]},
                        f"losses_{mistake}",
                        f"The reported losses are those of a loop making ``{mistake}``.")


onehot_wrong_class_in_loss = _loss_detector("onehot_wrong_class")
loss_not_averaged = _loss_detector("loss_not_averaged")
wrong_loss = _loss_detector("wrong_loss")
criterion_ignored = _loss_detector("criterion_ignored")
softmax_before_ce = _loss_detector("softmax_before_ce")


# ------------------------------------------------------------------ validation accuracy

def _val_counts(inp: dict[str, Any], kind: str) -> tuple[int, float, int]:
    """Hits on the validation set, the (B, B) broadcast count summed over batches, and N."""
    hits, table = 0, 0.0
    with torch.no_grad():
        for X, y in loop_batches(inp["X_val"], inp["y_val"]):
            pred = loop_outputs(inp, X, kind).argmax(dim=1)
            hits += int((pred == y).sum())
            table += float((pred == y.reshape(-1, 1)).sum())
    return hits, table, int(inp["y_val"].shape[0])


def _reported_acc(ev: Evidence) -> list[float]:
    return _history(ev)["val_acc"]


def acc_not_fraction(ev: Evidence) -> dict[str, Any] | None:
    """``val_acc`` is a count, a percentage, or the hits divided by something other than the
    number of validation examples (the batches, the batch size, the training examples)."""
    hits, _, n = _val_counts(ev.inp, _kind(ev))
    frac = hits / n
    got = _reported_acc(ev)
    if all(expect.rel_close(g, frac, 1e-4, 1e-6) for g in got):
        return None
    wrong = [hits, 100.0 * frac, hits / N_VAL, hits / BATCH, hits / (N_TRAIN * BATCH),
             hits / N_TRAIN]
    for value in wrong:
        if all(expect.rel_close(g, value, 1e-4, 1e-6) for g in got):
            return {"fn": LOOP_FUNCTION[_kind(ev)]}
    return None


def acc_broadcast(ev: Evidence) -> dict[str, Any] | None:
    """``val_acc`` counted over a (B, B) table: predictions (B,) compared with labels (B, 1)."""
    hits, table, n = _val_counts(ev.inp, _kind(ev))
    if table == hits:
        return None  # no broadcast could be told from the right count here
    got = _reported_acc(ev)
    for value in (table / (BATCH * n), table / n, table / (BATCH * BATCH * N_VAL)):
        if all(expect.rel_close(g, value, 1e-4, 1e-6) for g in got):
            return {"fn": LOOP_FUNCTION[_kind(ev)]}
    return None


# ------------------------------------------------------------------ gradients and steps

def _recorded(ev: Evidence) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    steps = ev.out.get("steps")
    if not isinstance(steps, list):
        return None
    pairs = []
    for pair in steps:
        if not (isinstance(pair, list) and len(pair) == 2
                and all(type(g) is torch.Tensor for g in pair)):
            return None
        pairs.append((pair[0], pair[1]))
    return pairs


def grad_not_cleared(ev: Evidence) -> dict[str, Any] | None:
    """Some ``step()`` found the gradients of several batches added up (zeroed never, once per
    epoch, or every few batches), and every step holds a run of consecutive batches' sum."""
    recorded = _recorded(ev)
    if not recorded or len(recorded) < 2:
        return None
    truth = ev.memo("batch_grads", lambda: batch_grads(ev.inp, _kind(ev)))
    if len(recorded) > 4 * EPOCHS * N_TRAIN:
        return None
    accumulated = False
    for s, (gw, gb) in enumerate(recorded):
        total_w = torch.zeros_like(truth[0][0])
        total_b = torch.zeros_like(truth[0][1])
        for start in range(s, -1, -1):  # the window [start, s], growing backwards
            tw, tb = truth[start % N_TRAIN]
            total_w, total_b = total_w + tw, total_b + tb
            if expect.close(gw, total_w, 1e-3, 1e-7) and expect.close(gb, total_b, 1e-3, 1e-7):
                accumulated |= start < s
                break
        else:
            return None
    return {"fn": LOOP_FUNCTION[_kind(ev)]} if accumulated else None


def no_optimizer_step(ev: Evidence) -> dict[str, Any] | None:
    """``optimizer.step()`` of the optimizer the loop was given was never called (the loop
    calls nothing, or steps an optimizer of its own)."""
    steps = ev.out.get("steps")
    if isinstance(steps, list) and not steps:
        return {"fn": LOOP_FUNCTION[_kind(ev)]}
    return None


# ------------------------------------------------------------------ train / eval modes

def _modes(ev: Evidence) -> list[tuple[str, int, bool, bool]]:
    """Per logged forward call of a known batch: ``(part, epoch, training, grad on)``; the
    epoch is counted by the validation passes seen so far."""
    which = batch_part(ev.inp)
    calls = ev.out.get("calls")
    rows = []
    val_seen = 0
    for call in calls if isinstance(calls, list) else []:
        if not (isinstance(call, list) and len(call) >= 3 and isinstance(call[2], float)):
            continue
        part = which(call[2])
        if part is None:
            continue
        if part == "val":
            val_seen += 1
        rows.append((part, val_seen // N_VAL, call[0] is True, call[1] is True))
    return rows


def val_in_train_mode(ev: Evidence) -> dict[str, Any] | None:
    """A validation batch went through the net in ``train()`` mode."""
    if any(part == "val" and training for part, _, training, _ in _modes(ev)):
        return {"fn": LOOP_FUNCTION[_kind(ev)]}
    return None


def val_with_grad(ev: Evidence) -> dict[str, Any] | None:
    """A validation batch went through the net with autograd on."""
    if any(part == "val" and grad for part, _, _, grad in _modes(ev)):
        return {"fn": LOOP_FUNCTION[_kind(ev)]}
    return None


def train_mode_not_restored(ev: Evidence) -> dict[str, Any] | None:
    """The first epoch trains in ``train()`` mode, a later one in ``eval()``: the mode is set
    once, before the epochs, and validation's ``eval()`` stays on."""
    rows = [(epoch, training) for part, epoch, training, _ in _modes(ev) if part == "train"]
    first = [t for e, t in rows if e == 0]
    later = [t for e, t in rows if e > 0]
    if first and all(first) and later and not any(later):
        return {"fn": LOOP_FUNCTION[_kind(ev)]}
    return None
