"""Checks of ex1_onehot_mse.py: task onehot_mse. Run them with `pytest exercises`."""

import pytest


@pytest.mark.task("onehot_mse")
def test_onehot_mse(check, run_check):
    run_check(check)
