"""Checks of ex2_cross_entropy.py: task ce_net. Run them with `pytest exercises`."""

import pytest


@pytest.mark.task("ce_net")
def test_ce_net(check, run_check):
    run_check(check)
