"""``python -m grader similarity CLASS_DIR --out DIR``: pairs of students whose code is
unusually alike. Never part of a grade: it reads the class folder and writes a report.

- :mod:`~grader.similarity.collect` reads each student's exercise files exactly as grading
  does (the allow-list and size caps of :mod:`grader.submission`, symbolic links
  refused, student folders that are links reported and never followed) and keeps only what the
  student wrote: the lines of the given starter code (``exercises/``) are taken out first;
- :mod:`~grader.similarity.engine` fingerprints that code with ``copydetect`` (tokens
  normalised: a renamed variable or a reordered function still matches; the starter code
  also passed as its boilerplate), narrows the pairs with MinHash LSH (``datasketch``) when
  the class is large, and compares the remaining pairs with ``copydetect``;
- :mod:`~grader.similarity.report` writes ``similarity.html`` (self-contained: no script, no
  external resource; every name and line of code escaped) and ``similarity.csv``;
- :mod:`~grader.similarity.cli` is the command.
"""
