"""``autograde`` on Dask distributed: a class graded by the workers of a cluster.

``python -m grader autograde ROOT --out DIR`` grades with a local process pool by default.
With the ``cluster`` extra installed (``pip install -e .[cluster]``) it can instead send each
student to a Dask worker:

- ``--cluster local``: a ``LocalCluster`` of ``--jobs`` worker processes, one thread each;
- ``--scheduler tcp://HOST:PORT``: a running cluster (``dask scheduler`` / ``dask worker``);
- ``--cluster slurm|pbs|sge``: workers in batch jobs through dask-jobqueue (``--workers``,
  ``--cores`` per job, ``--memory``, ``--walltime``, ``--queue``, ``--account``).

One student is one Dask task. The client reads the allow-listed files, sends their bytes (so
workers need no shared filesystem, only the kit and MNIST at ``PRACTICO_DATA``), and each
worker grades them in its own :class:`~grader.sandbox.supervisor.Sandbox`, through the same
grading loop (:mod:`grader.cluster_worker`). Everything else stays in
:func:`grader.autograde.autograde`, unchanged: it sees a :class:`ClusterGrader` where it
would use a local grader, so the files it writes, resuming, the progress bar and
grader-error handling are the local pool's, byte for byte.

What can go wrong is said before grading starts: Dask missing, a scheduler that does not
answer (its address named), a worker whose kit, versions or MNIST differ from this machine's
(:mod:`grader.kitprint`). A worker that dies mid-student loses nothing: the scheduler gives
that student to another worker (Dask gives up on a student only after it killed
``distributed.scheduler.allowed-failures`` workers; it is then reported as a grader error).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shlex
import shutil
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from grader import settings
from grader.cli_language import helptext
from grader.options import UserError

#: batch systems reached through dask-jobqueue, with the command each needs on PATH
BATCH_SYSTEMS = {"slurm": "sbatch", "pbs": "qsub", "sge": "qsub"}
KINDS = ("local", *BATCH_SYSTEMS)
#: workers named in a kit-mismatch error, at most
MAX_WORKERS_NAMED = 10
INSTALL_HINT = "install the cluster extra: pip install -e '.[cluster]' (dask, distributed, " \
               "dask-jobqueue)"


@dataclass(frozen=True)
class ClusterSpec:
    """Where ``autograde`` sends students: what the command-line flags asked for."""

    kind: str  # "local", "scheduler" or a key of BATCH_SYSTEMS
    address: str | None = None
    workers: int = 4
    cores: int = 1
    memory: str | None = None
    walltime: str = "01:00:00"
    queue: str | None = None
    account: str | None = None


def add_cluster_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of ``autograde`` that choose and size a Dask cluster."""
    group = parser.add_argument_group(helptext("cli_cluster_group"))
    where = group.add_mutually_exclusive_group()
    where.add_argument("--cluster", choices=KINDS, default=None,
                       help=helptext("cli_cluster_kind"))
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help=helptext("cli_cluster_scheduler"))
    group.add_argument("--workers", type=int, default=None, metavar="N",
                       help=helptext("cli_cluster_workers"))
    group.add_argument("--cores", type=int, default=None, metavar="N",
                       help=helptext("cli_cluster_cores"))
    group.add_argument("--memory", default=None, metavar="SIZE",
                       help=helptext("cli_cluster_memory"))
    group.add_argument("--walltime", default=None, metavar="HH:MM:SS",
                       help=helptext("cli_cluster_walltime"))
    group.add_argument("--queue", default=None, metavar="NAME",
                       help=helptext("cli_cluster_queue"))
    group.add_argument("--account", default=None, metavar="NAME",
                       help=helptext("cli_cluster_account"))


