"""Checks of ex5_init.py: tasks init_schemes, probe_stats and he_init. Run: `pytest exercises`."""

import pytest


@pytest.mark.task("init_schemes")
def test_init_schemes(check, run_check):
    run_check(check)


@pytest.mark.task("probe_stats")
def test_probe_stats(check, run_check):
    run_check(check)


@pytest.mark.task("he_init")
def test_he_init(check, run_check):
    run_check(check)
