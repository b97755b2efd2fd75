"""All task checks. Importing this package registers every check in ``CHECKS``."""

# Importing registers the checks, in this order (the order of each task's checks).
# isort: off
from grader.checks import init_schemes, probe_stats, he_init  # noqa: F401
from grader.checks import loops, nets, onehot, learning, viewer  # noqa: F401
from grader.checks import lr_sweep, exploding  # noqa: F401
# isort: on
from grader.checks.base import (
    CHECKS,
    Check,
    Context,
    Fail,
    ProbeEnv,
    register,
    seed_everything,
    stable_seed,
)

__all__ = ["CHECKS", "Check", "Context", "Fail", "ProbeEnv", "register", "seed_everything",
           "stable_seed"]
