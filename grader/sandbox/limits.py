"""What one grading child may use: resource limits, sandbox options, wall-time budgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.checks import Check

#: wall seconds a child may spend running a notebook's cells before its first check (the
#: course notebook's cells plus one task's checks take 3.5-4.8 s in a warm child, README)
NOTEBOOK_SECONDS = 240.0


@dataclass
class Limits:
    """Resource limits of one child. CPU seconds count every thread of the child."""

    memory_bytes: int = 6 * 1024**3  # address space; a reference run peaks at ~4 GiB
    #: host memory of the whole child (cgroup memory cap; RLIMIT_DATA in cuda mode without one)
    host_memory_bytes: int = 6 * 1024**3
    file_bytes: int = 16 * 1024**2  # any file written, stdout and stderr included
    open_files: int = 256
    processes: int = 64  # threads count too (torch, OpenMP)
    startup_seconds: float = 90.0  # until the child says hello (imports torch)


@dataclass
class SandboxOptions:
    """How children are isolated and started; how a submission is graded (device, threads,
    time limit...) is its :class:`grader.request.GradeRequest`'s."""

    #: children that grade one submission at the same time, each over whole modules
    #: (``grade`` uses the cores this way; ``autograde`` grades submissions side by side)
    children: int = 1
    namespaces: bool = True
    #: fork children from a process that has already imported torch (much faster)
    zygote: bool = True
    #: the command that starts the zygote; None: the harness's own. Tests point it at a
    #: command that fails, to see grading fall back to plain children (tests/test_zygote.py)
    zygote_command: list[str] | None = None
    #: use a user namespace even as root (how non-root instructors run; for tests)
    force_user_namespace: bool = False
    #: a cgroup per child (CPU quota = ``threads``, memory and process caps) where possible
    cgroups: bool = True
    #: without cgroups: pin each child to ``threads`` CPUs of its own (round robin)
    cpu_affinity: bool = True
    #: cap the address space (RLIMIT_AS); None: on CPU only (CUDA reserves huge mappings)
    address_space_limit: bool | None = None
    #: share of the GPU's memory each child's allocator may take (cuda requests); None: all
    gpu_memory_fraction: float | None = None
    #: extra budgets a check gets when it ran out of wall time starved of CPU (cpuwatch)
    starved_extensions: int = 2
    #: extra wall seconds all the extensions of one submission may add up to (cpuwatch)
    starved_seconds: float = 300.0
    #: without namespaces, let student code run as root when it cannot drop to a private uid
    unsafe_no_isolation: bool = False
    limits: Limits = field(default_factory=Limits)


def check_budget(check: Check, timeout: float | None) -> float:
    """Wall seconds one check may take in a child: ``timeout``, else from its cost."""
    if timeout is not None:
        return float(timeout)
    return 30.0 + 10.0 * check.cost
