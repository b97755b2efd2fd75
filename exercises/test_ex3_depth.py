"""Checks of ex3_depth.py: task deep_net. Run them with `pytest exercises`."""

import pytest


@pytest.mark.task("deep_net")
def test_deep_net(check, run_check):
    run_check(check)
