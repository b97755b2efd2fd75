"""Verdict side of ``lr_sweep`` and ``exploding``: oracles and judgements, grader process only.

Nothing here is copied into the sandbox child (:mod:`grader.sandbox.probe_copy` lists the modules it
copies; this one is not among them), so a submission cannot ask it for the expected
gradient norms, the clipped first step or the accuracies of the trained weights. Every
value the probe reported is read defensively (exact types, sizes bounded by
:func:`grader.checks.expect.linears`) before anything is computed from it.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.checks import expect, replay
from grader.checks.base import Fail
from grader.checks.learning import accuracy_range
from grader.data import mnist_tensors
from grader.training import accuracy

# ------------------------------------------------------------------ shared


def large_init(depth: int, width: int, d_in: int, gain: float,
               gen: torch.Generator) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Uniform weights of std ``gain / sqrt(fan_in)``, small nonzero biases, grader's generator.

    ``gain`` sqrt(2) is He's for ReLU. With tanh and a gain well above 1 the forward signal
    stays bounded (tanh saturates) while each layer's Jacobian still stretches the backward
    signal: the gradient norms grow geometrically toward the input. Biases are nonzero so a
    norm that includes them differs from the weight-gradient norm asked for.
    """
    sizes = [d_in] + [width] * depth + [10]
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = gain * math.sqrt(3.0 / fan_in)
        weights.append(((torch.rand(fan_out, fan_in, generator=gen, dtype=torch.float64) * 2
                         - 1) * bound).float())
        biases.append(((torch.rand(fan_out, generator=gen) * 2 - 1) * 0.1).float())
    return weights, biases


def pairs_of(params: Any, what: str) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """``[W0, b0, W1, b1, ...]`` as reported by the probe -> checked ``(W, b)`` pairs."""
    if not isinstance(params, list) or not params or len(params) % 2:
        raise Fail("no_linear_layers", what=what)
    report = {"model": "ok", "linears": [[params[i], params[i + 1]]
                                         for i in range(0, len(params), 2)]}
    return expect.linears(report, what)


