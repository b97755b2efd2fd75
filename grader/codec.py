"""Plain-data wire format between student code and the grader.

Whatever a probe reports (from the grader's own process or from an isolated child)
goes through :func:`encode` / :func:`decode`. Only JSON scalars, lists (tuples arrive as
lists), string-keyed dicts and *plain* tensors (raw bytes + dtype + shape) survive;
decoding never runs code, never unpickles, and always builds fresh ``torch.Tensor``
objects, so a verdict can trust the exact types it gets.

What plain JSON cannot carry travels *tagged*: a JSON object with exactly one key, taken
from :data:`TAGS`. Non-finite floats and tensors always do; so does a dict whose own keys
would read as a tag (a user dict ``{"__float__": "nan"}`` is not a float) and a string
that JSON would change (a high surrogate followed by a low one is read back as one
character). No user value can therefore be mistaken for a tag, and ``decode(encode(x))``
equals ``x`` for all plain data (``tests/test_codec_properties.py``).
"""

from __future__ import annotations

import base64
import json
import math
import re
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
FLOAT_TAG = "__float__"  # "nan", "inf" or "-inf": JSON has no such numbers
DICT_TAG = "__dict__"  # [[key, value], ...]: a dict that a JSON object would not carry
STR_TAG = "__str__"  # [chunk, chunk, ...]: split between a high and a low surrogate
#: the keys that make a one-key JSON object a tagged value, never a user dict
TAGS = frozenset({TENSOR_TAG, FLOAT_TAG, DICT_TAG, STR_TAG})
MAX_BYTES = 512 * 1024 * 1024
#: Caps on what :func:`decode` accepts, so hostile data costs the grader little and every
#: verdict gets values it can compute with. Legitimate data stays far below each of them.
MAX_DEPTH = 64  # nesting of lists and dicts
MAX_INT = 2**63  # |int| < MAX_INT: what an int64 holds (sizes, counts, seeds)
MAX_INT_DIGITS = 20  # checked on the text, before Python converts it
MAX_STR = 64 * 1024  # characters in one plain string or dict key (tensor data excluded)
MAX_NDIM = 8  # tensor dimensions
MAX_DIM = 2**31 - 1  # size of one tensor dimension
#: Lists and dicts, and values, in one payload. Counted on the bytes before parsing (a
#: bracket or comma inside a string counts too: an over-estimate, never an under-estimate):
#: a 16 MiB frame of empty lists would otherwise cost 800 MB of Python objects. The largest
#: reference result has 304 containers and 381 values (bench/frame_sizes.py).
MAX_CONTAINERS = 100_000
MAX_VALUES = 1_000_000


class CodecError(ValueError):
    """Data that is not plain, or a payload that is malformed or too large."""


def _string(value: str) -> str:
    if len(value) > MAX_STR:
        raise CodecError(f"string of {len(value)} characters exceeds {MAX_STR}")
    return value


#: a high surrogate followed by a low one: JSON's ``\\udXXX\\udXXX`` escape of that pair reads
#: back as one astral character, so such a string is sent split between the two
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _enc_str(value: str) -> Any:
    _string(value)
    cuts = [m.start() + 1 for m in _PAIR.finditer(value)]
    if not cuts:
        return value
    bounds = [0, *cuts, len(value)]
    return {STR_TAG: [value[a:b] for a, b in zip(bounds, bounds[1:])]}


def _enc_dict(obj: dict, depth: int) -> Any:
    items = []
    tagged = len(obj) == 1 and next(iter(obj)) in TAGS
    for k, v in obj.items():
        if type(k) is not str:
            raise CodecError(f"dict keys must be str, got {type(k).__name__}")
        key = _enc_str(k)
        tagged = tagged or type(key) is not str
        items.append((key, _enc(v, depth + 1)))
    if tagged:
        return {DICT_TAG: [[k, v] for k, v in items]}
    return dict(items)


