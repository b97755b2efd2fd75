"""nbgrader grades that the student's notebook cannot forge.

During ``nbgrader autograde`` the points of every grade cell come from the kit's sandbox,
never from the student's kernel:

- :mod:`~grader.nbgrading.cells` (grader side) reads the notebook nbgrader is grading: the
  student's code cells, in order, as plain Python, and the grade cells with their tasks;
- :mod:`grader.sandbox.run_cells` (inside the sandboxed child) runs those cells in one
  namespace, the way a kernel would, so the checks can probe it;
- :mod:`~grader.nbgrading.preprocessor` is the nbgrader preprocessor that ties both to
  :class:`grader.sandbox.supervisor.Sandbox` and writes each grade cell's outputs (score, messages)
  before nbgrader saves the grades;
- :mod:`~grader.nbgrading.kernel` runs nbgrader's own kernel (which still produces the
  plots and printed text students see in their feedback) inside a jail of the same kind
  as the sandbox's children: it sees only the student's own folder, and no network.
"""
