"""The only code that launches candidates' code (docs/sandbox.md).

One run is one process tree: the worker (root, or any user) starts
bubblewrap under an unprivileged uid taken from a small pool, with rlimits set
in between; bubblewrap puts the harness in fresh namespaces (user, pid, net,
ipc, uts, mount, cgroup) with read-only /usr, an empty size-capped /tmp, no
capabilities, a seccomp filter, and nothing of the host's project, settings,
database or environment. The parent enforces the wall clock, caps what it
reads, and kills the whole process group when either runs out.

The harness reads the request (inputs only, never an expected value) from
stdin and answers with JSON lines, parsed by protocol.parse_output. What the
lines mean is the grader's business; this module only says how the run ended.
"""

import contextlib
import errno
import fcntl
import logging
import math
import os
import random
import selectors
import signal
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from grading.sandbox.protocol import HARNESS_PATH, HarnessResult, build_request, parse_output

log = logging.getLogger(__name__)

LIMIT_KEYS = ("cpu_seconds", "wall_seconds", "memory_mb", "output_kb")
HARNESS_INSIDE = "/sandbox/harness.py"
NOBODY = 65534  # the uid and gid the program sees inside the sandbox
STDERR_BYTES = 16 * 1024
SLOT_WAIT_SECONDS = 60.0

