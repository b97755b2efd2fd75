"""Grades into an LMS: ``python -m grader export SOURCE --to canvas|moodle --roster R --out F``.

- :mod:`~grader.lms.roster` reads the course team's roster: which LMS identity each student
  folder (or nbgrader student id) is;
- :mod:`~grader.lms.sources` reads the grades: from an ``autograde`` results folder (only
  ``result.json`` files this kit signed count) or from an nbgrader course's gradebook;
- :mod:`~grader.lms.formats` writes them as the LMS's own import file (Canvas's gradebook CSV,
  Moodle's grade import CSV), every cell through the spreadsheet neutraliser;
- :mod:`~grader.lms.export` matches the two, reports every student left out and why, and is
  the command.
"""