def spec_from_args(args: argparse.Namespace) -> ClusterSpec | None:
    """The cluster the flags ask for, or None for the local pool; a :class:`UserError` for
    flags that do not go together, or when Dask is not installed."""
    batch_flags = {name: getattr(args, name, None)
                   for name in ("workers", "cores", "memory", "walltime", "queue", "account")}
    given = [f"--{name}" for name, value in batch_flags.items() if value is not None]
    kind = "scheduler" if args.scheduler else args.cluster
    if kind is None:
        if given:
            raise UserError(f"{', '.join(given)}: only with --cluster slurm|pbs|sge")
        return None
    if given and kind not in BATCH_SYSTEMS:
        raise UserError(f"{', '.join(given)}: only with --cluster slurm|pbs|sge (with "
                        f"{'--scheduler' if kind == 'scheduler' else '--cluster local'} the "
                        "workers are sized where they are started)")
    if args.jobs is not None and kind != "local":
        raise UserError("--jobs: the number of workers of --cluster local (a running cluster "
                        "has its own; a batch cluster takes --workers)")
    if args.device != "cpu" and kind != "local":
        raise UserError(f"--device {args.device}: only --device cpu on a remote cluster for "
                        "now (--cluster local can use this machine's GPU)")
    for name in ("workers", "cores"):
        value = batch_flags[name]
        if value is not None and value < 1:
            raise UserError(f"--{name} {value}: give a whole number of at least 1")
    try:
        import distributed  # noqa: F401
        if kind in BATCH_SYSTEMS:
            import dask_jobqueue  # noqa: F401
    except ImportError as exc:
        raise UserError(f"{'--scheduler' if kind == 'scheduler' else '--cluster ' + kind}: "
                        f"{exc.name or 'Dask'} is not installed; {INSTALL_HINT}") from None
    if kind in BATCH_SYSTEMS and shutil.which(BATCH_SYSTEMS[kind]) is None:
        raise UserError(f"--cluster {kind}: `{BATCH_SYSTEMS[kind]}` is not on PATH here; run "
                        "autograde on a machine that submits jobs (the login node)")
    cores = batch_flags["cores"] or 1
    return ClusterSpec(kind=kind, address=args.scheduler, workers=batch_flags["workers"] or 4,
                       cores=cores, memory=batch_flags["memory"] or f"{8 * cores}GiB",
                       walltime=batch_flags["walltime"] or "01:00:00",
                       queue=batch_flags["queue"], account=batch_flags["account"])


def batch_cluster(spec: ClusterSpec) -> Any:
    """A dask-jobqueue cluster for ``spec`` (no job submitted yet): each job runs ``cores``
    workers of one thread, each grading one student at a time with one torch thread."""
    import dask_jobqueue

    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster,
           "sge": dask_jobqueue.SGECluster}[spec.kind]
    kwargs: dict[str, Any] = {
        "cores": spec.cores, "processes": spec.cores, "memory": spec.memory,
        "walltime": spec.walltime, "queue": spec.queue, "python": sys.executable,
        "job_name": "practico-grade",
    }
    if spec.account:
        kwargs["project" if spec.kind == "sge" else "account"] = spec.account
    data = settings.data_setting()
    if data:
        # Workers read MNIST where this machine does, unless their own setup says otherwise
        # (the kit check before grading reports a worker without it).
        kwargs["job_script_prologue"] = [
            f"export {settings.DATA}=${{{settings.DATA}:-{shlex.quote(data)}}}"]
    return cls(**kwargs)


def _connect_timeout() -> float:
    import dask.config
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s"))


