"""The experiments' training budgets, by name: one vocabulary for the notebook and ``experiments``.

The graded checks do not use these: each check trains on its own short, fixed run
(:class:`grader.checks.learning.CheckRun`), whatever budget the student picked, so a grade never
depends on it. These budgets only decide how long the *experiments* train:

- ``minimo``: just enough for every cell to run (what the notebook uses under nbgrader);
- ``rapido``: the notebook's default and ``experiments --quick``: a couple of minutes on a
  laptop CPU, curves that move, numbers below the original practical's;
- ``completo``: the original practical's (15 epochs on all 54,000 training images).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingBudget:
    name: str
    mnist_epochs: int
    #: training images kept from the 54,000 of the split (None: all of them)
    train_images: int | None
    parity_epochs: int
    #: training strings of the bit-count comparison; the 8-bit experiment takes at most 2,000
    parity_examples: int


BUDGETS: dict[str, TrainingBudget] = {
    b.name: b for b in (
        TrainingBudget("minimo", 1, 2_000, 2, 500),
        TrainingBudget("rapido", 2, 8_000, 20, 2_000),
        TrainingBudget("completo", 15, None, 40, 6_000),
    )
}
#: the notebook's default (``PRACTICO_PRESUPUESTO``) and ``experiments --quick``
DEFAULT = "rapido"
#: ``experiments`` without ``--quick``
FULL = "completo"
#: strings of the 8-bit parity experiment (the bit-count comparison uses ``parity_examples``)
PARITY_8_BITS_EXAMPLES = 2_000
