"""The namespace jail of a grading child: unshare, drop privileges, set limits, join a cgroup.

Low-level Linux calls through libc (no wrapper in the standard library), used by the
child (:mod:`grader.sandbox.child`) and by nbgrader's kernel jail
(:mod:`grader.nbgrading.jail`). Standard library only: it runs before the jail is up.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 38, 24

libc = ctypes.CDLL(None, use_errno=True)

__all__ = ["CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWNS", "CLONE_NEWPID", "CLONE_NEWUSER",
           "CLONE_NEWUTS", "MS_BIND", "MS_NODEV", "MS_NOEXEC", "MS_NOSUID", "MS_PRIVATE",
           "MS_RDONLY", "MS_REC", "MS_REMOUNT", "check_call", "drop_privileges",
           "enter_namespaces", "gpu_fraction", "join_cgroup", "libc", "mount", "refusal",
           "set_limits"]


def check_call(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    check_call(libc.mount(source.encode(), target.encode(),
                       fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                       data.encode() if data else None), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)



def _closed_ancestor(path: str) -> str | None:
    """The highest ancestor of ``path`` that others cannot traverse (e.g. ``/root``)."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/" + "/".join(parts[:i])
        try:
            if not os.stat(prefix).st_mode & 0o001:
                return prefix
        except OSError:
            return None
    return None



def enter_namespaces(cfg: dict) -> dict:
    """Unshare and fork into a new PID namespace. Returns what was applied (in the child)."""
    root = os.geteuid() == 0 and not cfg.get("force_user_namespace")
    # IPC: host SysV segments, queues and semaphores are out of reach, and whatever the
    # child creates is destroyed with its namespace. UTS: its own host name.
    flags = (CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
             | (0 if root else CLONE_NEWUSER))
    uid, gid = os.geteuid(), os.getegid()
    check_call(libc.unshare(flags), "unshare")
    name = b"sandbox"
    check_call(libc.sethostname(name, len(name)), "sethostname")
    if not root:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    _relay(os.fork())  # outside the PID namespace: wait for its init, then exit the same way
    # init (PID 1) of the new namespace. It dies with its parent, and when it ends the
    # kernel kills every process left inside: orphans, setsid children, fork bombs.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    # The harness runs as PID 2, an ordinary process (signals behave as usual); PID 1
    # only reaps and passes the harness's fate on.
    _relay(os.fork(), reap_all=True)
    return {"namespaces": True, "user_namespace": not root, "ipc": True, "uts": True}


def _relay(pid: int, reap_all: bool = False) -> None:
    """In the parent of a fork: wait for ``pid`` and exit with its status (128+N for signal N)."""
    if pid == 0:
        return
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    while True:
        try:
            done, status = os.waitpid(-1 if reap_all else pid, 0)
        except ChildProcessError:
            os._exit(1)
        if done == pid:
            break
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _drop_all_caps() -> None:
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)
    data = (Data * 2)()
    check_call(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def drop_privileges(cfg: dict, applied: dict) -> None:
    if os.geteuid() == 0 and not applied.get("user_namespace"):
        uid = int(cfg["uid"])
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        applied["uid"] = uid
    elif applied.get("namespaces"):
        # Inside our own user namespace we are "root": a nested user+mount namespace locks
        # the mounts made above (they can no longer be unmounted), then every capability goes.
        check_call(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare (lock)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", "1000 0 1")
        _write("/proc/self/gid_map", "1000 0 1")
        for cap in range(64):
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        _drop_all_caps()
        applied["uid"] = 1000
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def set_limits(cfg: dict) -> None:
    def cap(kind: int, soft: int, hard: int | None = None) -> None:
        hard = soft if hard is None else hard
        old_soft, old_hard = resource.getrlimit(kind)
        if old_hard != resource.RLIM_INFINITY:
            hard = min(hard, old_hard)
            soft = min(soft, hard)
        resource.setrlimit(kind, (soft, hard))

    lim = cfg["limits"]
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_CPU, int(lim["cpu_seconds"]), int(lim["cpu_seconds"]) + 5)
    cap(resource.RLIMIT_FSIZE, int(lim["file_size"]))
    cap(resource.RLIMIT_NOFILE, int(lim["open_files"]))
    cap(resource.RLIMIT_NPROC, int(lim["processes"]))
    if lim.get("address_space"):
        cap(resource.RLIMIT_AS, int(lim["address_space"]))
    if lim.get("data"):  # cuda mode without a cgroup memory cap: see Sandbox._config
        cap(resource.RLIMIT_DATA, int(lim["data"]))


def join_cgroup(cfg: dict, applied: dict) -> None:
    """Enter this child's cgroup (before any process is created, so all are inside it),
    or pin to this child's CPUs where there is none."""
    group = cfg.get("cgroup")
    if group:
        try:
            for path in group["procs"]:
                _write(path, str(os.getpid()))
            applied["cgroup"] = {"kind": group["kind"], "limits": group["limits"]}
        except OSError as exc:
            applied["cgroup_error"] = str(exc)
    if cfg.get("cpus") and not applied.get("cgroup"):
        try:
            os.sched_setaffinity(0, cfg["cpus"])
            applied["cpu_affinity"] = sorted(cfg["cpus"])
        except OSError as exc:
            applied["cpu_affinity_error"] = str(exc)


def refusal(cfg: dict, applied: dict) -> str | None:
    """Why student code must not run here (it would run as root), or None."""
    if applied["namespaces"] or os.geteuid() != 0:
        return None
    closed = next((c for c in map(_closed_ancestor, cfg["needed"]) if c), None)
    if closed is None:
        return None  # drop_privileges switches to the private uid
    if cfg.get("unsafe_no_isolation"):
        applied["unsafe_root"] = True
        return None
    why = applied.get("namespace_error", "namespaces disabled")
    return (f"no Linux namespaces ({why}), and {closed} is closed to other users, so the "
            "child could not leave root")


def gpu_fraction(cfg: dict, applied: dict) -> None:
    """Cap the caching allocator's share of the GPU before student code runs. Student code
    can raise it again (it is a setting of this process): it keeps honest code from taking a
    classmate's memory, it is no barrier against hostile code."""
    fraction = cfg.get("gpu_memory_fraction")
    if cfg["device"] != "cuda" or not fraction:
        return
    import torch

    if not torch.cuda.is_available():
        applied["gpu_memory_fraction"] = "unavailable: no CUDA device"
        return
    torch.cuda.set_per_process_memory_fraction(float(fraction))
    applied["gpu_memory_fraction"] = float(fraction)
