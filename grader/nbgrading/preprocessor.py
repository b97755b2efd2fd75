"""The nbgrader preprocessor that scores every grade cell in the kit's sandbox.

Put in ``Autograde.autograde_preprocessors`` after nbgrader's ``Execute`` (and
``LimitOutput``) and before ``SaveAutoGrades`` (``course/nbgrader_config.py`` does). For
each notebook it:

1. takes the student's code cells (:func:`grader.nbgrading.cells.student_cells`) and grades
   them through :mod:`grader.grading` in :class:`grader.sandbox.supervisor.Sandbox`: a
   separate child, namespaces, limits, a data-only channel, every verdict computed here; the
   public inputs first, then, for the grade cells that carry hidden tests, inputs drawn from
   the course secret;
2. replaces each grade cell's outputs with the sandbox's messages (stdout) and its score
   (the ``execute_result`` nbgrader reads as partial credit). Whatever the kernel printed
   or returned there is gone, so nothing the student's kernel did decides a point.

3. hands nbgrader's writer the student's result JSON (:data:`~grader.class_report.sources.
   NBGRADER_RESULT_NAME`, signed with the results key), made of the task results that scored
   the grade cells, the hidden combination included; nbgrader writes it beside the autograded
   notebook, where ``class-report`` on the course folder reads it. A check that failed only on
   the hidden inputs is stored with the message its grade cell shows, never the hidden
   verdict's (which names expected values). The course's config keeps the file out of what
   ``generate_feedback`` copies to students (``CourseDirectory.ignore``).

A notebook whose nbgrader cells were altered (:mod:`grader.nbgrading.gradeids` found a
duplicated, unknown, invalid or changed grade id) is not graded: every grade cell scores 0
and says why, and no result JSON is stored. A grade cell that was missing and put back is graded like the others, and says
so.

One grader (its sandbox and zygote, the inputs it built) serves every notebook of the
``nbgrader autograde`` run. When
:class:`~grader.nbgrading.kernel.JailedExecute` runs first, it starts this grading before the
kernel runs (:meth:`SandboxedGrades.start`), so both share the cores; the public and hidden
variants are graded side by side too.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Unicode

from grader.hidden import require_secret
from grader.i18n import current_lang, t
from grader.nbgrading.cells import GradeCell, grade_cells, student_cells
from grader.nbgrading.gradeids import LAYOUT_KEY
from grader.options import DEFAULT_DEVICE, resolve_device
from grader.request import GradeRequest
from grader.scoring import CheckResult, TaskResult, summarize
from grader.submission import Submission
from grader.tasks import get_task

#: where :class:`grader.nbgrading.kernel.JailedExecute` leaves what its kernel jail applied
KERNEL_ISOLATION = "practico_kernel_isolation"

#: where :meth:`SandboxedGrades.start` leaves the grading it started, in ``resources``
PENDING = "practico_sandbox_grading"
#: altered cells listed in each grade cell of a notebook scored 0 for them (then a count)
SHOWN_PROBLEMS = 10

_graders: list[Any] = []
_graders_lock = threading.Lock()
_pools: list[Any] = []


def _pool() -> Any:
    """Two threads: a notebook's public and hidden variants are graded side by side."""
    from concurrent.futures import ThreadPoolExecutor

    with _graders_lock:
        if not _pools:
            _pools.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox"))
        return _pools[0]


def _grader() -> Any:
    """One grader (and sandbox) for the whole process, whatever the device or time limit
    (those are each request's); closed when the process exits."""
    from grader.grading import Grader
    from grader.sandbox.limits import SandboxOptions
    from grader.sandbox.supervisor import Sandbox

    with _graders_lock:
        if not _graders:
            grader = Grader(Sandbox(SandboxOptions()))
            _graders.append(grader)
            atexit.register(grader.close)
        return _graders[0]


def _isolation_gaps(iso: dict[str, Any], kernel: dict[str, Any] | None) -> list[str]:
    """What isolation was missing (``iso``: what the sandbox's children applied), in a few
    words each (empty when everything applied)."""
    gaps = []
    if not iso.get("namespaces"):
        gaps.append("sandbox: " + str(iso.get("namespace_error") or "no namespaces")[:200])
    elif iso.get("filesystem_error"):
        gaps.append("sandbox: " + str(iso["filesystem_error"])[:200])
    if kernel is not None and not kernel.get("jailed"):
        gaps.append("kernel: " + str(kernel.get("error") or "not jailed")[:200])
    return gaps


def _layout(nb: Any) -> dict[str, list[Any]]:
    """What :class:`~grader.nbgrading.gradeids.CheckGradeIds` found (nothing when absent)."""
    found = nb.get("metadata", {}).get(LAYOUT_KEY)
    found = found if isinstance(found, dict) else {}
    return {key: list(found.get(key) or []) for key in ("problems", "restored")}


