"""Hidden variants: seeded from the course secret, never from anything in the release."""

from __future__ import annotations

import pytest

from grader.checks import Context
from grader.checks.base import stable_seed
from grader.hidden import ENV_VAR, MissingSecretError, variant_token
from grader.scoring import check_inputs, checks_for

SECRET_A = "a" * 8 + "0123456789abcdef"
SECRET_B = "b" * 8 + "0123456789abcdef"


def _viewer_inputs(variant: int) -> list[int]:
    check = checks_for(["test_viewer"])[0]
    return check_inputs(check, Context(variant=variant))["indices"]


def test_public_variant_needs_no_secret_and_keeps_its_seeds(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert variant_token(0) == "0"
    assert Context().seed("x") == stable_seed("practico2", 0, "x")


def test_hidden_variant_without_a_usable_secret_is_an_error_that_names_the_fix(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(MissingSecretError, match=f"{ENV_VAR}.*token_hex"):
        Context(variant=1).seed("x")
    monkeypatch.setenv(ENV_VAR, "corto")
    with pytest.raises(MissingSecretError, match="5"):
        Context(variant=1).seed("x")


def test_hidden_inputs_follow_the_secret_not_a_public_constant(monkeypatch):
    monkeypatch.setenv(ENV_VAR, SECRET_A)
    first, again = _viewer_inputs(1), _viewer_inputs(1)
    assert first == again  # the same secret: the same inputs, run after run
    assert Context(variant=1).seed("x") != stable_seed("practico2", 1, "x")
    assert first != _viewer_inputs(0)
    monkeypatch.setenv(ENV_VAR, SECRET_B)
    assert _viewer_inputs(1) != first
    assert variant_token(1) != variant_token(2)


def test_pytest_variant_option_refuses_without_the_secret(run_pytest_variant):
    out = run_pytest_variant
    assert out.returncode == 4 and ENV_VAR in out.stderr, out.stderr[-2000:]


@pytest.fixture
def run_pytest_variant(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    return subprocess.run([sys.executable, "-m", "pytest", "exercises/test_ex0_data.py",
                           "--impl", "solutions", "--variant", "1", "-q", "-p",
                           "no:cacheprovider"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
