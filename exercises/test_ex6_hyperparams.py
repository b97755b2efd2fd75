"""Checks of ex6_hyperparams.py: tasks lr_sweep and exploding. Run: `pytest exercises`."""

import pytest


@pytest.mark.task("lr_sweep")
def test_lr_sweep(check, run_check):
    run_check(check)


@pytest.mark.task("exploding")
def test_exploding(check, run_check):
    run_check(check)