def _enc_tensor(obj: torch.Tensor) -> Any:
    if obj.layout is not torch.strided or obj.is_nested:
        raise CodecError(f"only dense tensors cross the wire, got layout {obj.layout}")
    name = str(obj.dtype).removeprefix("torch.")
    if name not in DTYPES:
        raise CodecError(f"dtype {obj.dtype} is not allowed on the wire")
    if obj.dim() > MAX_NDIM or any(s > MAX_DIM for s in obj.shape):
        raise CodecError(f"tensor shape {tuple(obj.shape)} exceeds the wire's caps")
    try:
        # resolve_neg/resolve_conj: lazy views whose bytes are not yet their values
        flat = obj.detach().to("cpu").resolve_neg().resolve_conj().contiguous().reshape(-1)
        raw = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    except Exception as exc:  # a meta tensor, a tensor torch cannot copy: not plain data
        raise CodecError(f"tensor cannot be read ({type(exc).__name__})") from None
    return {TENSOR_TAG: {"dtype": name, "shape": list(obj.shape),
                         "data": base64.b64encode(raw).decode("ascii")}}


def _enc(obj: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nesting deeper than {MAX_DEPTH} levels")
    kind = type(obj)
    if obj is None or kind is bool:
        return obj
    if kind is int:  # the caps of decode, applied here too: refused at the source
        if not -MAX_INT < obj < MAX_INT:
            raise CodecError(f"integer out of range (|x| >= 2**63): {obj.bit_length()} bits")
        return obj
    if kind is str:
        return _enc_str(obj)
    if kind is float:
        # JSON has no NaN/inf: keep them as tagged strings so verdicts can see them.
        if math.isfinite(obj):
            return obj
        return {FLOAT_TAG: repr(obj)}
    if kind in (list, tuple):
        return [_enc(v, depth + 1) for v in obj]
    if kind is dict:
        return _enc_dict(obj, depth)
    if kind is torch.Tensor:
        return _enc_tensor(obj)
    raise CodecError(f"type {kind.__module__}.{kind.__qualname__} is not plain data")


def encode(obj: Any) -> bytes:
    """Serialize plain data (see module docstring) to bytes. Raises :class:`CodecError`,
    and nothing else, on anything that is not plain data or exceeds a cap."""
    return json.dumps(_enc(obj, 0), separators=(",", ":")).encode("utf-8")


def _tensor(spec: Any) -> torch.Tensor:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
        raise CodecError("malformed tensor record")
    dtype = DTYPES.get(spec["dtype"]) if isinstance(spec["dtype"], str) else None
    shape = spec["shape"]
    if dtype is None:
        raise CodecError(f"dtype {str(spec['dtype'])[:40]!r} is not allowed")
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(type(s) is int and 0 <= s <= MAX_DIM for s in shape)):
        raise CodecError("malformed tensor shape")
    data = spec["data"]
    if not isinstance(data, str):
        raise CodecError("tensor data is not base64")
    numel = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    # Checked on the text, before decoding: base64 holds 3 bytes per 4 characters.
    if len(data) != 4 * ((numel * itemsize + 2) // 3):
        raise CodecError("tensor byte count does not match its shape")
    try:
        raw = base64.b64decode(data, validate=True)
    except (ValueError, TypeError):
        raise CodecError("tensor data is not base64") from None
    if len(raw) != numel * itemsize:
        raise CodecError("tensor byte count does not match its shape")
    if dtype is torch.bool and raw.translate(None, b"\x00\x01"):
        # any other byte is a bool torch never makes: comparisons on it are undefined
        raise CodecError("bool tensor holds bytes other than 0 and 1")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape)


def _dec_str(obj: Any) -> str:
    """A string, plain or split (see :func:`_enc_str`); only the split encode makes."""
    if type(obj) is str:
        return _string(obj)
    chunks = obj.get(STR_TAG) if type(obj) is dict and len(obj) == 1 else None
    if type(chunks) is not list or len(chunks) < 2 or not all(
            type(c) is str and c for c in chunks):
        raise CodecError("malformed string record")
    for left, right in zip(chunks, chunks[1:]):
        if not ("\ud800" <= left[-1] <= "\udbff" and "\udc00" <= right[0] <= "\udfff"):
            raise CodecError("string record split where no surrogate pair is")
    return _string("".join(chunks))


