"""The isolated child: runs the student's side of checks, reports plain data, decides nothing.

Started by :mod:`grader.sandbox.spawn` as ``python -I -S <harness>/boot.py <job dir> <fd>``, or
forked by the zygote (:mod:`grader.sandbox.zygote`). Before a single line of student code
runs it:

1. reads its request and the student's ``ex*.py`` into memory;
0. joins its own control group (CPU quota, memory and process caps; see
   :mod:`grader.sandbox.cgroups`), or, where there is none, pins itself to its own CPUs;
2. where Linux namespaces allow: a new mount, network, PID, IPC and UTS namespace (a user
   namespace too when not root); a new root (``pivot_root``) that holds only the system folders, the
   Python installation, the grader's public harness and MNIST, read-only, so the reference,
   the other submissions and the results do not exist for the child; a fresh ``/proc``
   hides the grader's processes; the network has only a downed loopback; SysV shared memory,
   message queues and semaphores are the child's own (and vanish with it);
3. writes the student's files into a private tmpfs, sets resource limits (CPU seconds,
   address space on CPU, file size, open files, processes, no core dumps), and drops to an
   unprivileged uid (as root) or locks the mounts and drops capabilities (user namespace).
   Without namespaces, as root, it refuses to run student code when it cannot drop to that
   uid (a needed folder under a closed one such as ``/root``), unless the instructor asked
   for it (``unsafe_no_isolation``);
4. imports everything the harness needs, keeping its own references, then imports the
   student's modules lazily, check by check.

Messages to the grader are length-prefixed codec frames on one pipe: ``hello`` (the
isolation actually applied), ``start``/``import``/``result`` per check. stdout and stderr
go to size-limited files the grader never parses.
"""

from __future__ import annotations

import os
import sys

from grader.sandbox.jail import (
    drop_privileges,
    enter_namespaces,
    gpu_fraction,
    join_cgroup,
    refusal,
    set_limits,
)
from grader.sandbox.mounts import new_root
from grader.sandbox.wire import Channel

__all__ = ["main"]


def main(job_dir: str, fd: int) -> None:
    from grader import codec

    with open(os.path.join(job_dir, "request.bin"), "rb") as fh:
        request = codec.decode(fh.read())
    cfg = request["config"]
    files: dict[str, bytes] = {}
    for name in request["files"]:
        with open(os.path.join(job_dir, "sub", name), "rb") as fh:
            files[name] = fh.read()

    applied: dict = {"namespaces": False, "user_namespace": False, "uid": os.geteuid(),
                     "visible": None, "network": True, "ipc": False, "uts": False}
    join_cgroup(cfg, applied)
    work = job_dir
    if cfg["namespaces"]:
        try:
            applied.update(enter_namespaces(cfg))
        except OSError as exc:
            applied["namespace_error"] = str(exc)
    if applied["namespaces"]:
        applied["network"] = False
        work = cfg["private_dir"]
        try:
            applied["visible"] = new_root(cfg["root_dir"], cfg["needed"], work,
                                           cuda=cfg["device"] == "cuda")
        except OSError as exc:
            # Reported to the grader (and in each result.json), never silent: the child
            # still has its own PID and network namespaces, but sees the whole filesystem.
            applied["filesystem_error"] = str(exc)
            work = job_dir
    sub = os.path.join(work, "sub")
    home = os.path.join(work, "home")
    for folder in (sub, home, os.path.join(work, "tmp")):
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o777)
    for name, data in files.items():
        with open(os.path.join(sub, name), "wb") as fh:
            fh.write(data)
    os.environ.update({"HOME": home, "TMPDIR": os.path.join(work, "tmp"),
                       "MPLCONFIGDIR": os.path.join(home, "mpl")})
    os.chdir(sub)

    set_limits(cfg)
    refused = refusal(cfg, applied)
    if refused is not None:
        # Said before any student module is imported; the grader stops with this reason.
        applied["refused"] = refused
        Channel(fd, codec.encode).send({"ev": "hello", "isolation": applied,
                                        "pid": os.getpid()})
        os._exit(3)
    if not applied.get("unsafe_root"):
        drop_privileges(cfg, applied)

    # Everything the harness needs is imported (and kept) before any student code.
    import torch

    from grader.checks import CHECKS, ProbeEnv
    from grader.impl import DirImpl
    from grader.probing import probe_outcome

    torch.set_num_threads(int(cfg["threads"]))
    gpu_fraction(cfg, applied)
    channel = Channel(fd, codec.encode)
    channel.send({"ev": "hello", "isolation": applied, "pid": os.getpid()})

    class ReportingImpl(DirImpl):
        def _import(self, module: str):
            # The grader blames a crash between these two events on the module's import.
            channel.send({"ev": "import", "module": module})
            try:
                return super()._import(module)
            finally:
                channel.send({"ev": "imported", "module": module})

    if request.get("notebook"):
        # A notebook: its cells run now, in order, in one namespace that then stands in
        # for every module (what a kernel would hold after "Run all").
        from grader.impl import NamespaceImpl
        from grader.sandbox.run_cells import run_cells

        os.environ["PRACTICO_PRESUPUESTO"] = "minimo"  # the experiments earn no points
        impl = NamespaceImpl(run_cells(files[request["files"][0]]))
    else:
        impl = ReportingImpl(sub)
    by_id = {c.id: c for c in CHECKS}
    env = ProbeEnv(device=cfg["device"])
    for index, item in enumerate(request["checks"]):
        check = by_id[item["id"]]
        channel.send({"ev": "start", "i": index})
        outcome = probe_outcome(check, impl, item["inp"], env)
        try:
            channel.send({"ev": "result", "i": index, "outcome": outcome})
        except codec.CodecError as exc:
            channel.send({"ev": "result", "i": index, "outcome": {
                "status": "error", "exc_type": "CodecError", "exc_msg": str(exc)[:300],
                "where": ""}})
    channel.send({"ev": "done"})
    sys.stdout.flush()
    os._exit(0)
