"""Diagnoses: which known mistake explains a failed check (issue 20).

Verdict side only, like the oracles: nothing here is copied into the sandbox child
(:mod:`grader.sandbox.probe_copy` lists what is; ``tests/test_harness.py`` checks this package
is not among it). When a check fails, :func:`grader.scoring.judge` hands the check's own
probe data and the :class:`~grader.checks.base.Fail` to :func:`engine.diagnose`, which runs
that check's detectors (:mod:`catalogue`) and returns the mistakes that explain the data,
ranked; the message shown is then the diagnosis's.

Public API (light to import: the catalogue and its texts, no detector runs):

- :data:`catalogue.MISTAKES`: mistake id -> :class:`catalogue.Mistake` (tasks, checks it
  explains, message key, title key, strength of its evidence);
- :func:`catalogue.describe`: ``describe(id, lang) -> str``, the mistake in a few words;
- :func:`engine.diagnose` and :func:`engine.render`.
"""