def _dec_dict(pairs: Any, depth: int) -> dict:
    """A dict sent as ``[[key, value], ...]`` (see :func:`_enc_dict`)."""
    if type(pairs) is not list or not all(type(p) is list and len(p) == 2 for p in pairs):
        raise CodecError("malformed dict record")
    out = {}
    for key, value in pairs:
        key = _dec_str(key)
        if key in out:
            raise CodecError("dict record repeats a key")
        out[key] = _dec(value, depth + 1)
    if not (len(out) == 1 and next(iter(out)) in TAGS) and not any(
            type(k) is dict for k, _ in pairs):
        raise CodecError("dict record for a dict that JSON carries as it is")
    return out


def _dec(obj: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nesting deeper than {MAX_DEPTH} levels")
    kind = type(obj)
    if kind is list:
        return [_dec(v, depth + 1) for v in obj]
    if kind is dict:
        tag = next(iter(obj)) if len(obj) == 1 else None
        if tag == FLOAT_TAG:
            value = obj[FLOAT_TAG]
            if value not in ("nan", "inf", "-inf"):
                raise CodecError(f"bad float tag {str(value)[:40]!r}")
            return float(value)
        if tag == TENSOR_TAG:
            return _tensor(obj[TENSOR_TAG])
        if tag == STR_TAG:
            return _dec_str(obj)
        if tag == DICT_TAG:
            return _dec_dict(obj[DICT_TAG], depth)
        return {_dec_str(k): _dec(v, depth + 1) for k, v in obj.items()}
    if kind is str:
        return _string(obj)
    if kind is int:
        if not -MAX_INT < obj < MAX_INT:
            raise CodecError(f"integer out of range (|x| >= 2**63): {obj.bit_length()} bits")
        return obj
    if kind is float:
        if not math.isfinite(obj):  # only the tagged form carries nan and inf
            raise CodecError("non-finite float outside a __float__ tag")
        return obj
    if obj is None or kind is bool:
        return obj
    raise CodecError(f"unexpected JSON value {kind.__name__}")


def _parse_int(text: str) -> int:
    # Python would refuse (ValueError) or spend quadratic time on a huge literal: refuse it
    # here, by its length, with the codec's own error.
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise CodecError(f"integer literal of {len(text)} digits")
    return int(text)


def _parse_constant(text: str) -> Any:
    raise CodecError(f"{text} is not JSON")  # json.loads would accept NaN and Infinity


def decode(payload: bytes) -> Any:
    """Inverse of :func:`encode`. Raises :class:`CodecError`, and nothing else, on any input
    that :func:`encode` could not have produced or that exceeds a cap (``MAX_*`` above)."""
    try:
        if len(payload) > MAX_BYTES:
            raise CodecError(f"payload of {len(payload)} bytes exceeds {MAX_BYTES}")
        payload = bytes(payload)
        containers = payload.count(b"[") + payload.count(b"{")
        if containers > MAX_CONTAINERS:
            raise CodecError(f"{containers} lists and dicts exceed {MAX_CONTAINERS}")
        if payload.count(b",") >= MAX_VALUES:
            raise CodecError(f"more than {MAX_VALUES} values")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CodecError(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
        tree = json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
        return _dec(tree, 0)
    except CodecError:
        raise
    except json.JSONDecodeError as exc:
        raise CodecError(f"not valid JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise CodecError("nesting too deep") from None
    except MemoryError:
        raise CodecError("payload too large to decode") from None
    except Exception as exc:  # whatever else malformed input provokes: still the codec's error
        raise CodecError(f"malformed payload ({type(exc).__name__})") from None


def roundtrip(obj: Any) -> Any:
    """Encode then decode: what the grader's side would receive from a child."""
    return decode(encode(obj))
