"""Probe-side helpers: turn whatever student code returned into plain data.

Nothing here decides anything. Values of an unexpected type are reported as
``{"__type__": "<name>"}`` so the verdict can say what it got; exact types are
tested with ``type(x) is ...`` so subclasses and look-alikes never pass as tensors.
"""

from __future__ import annotations

import collections
from typing import Any

import torch
import torch.nn as nn

TYPE_TAG = "__type__"
MAX_LIST = 10_000
TRACE_ROWS = 16  # rows of each traced Linear input/output (enough to tell activations apart)
TRACE_CALLS = 64


def type_name(value: Any) -> str:
    """``module.QualName`` of the value's real type, defensively."""
    cls = type(value)
    try:
        mod = type.__getattribute__(cls, "__module__")
        name = type.__getattribute__(cls, "__qualname__")
    except Exception:
        return "?"
    text = name if mod == "builtins" else f"{mod}.{name}"
    if isinstance(value, torch.Tensor) and cls is not torch.Tensor:
        text += " (subclase de torch.Tensor / torch.Tensor subclass)"
    return str(text)[:120]


def bad(value: Any, /, **extra: Any) -> dict[str, Any]:
    # ``value`` is positional-only so callers can report ``value=...`` in ``extra``.
    return {TYPE_TAG: type_name(value), **extra}


def plain_tensor(value: Any) -> Any:
    """A detached CPU copy if ``value`` is exactly a dense ``torch.Tensor``; else a type tag."""
    if type(value) is torch.Tensor and value.layout is torch.strided:
        return torch.Tensor.detach(value).to("cpu").clone()
    return bad(value)


def number(value: Any) -> Any:
    """A Python float for int/float values; a type tag (with the value, if any) otherwise."""
    if type(value) in (float, int):
        return float(value)
    if type(value) is torch.Tensor and value.numel() == 1:
        return bad(value, value=float(torch.Tensor.detach(value).cpu().reshape(())))
    if type(value) is bool:
        return bad(value)
    try:
        import numpy as np

        if type(value) is np.float64:
            # a subclass of Python's float, converted losslessly: ``np.mean(losses)`` is a
            # fine history value. Other numpy scalars (float32, ints) stay tagged.
            return float.__float__(value)
        if isinstance(value, np.floating | np.integer) and type(value).__module__ == "numpy":
            return bad(value, value=float(value))
    except Exception:
        pass
    return bad(value)


def numbers(values: Any) -> Any:
    """A list of :func:`number` for a list/tuple (up to 10,000 items); a type tag otherwise."""
    if type(values) not in (list, tuple):
        return bad(values)
    return [number(v) for v in values[:MAX_LIST]]


#: what counts as "a dict": the built-in one and the standard library's dict subclasses
#: (``defaultdict(list)`` is a common way to build a history); exact types, read through
#: ``dict``'s own methods, so a look-alike that overrides them cannot pass.
DICT_TYPES = (dict, collections.defaultdict, collections.OrderedDict)


def capture_records(value: Any, keys: tuple[str, ...]) -> Any:
    """A dict of number lists (a training history, a run's log) as plain data: ``__keys__``
    (its first 20 keys, as text) and each of ``keys`` it has as :func:`numbers`; a type tag if
    it is not a dict. The one capture of such dicts, for every task and the experiments; the
    verdicts read it with :func:`grader.checks.expect.float_lists`."""
    if type(value) not in DICT_TYPES:
        return bad(value)
    present = list(dict.keys(value))
    report: dict[str, Any] = {"__keys__": sorted(str(k) for k in present[:20])}
    for key in keys:
        if dict.__contains__(value, key):
            report[key] = numbers(dict.__getitem__(value, key))
    return report


def _param(value: Any) -> Any:
    """A parameter's data as a plain tensor (``nn.Parameter`` itself is a subclass)."""
    if isinstance(value, nn.Parameter) and type(value) is nn.Parameter:
        return plain_tensor(value.data)
    return plain_tensor(value)


def linear_layers(model: Any) -> list[nn.Linear]:
    if not isinstance(model, nn.Module):
        return []
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def capture_mlp(model: Any, x: torch.Tensor | None = None, grad: bool = False) -> dict[str, Any]:
    """Weights of every ``nn.Linear`` in the order the forward pass calls them.

    Returns plain data: ``linears`` (list of ``[W, b]``, ``b`` may be ``None``),
    ``order`` (indices into registration order, one per call), ``n_params``,
    ``modules`` (type names), and, when ``x`` is given, ``out`` (the forward's output)
    and ``trace``: per call, ``[input, output]`` of that Linear (first ``TRACE_ROWS`` rows,
    copied before any in-place activation), so a verdict can tell which activation sits
    between two layers.
    """
    if not isinstance(model, nn.Module):
        return {"model": bad(model)}
    layers = linear_layers(model)
    report: dict[str, Any] = {
        "model": "ok",
        "n_params": int(sum(p.numel() for p in model.parameters())),
        "modules": [type_name(m) for m in model.modules()][:200],
        "registered": len(layers),
    }
    order: list[int] = []
    trace: list[list[Any]] = []

    def rows(value: Any) -> Any:
        if type(value) is torch.Tensor and value.dim() >= 1:
            return plain_tensor(value[:TRACE_ROWS])
        return bad(value)

    def record(i: int, inputs: Any, output: Any) -> None:
        order.append(i)
        if len(trace) < TRACE_CALLS and type(inputs) is tuple and inputs:
            try:  # tracing is a diagnosis aid: it must never break the student's forward
                trace.append([rows(inputs[0]), rows(output)])
            except Exception:
                trace.append([bad(None), bad(None)])

    handles = []
    for i, layer in enumerate(layers):
        handles.append(layer.register_forward_hook(lambda _m, a, o, i=i: record(i, a, o)))
    if x is not None:
        try:
            with torch.set_grad_enabled(grad):
                result = model(x)
        finally:
            for h in handles:
                h.remove()
        if type(result) in (tuple, list):
            report["out"] = [plain_tensor(r) if isinstance(r, torch.Tensor) else
                             numbers(r) for r in result][:4]
            report["out_is_tuple"] = True
        else:
            report["out"] = plain_tensor(result)
            report["out_is_tuple"] = False
    else:
        for h in handles:
            h.remove()
    used = order if order else list(range(len(layers)))
    report["order"] = order[:1000]
    if x is not None:
        report["trace"] = trace
    report["linears"] = [
        [_param(layers[i].weight), None if layers[i].bias is None else _param(layers[i].bias)]
        for i in used[:1000]
    ]
    return report
