"""Running untrusted code's probes in isolated children: the grader's side and the child's side.

The grader's side: :mod:`~grader.sandbox.supervisor` (the :class:`Sandbox`, a runner of
:mod:`grader.grading`: a submission's probes check by check, an outcome for each, its
policies), :mod:`~grader.sandbox.session` (one child's events as decisions),
:mod:`~grader.sandbox.spawn` (the launcher a sandbox owns), :mod:`~grader.sandbox.children`
(running children's handles), :mod:`~grader.sandbox.limits`, :mod:`~grader.sandbox.cgroups`,
:mod:`~grader.sandbox.cpuwatch`, :mod:`~grader.sandbox.cpuload` and
:mod:`~grader.sandbox.probe_copy` (the probe-only copy of the grader the child imports). The
child's side, standard library only until the jail is up: :mod:`~grader.sandbox.child`,
:mod:`~grader.sandbox.jail`, :mod:`~grader.sandbox.mounts`, :mod:`~grader.sandbox.run_cells`
(a notebook's cells). Both ends of the zygote's protocol: :mod:`~grader.sandbox.zygote`.
Between grader and child, :mod:`~grader.sandbox.wire` (both ends of the framing) over
:mod:`grader.codec`. Nothing here imports :mod:`grader.scoring`: verdicts are the grader's.

This file imports nothing: the child imports this package before its jail is up.
"""
