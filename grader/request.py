"""How to grade one submission, and what a runner reports back while it grades.

:class:`GradeRequest` holds everything about *how* one submission is graded: the submission
(read once), which tasks and checks, the device, threads, input variant, language and time
limit. Every caller (``grade``, ``autograde``, a cluster's worker, nbgrader's preprocessor,
the pytest plugin, the notebook's ``check_task``) fills one, and nothing else carries a
device or a variant: the child's probes and the grader's verdicts read the same fields.

A *runner* (:class:`Runner`: in this process, or the sandbox's isolated children) turns the
request's checks into a :class:`Run`: one :class:`Outcome` per check as each arrives (the
probe's plain data, or why there is none) and a :class:`RunReport` of what it took. Runners
decide nothing: :mod:`grader.grading` judges every outcome with :mod:`grader.scoring`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from grader.options import DEFAULT_DEVICE, RESOLVED_DEVICES
from grader.submission import Submission

if TYPE_CHECKING:
    from grader.checks import Check

__all__ = ["Extensions", "GradeRequest", "Outcome", "Run", "RunReport", "Runner"]


@dataclass(frozen=True)
class GradeRequest:
    """Everything about how to grade one submission.

    - ``submission``: what the sandbox grades (``None`` for a runner that holds the code
      itself: the in-process runner over a folder or a notebook's namespace);
    - ``tasks``: task ids (``None``: every task); ``checks``: check ids among them (``None``:
      all); ``skip``: check names not run (what a hidden variant does not rerun);
    - ``device``: ``cpu`` or ``cuda``, already resolved (:func:`grader.options.resolve_device`);
    - ``threads``: torch threads of each child; ``variant``: 0 for the public inputs, others
      drawn from the course secret; ``lang``: of the messages (``None``: the environment's);
    - ``timeout``: wall seconds per check (``None``: from each check's cost).
    """

    submission: Submission | None = None
    tasks: tuple[str, ...] | None = None
    checks: tuple[str, ...] | None = None
    skip: tuple[str, ...] = ()
    device: str = DEFAULT_DEVICE
    threads: int = 1
    variant: int = 0
    lang: str | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.device not in RESOLVED_DEVICES:
            raise ValueError(f"device {self.device!r}: give cpu or cuda (resolve 'auto' first "
                             "with grader.options.resolve_device)")
        if isinstance(self.variant, bool) or not isinstance(self.variant, int) or self.variant < 0:
            raise ValueError(f"variant must be a whole number >= 0, not {self.variant!r}")
        for name in ("tasks", "checks"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "skip", tuple(self.skip))
        object.__setattr__(self, "threads", max(1, int(self.threads)))


@dataclass(frozen=True)
class Outcome:
    """What became of one check (``index``: its position in the checks the runner got).

    ``data`` is what the probe reported (``{"status": "ok", "out": ...}``) or why there is
    nothing (``{"status": "timeout", "seconds": ...}``, ``crashed`` with a reason,
    ``missing_file``...); plain data, whatever the student's code did. ``same_as``, instead:
    the check was not run and scores what check ``same_as`` scored (its task was already lost
    to a time limit or a crash, or the notebook never ran to its end).
    """

    index: int
    data: dict[str, Any] | None = None
    same_as: int | None = None


@dataclass
class Extensions:
    """Extra wall time a submission's checks got for being starved of CPU by other load
    (:mod:`grader.sandbox.cpuwatch`): how many, their seconds in all, and the figures of the
    meter's last decisions."""

    count: int = 0
    seconds: float = 0.0
    decisions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunReport:
    """What a runner did for one submission (filled while its outcomes arrive).

    ``isolated``: the code ran in the sandbox's children, ``children`` of them;
    ``isolation``: what the last child applied (namespaces, uid, cgroup...);
    ``zygote_lost``: the zygote died under a child, whose unfinished checks ran again in a
    plain one; ``notebook_ran``: a notebook's cells ran to their end (``None``: not a
    notebook).
    """

    isolated: bool = False
    children: int = 0
    isolation: dict[str, Any] = field(default_factory=dict)
    extensions: Extensions = field(default_factory=Extensions)
    zygote_lost: bool = False
    notebook_ran: bool | None = None


@dataclass
class Run:
    """One submission going through a runner: its outcomes as they come, and its report."""

    outcomes: Generator[Outcome, None, None]
    report: RunReport


class Runner(Protocol):
    """Runs probes; decides nothing."""

    def run(self, request: GradeRequest, checks: Sequence[Check],
            inputs: Callable[[Check], dict[str, Any]]) -> Run:
        """Start grading ``checks`` for ``request``. ``inputs(check)`` gives a check's inputs
        (built once by the grader). The outcomes come in any order, each check's once."""

    def kill_all(self) -> None:
        """Stop everything running now (Ctrl-C)."""

    def close(self) -> None:
        """Free what the runner holds."""
