"""The plain-data wire format: what survives, what is refused."""

from __future__ import annotations

import math

import pytest
import torch

from grader.codec import CodecError, decode, encode, roundtrip


def test_roundtrip_keeps_values_and_exact_types():
    data = {"a": [1, 2.5, None, True, "x"], "t": torch.arange(6, dtype=torch.float32).reshape(2, 3),
            "b": torch.tensor([True, False]), "h": torch.ones(2, dtype=torch.bfloat16),
            "e": torch.empty(0, 4), "s": torch.tensor(3.0), "nan": float("nan"),
            "inf": -math.inf}
    back = roundtrip(data)
    assert type(back["t"]) is torch.Tensor and torch.equal(back["t"], data["t"])
    assert back["h"].dtype == torch.bfloat16 and torch.equal(back["h"], data["h"])
    assert back["e"].shape == (0, 4) and back["s"].shape == ()
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf
    assert back["a"] == [1, 2.5, None, True, "x"]


class Sneaky(torch.Tensor):
    pass


@pytest.mark.parametrize("value", [
    torch.ones(2).as_subclass(Sneaky),
    torch.nn.Parameter(torch.ones(2)),
    object(),
    {1: "int key"},
    torch.ones(2).to_sparse(),
    torch.ones(2, dtype=torch.complex64),
])
def test_refuses_anything_not_plain(value):
    with pytest.raises(CodecError):
        encode({"x": value})


@pytest.mark.parametrize("payload", [
    b"not json",
    b'{"__tensor__": {"dtype": "float32", "shape": [2], "data": "AAAA"}}',
    b'{"__tensor__": {"dtype": "object", "shape": [1], "data": ""}}',
    b'{"__tensor__": {"dtype": "float32", "shape": [-1], "data": ""}}',
    b'{"__float__": "1e999"}',
    b'{"__tensor__": {"dtype": "float32", "shape": [1], "data": "!!!!"}}',
])
def test_refuses_malformed_payloads(payload):
    with pytest.raises(CodecError):
        decode(payload)
