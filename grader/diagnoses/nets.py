"""Detectors of the architecture and forward checks (:mod:`grader.checks.nets`, the trained nets
of :mod:`grader.checks.learning`, ``DeepMLP_i`` and ``DeepMLPI`` of :mod:`grader.checks.init_schemes`
and :mod:`grader.checks.he_init`).

Every such check reports nets the same way (:func:`grader.checks.capture.capture_mlp`): the
``nn.Linear`` layers registered on the module (in the order the forward calls them), how many
are registered, the parameter count, and with an input the output and, per Linear call, its
input and output rows (``trace``). From that:

- the layer shapes against MLPs of the asked sizes with one hidden layer more or fewer, or
  another width;
- layers missing from the module's registry: fewer registered layers than asked, while the
  forward output is not what the registered ones compute (a Python list holds the rest);
- between two Linear calls, the activation the net applied, told elementwise from the
  rows traced (a broad family of activations, and any other monotone function as unnamed);
- after the last Linear call, what the forward did to the logits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks import expect
from grader.checks.capture import TRACE_ROWS
from grader.checks.nets import NETS, mlp_shapes
from grader.diagnoses.base import Evidence

# ------------------------------------------------------------------ the nets a check holds


@dataclass
class Case:
    """One net of a check: its report, the input it ran on (``None``: built only), the
    forward asked for, and its sizes ``(in_dim, out_dim, width, depth)``."""

    report: Any
    x: torch.Tensor | None
    hidden: str
    output: str
    dims: tuple[int, int, int, int]
    what: str

    @property
    def want(self) -> list[tuple[int, int]]:
        return mlp_shapes(*self.dims)


def _net_dims(task: str, cfg: dict[str, Any]) -> tuple[int, int, int, int]:
    if task == "ce_net":
        return 784, 10, int(cfg["width"]), 1
    if task == "deep_net":
        return int(cfg["input_dim"]), 2, int(cfg["hidden_units"]), int(cfg["depth"])
    return int(cfg["in_dim"]), int(cfg["out_dim"]), int(cfg["width"]), int(cfg["depth"])


def cases(ev: Evidence) -> list[Case]:
    """The nets of the check ``ev`` belongs to (empty for a check that holds none)."""
    return ev.memo("net_cases", lambda: _cases(ev))


def _listed(value: Any, n: int) -> list[Any]:
    return list(value)[:n] if isinstance(value, list) else []


def _cases(ev: Evidence) -> list[Case]:
    check, inp, out = ev.check, ev.inp, ev.out
    name = check.name
    module = type(check).__module__
    if module == "grader.checks.nets" and name in ("structure", "logits_forward", "forward"):
        spec = NETS[check.task]
        hidden, output = spec["kind"]
        reports = _listed(out.get("reports"), len(spec["configs"]))
        xs = inp.get("x") if name != "structure" else None
        return [Case(r, xs[i] if xs else None, hidden, output, _net_dims(check.task, cfg),
                     check.describe(cfg))
                for i, (cfg, r) in enumerate(zip(spec["configs"], reports))]
    if module == "grader.checks.nets" and name == "first_layer_gradients":
        return [Case(out.get("report"), inp.get("x"), "relu", "none",
                     _net_dims(check.task, check.cfg), "DeepMLPR(784, 10, 64, 4)")]
    if module == "grader.checks.learning" and name == "mnist_short_run":
        width = 256 if check.task in ("onehot_mse", "ce_net") else 64
        depth = 1 if check.task in ("onehot_mse", "ce_net") else 4
        return [Case(out.get("model"), inp.get("x"), check.hidden, check.output,
                     (784, 10, width, depth), check.what)]
    if module == "grader.checks.learning" and name == "parity_8_bits":
        return [Case(out.get("model"), inp.get("X_test"), "relu", "none", (8, 2, 32, 4),
                     "DeepNet(8, 32, 4)")]
    if module == "grader.checks.init_schemes":
        from grader.checks.init_schemes import CONFIGS, describe_i

        reports = _listed(out.get("reports"), len(CONFIGS))
        xs = inp.get("x") or []
        scheme = getattr(check, "scheme", "he")
        return [Case(r, xs[i] if i < len(xs) else None, "relu", "none",
                     (c["in_dim"], c["out_dim"], c["width"], c["depth"]), describe_i(scheme, c))
                for i, (c, r) in enumerate(zip(CONFIGS, reports))]
    if module == "grader.checks.he_init":
        from grader.checks.he_init import HE_CONFIGS

        reports = _listed(out.get("reports"), len(HE_CONFIGS))
        return [Case(r, None, "relu", "none", (c["in_dim"], c["out_dim"], c["width"], c["depth"]),
                     "DeepMLPI({in_dim}, {out_dim}, {width}, {depth})".format(**c))
                for c, r in zip(HE_CONFIGS, reports)]
    return []


def pairs_of(case: Case) -> list[tuple[torch.Tensor, torch.Tensor | None]] | None:
    try:
        return expect.linears(case.report, case.what)
    except Exception:
        return None


def _output(case: Case) -> torch.Tensor | None:
    out = case.report.get("out") if isinstance(case.report, dict) else None
    if isinstance(out, list):
        out = out[0] if out else None
    if type(out) is not torch.Tensor or out.dim() != 2:
        return None
    return out


# ------------------------------------------------------------------ shapes


def _same_layers(got: list[tuple[int, int]], want: list[tuple[int, int]]) -> bool:
    return got == want or Counter(got) == Counter(want)


def depth_off_by_one(ev: Evidence) -> dict[str, Any] | None:
    """The layers are those of the asked MLP with one hidden layer more or fewer."""
    for case in cases(ev):
        pairs = pairs_of(case)
        if pairs is None:
            continue
        got = expect.layer_shapes(pairs)
        if _same_layers(got, case.want):
            continue
        d_in, d_out, width, depth = case.dims
        for d in (depth - 1, depth + 1):
            if d >= 0 and _same_layers(got, mlp_shapes(d_in, d_out, width, d) if d > 0
                                       else [(d_in, d_out)]):
                return {"what": case.what}
    return None


def width_ignored(ev: Evidence) -> dict[str, Any] | None:
    """The layers are those of the asked MLP, but every hidden layer has another width (a
    fixed number, or another argument, where the width asked for belongs)."""
    for case in cases(ev):
        pairs = pairs_of(case)
        if pairs is None:
            continue
        got = expect.layer_shapes(pairs)
        d_in, d_out, width, depth = case.dims
        if _same_layers(got, case.want) or not got or depth < 1:
            continue
        other = got[0][1]
        if other != width and _same_layers(got, mlp_shapes(d_in, d_out, other, depth)):
            return {"what": case.what}
    return None


def _reproduces(case: Case, pairs: list[tuple[torch.Tensor, torch.Tensor | None]]) -> bool:
    """The reported output is what the registered layers compute, with any activations."""
    out = _output(case)
    if out is None or case.x is None:
        return False
    try:
        return expect.identify_forward(pairs, case.x, out) is not None
    except Exception:
        return False


def layers_not_registered(ev: Evidence) -> dict[str, Any] | None:
    """Fewer ``nn.Linear`` layers are registered on the module than the net uses: those the
    module knows are some of the asked ones, and the output is not what they alone compute
    (with an input), or too few are registered for one hidden layer more or fewer to explain
    it (without one). The others sit in a plain Python list (or dict): invisible to
    ``parameters()``, ``to(device)``, the optimizer and every count."""
    for case in cases(ev):
        report = case.report
        if not isinstance(report, dict) or report.get("model") != "ok":
            continue
        registered = report.get("registered")
        if type(registered) is not int or registered >= len(case.want):
            continue
        out = _output(case)
        if registered == 0:
            if report.get("n_params") == 0 and (case.x is None or out is not None):
                return {"what": case.what}
            continue
        pairs = pairs_of(case)
        if pairs is None:
            continue
        got = expect.layer_shapes(pairs)
        if Counter(got) - Counter(case.want):
            continue  # a layer no asked net has: not a registration problem
        if case.x is not None:
            if out is not None and not _reproduces(case, pairs):
                return {"what": case.what}
        elif len(case.want) - registered >= 2:
            return {"what": case.what}
    return None


# ------------------------------------------------------------------ activations


def _leaky(slope: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda z: F.leaky_relu(z, slope)


#: elementwise activations a hidden layer may apply, by the name a message shows
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda z: z,
    "leaky_relu": _leaky(0.01),
    "leaky_relu(0.1)": _leaky(0.1),
    "leaky_relu(0.2)": _leaky(0.2),
    "prelu(0.25)": _leaky(0.25),
    "gelu": F.gelu,
    "gelu(tanh)": lambda z: F.gelu(z, approximate="tanh"),
    "elu": F.elu,
    "selu": F.selu,
    "celu": F.celu,
    "softplus": F.softplus,
    "silu": F.silu,
    "mish": F.mish,
    "relu6": F.relu6,
    "hardtanh": F.hardtanh,
    "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish,
    "softsign": F.softsign,
    "logsigmoid": F.logsigmoid,
    "tanhshrink": F.tanhshrink,
    "softshrink": F.softshrink,
    "hardshrink": F.hardshrink,
}
#: what the forward may do to the logits (row-wise maps included)
OUTPUT_MAPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "softmax": lambda z: torch.softmax(z, dim=1),
    "log_softmax": lambda z: torch.log_softmax(z, dim=1),
    **{k: v for k, v in ACTIVATIONS.items() if k != "identity"},
}
#: the unnamed kind: an elementwise function the family does not hold
UNNAMED = "?"


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return expect.close(a, b, 1e-4, 1e-5)


def _monotone(z: torch.Tensor, h: torch.Tensor) -> bool:
    """``h`` is a non-decreasing function of ``z``, elementwise (equal ``z``, equal ``h``)."""
    order = torch.argsort(z.flatten())
    hs = h.flatten()[order]
    scale = float(hs.abs().max()) + 1e-12
    return bool((hs[1:] - hs[:-1] >= -1e-5 * scale).all())


def classify(z: torch.Tensor, h: torch.Tensor, family: dict[str, Callable]) -> str | None:
    """The name of the map of ``family`` that turns ``z`` into ``h``; :data:`UNNAMED` for
    another monotone elementwise one; ``None`` when ``h`` is no function of ``z``."""
    if tuple(z.shape) != tuple(h.shape) or z.numel() == 0:
        return None
    for name, fn in family.items():
        try:
            if _close(h, fn(z)):
                return name
        except RuntimeError:
            continue
    return UNNAMED if _monotone(z, h) else None


def hidden_activations(case: Case) -> list[str | None] | None:
    """Per hidden layer (in call order) the activation its output went through before the
    next ``nn.Linear``, from the traced rows; ``None`` without a usable trace."""
    report = case.report
    trace = report.get("trace") if isinstance(report, dict) else None
    if not isinstance(trace, list) or len(trace) < 2:
        return None
    trace = trace[: expect.MAX_TRACE]
    acts: list[str | None] = []
    for k in range(len(trace) - 1):
        item, nxt_item = trace[k], trace[k + 1]
        if not (isinstance(item, list) and len(item) == 2 and isinstance(nxt_item, list)
                and len(nxt_item) == 2):
            return None
        z, nxt = item[1], nxt_item[0]
        if type(z) is not torch.Tensor or type(nxt) is not torch.Tensor or z.dim() < 1:
            return None
        if z.numel() != nxt.numel() or z.numel() > TRACE_ROWS * expect.MAX_WIDTH:
            acts.append(None)
            continue
        z64 = z.double().reshape(z.shape[0], -1)
        acts.append(classify(z64, nxt.double().reshape(z64.shape), ACTIVATIONS))
    return acts


def _layer_acts(ev: Evidence) -> list[tuple[Case, list[str | None]]]:
    def compute() -> list[tuple[Case, list[str | None]]]:
        found = []
        for case in cases(ev):
            if case.x is None:
                continue
            acts = hidden_activations(case)
            if acts is not None:
                found.append((case, acts))
        return found

    return ev.memo("layer_acts", compute)


def _named(values: dict[str, Any]) -> dict[str, Any]:
    """An activation the family does not name picks the message that names none."""
    if values.get("act") == UNNAMED:
        values = {k: v for k, v in values.items() if k != "act"}
        values["_message"] = "unnamed"
    return values


def missing_activation(ev: Evidence) -> dict[str, Any] | None:
    """A hidden layer's output reaches the next layer with no activation at all."""
    for case, acts in _layer_acts(ev):
        if case.hidden != "identity" and "identity" in acts:
            return {"what": case.what, "layer": acts.index("identity") + 1}
    return None


