"""The isolated child: runs the student's side of checks, reports plain data, decides nothing.

Started by :mod:`grader.sandbox` as ``python -I -S <harness>/boot.py <job dir> <fd>``. Before a
single line of student code runs it:

1. reads its request and the student's ``ex*.py`` into memory;
0. joins its own control group (CPU quota, memory and process caps; see
   :mod:`grader.cgroups`), or, where there is none, pins itself to its own CPUs;
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

import ctypes
import os
import resource
import signal
import struct
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 38, 24

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(_libc.mount(source.encode(), target.encode(),
                       fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                       data.encode() if data else None), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


class Channel:
    """Length-prefixed frames to the grader over the inherited pipe."""

    def __init__(self, fd: int, encode) -> None:
        self.fd = fd
        self.encode = encode
        self.write = os.write  # kept: student code may replace os.write later

    def send(self, message: dict) -> None:
        payload = self.encode(message)
        data = struct.pack(">I", len(payload)) + payload
        view = memoryview(data)
        while view:
            written = self.write(self.fd, view)
            view = view[written:]


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


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
    _mount(source, target, None, MS_BIND | MS_REC, None)
    if readonly:
        _mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, None)


def _new_root(root: str, needed: list[str], private_dir: str, cuda: bool,
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
    import platform

    number = PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(0, f"pivot_root: unknown architecture {platform.machine()}")
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    # The fresh /tmp comes first and the needed folders are bound *on top of it*: a kit,
    # a venv or MNIST that lives under /tmp stays visible (mounted later, the tmpfs would
    # cover them). The folders created to reach them are root's, so the child cannot
    # write there; the rest of /tmp is the child's.
    os.makedirs(root + "/tmp")
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
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
        _mount(fs, root + path, fs, MS_NOSUID | MS_NODEV | (MS_NOEXEC if fs == "proc" else 0),
               opts)
    if os.path.isdir("/sys/devices/system/cpu"):  # CPU count for torch and OpenMP
        _bind("/sys/devices/system/cpu", root + "/sys/devices/system/cpu")
    for path in writable:
        _bind(path, root + path, readonly=False)
        visible.append(path)
    os.chdir(root)
    os.makedirs(".old")
    _check(_libc.syscall(number, b".", b".old"), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    _mount("none", "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
    return visible


def _enter_namespaces(cfg: dict) -> dict:
    """Unshare and fork into a new PID namespace. Returns what was applied (in the child)."""
    root = os.geteuid() == 0 and not cfg.get("force_user_namespace")
    # IPC: host SysV segments, queues and semaphores are out of reach, and whatever the
    # child creates is destroyed with its namespace. UTS: its own host name.
    flags = (CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
             | (0 if root else CLONE_NEWUSER))
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(flags), "unshare")
    name = b"sandbox"
    _check(_libc.sethostname(name, len(name)), "sethostname")
    if not root:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    _relay(os.fork())  # outside the PID namespace: wait for its init, then exit the same way
    # init (PID 1) of the new namespace. It dies with its parent, and when it ends the
    # kernel kills every process left inside: orphans, setsid children, fork bombs.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
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
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def _drop_privileges(cfg: dict, applied: dict) -> None:
    if os.geteuid() == 0 and not applied.get("user_namespace"):
        uid = int(cfg["uid"])
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        applied["uid"] = uid
    elif applied.get("namespaces"):
        # Inside our own user namespace we are "root": a nested user+mount namespace locks
        # the mounts made above (they can no longer be unmounted), then every capability goes.
        _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare (lock)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", "1000 0 1")
        _write("/proc/self/gid_map", "1000 0 1")
        for cap in range(64):
            _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        _drop_all_caps()
        applied["uid"] = 1000
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _limits(cfg: dict) -> None:
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


def _join_cgroup(cfg: dict, applied: dict) -> None:
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


def _refusal(cfg: dict, applied: dict) -> str | None:
    """Why student code must not run here (it would run as root), or None."""
    if applied["namespaces"] or os.geteuid() != 0:
        return None
    closed = next((c for c in map(_closed_ancestor, cfg["needed"]) if c), None)
    if closed is None:
        return None  # _drop_privileges switches to the private uid
    if cfg.get("unsafe_no_isolation"):
        applied["unsafe_root"] = True
        return None
    why = applied.get("namespace_error", "namespaces disabled")
    return (f"no Linux namespaces ({why}), and {closed} is closed to other users, so the "
            "child could not leave root")


def _gpu_fraction(cfg: dict, applied: dict) -> None:
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
    _join_cgroup(cfg, applied)
    work = job_dir
    if cfg["namespaces"]:
        try:
            applied.update(_enter_namespaces(cfg))
        except OSError as exc:
            applied["namespace_error"] = str(exc)
    if applied["namespaces"]:
        applied["network"] = False
        work = cfg["private_dir"]
        try:
            applied["visible"] = _new_root(cfg["root_dir"], cfg["needed"], work,
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

    _limits(cfg)
    refused = _refusal(cfg, applied)
    if refused is not None:
        # Said before any student module is imported; the grader stops with this reason.
        applied["refused"] = refused
        Channel(fd, codec.encode).send({"ev": "hello", "isolation": applied,
                                        "pid": os.getpid()})
        os._exit(3)
    if not applied.get("unsafe_root"):
        _drop_privileges(cfg, applied)

    # Everything the harness needs is imported (and kept) before any student code.
    import torch

    from grader.checks import CHECKS, ProbeEnv
    from grader.impl import DirImpl
    from grader.runner import probe_outcome

    torch.set_num_threads(int(cfg["threads"]))
    _gpu_fraction(cfg, applied)
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
        from grader.nbgrading.run_cells import run_cells

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


def _returncode(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def zygote_main() -> None:
    """Import torch and the harness once, then fork one grading child per request.

    Control lines on stdin: ``spawn <job dir>``; answers on stdout: ``pid <n>``, and
    ``exit <pid> <returncode>`` when a child ends. The zygote itself never runs student
    code and never touches a tensor (so no thread pool exists when it forks).
    """
    import select

    import matplotlib.figure  # noqa: F401
    import numpy  # noqa: F401
    import torch  # noqa: F401
    from torchvision import datasets, transforms  # noqa: F401

    from grader import checks, codec, data, impl, runner  # noqa: F401
    from grader.nbgrading import run_cells  # noqa: F401

    out_fd = sys.stdout.fileno()
    children: set[int] = set()

    def say(text: str) -> None:
        os.write(out_fd, (text + "\n").encode())

    say("ready")
    buffer = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.1)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            children.discard(pid)
            say(f"exit {pid} {_returncode(status)}")
        if not ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:  # the grader is gone: so are its children
            for pid in children:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            os._exit(0)
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command, _, job_dir = line.decode().partition(" ")
            if command != "spawn" or not job_dir:
                continue
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.setsid()
                    fd = os.open(os.path.join(job_dir, "result.fifo"), os.O_WRONLY)
                    null = os.open(os.devnull, os.O_RDONLY)
                    os.dup2(null, 0)
                    for target, name in ((1, "stdout.txt"), (2, "stderr.txt")):
                        handle = os.open(os.path.join(job_dir, name),
                                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                        os.dup2(handle, target)
                        os.close(handle)
                    os.environ["HOME"] = job_dir
                    main(job_dir, fd)
                    code = 0
                finally:
                    os._exit(code)
            children.add(pid)
            say(f"pid {pid}")
