"""Properties of the wire format (``grader/codec.py``), checked on generated data.

- ``decode(encode(x))`` is ``x`` (same types, same values, same bytes for tensors) for any
  nested plain data within the caps: odd strings and keys (lone surrogates, a high one
  followed by a low one, the codec's own tag names), every float (``-0.0``, subnormals,
  ``nan``, ``inf``), ints up to int64, tensors of every wire dtype and up to ``MAX_NDIM``
  dimensions;
- ``encode`` and ``decode`` raise :class:`CodecError` and nothing else, on anything: random
  bytes, mutations of valid payloads, JSON trees built around the tags;
- whatever ``decode`` accepts is plain data that ``encode`` takes back unchanged.

Examples are derandomized (the same ones every run) and few, so the file takes seconds.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import codec
from grader.codec import CodecError, decode, encode

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------ strategies

#: pieces that stress JSON and the tagging: surrogates (alone, in pair order, reversed),
#: escapes, quotes, controls, astral characters, and the tag names themselves
ODD_PIECES = ["\ud83d", "\ude00", "\ud83d\ude00", "\ude00\ud83d", "\udcff", "\ud800\udc00",
              "\x00", "\x1b[31m", "\u2028", "\ufeff", "\U0001f600", '"', "\\", "\\u0000",
              "\\ud83d\\ude00", *sorted(codec.TAGS), "__x__"]
texts = st.lists(st.one_of(st.characters(exclude_categories=()), st.sampled_from(ODD_PIECES)),
                 max_size=8).map("".join)
keys = st.one_of(texts, st.sampled_from(sorted(codec.TAGS)))
ints = st.integers(-codec.MAX_INT + 1, codec.MAX_INT - 1)
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
                   st.sampled_from([-0.0, 0.0, 5e-324, -5e-324, 2.2250738585072014e-308,
                                    1.7976931348623157e308, math.nan, -math.inf]))


@st.composite
def tensors(draw) -> torch.Tensor:
    """A tensor of any wire dtype, any bytes (so NaN payloads, subnormals, -0.0), any shape
    up to ``MAX_NDIM`` dims (zero-sized ones included), sometimes not contiguous."""
    dtype = draw(st.sampled_from(sorted(codec.DTYPES.values(), key=str)))
    shape = draw(st.lists(st.integers(0, 3), max_size=codec.MAX_NDIM))
    itemsize = torch.empty((), dtype=dtype).element_size()
    raw = bytearray(draw(st.binary(min_size=math.prod(shape) * itemsize,
                                   max_size=math.prod(shape) * itemsize)))
    if dtype is torch.bool:
        raw = bytearray(b & 1 for b in raw)
    flat = torch.frombuffer(raw, dtype=torch.uint8) if raw else torch.empty(0, dtype=torch.uint8)
    value = flat.view(dtype).reshape(shape)
    if value.dim() >= 2 and draw(st.booleans()):
        value = value.transpose(0, -1)
    return value


scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts, tensors())
plain = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=24,
)


def same(a, b) -> bool:
    """Exactly the same plain data: types, dict key order, float signs, tensor bytes."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a)
                                                     == math.copysign(1, b))
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is torch.Tensor:
        flat = [t.contiguous().reshape(-1).view(torch.uint8) for t in (a, b)]
        return a.dtype == b.dtype and a.shape == b.shape and torch.equal(*flat)
    return a == b


# ------------------------------------------------------------------ round trips


@BOUNDED
@given(plain)
def test_decode_inverts_encode(value):
    payload = encode(value)
    back = decode(payload)
    assert same(back, value), (value, back)
    assert encode(back) == payload  # one encoding per value: nothing drifts on a resend


@BOUNDED
@given(st.sampled_from(sorted(codec.TAGS)), plain)
def test_a_dict_keyed_by_a_tag_stays_a_dict(tag, inner):
    for value in ({tag: inner}, {tag: "nan"}, {tag: [inner, inner]}, [{tag: {tag: inner}}]):
        assert same(decode(encode(value)), value)


@pytest.mark.parametrize("value", [
    {"__float__": "nan"}, {"__float__": "inf"}, {"__float__": 1.0},
    {"__tensor__": {"dtype": "float32", "shape": [1], "data": "AACAPw=="}},
    {"__dict__": [["a", 1]]}, {"__str__": ["\ud83d", "\ude00"]}, {"__str__": "x"},
    {"\ud83d\ude00": 1, "\ud83d\ude00x": {"\ude00\ud83d": [2]}},
    "\ud83d\ude00", "a\ud83d\ude00\ud83d\ude00b", "\ud83d" * 3 + "\ude00" * 3,
], ids=["float_nan", "float_inf", "float_num", "tensor", "dict", "str", "str_plain",
        "pair_keys", "pair", "two_pairs", "run_of_pairs"])
def test_values_that_look_like_tags_come_back_as_sent(value):
    back = decode(encode(value))
    assert same(back, value), back


