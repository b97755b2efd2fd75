"""A student id that would be markup in formgrader is refused before that student is graded.

Why: formgrader's submission page (nbgrader 0.9, ``formgrade/formgrade_macros.html.j2``)
writes the student id, the name of the student's folder in ``submitted/``, into the page
without escaping, inside the instructor's logged-in session. A folder named
``<img src=x onerror=...>`` (folder names can hold any character but ``/``) would run there.
The notebook itself is made inert (:mod:`grader.nbgrading.inert`); the id is not in it.

:class:`CheckStudentId`, first in ``Autograde.sanitize_preprocessors``, raises for an id
holding ``< > " ' & `` ` or a control or bidi character: nbgrader then fails that student
alone (it removes the half-made autograded folder, so formgrader has no page to render), logs
the reason and goes on with the class; ``nbgrader-autograde`` reports it among the failures.
Letters of any language, digits, spaces and ``. _ - @ +`` are kept as they are.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

from grader.i18n import current_lang, t
from grader.textsafe import safe_name

#: characters that are markup, or end an attribute, in HTML
MARKUP = set("<>\"'&`")


def unsafe_chars(student: str) -> list[str]:
    """The characters of ``student`` that may not be in an id shown by formgrader."""
    return sorted({ch for ch in student if ch in MARKUP or unicodedata.category(ch)[0] == "C"})


class UnsafeStudentId(ValueError):
    """The student's folder name would be markup in formgrader."""


class CheckStudentId(NbGraderPreprocessor):
    """See the module's docstring."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        student = str((resources.get("nbgrader") or {}).get("student", ""))
        bad = unsafe_chars(student)
        if bad:
            raise UnsafeStudentId(t("nb_unsafe_student", current_lang(), student=safe_name(
                student), chars=" ".join(safe_name(ch) for ch in bad)))
        return nb, resources