def layout_problem(problem: dict[str, Any], lang: str) -> str:
    """One altered cell, in a sentence: which, what is wrong with it, what to do."""
    where = str(problem.get("cell", "?"))
    if problem.get("excerpt"):
        where += f" (`{problem['excerpt']}`)"
    values = {"cell": where, "grade_id": problem.get("grade_id") or "-",
              "first": problem.get("first", "?"), "detail": problem.get("detail", "")}
    for key in ("expected", "found"):
        values[key] = t(f"nb_kind_{problem.get(key, 'plain')}", lang)
    return t(f"nb_layout_{problem.get('kind', 'invalid')}", lang, **values)


def layout_outputs(nb_cell: Any, cell: GradeCell, problems: list[Any], lang: str) -> list[Any]:
    """A grade cell of a notebook whose nbgrader cells were altered: 0, and why."""
    task = get_task(cell.task) if cell.task else None
    lines = [t("nb_layout_zero", lang, task=task.id if task else cell.grade_id,
               max=f"{(task.points if task else cell.points):g}")]
    lines += ["- " + layout_problem(p, lang) for p in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        lines.append(t("nb_layout_more", lang, count=len(problems) - SHOWN_PROBLEMS))
    lines.append(t("nb_layout_fix", lang))
    return [new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            new_output("execute_result", data={"text/plain": "0"},
                       execution_count=nb_cell.get("execution_count"))]


def _stored_checks(public: list[CheckResult], combined: list[CheckResult], lang: str
                   ) -> list[CheckResult]:
    """The checks of a task with hidden tests as the stored result holds them: a check that
    failed on the public inputs as the student saw it; one that passed there and fails on the
    hidden ones with the grade cell's message (no value of the hidden verdict: they name
    expected values on inputs drawn from the course secret); one that passed both as it is."""
    seen = {r.check: r for r in public}
    stored = []
    for r in combined:
        before = seen.get(r.check)
        if before is not None and before.status != "passed":
            stored.append(before)
        elif r.status == "passed":
            stored.append(r)
        else:
            stored.append(CheckResult(r.task, r.check, 0, r.max_points, r.status,
                                      t("nb_hidden_check_failed", lang),
                                      key="nb_hidden_check_failed", values={},
                                      diagnoses=list(r.diagnoses)))
    return stored


class SandboxedGrades(NbGraderPreprocessor):
    """Score every grade cell in the kit's sandbox and write its outputs."""

    lang = Unicode("", help="Language of the grade cells' messages: es or en "
                            "(default: $PRACTICO_LANG, else es).").tag(config=True)
    device = Unicode(DEFAULT_DEVICE, help="Where the sandboxed checks run: cpu (the default), "
                                          "cuda, or auto (cuda where available).").tag(config=True)
    check_timeout = Float(None, allow_none=True,
                          help="Wall seconds per check (default: from each check's cost)."
                          ).tag(config=True)

    def start(self, nb: Any, resources: dict[str, Any]) -> None:
        """Start grading ``nb`` in the sandbox now, in the background; :meth:`preprocess`
        collects the result. :class:`~grader.nbgrading.kernel.JailedExecute` calls this
        before the kernel runs: the cells to grade are known before they execute, and the
        kernel and the sandbox's children (one thread each) then share the cores."""
        resources[PENDING] = self._submit(nb)

    def _submit(self, nb: Any) -> dict[str, Any]:
        lang = current_lang(self.lang or None)
        layout = _layout(nb)
        if layout["problems"]:
            # Altered nbgrader cells: nothing to grade (every grade cell says why it is 0).
            return {"lang": lang, "public": None, "hidden": None, "layout": layout}
        ours = [g for g in grade_cells(nb) if g.task]
        tasks = list(dict.fromkeys(g.task for g in ours))
        hidden_tasks = list(dict.fromkeys(g.task for g in ours if g.hidden))
        if hidden_tasks:
            require_secret(lang)
        request = GradeRequest(Submission.from_cells(student_cells(nb)), tasks=tasks,
                               device=resolve_device(self.device or None), lang=lang,
                               timeout=self.check_timeout)
        grader = _grader()
        job: dict[str, Any] = {"lang": lang, "public": None, "hidden": None, "layout": layout,
                               "request": replace(request, variant=1 if hidden_tasks else 0)}
        if tasks:
            job["public"] = _pool().submit(grader.grade, request)
        if hidden_tasks:
            from grader.nb import SAME_IN_EVERY_VARIANT

            job["hidden"] = _pool().submit(grader.grade, replace(
                request, tasks=hidden_tasks, variant=1, skip=SAME_IN_EVERY_VARIANT))
        return job

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Started before the kernel ran (JailedExecute), or now. The grade cells' sources and
        # metadata are nbgrader's (restored before execution), so either way the same cells.
        job = resources.pop(PENDING, None) or self._submit(nb)
        lang = job["lang"]
        graded = job["public"].result() if job["public"] is not None else None
        public = graded.results if graded is not None else {}
        hidden = job["hidden"].result().results if job["hidden"] is not None else {}
        gaps = _isolation_gaps(graded.report.isolation if graded is not None else {},
                               resources.get(KERNEL_ISOLATION))
        if gaps:
            self.log.warning("graded without full isolation: %s", "; ".join(gaps))
        layout = job["layout"]
        scored: dict[str, TaskResult] = {}
        for cell in grade_cells(nb):
            nb_cell = nb.cells[cell.index]
            if layout["problems"]:
                nb_cell.outputs = layout_outputs(nb_cell, cell, layout["problems"], lang)
                continue
            nb_cell.outputs = self._outputs(nb_cell, cell, public, hidden, gaps, lang, scored)
            if cell.grade_id in layout["restored"] and nb_cell.outputs:
                first = nb_cell.outputs[0]
                note = t("nb_layout_restored", lang) + "\n"
                if first.get("output_type") == "stream":
                    first["text"] = first["text"] + note
                else:
                    nb_cell.outputs.insert(0, new_output("stream", name="stdout", text=note))
        if scored and not layout["problems"]:
            self._store_result(resources, job, scored, graded)
        return nb, resources

    def _store_result(self, resources: dict[str, Any], job: dict[str, Any],
                      scored: dict[str, TaskResult], graded: Any) -> None:
        """Hand nbgrader's writer the signed result JSON of this student (beside the
        autograded notebook). Whatever goes wrong here is logged and costs no grade."""
        try:
            from grader.class_report.sources import NBGRADER_RESULT_NAME, nbgrader_result_bytes
            from grader.outputs.provenance import fingerprint, produced_by
            from grader.outputs.results import to_json_dict
            from grader.outputs.signing import load_key

            info = resources.get("nbgrader") or {}
            student, assignment = str(info["student"]), str(info["assignment"])
            # the course holds the students' submissions: the key may not lie anywhere in it
            root = (self.config.get("CourseDirectory") or {}).get("root") or os.getcwd()
            key = load_key([Path(root)])
            request = job["request"]
            record = produced_by(request.submission, request)
            data = to_json_dict(scored)
            data.update({"fingerprint": fingerprint(record), "produced_by": record})
            if graded is not None:
                data["sandbox"] = graded.sandbox_json()
            resources.setdefault("outputs", {})[NBGRADER_RESULT_NAME] = nbgrader_result_bytes(
                student, assignment, data, key)
        except Exception as exc:  # noqa: BLE001 - the stored result never costs a grade
            self.log.error("the student's result JSON for the class report was not stored: "
                           "%s: %s", type(exc).__name__, exc)

    def _outputs(self, nb_cell: Any, cell: GradeCell, public: dict[str, Any],
                 hidden: dict[str, Any], gaps: list[str], lang: str,
                 scored: dict[str, TaskResult]) -> list[Any]:
        """The grade cell's outputs; ``scored`` gets the task result behind its score."""
        count = nb_cell.get("execution_count")
        if not cell.task or cell.task not in public:
            # Not a cell of the kit's (or nothing graded it): an error output scores 0.
            return [new_output("error", ename="GradeCellError", evalue=cell.grade_id,
                               traceback=[f"{cell.grade_id}: not a grade cell of this course"])]
        from grader.nb import check_lines, combine_hidden, notebook_message

        task = get_task(cell.task)
        results = public[cell.task].checks
        for r in results:
            r.message = notebook_message(r, lang)
        lines = []
        shown = results
        if cell.hidden and cell.task in hidden:
            passed = {r.check for r in results if r.status == "passed"}
            mine = hidden[cell.task].checks
            combined, newly_failed = combine_hidden(cell.task, passed, mine)
            for r in newly_failed:
                # Never the hidden inputs nor what was expected on them: feedback is
                # read by the student, and the same secret serves the whole course.
                r.message = t("nb_hidden_check_failed", lang)
            total = summarize(combined, lang)[cell.task]
            scored[cell.task] = summarize(_stored_checks(results, combined, lang),
                                          lang)[cell.task]
        else:
            newly_failed, total = [], public[cell.task]
            scored[cell.task] = total
        first = public[cell.task]
        lines.append(t("nb_sandbox_header", lang, task=task.id, title=task.title(lang),
                       score=f"{first.score:g}", max=f"{first.max_score:g}"))
        lines += check_lines(shown)
        if cell.hidden and cell.task in hidden:
            lines.append(t("nb_sandbox_hidden", lang, score=f"{total.score:g}",
                           max=f"{total.max_score:g}"))
            lines += check_lines(newly_failed)
        for gap in gaps:
            lines.append(t("nb_isolation_missing", lang, what=gap))
        return [
            new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            new_output("execute_result", data={"text/plain": f"{total.score:g}"},
                       execution_count=count),
        ]
