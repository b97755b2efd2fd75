"""Start nbgrader's kernel for one student inside a jail; run as a script, stdlib only.

``python -I -S jail.py CONFIG.json STATUS_FD -- <kernel command...>``, started by
:class:`grader.nbgrading.kernel.JailedKernelManager`. Before the kernel's first byte runs:

1. new mount, PID, network, IPC and UTS namespaces (user namespace too when not root),
   with the same helpers as the sandbox's children (:mod:`grader.sandbox.child`);
2. a new root holding only the system folders, the Python installation, the kit's
   ``grader`` package and MNIST, read-only, plus two folders read-write: the student's own
   notebook folder (the kernel's working folder) and the kernel's connection folder (its
   ZMQ ``ipc`` sockets, since there is no network). ``source/``, ``release/``, the other
   students' ``submitted/`` and ``autograded/`` folders and ``gradebook.db`` do not exist;
3. resource limits, then an unprivileged uid (as root) or no capabilities (user namespace);
4. a minimal environment: nothing of the grader's (the course secret above all) reaches
   the kernel.

What applied is written as one JSON line to STATUS_FD, which is then closed, so the kernel
cannot write there; the kernel manager reads it and the grade cells say when the jail
could not be built. SIGINT is ignored by the two waiting processes (PID 1 included) so an
interrupt from nbgrader reaches only the kernel, as with an unjailed kernel.
"""

from __future__ import annotations

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from grader.sandbox import jail, mounts  # noqa: E402  (stdlib only, safe before the jail)


def _env(cfg: dict) -> dict[str, str]:
    home = os.path.join(cfg["private_dir"], "home")
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": home,
        "TMPDIR": "/tmp",
        "IPYTHONDIR": os.path.join(home, "ipython"),
        "MPLCONFIGDIR": os.path.join(home, "mpl"),
        "JUPYTER_RUNTIME_DIR": cfg["connection_dir"],
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({k: str(v) for k, v in cfg.get("env", {}).items()})
    return env


def main(argv: list[str]) -> None:
    config_path, status_fd = argv[0], int(argv[1])
    command = argv[argv.index("--") + 1:]
    with open(config_path) as fh:
        cfg = json.load(fh)
    applied: dict = {"jailed": False, "namespaces": False, "uid": os.geteuid()}
    # An interrupt for the kernel must not end the processes that wait for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        applied.update(jail.enter_namespaces(cfg))  # mount, PID, net, IPC, UTS
        applied["visible"] = mounts.new_root(cfg["root_dir"], cfg["needed"], cfg["private_dir"],
                                            cuda=False, writable=tuple(cfg["writable"]))
        applied["jailed"] = True
    except OSError as exc:
        applied["error"] = str(exc)[:300]
    home = os.path.join(cfg["private_dir"], "home")
    os.makedirs(home, exist_ok=True)
    os.chmod(home, 0o777)
    jail.set_limits(cfg)
    if applied["jailed"] or os.geteuid() != 0:
        jail.drop_privileges(cfg, applied)
    else:
        # No jail and root: the kernel still never runs as root.
        os.setgroups([])
        os.setgid(int(cfg["uid"]))
        os.setuid(int(cfg["uid"]))
        applied["uid"] = int(cfg["uid"])
    applied["network"] = not applied["jailed"]
    os.write(status_fd, (json.dumps(applied) + "\n").encode())
    os.close(status_fd)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.chdir(cfg["cwd"])
    os.execve(command[0], command, _env(cfg))


if __name__ == "__main__":
    main(sys.argv[1:])
