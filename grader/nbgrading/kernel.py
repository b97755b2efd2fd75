"""nbgrader's Execute with a jailed kernel: the student's code runs where it can reach nothing.

:class:`JailedExecute` replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors``
(``course/nbgrader_config.py``); it is nbgrader's own preprocessor with another kernel
manager. :class:`JailedKernelManager` gives each kernel a fresh private folder for its
connection file and its ZMQ ``ipc`` sockets (there is no network in the jail), and starts the
kernel command through :mod:`grader.nbgrading.jail`. What the jail applied reaches the grade
cells through ``resources`` (:data:`grader.nbgrading.preprocessor.KERNEL_ISOLATION`).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool

from grader import settings
from grader.nbgrading.preprocessor import KERNEL_ISOLATION, SandboxedGrades
from grader.sandbox.uidblocks import BlockUids

JAIL_SCRIPT = Path(__file__).resolve().parent / "jail.py"
KIT_PACKAGE = Path(__file__).resolve().parent.parent
#: one uid per kernel, apart from the sandbox's children (61000 + 64 * 512): a block of
#: them per process, the same block as its sandbox's (grader/sandbox/uidblocks.py)
UID_BASE = 95000
#: what the kernel may use: the notebook's cells run in it one after the other
KERNEL_LIMITS = {
    "cpu_seconds": 3600,
    "file_size": 64 * 1024**2,
    "open_files": 1024,
    "processes": 256,
    "address_space": 8 * 1024**3,
}
#: variables the kernel gets from the grader's environment (nothing else, no secret)
PASSED_ON = (settings.DATA, settings.BUDGET, settings.LANG, settings.NBGRADER_EXECUTION,
             "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MPLBACKEND")

#: the kernels' uids, from this process's own block (so the nbgrader processes of
#: ``nbgrader-autograde --jobs N``, and any other grading, never share one)
KERNEL_UIDS = BlockUids(UID_BASE)


def _needed_paths() -> list[str]:
    """Read-only in the jail: the interpreter, its packages, the kit's package, MNIST."""
    from grader.data import data_root
    from grader.sandbox.children import site_paths

    paths = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), KIT_PACKAGE,
             data_root().resolve(), *map(Path, site_paths())]
    return [str(p) for p in dict.fromkeys(paths)]


def _limits() -> dict[str, int]:
    """The kernel's limits. RLIMIT_NPROC counts every process of the real uid: not root,
    the instructor's own processes count too, so they are added on top."""
    limits = dict(KERNEL_LIMITS)
    if os.geteuid() != 0:
        from grader.sandbox.children import count_processes

        limits["processes"] += count_processes(os.geteuid())
    return limits


class JailedKernelManager(AsyncKernelManager):
    """Starts the kernel through :mod:`grader.nbgrading.jail`, talking over ipc sockets."""

    isolation: dict[str, Any] | None = None
    force_user_namespace = Bool(False, help="Jail the kernel in a user namespace even as "
                                "root (how a non-root instructor's kernels run; for tests)."
                                ).tag(config=True)

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        base = Path(tempfile.mkdtemp(prefix="practico-kernel-"))
        self._jail_base = base
        conn = base / "conn"
        for folder in (conn, base / "root", base / "private"):
            folder.mkdir()
        os.chmod(base, 0o755)
        uid = KERNEL_UIDS.next()
        # The kernel (another uid) creates its sockets here; nothing else lives here.
        os.chmod(conn, 0o700)
        if os.geteuid() == 0 and not self.force_user_namespace:
            os.chown(conn, uid, uid)
        self.transport = "ipc"
        self.connection_file = str(conn / "kernel.json")
        self.ip = str(conn / "ipc")
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        if os.geteuid() == 0 and not self.force_user_namespace:
            # written 0600 by the manager: the kernel's own uid must read it
            os.chown(self.connection_file, uid, uid)
        cwd = str(Path(kw.get("cwd") or os.getcwd()).resolve())
        env = kw.get("env") or os.environ
        cfg = {
            "needed": _needed_paths(),
            "writable": [cwd, str(conn)],
            "cwd": cwd,
            "connection_dir": str(conn),
            "root_dir": str(base / "root"),
            "private_dir": str(base / "private"),
            "uid": uid,
            "force_user_namespace": bool(self.force_user_namespace),
            "limits": _limits(),
            "env": {k: env[k] for k in PASSED_ON if k in env},
        }
        (base / "jail.json").write_text(json.dumps(cfg))
        self._status_r, status_w = os.pipe()
        kw["pass_fds"] = (*kw.get("pass_fds", ()), status_w)
        self._status_w = status_w
        wrapped = [sys.executable, "-I", "-S", str(JAIL_SCRIPT), str(base / "jail.json"),
                   str(status_w), "--", *kernel_cmd]
        return wrapped, kw

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            os.close(self._status_w)
        self.isolation = self._read_status()

    def _read_status(self, timeout: float = 30.0) -> dict[str, Any]:
        """The jail's one JSON line; a jail that said nothing is reported as not applied."""
        data = b""
        deadline = time.monotonic() + timeout
        try:
            while b"\n" not in data and time.monotonic() < deadline:
                ready, _, _ = select.select([self._status_r], [], [], 0.2)
                if ready:
                    chunk = os.read(self._status_r, 4096)
                    if not chunk:
                        break
                    data += chunk
        finally:
            os.close(self._status_r)
        try:
            status = json.loads(data.split(b"\n", 1)[0].decode())
        except (ValueError, UnicodeDecodeError):
            return {"jailed": False, "error": "the kernel jail reported nothing"}
        return status if isinstance(status, dict) else {"jailed": False}

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_jail_base", None) is not None:
            shutil.rmtree(self._jail_base, ignore_errors=True)


class JailedExecute(Execute):
    """nbgrader's Execute, with every kernel started by :class:`JailedKernelManager`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["kernel_manager_class"] = JailedKernelManager
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self) -> Any:
        self._jailed_km = super().create_kernel_manager()
        return self._jailed_km

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
        self._jailed_km = None
        if resources is not None:
            # The sandbox grades the same cells meanwhile (SandboxedGrades collects it).
            SandboxedGrades(config=self.config, parent=self.parent).start(nb, resources)
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            isolation = getattr(self._jailed_km, "isolation", None)
            if resources is not None:
                resources[KERNEL_ISOLATION] = isolation or {
                    "jailed": False, "error": "the kernel did not start"}
