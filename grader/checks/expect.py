"""Verdict-side helpers: read probe data defensively and fail with teaching messages.

Also the grader's own oracle for MLPs: given the weights a probe reported, compute
what a network of a stated kind would output, in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks.base import Fail
from grader.checks.capture import TYPE_TAG
from grader.data import mnist_tensors
from grader.training import accuracy


def is_bad(value: Any) -> bool:
    return isinstance(value, dict) and TYPE_TAG in value


def tensor(value: Any, what: str) -> torch.Tensor:
    """``value`` as a plain tensor or a Fail naming what came instead."""
    if type(value) is torch.Tensor:
        return value
    found = value[TYPE_TAG] if is_bad(value) else type(value).__name__
    raise Fail("expected_tensor", what=what, found=found)


def shape(value: torch.Tensor, expected: Sequence[int], what: str) -> None:
    if tuple(value.shape) != tuple(expected):
        raise Fail("wrong_shape", what=what, expected=tuple(expected), found=tuple(value.shape))


def dtype(value: torch.Tensor, expected: torch.dtype, what: str) -> None:
    if value.dtype != expected:
        raise Fail("wrong_dtype", what=what, expected=str(expected).removeprefix("torch."),
                   found=str(value.dtype).removeprefix("torch."))


def finite(value: torch.Tensor, what: str) -> None:
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise Fail("not_finite", what=what)


def float_list(value: Any, length: int | None, what: str, *, finite: bool = True) -> list[float]:
    """A list of Python floats of that length (``None``: any), with a hint for tensors;
    ``finite``: no nan or inf among them."""
    if is_bad(value) or not isinstance(value, list):
        found = value[TYPE_TAG] if is_bad(value) else type(value).__name__
        raise Fail("expected_list", what=what, found=found)
    for item in value:
        if is_bad(item):
            if "Tensor" in item[TYPE_TAG]:
                raise Fail("list_of_tensors", what=what)
            raise Fail("expected_float_items", what=what, found=item[TYPE_TAG])
        if not isinstance(item, float):
            raise Fail("expected_float_items", what=what, found=type(item).__name__)
    if length is not None and len(value) != length:
        raise Fail("wrong_length", what=what, expected=length, found=len(value))
    if finite and not all(math.isfinite(item) for item in value):
        raise Fail("not_finite", what=what)
    return value


def float_lists(value: Any, keys: Sequence[str], what: str, length: int | None = None, *,
                finite: bool = True, history: bool = False) -> dict[str, list[float]]:
    """A dict of float lists as the probe captured it (:func:`grader.checks.capture.
    capture_records`: a training history, a sweep's runs, a clipped run's log): each of
    ``keys`` a :func:`float_list` named ``what["key"]``, read key after key (``length`` items
    if given; ``finite``: no nan or inf); else a Fail that says what is off. ``history``: a
    dict that is not one, or lacks keys, gets the training history's own messages (they say
    what a history holds, so they name no ``what``)."""
    if is_bad(value) or not isinstance(value, dict):
        found = value.get(TYPE_TAG, "?") if isinstance(value, dict) else type(value).__name__
        if history:
            raise Fail("history_not_dict", found=found)
        raise Fail("expected_dict", what=what, found=found)
    missing = [k for k in keys if k not in value]
    if missing:
        have = ", ".join(str(k) for k in value.get("__keys__", [])) or "-"
        if history:
            raise Fail("history_missing_keys", missing=", ".join(missing), found=have)
        raise Fail("dict_missing_keys", what=what, missing=", ".join(missing), found=have)
    return {key: float_list(value[key], length, f'{what}["{key}"]', finite=finite)
            for key in keys}


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Elementwise closeness in float64, same shape required (no broadcasting)."""
    if tuple(a.shape) != tuple(b.shape):
        return False
    a64, b64 = a.double(), b.double()
    if not bool(torch.isfinite(a64).all()):
        return False
    return bool(((a64 - b64).abs() <= atol + rtol * b64.abs()).all())


def rel_close(a: float, b: float, rtol: float = 1e-4, atol: float = 1e-7) -> bool:
    return math.isfinite(a) and abs(a - b) <= atol + rtol * abs(b)


