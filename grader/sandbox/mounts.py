"""The child's filesystem: a new root holding only what grading needs, then ``pivot_root``.

Standard library only: it runs before the jail is up.
"""

from __future__ import annotations

import os
import platform

from grader.sandbox.jail import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    check_call,
    libc,
    mount,
)

__all__ = ["new_root"]


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")



#: system folders every Python process needs (libraries, loader cache, timezone data)
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
#: pivot_root(2) has no libc wrapper; its syscall number per architecture
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
MNT_DETACH = 2


def _bind(source: str, target: str, readonly: bool = True) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a"):
            pass
    mount(source, target, None, MS_BIND | MS_REC, None)
    if readonly:
        mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, None)


def new_root(root: str, needed: list[str], private_dir: str, cuda: bool,
              writable: tuple[str, ...] = ()) -> list[str]:
    """Build a root holding only what the child needs, and ``pivot_root`` into it.

    Visible afterwards, read-only: the system folders, the Python installation and its
    packages, the grader's public harness and MNIST; plus a fresh ``/proc``, a few device
    nodes, an empty ``/tmp`` and the private working folder (the only writable places).
    Everything else on the machine, the reference and the other submissions included,
    simply does not exist for the child. ``writable`` folders (the nbgrader kernel's own
    notebook folder and connection folder) are bound read-write, last, so that a fresh
    ``/tmp`` does not hide them. Returns the paths made visible.
    """

    number = PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(0, f"pivot_root: unknown architecture {platform.machine()}")
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    # The fresh /tmp comes first and the needed folders are bound *on top of it*: a kit,
    # a venv or MNIST that lives under /tmp stays visible (mounted later, the tmpfs would
    # cover them). The folders created to reach them are root's, so the child cannot
    # write there; the rest of /tmp is the child's.
    os.makedirs(root + "/tmp")
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
    visible = []
    for path in SYSTEM_DIRS:
        target = root + path
        if os.path.islink(path):
            os.symlink(os.readlink(path), target)
        elif os.path.isdir(path):
            _bind(path, target)
            visible.append(path)
    needed = [n for n in needed if os.path.isdir(n)]
    for path in sorted(n for n in needed
                       if not any(o != n and _under(n, o) for o in [*needed, *visible])):
        _bind(path, root + path)
        visible.append(path)
    os.makedirs(root + "/dev", exist_ok=True)
    nodes = list(DEVICES)
    if cuda:
        nodes += [n for n in os.listdir("/dev") if n.startswith("nvidia")]
    for node in nodes:
        if os.path.exists("/dev/" + node):
            _bind("/dev/" + node, f"{root}/dev/{node}", readonly=False)
    for fs, path, opts in (("proc", "/proc", None),
                           ("tmpfs", "/dev/shm", "size=16m,mode=1777"),
                           ("tmpfs", private_dir, "size=64m,mode=0755")):
        os.makedirs(root + path, exist_ok=True)
        mount(fs, root + path, fs, MS_NOSUID | MS_NODEV | (MS_NOEXEC if fs == "proc" else 0),
               opts)
    if os.path.isdir("/sys/devices/system/cpu"):  # CPU count for torch and OpenMP
        _bind("/sys/devices/system/cpu", root + "/sys/devices/system/cpu")
    for path in writable:
        _bind(path, root + path, readonly=False)
        visible.append(path)
    os.chdir(root)
    os.makedirs(".old")
    check_call(libc.syscall(number, b".", b".old"), "pivot_root")
    os.chdir("/")
    check_call(libc.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    mount("none", "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
    return visible