def wrong_activation(ev: Evidence) -> dict[str, Any] | None:
    """Some or all hidden layers apply another activation than the one asked for (named
    when it is a known one)."""
    for case, acts in _layer_acts(ev):
        for k, act in enumerate(acts):
            if act is None or act in (case.hidden, "identity"):
                continue
            return _named({"what": case.what, "layer": k + 1, "act": act, "asked": case.hidden})
    # No usable trace: the whole forward, reproduced with one activation everywhere.
    for case in cases(ev):
        out, pairs = _output(case), pairs_of(case)
        if case.x is None or out is None or pairs is None or _layer_acts(ev):
            continue
        try:
            found = expect.identify_forward(pairs, case.x, out)
        except Exception:
            found = None
        if found is not None and found[0] not in (case.hidden, "identity"):
            return {"what": case.what, "layer": 1, "act": found[0], "asked": case.hidden}
    return None


def activation_on_output(ev: Evidence) -> dict[str, Any] | None:
    """The forward does something to the last layer's output where logits are asked for."""
    for case in cases(ev):
        if case.output != "none" or case.x is None:
            continue
        out = _output(case)
        trace = case.report.get("trace") if isinstance(case.report, dict) else None
        if out is None or not isinstance(trace, list) or not trace:
            continue
        last = trace[-1] if len(trace) < expect.MAX_TRACE else None
        if not (isinstance(last, list) and len(last) == 2 and type(last[1]) is torch.Tensor):
            continue
        z = last[1].double()
        rows = min(z.shape[0], out.shape[0])
        if z.dim() != 2 or tuple(z[:rows].shape) != tuple(out[:rows].shape):
            continue
        z, got = z[:rows], out[:rows].double()
        if _close(got, z):
            continue
        kind = classify(z, got, OUTPUT_MAPS)
        if kind is not None:
            return _named({"what": case.what, "act": kind})
    return None


__all__ = ["ACTIVATIONS", "Case", "activation_on_output", "cases", "classify", "depth_off_by_one",
           "hidden_activations", "layers_not_registered", "missing_activation", "pairs_of",
           "width_ignored", "wrong_activation"]