def finite_pairs(pairs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> bool:
    return all(bool(torch.isfinite(w).all()) and (b is None or bool(torch.isfinite(b).all()))
               for w, b in pairs)


def accuracy_bounds(pairs: list, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy of the ReLU MLP of ``pairs`` on ``(X, y)``, as a range allowing argmax ties;
    ``(0, 1)`` (anything goes) when the weights are not finite."""
    if not finite_pairs(pairs):
        return 0.0, 1.0
    try:
        return accuracy_range(lambda xb: expect.mlp_forward(pairs, xb, "relu"), X, y)
    except RuntimeError:
        raise Fail("layers_do_not_chain", what="lr_sweep",
                   shapes=expect.layer_shapes(pairs)) from None


def test_accuracy(pairs: list) -> float:
    """MNIST test accuracy of the ReLU MLP of ``pairs`` in float64; ``nan`` if it diverged."""
    if not finite_pairs(pairs):
        return float("nan")
    X, y = mnist_tensors("test")
    try:
        return accuracy(lambda xb: expect.mlp_forward(pairs, xb, "relu"), X, y)
    except RuntimeError:
        raise Fail("layers_do_not_chain", what="model", shapes=expect.layer_shapes(pairs)) from None


def _records(value: Any, keys: tuple[str, ...], what: str) -> dict[str, list[float]]:
    """A probe's :func:`capture_records`: each key a list of floats (nan/inf allowed)."""
    if expect.is_bad(value) or not isinstance(value, dict):
        found = value.get("__type__", "?") if isinstance(value, dict) else type(value).__name__
        raise Fail("expected_dict", what=what, found=found)
    missing = [k for k in keys if k not in value]
    if missing:
        raise Fail("dict_missing_keys", what=what, missing=", ".join(missing),
                   found=", ".join(str(k) for k in value.get("__keys__", [])) or "-")
    out = {}
    for key in keys:
        items = value[key]
        label = f'{what}["{key}"]'
        if expect.is_bad(items) or not isinstance(items, list):
            found = items["__type__"] if expect.is_bad(items) else type(items).__name__
            raise Fail("expected_list", what=label, found=found)
        for item in items:
            if expect.is_bad(item):
                if "Tensor" in item["__type__"]:
                    raise Fail("list_of_tensors", what=label)
                raise Fail("expected_float_items", what=label, found=item["__type__"])
            if not isinstance(item, float):
                raise Fail("expected_float_items", what=label, found=type(item).__name__)
        out[key] = items
    return out


# ------------------------------------------------------------------ lr_sweep


def batches(X: torch.Tensor, y: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The batches an unshuffled loader gives, in order (what the run's step ``k`` saw is
    ``batches[k % len(batches)]``)."""
    return [(X[i:i + size], y[i:i + size]) for i in range(0, X.shape[0], size)]


def _optimizers(out: dict[str, Any]) -> list[dict[str, Any]]:
    log = out.get("optimizers")
    if not isinstance(log, list) or not all(isinstance(e, dict) for e in log):
        raise Fail("sweep_no_optimizer", found=0, expected="?")
    return log


def sweep_models(n: int, out: dict[str, Any]) -> None:
    """``make_model()`` was called once per rate: the runs can be told apart and compared.
    (What each optimizer got is :func:`sweep_mechanics`' business, one check only.)"""
    built = out.get("built")
    if type(built) is not int:
        initial = out.get("initial")
        built = len(initial) if isinstance(initial, list) else 0
    final = out.get("final")
    if built != n or not isinstance(final, list) or len(final) != n:
        raise Fail("sweep_models_count", expected=n, found=built)


def _same_rate(got: Any, want: float) -> bool:
    if not isinstance(got, float):
        return False
    return got == want if math.isinf(want) else expect.rel_close(got, want, 1e-9, 0.0)


def sweep_mechanics(lrs: list[float], out: dict[str, Any], steps: int) -> None:
    """One fresh model per rate, each with its own optimizer built with exactly that rate
    over exactly that model's parameters (however grouped), stepped ``steps`` times. What
    those steps did is :func:`sweep_replay`'s to say."""
    n = len(lrs)
    sweep_models(n, out)
    log = _optimizers(out)
    if len(log) != n:
        raise Fail("sweep_no_optimizer", expected=n, found=len(log))
    for k, (lr, entry) in enumerate(zip(lrs, log)):
        got = entry.get("lr")
        if not _same_rate(got, lr):
            shown = got if isinstance(got, float) else (
                got.get("__type__", "?") if isinstance(got, dict) else "?")
            raise Fail("sweep_wrong_lr", run=k + 1, expected=f"{lr:.6g}", found=shown)
        owners = entry.get("owners")
        # The k-th optimizer holds all 4 parameters of the k-th model, built just before it,
        # in any order and any grouping.
        want = [[k, j] for j in range(4)]
        held = sorted(owners) if isinstance(owners, list) and all(
            isinstance(o, list) and all(type(i) is int for i in o) for o in owners) else None
        if held != want or entry.get("n_params") != 4 or entry.get("built_before") != k + 1:
            raise Fail("sweep_optimizer_params", run=k + 1, lr=f"{lr:.6g}")
        if entry.get("steps") != steps:
            raise Fail("sweep_step_count", run=k + 1, expected=steps, found=entry.get("steps"))


def _sweep_shapes(hidden: int) -> list[tuple[int, ...]]:
    return [(hidden, 784), (hidden,), (10, hidden), (10,)]


def sweep_replay(out: dict[str, Any], k: int, lr: float,
                 steps_batches: list[tuple[torch.Tensor, torch.Tensor]], hidden: int,
                 asked: bool, steps: int, device: str = "cpu", every: int = 1
                 ) -> replay.Replay:
    """Run ``k`` of a sweep was a real SGD run from its first recorded weights: at ``lr``
    (``asked``) or at the rates its optimizer's groups held (not ``asked``). Returns what the
    grader computed along it; a Fail naming the first step that did not happen as recorded."""
    log = _optimizers(out)
    final = out.get("final")
    if k >= len(log) or not isinstance(final, list) or k >= len(final):
        raise Fail("sweep_no_optimizer", expected=k + 1, found=len(log))
    entry = log[k]
    if entry.get("steps") != steps:
        raise Fail("sweep_step_count", run=k + 1, expected=steps, found=entry.get("steps"))
    try:
        run = replay.read_run(entry, final[k], _sweep_shapes(hidden), every)
    except replay.Garbled:
        raise Fail("sweep_record_unreadable", run=k + 1) from None
    done = replay.replay(run, steps_batches, run.snapshots[0], lr if asked else None,
                         device=device)
    if isinstance(done, replay.Break):
        explain_break(done, run, lr, SWEEP_BREAK_KEYS, asked, run=k + 1, lr=f"{lr:.6g}")
    return done  # type: ignore[return-value]


#: message keys of what a broken record shows, per task (``missed``: nothing it shows)
SWEEP_BREAK_KEYS = {"no_grads": "sweep_step_without_grads", "lr_changed": "sweep_lr_changed",
                    "options": "sweep_optimizer_options", "missed": "sweep_steps_not_sgd"}
CLIP_BREAK_KEYS = {"no_grads": "clip_no_grads", "lr_changed": "clip_lr_changed",
                   "missed": "clip_steps_not_sgd"}


def explain_break(brk: replay.Break, record: replay.Run, rate: float, keys: dict[str, str],
                  rate_asked: bool = True, /, **values: Any) -> None:
    """The most likely reason a run's record is not a real run, as a teaching Fail: the first
    step of the broken segment that ``step()`` found without gradients, at another rate than
    ``rate`` (when ``rate_asked``) or, where ``keys`` has ``options``, not plain SGD; else the
    segment and how far it missed. ``values``: what every message of ``keys`` names (the
    arguments before them are positional only: messages name ``run`` and ``lr`` too)."""
    for s in range(brk.start, min(brk.end, len(record.lrs))):
        if record.with_grad[s] == 0:
            raise Fail(keys["no_grads"], step=s + 1, **values)
        if rate_asked and not all(_same_rate(v, rate) for v in record.lrs[s]):
            found = next(v for v in record.lrs[s] if not _same_rate(v, rate))
            raise Fail(keys["lr_changed"], step=s + 1, found=f"{found:.6g}",
                       expected=f"{rate:.6g}", **values)
        if "options" in keys and not record.plain[s]:
            raise Fail(keys["options"], **values)
    error = "∞" if math.isinf(brk.error) else f"{brk.error:.2g}"
    raise Fail(keys["missed"], first=brk.start + 1, last=max(brk.end, brk.start + 1),
               error=error, **values)


def seeded_sweep_init(seed: int, hidden: int) -> list[torch.Tensor]:
    """The parameters ``torch.manual_seed(seed); sweep_net(hidden)`` gives, drawn the way
    ``nn.Linear`` draws them (``reset_parameters``: Kaiming-uniform weights with
    ``a=sqrt(5)``, biases uniform in +-1/sqrt(fan_in), layer by layer) but from a generator of
    its own. Seeding torch's global generator here would race with every other verdict of
    this process: ``autograde`` judges several students at once in threads, and one of them
    drawing between another's ``manual_seed`` and its draws gave the reference "seed not
    used" (seen once in a class of 20). ``tests/test_replay.py`` checks these equal
    ``sweep_net``'s under the global seed."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in ((784, hidden), (hidden, 10)):
        weight, bias = torch.empty(fan_out, fan_in), torch.empty(fan_out)
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(fan_in)
        nn.init.uniform_(bias, -bound, bound, generator=gen)
        params += [weight, bias]
    return params


def sweep_same_seed(out: dict[str, Any], seed: int, hidden: int) -> None:
    """Every run starts training from the weights ``torch.manual_seed(seed); make_model()``
    gives: the weights the optimizer found at its first ``step()`` (or, for a run that never
    stepped, those the model was built with)."""
    want = seeded_sweep_init(seed, hidden)
    shapes = [tuple(w.shape) for w in want]
    initial = out.get("initial") if isinstance(out.get("initial"), list) else []
    log = out.get("optimizers") if isinstance(out.get("optimizers"), list) else []
    first = None
    for k, params in enumerate(initial):
        entry = log[k] if k < len(log) and isinstance(log[k], dict) else {}
        snaps = entry.get("snaps")
        if isinstance(snaps, list) and snaps and isinstance(snaps[0], list) and len(
                snaps[0]) == 2 and snaps[0][0] == 0:
            params = snaps[0][1]
        if not isinstance(params, list) or len(params) != len(want) or any(
            type(p) is not torch.Tensor or tuple(p.shape) != s for p, s in zip(params, shapes)
        ):
            raise Fail("sweep_models_count", expected=len(initial), found="?")
        if first is None:
            first = params
        elif not all(torch.equal(a, b) for a, b in zip(first, params)):
            raise Fail("sweep_init_differs", run=k + 1)
    if first is not None and not all(torch.equal(a, b) for a, b in zip(first, want)):
        raise Fail("sweep_seed_not_used", seed=seed)


def sweep_train_loss(reported: list[float], losses: list[float], per_epoch: int, k: int,
                     lr: float) -> None:
    """Each epoch's ``train_loss`` is the mean of that epoch's batch losses (the grader's,
    along the run's own steps); a diverged epoch is reported as not finite."""
    for epoch, (got, want) in enumerate(zip(reported, replay.epoch_means(losses, per_epoch))):
        if not math.isfinite(want):
            if math.isfinite(got):
                raise Fail("sweep_diverged_not_reported", run=k + 1, lr=f"{lr:.6g}",
                           epoch=epoch + 1, found=f"{got:.6g}")
            continue
        if not expect.rel_close(got, want, 1e-4, 1e-6):
            raise Fail("sweep_train_loss_wrong", run=k + 1, lr=f"{lr:.6g}", epoch=epoch + 1,
                       found=f"{got:.6g}", expected=f"{want:.6g}")


def sweep_val_acc(got: float, params: list[torch.Tensor] | None, X: torch.Tensor,
                  y: torch.Tensor, k: int, epoch: int, lr: float) -> None:
    """``val_acc`` of an epoch is the accuracy of the weights at its end (ties allowed)."""
    if params is None:  # no copy at the epoch's end: not a record the spy wrote
        raise Fail("sweep_record_unreadable", run=k + 1)
    low, high = accuracy_bounds(replay.pairs(params), X, y)
    if not low - 1e-6 <= got <= high + 1e-6:
        raise Fail("sweep_val_acc_wrong", run=k + 1, lr=f"{lr:.6g}", epoch=epoch + 1,
                   found=f"{got:.4f}", expected=f"{(low + high) / 2:.4f}")


def sweep_modes(calls: Any, X_val: torch.Tensor, batch: int, n: int) -> None:
    """Every forward pass over a validation batch ran in ``eval()`` with autograd off, and
    each run saw the validation set."""
    val = [float(X_val[i:i + batch].double().sum()) for i in range(0, X_val.shape[0], batch)]
    if not isinstance(calls, list):
        return
    for k, model_calls in enumerate(calls[:n]):
        seen = 0
        for call in model_calls if isinstance(model_calls, list) else []:
            if not (isinstance(call, list) and len(call) == 4 and isinstance(call[2], float)):
                continue
            if not any(abs(call[2] - f) <= 1e-6 * abs(f) for f in val):
                continue
            seen += 1
            if call[0] is True:
                raise Fail("sweep_val_train_mode", run=k + 1)
            if call[1] is True:
                raise Fail("sweep_val_with_grad", run=k + 1)
        if seen == 0:
            raise Fail("sweep_val_not_measured", run=k + 1)


def sweep_histories(value: Any, n: int, epochs: int) -> list[dict[str, list[float]]]:
    """The list ``lr_sweep`` returned: ``n`` dicts of ``epochs`` floats per key."""
    if expect.is_bad(value) or not isinstance(value, list):
        found = value.get("__type__", "?") if isinstance(value, dict) else type(value).__name__
        raise Fail("expected_list", what="lr_sweep(...)", found=found)
    if len(value) != n:
        raise Fail("wrong_length", what="lr_sweep(...)", expected=n, found=len(value))
    runs = []
    for k, item in enumerate(value):
        run = _records(item, ("train_loss", "val_acc"), f"lr_sweep(...)[{k}]")
        for key in ("train_loss", "val_acc"):
            if len(run[key]) != epochs:
                raise Fail("wrong_length", what=f'lr_sweep(...)[{k}]["{key}"]',
                           expected=epochs, found=len(run[key]))
        if not all(math.isfinite(a) and 0.0 <= a <= 1.0 for a in run["val_acc"]):
            raise Fail("sweep_val_acc_range", run=k + 1)
        runs.append(run)
    return runs


def sweep_pattern(lrs: tuple[float, ...], accs: list[float], min_best: float,
                  max_high: float, gap: float) -> None:
    """Low rate slow, middle best, high rate diverged or no better than a guess."""
    low, mid, high = accs
    shown = ", ".join(f"lr={lr:g}: {'nan' if math.isnan(a) else f'{a:.3f}'}"
                      for lr, a in zip(lrs, accs))
    if not mid >= min_best:  # nan fails too
        raise Fail("sweep_mid_not_learning", lr=f"{lrs[1]:g}", accs=shown,
                   threshold=f"{min_best:.2f}")
    if not (math.isnan(high) or high <= max_high):
        raise Fail("sweep_high_learns", lr=f"{lrs[2]:g}", accs=shown)
    if not (math.isnan(low) or low <= mid - gap):
        raise Fail("sweep_low_not_slow", lr=f"{lrs[0]:g}", accs=shown)


# ------------------------------------------------------------------ exploding


def _forward64(weights: list[torch.Tensor], biases: list[torch.Tensor], X: torch.Tensor,
               act: str):
    h = X.double().reshape(X.shape[0], -1)
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w.T + b
        if i < len(weights) - 1:
            h = expect.HIDDEN[act](h)
    return h


def true_grads(case: dict[str, Any]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Weight and bias gradients of the weighted cross-entropy, float64, grader's own."""
    ws = [w.double().clone().requires_grad_(True) for w in case["weights"]]
    bs = [b.double().clone().requires_grad_(True) for b in case["biases"]]
    loss = F.cross_entropy(_forward64(ws, bs, case["X"], case["act"]), case["y"],
                           weight=case["class_weight"].double())
    grads = torch.autograd.grad(loss, [*ws, *bs])
    return list(grads[: len(ws)]), list(grads[len(ws):])


def verify_norms(case: dict[str, Any], res: Any, what: str) -> list[float]:
    """The student's norms equal the grader's, one per layer; else a Fail naming the mistake."""
    gw, gb = true_grads(case)
    want = [float(g.norm()) for g in gw]
    n = len(want)
    if expect.is_bad(res):
        raise Fail("norms_not_list", what=what, found=res["__type__"])
    if isinstance(res, list) and len(res) == 1 and expect.is_bad(res[0]):
        raise Fail("norms_not_list", what=what, found=res[0]["__type__"])
    norms = expect.float_list(res, None, what)
    total = math.sqrt(sum(float(g.pow(2).sum()) for g in [*gw, *gb]))
    total_w = math.sqrt(sum(w * w for w in want))
    if norms and all(expect.rel_close(v, t, 1e-3) for v in norms for t in (total,)) or (
        norms and all(expect.rel_close(v, total_w, 1e-3) for v in norms)
    ):
        raise Fail("norms_whole_model", what=what, layers=n)
    if len(norms) != n:
        raise Fail("wrong_length", what=what, expected=n, found=len(norms))
    if all(expect.rel_close(v, w, 1e-3) for v, w in zip(norms, want)):
        return norms
    stale = [float((g + 1.0).norm()) for g in gw]
    alternatives = (
        ("norms_of_weights", [float(w.double().norm()) for w in case["weights"]]),
        ("norms_with_bias", [math.hypot(float(g.norm()), float(b.norm()))
                             for g, b in zip(gw, gb)]),
        ("norms_reversed", list(reversed(want))),
        ("norms_grads_not_cleared", stale),
        ("norms_squared", [w * w for w in want]),
    )
    for key, alt in alternatives:
        if all(expect.rel_close(v, a, 1e-3) for v, a in zip(norms, alt)):
            raise Fail(key, what=what)
    raise Fail("norms_mismatch", what=what)


def growth(norms: list[float], min_ratio: float) -> None:
    """Hidden-layer norms grow toward the input: input layer >= ``min_ratio`` x last hidden,
    and no hidden layer below the one after it by more than rounding."""
    hidden = norms[:-1]
    ratio = hidden[0] / hidden[-1] if hidden[-1] > 0 else float("inf")
    if not ratio >= min_ratio:
        raise Fail("norms_no_growth", ratio=f"{ratio:.3g}", threshold=f"{min_ratio:g}")


def verify_grads_kept(case: dict[str, Any], kept: Any) -> None:
    """After ``grad_norms`` the model's weights hold the gradients of that loss in ``.grad``
    (``backward()`` puts them there; ``torch.autograd.grad`` does not, and the notebook's next
    cells read them)."""
    gw, gb = true_grads(case)
    order = [g for pair in zip(gw, gb) for g in pair]
    if not isinstance(kept, list) or len(kept) != len(order):
        raise Fail("norms_grads_not_kept", found="?")
    weights = kept[0::2]
    if all(g is None for g in weights):
        raise Fail("norms_grads_not_kept", found="None")
    for g, want in zip(weights, gw):
        # Compared as vectors: float32 rounding of exploding gradients is large next to
        # their smallest entries.
        if type(g) is not torch.Tensor or tuple(g.shape) != tuple(want.shape) or not float(
                (g.double() - want).norm()) <= 1e-3 * float(want.norm()) + 1e-9:
            raise Fail("norms_grads_not_kept", found="≠")


def _clip_start(inp: dict[str, Any]) -> list[torch.Tensor]:
    """The weights ``train_clipped`` was handed, ``[W0, b0, W1, b1, ...]``, float32."""
    return [t.float() for pair in zip(inp["weights"], inp["biases"]) for t in pair]


def _clip_run(inp: dict[str, Any], out: dict[str, Any], steps: int, every: int) -> replay.Run:
    log = _optimizers(out)
    if len(log) != 1:
        raise Fail("clip_optimizer_count", found=len(log))
    entry = log[0]
    if entry.get("steps") != steps:
        raise Fail("clip_step_count", expected=steps, found=entry.get("steps"))
    try:
        return replay.read_run(entry, out.get("final"),
                               [tuple(t.shape) for t in _clip_start(inp)], every)
    except replay.Garbled:
        raise Fail("clip_record_unreadable") from None


def _explain_clip_step(run: replay.Run, step: int, X: torch.Tensor, y: torch.Tensor,
                       max_norm: float) -> None:
    """Why the gradients a step used were not the clipped ones, from what ``step()`` found
    (only to say what is wrong: passing takes the weights to move as the grader's do)."""
    found = run.grads.get(step)
    if found is None:
        return
    if any(g is None for g in found):
        raise Fail("clip_no_grads", step=step + 1)
    params = run.snapshots[step]
    gw, gb = true_grads({"weights": params[0::2], "biases": params[1::2], "X": X, "y": y,
                         "class_weight": torch.ones(10), "act": "relu"})
    raw = [g for pair in zip(gw, gb) for g in pair]
    raw_norm = replay.grad_norm(raw)
    v = replay.grad_norm(found)  # type: ignore[arg-type]
    if not v <= max_norm * (1 + 1e-4):  # nan fails too
        if expect.rel_close(v, raw_norm, 1e-3):
            raise Fail("clip_not_before_step", step=step + 1, found=f"{v:.4g}",
                       max_norm=f"{max_norm:g}")
        raise Fail("clip_norm_over", step=step + 1, found=f"{v:.4g}", max_norm=f"{max_norm:g}")
    got = torch.cat([g.double().flatten() for g in found])  # type: ignore[union-attr]
    want = torch.cat([g.flatten() for g in raw]) * min(1.0, max_norm / (raw_norm + 1e-6))
    if not expect.close(got, want, 1e-3, 1e-6 * max_norm):
        cos = float(got @ want / (got.norm() * want.norm() + 1e-30))
        if cos < 1 - 1e-4:
            raise Fail("clip_direction_changed", cos=f"{cos:.4f}")
        raise Fail("clip_wrong_scale", found=f"{float(got.norm()):.4g}",
                   max_norm=f"{max_norm:g}")


def verify_clipping(inp: dict[str, Any], out: dict[str, Any], batch: int, lr: float,
                    max_norm: float, device: str = "cpu") -> None:
    """Every ``step()`` found the raw gradient scaled to ``max_norm`` (same direction), the
    weights moved by ``lr`` times that and nothing else (checked step by step from the
    weights copied at each ``step()``), and the log reports each batch's loss and raw norm."""
    steps = inp["X"].shape[0] // batch
    run = _clip_run(inp, out, steps, every=1)
    data = batches(inp["X"], inp["y"], batch)
    start = _clip_start(inp)
    # What step() found first, to name the mistake; then what the weights did, to pay.
    for s in range(steps):
        if s in run.snapshots:
            _explain_clip_step(run, s, *data[s % len(data)], max_norm)
    done = replay.replay(run, data, start, lr, max_norm, device=device)
    if isinstance(done, replay.Break):
        explain_break(done, run, lr, CLIP_BREAK_KEYS)
    rec = _records(out.get("log"), ("loss", "grad_norm"), "train_clipped(...)")
    for key in ("loss", "grad_norm"):
        if len(rec[key]) != steps:
            raise Fail("wrong_length", what=f'train_clipped(...)["{key}"]', expected=steps,
                       found=len(rec[key]))
    for s, (loss, norm) in enumerate(zip(done.losses, done.norms)):  # type: ignore[union-attr]
        if not expect.rel_close(rec["grad_norm"][s], norm, 1e-3):
            raise Fail("clip_reported_norm", step=s + 1, found=f"{rec['grad_norm'][s]:.4g}",
                       expected=f"{norm:.4g}")
        if not expect.rel_close(rec["loss"][s], loss, 1e-4, 1e-6):
            raise Fail("clip_reported_loss", step=s + 1, found=f"{rec['loss'][s]:.6g}",
                       expected=f"{loss:.6g}")


def verify_rescue(inp: dict[str, Any], out: dict[str, Any],
                  data: list[tuple[torch.Tensor, torch.Tensor]], lr: float, max_norm: float,
                  min_acc: float, device: str = "cpu", every: int = 1) -> None:
    """The high-rate run really was clipped SGD at ``lr`` from the given weights (every
    segment between the copies taken again by the grader), and the weights it ended with
    learned (grader-measured test accuracy)."""
    run = _clip_run(inp, out, len(data), every)
    done = replay.replay(run, data, _clip_start(inp), lr, max_norm, device=device)
    if isinstance(done, replay.Break):
        explain_break(done, run, lr, CLIP_BREAK_KEYS)
    acc = test_accuracy(replay.pairs(run.final))
    if not acc >= min_acc:
        raise Fail("clip_did_not_rescue", acc="nan" if math.isnan(acc) else f"{acc:.3f}",
                   threshold=f"{min_acc:.2f}")
