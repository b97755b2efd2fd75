"""Checks of ex4_activations.py: task relu_net. Run them with `pytest exercises`."""

import pytest


@pytest.mark.task("relu_net")
def test_relu_net(check, run_check):
    run_check(check)
