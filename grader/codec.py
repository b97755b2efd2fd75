"""Plain-data wire format between student code and the grader.

Whatever a probe reports (from the grader's own process or from an isolated child)
goes through :func:`encode` / :func:`decode`. Only JSON scalars, lists, string-keyed
dicts and *plain* tensors (raw bytes + dtype + shape) survive; decoding never runs
code, never unpickles, and always builds fresh ``torch.Tensor`` objects, so a
verdict can trust the exact types it gets.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import torch

#: dtypes that may cross the wire. Anything else is rejected by name.
DTYPES: dict[str, torch.dtype] = {
    str(d).removeprefix("torch."): d
    for d in (
        torch.float16, torch.bfloat16, torch.float32, torch.float64,
        torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool,
    )
}

TENSOR_TAG = "__tensor__"
MAX_BYTES = 512 * 1024 * 1024


class CodecError(ValueError):
    """Data that is not plain, or a payload that is malformed or too large."""


def _enc(obj: Any, depth: int) -> Any:
    if depth > 64:
        raise CodecError("nesting deeper than 64 levels")
    kind = type(obj)
    if obj is None or kind in (bool, int, str):
        return obj
    if kind is float:
        # JSON has no NaN/inf: keep them as tagged strings so verdicts can see them.
        if math.isfinite(obj):
            return obj
        return {"__float__": repr(obj)}
    if kind in (list, tuple):
        return [_enc(v, depth + 1) for v in obj]
    if kind is dict:
        out = {}
        for k, v in obj.items():
            if type(k) is not str:
                raise CodecError(f"dict keys must be str, got {type(k).__name__}")
            out[k] = _enc(v, depth + 1)
        return out
    if kind is torch.Tensor:
        if obj.layout is not torch.strided:
            raise CodecError(f"only dense tensors cross the wire, got layout {obj.layout}")
        name = str(obj.dtype).removeprefix("torch.")
        if name not in DTYPES:
            raise CodecError(f"dtype {obj.dtype} is not allowed on the wire")
        flat = obj.detach().to("cpu").contiguous().reshape(-1)
        raw = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
        return {TENSOR_TAG: {"dtype": name, "shape": list(obj.shape),
                             "data": base64.b64encode(raw).decode("ascii")}}
    raise CodecError(f"type {kind.__module__}.{kind.__qualname__} is not plain data")


def encode(obj: Any) -> bytes:
    """Serialize plain data (see module docstring) to bytes."""
    return json.dumps(_enc(obj, 0), separators=(",", ":")).encode("utf-8")


def _dec(obj: Any, depth: int) -> Any:
    if depth > 64:
        raise CodecError("nesting deeper than 64 levels")
    if isinstance(obj, list):
        return [_dec(v, depth + 1) for v in obj]
    if isinstance(obj, dict):
        if set(obj) == {"__float__"}:
            value = obj["__float__"]
            if value not in ("nan", "inf", "-inf"):
                raise CodecError(f"bad float tag {value!r}")
            return float(value)
        if set(obj) == {TENSOR_TAG}:
            spec = obj[TENSOR_TAG]
            if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
                raise CodecError("malformed tensor record")
            dtype = DTYPES.get(spec["dtype"]) if isinstance(spec["dtype"], str) else None
            shape = spec["shape"]
            if dtype is None:
                raise CodecError(f"dtype {spec['dtype']!r} is not allowed")
            if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
                raise CodecError("malformed tensor shape")
            try:
                raw = base64.b64decode(spec["data"], validate=True)
            except (ValueError, TypeError):
                raise CodecError("tensor data is not base64") from None
            numel = math.prod(shape)
            itemsize = torch.empty((), dtype=dtype).element_size()
            if len(raw) != numel * itemsize:
                raise CodecError("tensor byte count does not match its shape")
            if numel == 0:
                return torch.empty(shape, dtype=dtype)
            return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape)
        return {str(k): _dec(v, depth + 1) for k, v in obj.items()}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise CodecError(f"unexpected JSON value {type(obj).__name__}")


def decode(payload: bytes) -> Any:
    """Inverse of :func:`encode`. Raises :class:`CodecError` on anything unexpected."""
    if len(payload) > MAX_BYTES:
        raise CodecError(f"payload of {len(payload)} bytes exceeds {MAX_BYTES}")
    try:
        tree = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"not valid JSON: {exc}") from None
    return _dec(tree, 0)


def roundtrip(obj: Any) -> Any:
    """Encode then decode: what the grader's side would receive from a child."""
    return decode(encode(obj))