# The seccomp filter is an allow list: what CPython, its standard library and
# the harness use (collected with strace over the hostile suite, the shipped
# drills' solutions and a program touching threads, fork, subprocess, mmap,
# tempfiles, sleeping and randomness), nothing else. Any other syscall fails
# with ENOSYS, the answer of a kernel that lacks it, so libc falls back where
# it can (clone3 -> clone, faccessat2 -> faccessat) and Python raises a clean
# OSError instead of dying.
ALLOWED_SYSCALLS = (
    # memory
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "mincore",
    "msync",
    "membarrier",
    # files and descriptors (only /tmp is writable; the mounts decide what is visible)
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "open",
    "openat",
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "truncate",
    "fallocate",
    "fadvise64",
    "sendfile",
    "copy_file_range",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "access",
    "faccessat",
    "faccessat2",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "readlink",
    "readlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "umask",
    "utime",
    "utimes",
    "utimensat",
    "pipe",
    "pipe2",
    "ioctl",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "memfd_create",
    # processes and threads (clone is allowed below, without namespace flags)
    "fork",
    "vfork",
    "execve",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "getpid",
    "getppid",
    "gettid",
    "getpgid",
    "getpgrp",
    "setpgid",
    "getsid",
    "setsid",
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "futex",
    "rseq",
    "arch_prctl",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "getpriority",
    "setpriority",
    "getcpu",
    "restart_syscall",
    # signals and time
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "sigaltstack",
    "pause",
    "alarm",
    "getitimer",
    "setitimer",
    "nanosleep",
    "clock_nanosleep",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "times",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd",
    "signalfd4",
    # identity, limits (soft = hard: they can only be lowered), system facts
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "capget",
    "getrlimit",
    "prlimit64",
    "getrusage",
    "sysinfo",
    "uname",
    "getrandom",
)
# Not allowed, and answered EPERM rather than ENOSYS: the ways out that a
# program is most likely to try, so that the reason it gets reads plainly.
DENIED_SYSCALLS = (
    "socket",
    "socketpair",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "personality",
    "name_to_handle_at",
    "open_by_handle_at",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "syslog",
    "quotactl",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
)
# clone() flags that make a namespace: refused even though bubblewrap already
# disables nested user namespaces (--disable-userns) and dropped every capability.
CLONE_NAMESPACE_FLAGS = (
    0x00000080,  # CLONE_NEWTIME
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
PRLIMIT = "/usr/bin/prlimit"
SETPRIV = "/usr/bin/setpriv"


class SandboxUnavailable(Exception):
    """The sandbox cannot run on this machine as configured; nothing was run."""


class SandboxError(Exception):
    """The sandbox did not start (bubblewrap or the interpreter failed before
    the harness read its request): a fault of the machine, not of the program."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float
    wall_seconds: float
    memory_mb: float
    output_kb: float

    @classmethod
    def for_drill(cls, overrides: dict | None = None) -> "Limits":
        """The settings' defaults, overridden by a drill's `limits:` mapping."""
        values = {key: float(settings.SANDBOX_LIMITS[key]) for key in LIMIT_KEYS}
        for key, value in (overrides or {}).items():
            if key in values and isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                values[key] = float(value)
        return cls(**values)

    @property
    def case_seconds(self) -> float:
        """One call's timer: at most half of the run's cpu and wall budgets, so
        a single slow case is cut off before it takes the other cases down."""
        return min(float(settings.SANDBOX_CASE_SECONDS), self.cpu_seconds / 2, self.wall_seconds / 2)

    @property
    def output_bytes(self) -> int:
        """What the program may print; the harness keeps no more than this."""
        return int(self.output_kb * 1024)

    @property
    def stream_bytes(self) -> int:
        """What the parent reads from the harness before it kills the run: the
        printed output (JSON-escaped, so up to several times longer) plus room
        for the results."""
        return 1024 * 1024 + 8 * self.output_bytes


@dataclass
class RunResult:
    harness: HarnessResult
    exit_code: int | None  # the harness's exit status (negative: killed by that signal)
    killed: str  # "" or what the parent killed the run for: "wall" or "output"
    cpu_limit_hit: bool
    cpu_ms: int
    wall_ms: int
    peak_rss_kb: int | None  # None when the run was killed before the harness could say
    stderr: str  # capped; for diagnostics only, the program can write to it

    @property
    def term_signal(self) -> int | None:
        return -self.exit_code if self.exit_code is not None and self.exit_code < 0 else None


def run(
    code: str, entry_point: str, cases: list[dict], limits: Limits, on_lines: Callable[[int], None] | None = None
) -> RunResult:
    """Run `code` on the cases' inputs in a fresh sandbox.

    `on_lines` hears how many lines the harness has written so far, as they
    come (one per case after the first): for a progress bar only, since the
    program can write lines too.

    Raises SandboxUnavailable when it cannot sandbox here, SandboxError when
    the sandbox failed to start; whatever the program itself does ends in a
    RunResult.
    """
    request = build_request(code, entry_point, cases, limits.case_seconds, limits.output_bytes)
    if settings.SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT:
        log.warning(
            "SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT is on: running submitted code WITHOUT isolation, "
            "with the rights of this process. Never use this setting on a shared or production machine."
        )
        argv = [settings.SANDBOX_PYTHON, "-s", "-S", str(HARNESS_PATH)]
        for tool in (PRLIMIT, SETPRIV):
            if not os.access(tool, os.X_OK):
                raise SandboxUnavailable(f"{tool} is missing: install the distribution's util-linux.")
        return _execute(
            argv, request, len(cases), limits, uid=None, pass_fds=(), env={"PYTHONHASHSEED": "0"}, on_lines=on_lines
        )
    check_available()
    with _slot() as uid:
        seccomp_fd = _seccomp_fd()
        try:
            argv = _bwrap_argv(seccomp_fd)
            return _execute(
                argv, request, len(cases), limits, uid=uid, pass_fds=(seccomp_fd,), env={}, on_lines=on_lines
            )
        finally:
            os.close(seccomp_fd)


def check_available() -> None:
    """Raise SandboxUnavailable, saying why, unless a sandboxed run can work here."""
    bwrap = settings.SANDBOX_BWRAP
    if not (os.path.isfile(bwrap) and os.access(bwrap, os.X_OK)):
        raise SandboxUnavailable(
            f"bubblewrap was not found at {bwrap} (setting SANDBOX_BWRAP), so submitted code cannot be "
            "isolated and will not be run. Install the distribution's `bubblewrap` package. For development "
            "only, SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT=1 runs code without isolation."
        )
    python = os.path.realpath(settings.SANDBOX_PYTHON)
    if not python.startswith("/usr/") or not os.access(python, os.X_OK):
        raise SandboxUnavailable(
            f"SANDBOX_PYTHON={settings.SANDBOX_PYTHON} must be an interpreter under /usr (the only tree "
            "the sandbox can see), such as the distribution's /usr/bin/python3."
        )
    for tool in (PRLIMIT, SETPRIV):
        if not os.access(tool, os.X_OK):
            raise SandboxUnavailable(f"{tool} is missing: install the distribution's util-linux.")
    if not os.stat(HARNESS_PATH).st_mode & 0o004:
        raise SandboxUnavailable(
            f"{HARNESS_PATH} is not world-readable, so the sandbox's unprivileged uid cannot read it (chmod o+r)."
        )
    try:
        _seccomp_program()
    except (ImportError, OSError, RuntimeError) as exc:
        raise SandboxUnavailable(
            f"cannot build the seccomp filter ({exc}): install pyseccomp and the system's libseccomp2."
        ) from None


def _bwrap_argv(seccomp_fd: int) -> list[str]:
    argv = [
        settings.SANDBOX_BWRAP,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into a terminal the worker may have
        "--as-pid-1",  # when the harness exits, the kernel kills everything it left
        "--cap-drop",
        "ALL",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
        "--hostname",
        "sandbox",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path) and name.startswith("lib"):
            argv += ["--ro-bind", path, path]  # a distribution without merged /usr
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(settings.SANDBOX_TMPFS_MB * 1024 * 1024),
        "--tmpfs",
        "/tmp",  # noqa: S108 - the sandbox's own empty tmpfs, not the host's /tmp
        "--ro-bind",
        str(HARNESS_PATH),
        HARNESS_INSIDE,
        # bubblewrap builds / and /dev as tmpfs the sandbox's uid owns; make
        # them read-only so /tmp (size-capped) is the only writable place.
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        "/tmp",  # noqa: S108 - inside the sandbox
        "--clearenv",
        # -E (part of -I) would ignore this; the environment is empty anyway,
        # and a fixed hash seed makes set and dict orders, hence results,
        # repeatable for the same code.
        "--setenv",
        "PYTHONHASHSEED",
        "0",
        "--seccomp",
        str(seccomp_fd),
        "--",
        settings.SANDBOX_PYTHON,
        "-s",
        "-S",
        HARNESS_INSIDE,
    ]
    return argv


@lru_cache(maxsize=1)
def _seccomp_program() -> bytes:
    import tempfile

    import pyseccomp

    # Only the native architecture is added, so a syscall made through another
    # ABI (int 0x80, x32) hits the filter's bad-arch action: the process is killed.
    allowed = pyseccomp.SyscallFilter(pyseccomp.ERRNO(errno.ENOSYS))
    for action, names in ((pyseccomp.ALLOW, ALLOWED_SYSCALLS), (pyseccomp.ERRNO(errno.EPERM), DENIED_SYSCALLS)):
        for name in names:
            try:
                allowed.add_rule(action, name)
            except (OSError, RuntimeError, ValueError):
                continue  # not a syscall on this architecture
    # clone (fork, threads) only without a namespace flag; with one, EPERM.
    namespaces = 0
    for flag in CLONE_NAMESPACE_FLAGS:
        namespaces |= flag
    allowed.add_rule(pyseccomp.ALLOW, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, namespaces, 0))
    for flag in CLONE_NAMESPACE_FLAGS:
        allowed.add_rule(pyseccomp.ERRNO(errno.EPERM), "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory a filter cannot read; ENOSYS (the
    # default) makes the C library fall back to clone, which the rules see.
    with tempfile.TemporaryFile() as exported:
        allowed.export_bpf(exported)
        exported.seek(0)
        return exported.read()


def _seccomp_fd() -> int:
    program = _seccomp_program()
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)  # a few hundred bytes: fits the pipe's buffer
    finally:
        os.close(write_end)
    return read_end


@contextlib.contextmanager
def _slot() -> Iterator[int | None]:
    """An unprivileged uid no other run is using, held for the whole run.

    Not root (a developer's machine): runs use the caller's own uid.
    """
    if os.geteuid() != 0:
        yield None
        return
    lock_dir = Path(settings.SANDBOX_LOCK_DIR)
    lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(lock_dir)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        # It may sit in a world-writable place like /run/lock: one another
        # user made could hold every slot, or hold symlinks for root to follow.
        raise SandboxUnavailable(f"{lock_dir} (setting SANDBOX_LOCK_DIR) must be a directory owned by root, mode 0700")
    slots = max(1, settings.SANDBOX_SLOTS)
    give_up = time.monotonic() + SLOT_WAIT_SECONDS
    while True:
        first = random.randrange(slots)  # noqa: S311 - spreading load, not security
        for step in range(slots):
            number = (first + step) % slots
            fd = os.open(lock_dir / f"slot-{number}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield settings.SANDBOX_UID_BASE + number
            finally:
                os.close(fd)  # releases the lock
            return
        if time.monotonic() > give_up:
            raise SandboxError(f"all {slots} sandbox slots stayed busy for {SLOT_WAIT_SECONDS:.0f} s")
        time.sleep(0.02)


def _launcher(limits: Limits, uid: int | None) -> list[str]:
    """prlimit sets the rlimits (soft = hard, so the program cannot raise them
    back), then setpriv drops to the slot's uid with no supplementary groups
    and no_new_privs. Two small execs instead of a preexec_fn: subprocess can
    then vfork, which keeps a big worker's memory out of the run's peak RSS
    and is safe in a threaded worker."""
    cpu = max(1, math.ceil(limits.cpu_seconds))
    processes = settings.SANDBOX_MAX_PROCESSES
    if uid is None:
        # Sharing our own uid, the process limit counts all our processes:
        # allow what already runs plus the sandbox's share (weaker; see docs).
        processes += _tasks_of(os.getuid())
    values = {
        "cpu": cpu,
        "as": int(limits.memory_mb * 1024 * 1024),
        "nproc": processes,
        "fsize": settings.SANDBOX_MAX_FILE_KB * 1024,
        "nofile": settings.SANDBOX_MAX_OPEN_FILES,
        "core": 0,
        "memlock": 0,
        "msgqueue": 0,
    }
    argv = [PRLIMIT] + [f"--{name}={value}:{value}" for name, value in values.items()] + ["--"]
    if uid is not None:
        argv += [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
    else:
        argv += [SETPRIV, "--no-new-privs"]
    return argv


def _tasks_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count


def _execute(
    argv: list[str],
    request: bytes,
    case_count: int,
    limits: Limits,
    uid: int | None,
    pass_fds: tuple[int, ...],
    env: dict[str, str],
    on_lines: Callable[[int], None] | None = None,
) -> RunResult:
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            _launcher(limits, uid) + argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=pass_fds,
            env=env,
            cwd="/",
        )
    except OSError as exc:
        raise SandboxError(f"could not start {argv[0]}: {exc}") from None

    try:
        out, err, killed = _exchange(proc, request, limits, started + limits.wall_seconds, on_lines)
    except BaseException:
        # Interrupted (the task's soft time limit, a shutdown): take the box down
        # with us, before the slot's uid is handed to another run.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if uid is not None:
            _sweep(uid)
        raise
    # Kill the group before reaping the leader, so the group id cannot have
    # been reused by then; after a normal exit there is nobody left to kill.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall_ms = round((time.monotonic() - started) * 1000)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()

    exit_code = _program_exit_code(proc.returncode, via_bwrap=argv[0] == settings.SANDBOX_BWRAP)
    if uid is not None and (killed or (exit_code or 0) < 0):
        _sweep(uid)
    harness = parse_output(bytes(out), case_count)
    stderr_text = bytes(err).decode("utf-8", errors="replace")
    if not harness.ready:
        last = stderr_text.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise SandboxError(f"the sandbox did not start: {last[0][:300]}")
    cpu_ms = round((usage.ru_utime + usage.ru_stime) * 1000)
    term = -exit_code if exit_code is not None and exit_code < 0 else None
    cpu_limit_hit = term in (signal.SIGXCPU, signal.SIGKILL) and cpu_ms >= max(1, math.ceil(limits.cpu_seconds)) * 900
    return RunResult(
        harness=harness,
        exit_code=exit_code,
        killed=killed,
        cpu_limit_hit=cpu_limit_hit,
        cpu_ms=cpu_ms,
        wall_ms=wall_ms,
        peak_rss_kb=harness.extra.get("peak_rss_kb") if harness.finished else None,
        stderr=stderr_text,
    )


def _program_exit_code(code: int, via_bwrap: bool) -> int:
    """bubblewrap exits with 128 + N when the program died of signal N."""
    if via_bwrap and code > 128 and code - 128 < signal.NSIG:
        return -(code - 128)
    return code


def _exchange(
    proc: subprocess.Popen,
    request: bytes,
    limits: Limits,
    deadline: float,
    on_lines: Callable[[int], None] | None = None,
) -> tuple[bytes, bytes, str]:
    """Feed the request, read both outputs with caps, until the process ends or
    a limit is hit; returns (stdout, stderr, what it was killed for)."""
    out = bytearray()
    err = bytearray()
    pending = memoryview(request)
    selector = selectors.DefaultSelector()
    pidfd = os.pidfd_open(proc.pid)
    streams = {proc.stdin.fileno(): "in", proc.stdout.fileno(): "out", proc.stderr.fileno(): "err"}
    for fd in streams:
        os.set_blocking(fd, False)
    selector.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
    selector.register(proc.stdout.fileno(), selectors.EVENT_READ)
    selector.register(proc.stderr.fileno(), selectors.EVENT_READ)
    selector.register(pidfd, selectors.EVENT_READ)
    reading = 2
    exited = False
    lines = 0
    try:
        while reading or not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(out), bytes(err), "wall"
            for key, _ in selector.select(remaining):
                fd = key.fd
                if fd == pidfd:
                    exited = True
                    selector.unregister(pidfd)
                elif streams[fd] == "in":
                    try:
                        pending = pending[os.write(fd, pending) :]
                    except (BrokenPipeError, BlockingIOError) as exc:
                        if isinstance(exc, BrokenPipeError):
                            pending = pending[:0]
                    if not pending:
                        selector.unregister(fd)
                        proc.stdin.close()
                else:
                    try:
                        data = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        selector.unregister(fd)
                        reading -= 1
                    elif streams[fd] == "out":
                        out += data
                        if len(out) > limits.stream_bytes:
                            return bytes(out[: limits.stream_bytes]), bytes(err), "output"
                        if on_lines is not None and b"\n" in data:
                            lines += data.count(b"\n")
                            on_lines(lines)
                    elif len(err) < STDERR_BYTES:
                        err += data[: STDERR_BYTES - len(err)]
        return bytes(out), bytes(err), ""
    finally:
        selector.close()
        os.close(pidfd)


def _sweep(uid: int) -> None:
    """Kill whatever still runs as `uid` after a killed run. The pid namespace
    normally took everything down with the harness; this is the second lock."""
    kill = "/usr/bin/kill" if os.path.exists("/usr/bin/kill") else "/bin/kill"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [kill, "-KILL", "-1"],
            user=uid,
            group=uid,
            extra_groups=[],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={},
            timeout=5,
            check=False,
        )
