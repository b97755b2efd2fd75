"""All task checks. Importing this package registers every check in ``CHECKS``."""

from grader.checks import (  # noqa: E402,F401  (registers)
    hyperparams,
    init,
    loops,
    nets,
    onehot,
    runs,
    viewer,
)
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
