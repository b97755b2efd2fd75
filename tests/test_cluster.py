"""``autograde`` on Dask (grader/cluster.py): same results as the local pool, nothing lost
when a worker dies, clear errors for a scheduler that does not answer and for workers whose
kit differs. Real LocalClusters, real ``dask worker`` processes, real sandboxes and MNIST.

The sample class (fixtures/class) is graded on three tasks that between them meet every kind
of student in it (reference, stubs, a missing file, a symbolic link, a syntax error elsewhere,
``os._exit`` at import) and keep the file near a minute: the cluster path does not depend on
which checks run.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_py
from run_outputs import comparable_outputs
from waiting import gone, grading_zygotes, wait_until

pytest.importorskip("distributed", reason="Dask is not installed: the cluster extra "
                    "(pip install -e '.[cluster]'; ./kit setup installs it)")
psutil = pytest.importorskip("psutil", reason="psutil comes with distributed")

pytestmark = pytest.mark.slow

TASKS = "test_viewer,deep_net,relu_net"
#: seconds until a worker grades its second student (two workers start, import torch, build
#: the checks' inputs and grade one student each, on a loaded machine)
FIRST_STUDENT_SECONDS = 300
#: seconds a killed worker's zygote and grading child get to end (the zygote reads the end of
#: its stdin, kills its children and exits; a loaded machine)
SANDBOX_END_SECONDS = 30


def _autograde(root: Path, out: Path, *flags: str, env: dict | None = None):
    return run_py("-m", "grader", "autograde", str(root), "--out", str(out), "--tasks", TASKS,
                  *flags, env={"CI": "true", **(env or {})})


def _assert_same_results(out: Path, reference: Path) -> None:
    mine, theirs = comparable_outputs(out), comparable_outputs(reference)
    assert sorted(mine) == sorted(theirs)
    assert (out / "grades.csv").read_bytes() == (reference / "grades.csv").read_bytes()
    for name in theirs:
        assert mine[name] == theirs[name], name


@pytest.fixture(scope="module")
def sample_class(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cluster") / "submissions"
    proc = run_py(str(ROOT / "fixtures" / "class" / "assemble.py"), str(root))
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture(scope="module")
def reference(sample_class, tmp_path_factory) -> Path:
    """The class graded by the local pool, ``--jobs 2``."""
    out = tmp_path_factory.mktemp("pool") / "results"
    proc = _autograde(sample_class, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(list((out / "students").glob("*/result.json"))) == 7
    return out


def test_a_local_cluster_grades_like_the_local_pool(sample_class, reference, tmp_path):
    out = tmp_path / "results"
    proc = _autograde(sample_class, out, "--cluster", "local", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert re.search(r"\[7/7\] ", proc.stderr)  # the same progress lines
    # result.json fingerprints included: a run resumes whichever executor graded before
    _assert_same_results(out, reference)


def test_a_worker_killed_mid_student_loses_nobody(sample_class, reference, tmp_path):
    out = tmp_path / "results"
    cmd = [sys.executable, "-m", "grader", "autograde", str(sample_class), "--out", str(out),
           "--tasks", TASKS, "--cluster", "local", "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "CI": "true"})
    try:
        # Wait for a worker that is grading a student and has already finished one (so the
        # kill lands mid-run, with students done, running and waiting).
        def grading_after_one() -> list[psutil.Process]:
            assert proc.poll() is None, "the run ended before a worker was seen grading"
            done = len(list(out.glob("students/*/result.json")))
            return grading_zygotes(proc.pid) if done >= 1 else []

        zygote = wait_until(grading_after_one, FIRST_STUDENT_SECONDS,
                            "a worker grading a student after a first one was graded")[0]
        worker = zygote.parent()
        doomed = [worker, zygote, *zygote.children(recursive=True)]
        done_before = len(list(out.glob("students/*/result.json")))
        assert done_before < 7
        os.kill(worker.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr and "SIN CALIFICAR" not in stderr
    assert "7 estudiante(s) calificado(s)" in stdout
    _assert_same_results(out, reference)
    # the killed worker's sandbox went with it: its zygote and grading child are gone
    wait_until(lambda: all(gone(p) for p in doomed), SANDBOX_END_SECONDS,
               f"the killed worker's zygote and children ended: "
               f"{[p.pid for p in doomed if not gone(p)]} alive")


def test_a_scheduler_that_does_not_answer_is_named(sample_class, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    out = tmp_path / "results"
    proc = _autograde(sample_class, out, "--scheduler", address,
                      env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert proc.returncode == 2
    assert f"--scheduler {address}: no Dask scheduler answered within 2 s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not out.exists()


@pytest.fixture
def scheduler():
    """A scheduler with no workers of its own, in this process; workers join by hand."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=0, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    workers: list[subprocess.Popen] = []
    yield cluster.scheduler_address, client, workers
    for worker in workers:
        worker.kill()
        worker.wait()
    client.close()
    cluster.close()