def test_nesting_up_to_the_cap_round_trips_and_beyond_is_refused():
    for leaf in (1, math.nan, "\ud83d\ude00", torch.ones(2)):
        value = leaf
        for depth in range(codec.MAX_DEPTH):
            value = [value] if depth % 2 else {"__dict__": value}
        assert same(decode(encode(value)), value)
        with pytest.raises(CodecError):
            encode([[value]])


# --------------------------------------------------- only the codec's own error


def _assert_plain_if_accepted(payload: bytes) -> None:
    try:
        value = decode(payload)
    except CodecError:
        return
    # accepted: plain data, which encode takes and which comes back the same
    assert same(decode(encode(value)), value)


@BOUNDED
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_codec_errors(blob):
    _assert_plain_if_accepted(blob)


@BOUNDED
@given(plain, st.data())
def test_mutated_payloads_raise_only_codec_errors(value, data):
    blob = bytearray(encode(value))
    alphabet = st.sampled_from(list(b'[]{}",:0123456789-.eE\\u AQ=_\x00\xff\xed'))
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.integers(0, 2))
        pos = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        if op == 0 and blob:
            blob[pos] = data.draw(alphabet)
        elif op == 1 and blob:
            del blob[pos]
        else:
            blob.insert(pos, data.draw(alphabet))
    _assert_plain_if_accepted(bytes(blob))


#: JSON trees shaped like the tags' records, with wrong parts: what a forged frame holds
json_leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                        st.floats(allow_nan=False, allow_infinity=False), texts,
                        st.sampled_from(["nan", "inf", "-inf", "1e999", "float32", "bool",
                                         "object", "AAAA", "AQID", "!!!!", ""]))
json_keys = st.one_of(texts, st.sampled_from([*sorted(codec.TAGS), "dtype", "shape", "data"]))
json_trees = st.recursive(
    json_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(json_keys, inner, max_size=3),
                            st.tuples(st.sampled_from(sorted(codec.TAGS)), inner)
                            .map(lambda kv: {kv[0]: kv[1]})),
    max_leaves=16,
)


@BOUNDED
@given(json_trees)
def test_forged_records_raise_only_codec_errors(tree):
    _assert_plain_if_accepted(json.dumps(tree).encode())


@pytest.mark.parametrize("payload", [
    b'{"__dict__": [["a", 1]]}',  # JSON carries that dict as it is: encode never tags it
    b'{"__dict__": [["__float__", 1], ["__float__", 2]]}',
    b'{"__dict__": [["a"]]}', b'{"__dict__": {"a": 1}}',
    b'{"__str__": ["ab"]}', b'{"__str__": ["a", "b"]}', b'{"__str__": ["\\ud83d", ""]}',
    b'{"__str__": "x"}', b'{"__str__": ["\\ude00", "\\ud83d"]}',
    b'{"__tensor__": {"dtype": "bool", "shape": [2], "data": "AAI="}}',
], ids=["dict_not_needed", "dict_repeated_key", "dict_pair_of_one", "dict_not_pairs",
        "str_one_chunk", "str_no_pair", "str_empty_chunk", "str_not_list", "str_reversed",
        "bool_byte_2"])
def test_records_encode_would_not_write_are_refused(payload):
    with pytest.raises(CodecError):
        decode(payload)


def test_a_split_pair_and_a_dict_record_decode_as_encode_wrote_them():
    assert decode(b'{"__str__": ["a\\ud83d", "\\ude00b"]}') == "a\ud83d\ude00b"
    assert decode(b'{"__dict__": [["__float__", "nan"]]}') == {"__float__": "nan"}
    assert decode(b'{"__str__": 1, "x": 2}') == {"__str__": 1, "x": 2}  # two keys: a dict


def _neg_view() -> torch.Tensor:
    return torch.ones(3)._neg_view()


@pytest.mark.parametrize("make", [
    lambda: b"bytes", lambda: bytearray(b"x"), lambda: {1, 2}, lambda: 1 + 2j,
    lambda: {"k": memoryview(b"x")}, lambda: {(1,): 2}, lambda: {None: 1},
    lambda: torch.empty(3, device="meta"),
    lambda: torch.nested.nested_tensor([torch.ones(2), torch.ones(3)]),
    lambda: torch.ones(2).to_sparse(), lambda: torch.ones(2, dtype=torch.complex64),
    lambda: torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8),
    lambda: torch.nn.Parameter(torch.ones(2)), lambda: type("F", (float,), {})(1.0),
    lambda: type("I", (int,), {})(1), lambda: type("S", (str,), {})("s"),
], ids=["bytes", "bytearray", "set", "complex", "memoryview", "tuple_key", "none_key",
        "meta_tensor", "nested_tensor", "sparse", "complex_tensor", "quantized", "parameter",
        "float_subclass", "int_subclass", "str_subclass"])
def test_encode_refuses_what_is_not_plain_with_its_own_error(make):
    with pytest.raises(CodecError):
        encode({"x": [make()]})


def test_a_negated_view_is_sent_with_its_values():
    assert same(decode(encode(_neg_view())), -torch.ones(3))