# ----------------------------------------------------------------- MLP oracle

HIDDEN: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda z: z,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
    "elu": F.elu,
}
OUTPUT: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "none": lambda z: z,
    "sigmoid": torch.sigmoid,
    "softmax": lambda z: torch.softmax(z, dim=1),
    "log_softmax": lambda z: torch.log_softmax(z, dim=1),
    "relu": torch.relu,
}


#: What any task's net can need, with margin: the oracle refuses reports beyond these before
#: it allocates anything, so a forged report (a 2**20-wide or zero-wide layer, hundreds of
#: layers) costs the grader nothing. The largest nets the tasks build: 16 Linear layers
#: (init_schemes, depth 15), 784 features (MNIST), 243,000 weights (depth 15, width 128).
#: tests/test_hardening.py checks every configuration of every task stays within them.
MAX_LAYERS = 64
MAX_WIDTH = 1024
MAX_WEIGHTS = 1_000_000
#: Linear calls a trace may hold that the oracle looks at (the capture keeps at most 64)
MAX_TRACE = MAX_LAYERS


def linears(report: dict[str, Any], what: str) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """The ``[W, b]`` pairs a :func:`capture_mlp` report holds, checked for type and size.

    Every weight is 2-D with sizes from 1 to ``MAX_WIDTH``, every bias 1-D and as long as its
    weight has rows, at most ``MAX_LAYERS`` layers and ``MAX_WEIGHTS`` weights in all:
    nothing the oracle later computes from them can be large.
    """
    if not isinstance(report, dict):
        raise Fail("not_a_module", what=what, found=type(report).__name__)
    if report.get("model") != "ok":
        model = report.get("model")
        found = model.get(TYPE_TAG, "?") if isinstance(model, dict) else "?"
        raise Fail("not_a_module", what=what, found=found)
    layers = report.get("linears")
    if not isinstance(layers, list) or not layers:
        raise Fail("no_linear_layers", what=what)
    if len(layers) > MAX_LAYERS:
        raise Fail("oracle_too_many_layers", what=what, found=len(layers), limit=MAX_LAYERS)
    pairs = []
    total = 0
    for i, pair in enumerate(layers):
        if not isinstance(pair, list) or len(pair) != 2:
            raise Fail("oracle_layer_shape", what=what, layer=i + 1, found="?",
                       limit=MAX_WIDTH)
        w = tensor(pair[0], f"{what}: peso/weight #{i}")
        b = None if pair[1] is None else tensor(pair[1], f"{what}: bias #{i}")
        if (w.dim() != 2 or not all(1 <= n <= MAX_WIDTH for n in w.shape)
                or (b is not None and tuple(b.shape) != (w.shape[0],))):
            found = tuple(w.shape) if b is None else f"{tuple(w.shape)} + {tuple(b.shape)}"
            raise Fail("oracle_layer_shape", what=what, layer=i + 1, found=found,
                       limit=MAX_WIDTH)
        total += w.numel()
        if total > MAX_WEIGHTS:
            raise Fail("oracle_too_many_weights", what=what, limit=f"{MAX_WEIGHTS:,}")
        pairs.append((w, b))
    return pairs