def _start_worker(address: str, cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nthreads", "1",
                             "--no-nanny"], cwd=cwd, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_workers_with_another_kit_or_no_mnist_stop_the_run_before_grading(
        scheduler, sample_class, tmp_path):
    address, client, workers = scheduler
    other = tmp_path / "other_kit"  # the kit with one check file changed, as an older install
    shutil.copytree(ROOT / "grader", other / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "grader" / "checks" / "nets.py", "a") as fh:
        fh.write("\n# a later change to the checks\n")
    no_data = tmp_path / "no_data"
    no_data.mkdir()
    workers.append(_start_worker(address, ROOT, {}))  # a good one
    workers.append(_start_worker(address, other, {}))  # `python -m` imports ./grader first
    workers.append(_start_worker(address, ROOT, {"PRACTICO_DATA": str(no_data)}))
    client.wait_for_workers(3, timeout=120)
    pids = {pid: addr for addr, pid in client.run(os.getpid).items()}
    good, old_kit, without_data = (pids[w.pid] for w in workers)

    out = tmp_path / "results"
    proc = _autograde(sample_class, out, "--scheduler", address)
    assert proc.returncode == 2, proc.stderr[-3000:]
    err = proc.stderr
    assert "Traceback" not in err
    assert "2 of 3 Dask worker(s) would not grade like this machine; nothing was graded" in err
    line = {addr: next((x for x in err.splitlines() if addr in x), "") for addr in pids.values()}
    assert "its grader code differs (grader/checks/nets.py)" in line[old_kit]
    assert f"MNIST is missing there ({no_data}/MNIST/raw" in line[without_data]
    assert line[good] == ""
    assert not (out / "students").exists()


def test_flags_that_do_not_go_together(sample_class, tmp_path, capsys):
    from grader.cli import main

    out = tmp_path / "results"
    cases = [
        (("--cluster", "local", "--scheduler", "tcp://127.0.0.1:8786"), "not allowed with"),
        (("--scheduler", "tcp://127.0.0.1:8786", "--workers", "3"),
         "--workers: only with --cluster slurm|pbs|sge"),
        (("--scheduler", "tcp://127.0.0.1:8786", "--jobs", "3"), "--jobs: the number of workers"),
        (("--cores", "4",), "--cores: only with --cluster slurm|pbs|sge"),
        (("--scheduler", "localhost:99999:1"), "--scheduler localhost:99999:1: not a "),
    ]
    if shutil.which("sbatch") is None:
        cases.append((("--cluster", "slurm"), "--cluster slurm: `sbatch` is not on PATH"))
    for flags, fragment in cases:
        try:
            # --lang en: argparse's own refusal is worded in the reader's language (Spanish
            # by default); these fragments are the English ones
            code = main(["autograde", str(sample_class), "--out", str(out), "--lang", "en",
                         *flags])
        except SystemExit as exc:  # argparse's own refusal (mutually exclusive flags)
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2, (flags, err)
        assert fragment in err and "Traceback" not in err, (flags, err)
    assert not out.exists()


def test_a_slurm_job_runs_one_single_threaded_worker_per_core(monkeypatch):
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue is not installed (cluster extra)")
    from grader.cluster import ClusterSpec, batch_cluster

    monkeypatch.setenv("PRACTICO_DATA", "/data/course")
    spec = ClusterSpec(kind="slurm", workers=8, cores=4, memory="32GiB", walltime="02:00:00",
                       queue="short", account="dl101")
    cluster = batch_cluster(spec)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for directive in ("#SBATCH -p short", "#SBATCH -A dl101", "#SBATCH -t 02:00:00",
                      "#SBATCH --cpus-per-task=4"):
        assert directive in script, script
    assert "export PRACTICO_DATA=${PRACTICO_DATA:-/data/course}" in script
    assert re.search(r"--nthreads 1 .*--nworkers 4", script), script
    assert sys.executable in script
