"""Grading untrusted code in isolated children: the grader's side and the child's side.

The grader's side: :mod:`~grader.sandbox.supervisor` (the :class:`Sandbox` that grades a
submission check by check), :mod:`~grader.sandbox.spawn` (starting children, the zygote),
:mod:`~grader.sandbox.limits`,
:mod:`~grader.sandbox.cgroups`, :mod:`~grader.sandbox.cpuwatch` and
:mod:`~grader.sandbox.probe_copy` (the probe-only copy of the grader the child imports).
The child's side, standard library only until the jail is up: :mod:`~grader.sandbox.child`,
:mod:`~grader.sandbox.jail`, :mod:`~grader.sandbox.mounts`. Between them,
:mod:`~grader.sandbox.wire` (both ends of the framing) over :mod:`~grader.codec`.

This file imports nothing: the child imports this package before its jail is up.
"""
