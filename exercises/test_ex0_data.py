"""Checks of ex0_data.py: task test_viewer. Run them with `pytest exercises`."""

import pytest


@pytest.mark.task("test_viewer")
def test_viewer(check, run_check):
    run_check(check)
