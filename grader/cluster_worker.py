"""The worker side of ``autograde`` on Dask: one sandbox per worker, one student per task.

Imported only where Dask is installed (by :mod:`grader.cluster` and, through the pickled
references to it, on every worker). A Dask worker process gets a :class:`SandboxPlugin`; the
first student it receives creates a :class:`~grader.sandbox.supervisor.Sandbox` (harness
copy, zygote with torch imported) and a :class:`~grader.grading.Grader` over it, later
students reuse both (inputs built once per worker), and the worker's teardown closes them,
so each worker pays the start-up once. A worker killed outright takes its sandbox children with it:
the zygote ends them when its pipe from the worker closes.
"""

from __future__ import annotations

import threading
from typing import Any

from distributed import WorkerPlugin, get_worker

from grader.kitprint import differences, kit_fingerprint

PLUGIN_NAME = "practico-sandbox"


class KitMismatch(Exception):
    """This worker would grade differently from the client (other kit, data or versions)."""


class SandboxPlugin(WorkerPlugin):
    """Holds this worker's grader (and its sandbox) between students; closes it when the
    worker closes."""

    name = PLUGIN_NAME

    def setup(self, worker: Any) -> None:
        self.lock = threading.Lock()
        self.grader: Any = None
        self.options: Any = None
        self.checked: Any = None  # the client fingerprint this worker matched

    def teardown(self, worker: Any) -> None:
        with self.lock:
            if self.grader is not None:
                self.grader.close()
                self.grader = None

    def check(self, expected: dict[str, Any]) -> None:
        """Raise :class:`KitMismatch` unless this worker's kit is the client's (a worker that
        joined after the start-up check is checked here, at its first student)."""
        if self.checked == expected:
            return
        found = differences(expected, kit_fingerprint())
        if found:
            raise KitMismatch(f"worker {get_worker().address}: " + "; ".join(found))
        self.checked = expected

    def grader_for(self, options: Any) -> Any:
        """This worker's grader for sandbox ``options`` (a new one when a run with other
        options comes to a long-lived cluster)."""
        from grader.grading import Grader
        from grader.sandbox.supervisor import Sandbox

        with self.lock:
            if self.grader is None or self.options != options:
                if self.grader is not None:
                    self.grader.close()
                self.grader = Grader(Sandbox(options))
                self.options = options
            return self.grader


def worker_fingerprint() -> dict[str, Any]:
    """Run on every worker by the client before grading starts (``client.run``)."""
    return kit_fingerprint()


def grade_student(job: dict[str, Any]) -> Any:
    """One Dask task: grade one student's submission (read and sent by the client) in this
    worker's sandbox.

    ``job``: ``request`` (a :class:`grader.request.GradeRequest` whose submission the client
    read with :meth:`grader.submission.Submission.from_folder`), ``options`` (the sandbox's)
    and ``kit`` (the client's fingerprint). Returns the :class:`grader.grading.GradeOutcome`.
    """
    request = job["request"]
    _validate_request(request)
    plugin = get_worker().plugins[PLUGIN_NAME]
    plugin.check(job["kit"])
    return plugin.grader_for(job["options"]).grade(request)


def _validate_request(request: Any) -> None:
    """A grading request from the network: a request of a submission of files, checked
    before anything of it is written to disk."""
    from grader.request import GradeRequest
    from grader.submission import Submission

    if not isinstance(request, GradeRequest) or not isinstance(request.submission, Submission):
        raise ValueError("a grading job without its request")
    sub = request.submission
    if not isinstance(sub.label, str) or sub.notebook:
        raise ValueError("a grading job for something else than a student's folder")
    _validate_files(sub.files, sub.problems)


def _validate_files(files: Any, problems: Any) -> None:
    """The files arrive over the network: the same allow-list and caps as
    :func:`grader.submission.collect_files` applies, before anything is written to disk."""
    from grader.submission import ALLOWED_NAMES, MAX_FILE_BYTES, MAX_TOTAL_BYTES

    if not isinstance(files, dict) or not isinstance(problems, dict):
        raise ValueError("a grading job without its files")
    for name, data in files.items():
        if name not in ALLOWED_NAMES or not isinstance(data, bytes) or len(data) > MAX_FILE_BYTES:
            raise ValueError(f"a grading job with a file the kit does not accept: {name!r:.80}")
    if sum(len(data) for data in files.values()) > MAX_TOTAL_BYTES:
        raise ValueError("a grading job larger than a submission may be")
    if not all(name in ALLOWED_NAMES and _is_reason(why) for name, why in problems.items()):
        raise ValueError("a grading job with malformed file problems")


def _is_reason(why: Any) -> bool:
    """A file problem as :func:`collect_files` writes it: a ``reason_*`` key and plain values."""
    return (isinstance(why, dict) and len(why) <= 8 and isinstance(why.get("key"), str)
            and why["key"].startswith("reason_")
            and all(isinstance(k, str) and isinstance(v, (str, int)) for k, v in why.items()))
