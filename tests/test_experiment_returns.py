"""How the experiments read what student code returned (grader/experiments/returns.py): the
checks' capture decides what a list of numbers is, for the grading and the experiments alike."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
import torch

from grader.experiments.returns import BadReturn, read_float_pair, read_floats, read_lists

KEYS = ("train_loss", "val_loss", "val_acc")
EXPECTED = "dict with lists 'train_loss', 'val_loss', 'val_acc'"


def test_a_history_of_numbers_reads_as_floats():
    history = collections.defaultdict(list)
    history["train_loss"] = [2, 1.5]
    history["val_loss"] = (np.float64(1.25), torch.tensor(1.0, requires_grad=True) * 1)
    history["val_acc"] = [np.float32(0.5), torch.tensor([0.75])]
    history["extra"] = ["ignored"]
    got = read_lists(history, KEYS, "train_model", EXPECTED)
    assert got == {"train_loss": [2.0, 1.5], "val_loss": [1.25, 1.0], "val_acc": [0.5, 0.75]}
    assert all(type(v) is float for values in got.values() for v in values)
    assert list(got) == list(KEYS)


@pytest.mark.parametrize("history, found", [
    ([1.0], "list"),
    ({"train_loss": [1.0], "val_loss": [1.0]}, "dict"),  # a key missing
    ({"train_loss": [1.0], "val_loss": [1.0], "val_acc": [True]}, "dict"),
    ({"train_loss": [1.0], "val_loss": [1.0], "val_acc": ["0.5"]}, "dict"),
    ({"train_loss": [1.0], "val_loss": [1.0], "val_acc": torch.tensor([0.5])}, "dict"),
    ({"train_loss": [1.0], "val_loss": [1.0], "val_acc": [torch.ones(2)]}, "dict"),
    (None, "NoneType"),
])
def test_what_is_not_a_history_is_a_bad_return_naming_the_whole_value(history, found):
    with pytest.raises(BadReturn) as caught:
        read_lists(history, KEYS, "train_model", EXPECTED)
    assert caught.value.values == {"name": "train_model", "expected": EXPECTED, "found": found}


def test_a_dict_look_alike_is_not_a_dict():
    class Sneaky(dict):
        def __getitem__(self, key):
            return [0.99]

    with pytest.raises(BadReturn):
        read_lists(Sneaky(train_loss=[1.0], val_loss=[1.0], val_acc=[1.0]), KEYS, "f", "x")


def test_nan_is_read_unless_finite_is_asked():
    assert math.isnan(read_floats([float("nan")], "f", "x")[0])
    assert read_floats([1, float("inf")], "f", "x") == [1.0, math.inf]
    with pytest.raises(BadReturn) as caught:
        read_floats([1.0, float("nan")], "grad_norms", "list of finite floats", finite=True)
    assert caught.value.values["found"] == "list"


def test_found_names_what_was_returned_as_a_whole():
    runs = [{"train_loss": [1.0], "val_acc": ["x"]}]
    with pytest.raises(BadReturn) as caught:
        read_lists(runs[0], ("train_loss", "val_acc"), "lr_sweep", "list of 1 dicts",
                   found=runs)
    assert caught.value.values["found"] == "list"


def test_a_pair_of_lists():
    assert read_float_pair(([1, 2], (0.5,)), "train_net", "x") == ([1.0, 2.0], [0.5])
    for bad in ([1.0, 2.0, 3.0], 7, ([1.0], "ab"), ([1.0],)):
        with pytest.raises(BadReturn):
            read_float_pair(bad, "train_net", "x")