class Cluster:
    """A connected Dask client whose workers were checked to grade like this machine.

    Used as a context manager around :func:`grader.autograde.autograde`; on entry it starts
    or reaches the cluster, installs the worker plugin and compares kit fingerprints, so
    every problem is reported before the first student is sent.
    """

    def __init__(self, spec: ClusterSpec, jobs: int | None = None) -> None:
        self.spec = spec
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.cluster: Any = None
        self.client: Any = None
        self.kit: dict[str, Any] = {}

    @property
    def slots(self) -> int:
        """Students sent at once: one per worker thread (the rest wait on this side, so the
        ``seconds`` of a result are grading, not queueing)."""
        if self.spec.kind == "local":
            return self.jobs
        if self.spec.kind in BATCH_SYSTEMS:
            return self.spec.workers
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))

    def __enter__(self) -> Cluster:
        try:
            self._start()
            self._check_workers()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for thing in (self.client, self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # closing a half-started cluster: nothing more to do
                    pass
        self.client = self.cluster = None

    def _start(self) -> None:
        from distributed import Client, LocalCluster

        from grader.cluster_worker import SandboxPlugin

        spec = self.spec
        # Dask's own warnings (a worker lost, a retry) stay out of the progress lines.
        logging.getLogger("distributed").setLevel(logging.ERROR)
        if spec.kind == "local":
            self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1,
                                        processes=True, memory_limit=0,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        elif spec.kind == "scheduler":
            timeout = _connect_timeout()
            try:
                self.client = Client(spec.address, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise UserError(
                    f"--scheduler {spec.address}: no Dask scheduler answered within "
                    f"{timeout:g} s ({type(exc).__name__}). Is `dask scheduler` running there "
                    "and its port reachable from here? (The wait is "
                    "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT.)") from None
            except ValueError as exc:
                raise UserError(f"--scheduler {spec.address}: not a scheduler address "
                                f"({exc}); give e.g. tcp://HOST:8786") from None
        else:
            self.cluster = batch_cluster(spec)
            self.cluster.scale(n=spec.workers)
            self.client = Client(self.cluster)
        self.client.register_plugin(SandboxPlugin(), name="practico-sandbox")

    def _check_workers(self) -> None:
        """Wait for workers, then compare every worker's kit fingerprint with this one."""
        from grader.cluster_worker import worker_fingerprint
        from grader.kitprint import differences, kit_fingerprint

        if self.spec.kind == "local":
            try:
                self.client.wait_for_workers(self.jobs, timeout=300)
            except TimeoutError:
                raise UserError(f"--cluster local: {self.jobs} Dask worker(s) did not start "
                                "within 300 s; try fewer --jobs") from None
        elif self.spec.kind == "scheduler":
            try:
                self.client.wait_for_workers(1, timeout=_connect_timeout())
            except TimeoutError:
                raise UserError(f"--scheduler {self.spec.address}: the scheduler has no "
                                f"workers; start some with `dask worker {self.spec.address} "
                                "--nthreads 1`") from None
        else:
            print(f"waiting for the {self.spec.kind} queue to start a first worker (Ctrl-C "
                  "to give up; the others join as their jobs start)", file=sys.stderr)
            self.client.wait_for_workers(1)
        self.kit = kit_fingerprint()
        answers = self.client.run(worker_fingerprint, on_error="return")
        problems = []
        for address, theirs in sorted(answers.items()):
            if isinstance(theirs, BaseException):
                found = [f"could not run the kit there ({type(theirs).__name__}: "
                         f"{str(theirs)[:200]}); is the kit installed on that machine?"]
            else:
                found = differences(self.kit, theirs)
            if found:
                problems.append(f"  worker {address}: {'; '.join(found)}")
        if problems:
            shown = problems[:MAX_WORKERS_NAMED]
            if len(problems) > MAX_WORKERS_NAMED:
                shown.append(f"  and {len(problems) - MAX_WORKERS_NAMED} more worker(s)")
            raise UserError(
                f"{len(problems)} of {len(answers)} Dask worker(s) would not grade like this "
                "machine; nothing was graded. Install the same kit (and torch) there and set "
                "PRACTICO_DATA to a folder holding the same MNIST/raw/:\n" + "\n".join(shown))

    def grader(self, options: Any) -> ClusterGrader:
        """What :func:`grader.autograde.autograde` grades with instead of a local
        :class:`grader.grading.Grader` (``options``: each worker's sandbox's)."""
        return ClusterGrader(self.client, options, self.kit,
                             one_thread=self.spec.kind != "local")


class ClusterGrader:
    """Grades one student per call on a Dask worker; what autograde needs of a grader."""

    def __init__(self, client: Any, options: Any, kit: dict[str, Any],
                 one_thread: bool = False) -> None:
        self.client = client
        self.options = options
        self.kit = kit
        # Remote workers are one per core (see the README): one torch thread each.
        self.one_thread = one_thread
        self._futures: set[Any] = set()
        self._lock = threading.Lock()
        self._cancelled = False

    def grade(self, request: Any) -> Any:
        """Grade ``request`` (its submission read here) on a worker, and wait; returns the
        worker's :class:`grader.grading.GradeOutcome`."""
        from grader.cluster_worker import grade_student
        from grader.sandbox.supervisor import GradingCancelled

        if self.one_thread:
            request = dataclasses.replace(request, threads=1)
        label = request.submission.label
        job = {"request": request, "options": self.options, "kit": self.kit}
        with self._lock:
            if self._cancelled:
                raise GradingCancelled(label)
            future = self.client.submit(grade_student, job, key=f"grade-{uuid.uuid4().hex}",
                                        pure=False)
            self._futures.add(future)
        try:
            return future.result()
        except BaseException:
            if self._cancelled:
                raise GradingCancelled(label) from None
            raise
        finally:
            with self._lock:
                self._futures.discard(future)

    def kill_all(self) -> None:
        """Ctrl-C: cancel every student still out; their callers raise GradingCancelled."""
        with self._lock:
            self._cancelled = True
            futures = list(self._futures)
        if futures:
            try:
                self.client.cancel(futures, force=True)
            except Exception:  # the client is going away too: nothing left to cancel
                pass

    def close(self) -> None:
        self.kill_all()