def layer_shapes(pairs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> list[tuple[int, int]]:
    """``(in_features, out_features)`` per layer, in call order."""
    return [(int(w.shape[1]), int(w.shape[0])) if w.dim() == 2 else (-1, -1) for w, _ in pairs]


def mlp_forward(
    pairs: list[tuple[torch.Tensor, torch.Tensor | None]],
    x: torch.Tensor,
    hidden: str,
    output: str = "none",
    collect: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """The oracle: Linear, activation, ..., Linear, output map, in float64."""
    h = x.double().reshape(x.shape[0], -1)
    act = HIDDEN[hidden]
    for i, (w, b) in enumerate(pairs):
        h = h @ w.double().T
        if b is not None:
            h = h + b.double()
        if i < len(pairs) - 1:
            h = act(h)
            if collect is not None:
                collect.append(h)
    return OUTPUT[output](h)


def identify_forward(
    pairs: list[tuple[torch.Tensor, torch.Tensor | None]], x: torch.Tensor, out: torch.Tensor,
    rtol: float = 1e-4, atol: float = 1e-5,
) -> tuple[str, str] | None:
    """Which (hidden activation, output map) reproduces ``out`` from the weights, if any."""
    for hidden in HIDDEN:
        for output in OUTPUT:
            try:
                ref = mlp_forward(pairs, x, hidden, output)
            except RuntimeError:
                return None  # shapes do not chain: not an MLP we can reproduce
            if close(out, ref, rtol, atol):
                return hidden, output
    return None


def first_wrong_hidden(
    report: dict[str, Any], hidden: str, rtol: float = 1e-4, atol: float = 1e-5
) -> tuple[int, str] | None:
    """From a report's ``trace``: the first hidden layer (1-based) whose activation is not
    ``hidden``, and the activation it behaves like; ``None`` when that cannot be told.

    Between two consecutive Linear calls, the next layer's input must be the activation of
    the previous layer's output: that is judged per layer, so a net that mixes activations
    (one sigmoid left among ReLUs) is named precisely.
    """
    trace = report.get("trace")
    if not isinstance(trace, list) or len(trace) < 2:
        return None
    trace = trace[:MAX_TRACE]
    if not all(isinstance(item, list) and len(item) == 2 for item in trace):
        return None
    for k in range(len(trace) - 1):
        z, nxt = trace[k][1], trace[k + 1][0]
        if type(z) is not torch.Tensor or type(nxt) is not torch.Tensor:
            return None
        if z.numel() != nxt.numel() or z.dim() < 1:
            return None
        z = z.double().reshape(z.shape[0], -1)
        nxt = nxt.double().reshape(z.shape)
        if close(nxt, HIDDEN[hidden](z), rtol, atol):
            continue
        for name, act in HIDDEN.items():
            if name != hidden and close(nxt, act(z), rtol, atol):
                return k + 1, name
        return None
    return None


def expect_forward(
    report: dict[str, Any], x: torch.Tensor, hidden: str, output: str, what: str,
    rtol: float = 1e-4, atol: float = 1e-5,
) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """Fail unless the reported output is exactly that kind of MLP of the reported weights."""
    pairs = linears(report, what)
    out = report.get("out")
    if isinstance(out, list):
        out = out[0] if out else None
    out = tensor(out, f"{what}(x)")
    expected_rows = x.shape[0]
    if out.dim() != 2 or out.shape[0] != expected_rows:
        raise Fail("wrong_shape", what=f"{what}(x)", expected=f"({expected_rows}, …)",
                   found=tuple(out.shape))
    finite(out, f"{what}(x)")
    try:
        ref = mlp_forward(pairs, x, hidden, output)
    except RuntimeError:
        raise Fail("layers_do_not_chain", what=what, shapes=layer_shapes(pairs)) from None
    if close(out, ref, rtol, atol):
        return pairs
    found = identify_forward(pairs, x, out, rtol, atol)
    if found is None:
        wrong = first_wrong_hidden(report, hidden, rtol, atol)
        if wrong is not None:
            raise Fail("wrong_hidden_activation_layer", what=what, layer=wrong[0],
                       expected=hidden, found=wrong[1])
        raise Fail("forward_mismatch", what=what, hidden=hidden)
    got_hidden, got_output = found
    if got_hidden != hidden:
        raise Fail("wrong_hidden_activation", what=what, expected=hidden, found=got_hidden)
    raise Fail(f"wrong_output_{'logits' if output == 'none' else 'map'}", what=what,
               expected=output, found=got_output)


def finite_pairs(pairs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> bool:
    return all(bool(torch.isfinite(w).all()) and (b is None or bool(torch.isfinite(b).all()))
               for w, b in pairs)


def mnist_test_accuracy(pairs: list) -> float:
    """MNIST test accuracy of the ReLU MLP of ``pairs`` in float64; ``nan`` if it diverged."""
    if not finite_pairs(pairs):
        return float("nan")
    X, y = mnist_tensors("test")
    try:
        return accuracy(lambda xb: mlp_forward(pairs, xb, "relu"), X, y)
    except RuntimeError:
        raise Fail("layers_do_not_chain", what="model", shapes=layer_shapes(pairs)) from None
