"""The runner: what the sandbox lets a program see and do, and how runs end.

Every test here that runs code needs a working bubblewrap (need_bubblewrap).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from grading.grader import grade
from grading.sandbox import runner
from grading.sandbox.protocol import HARNESS_PATH
from tests.sandbox_support import (
    CORRECT_ADD,
    HIDDEN_ADD_CASES,
    HOSTILE_DIR,
    TIGHT_LIMITS,
    make_drill,
    need_bubblewrap,
)

TIGHT = runner.Limits.for_drill(TIGHT_LIMITS)


def run_hostile(name: str, limits: runner.Limits = TIGHT) -> runner.RunResult:
    code = (HOSTILE_DIR / name).read_text()
    return runner.run(code, "add", [{"args": [1, 2]}], limits)


def sandbox_uids() -> range:
    return range(settings.SANDBOX_UID_BASE, settings.SANDBOX_UID_BASE + settings.SANDBOX_SLOTS)


def processes_of(uids: range) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    found.append(f"{entry.name}: {(entry / 'stat').read_text().strip()}")
            except OSError:
                continue
    return found


def leftovers(uids: range, patience: float = 2.0) -> list[str]:
    """Processes of the sandbox's uids still there after `patience` seconds
    (the kernel takes a moment to tear a pid namespace down)."""
    give_up = time.monotonic() + patience
    while (found := processes_of(uids)) and time.monotonic() < give_up:
        time.sleep(0.05)
    return found


def test_it_refuses_to_run_without_bubblewrap_and_says_why(settings):
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    with pytest.raises(runner.SandboxUnavailable) as caught:
        runner.run(CORRECT_ADD, "add", [{"args": [1, 2]}], TIGHT)
    assert "bubblewrap was not found at /nonexistent/bwrap" in str(caught.value)
    assert "SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT" in str(caught.value)


def test_the_unsafe_development_mode_is_off_by_default():
    assert settings.SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT is False


def test_the_unsafe_development_mode_runs_without_bubblewrap_when_asked(settings):
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    settings.SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT = True
    result = runner.run(CORRECT_ADD, "add", [{"args": [1, 2]}], TIGHT)
    assert result.harness.outcomes[0].value == 3


def test_it_refuses_an_interpreter_the_sandbox_cannot_see(settings):
    settings.SANDBOX_PYTHON = str(Path(__file__))
    with pytest.raises(runner.SandboxUnavailable, match="must be an interpreter under /usr"):
        runner.run(CORRECT_ADD, "add", [{"args": [1, 2]}], TIGHT)


def test_a_drill_may_override_each_default_limit_but_not_invent_one():
    limits = runner.Limits.for_drill({"cpu_seconds": 1, "memory_mb": 64, "bogus": 5, "output_kb": -1})
    assert limits.cpu_seconds == 1
    assert limits.memory_mb == 64
    assert limits.wall_seconds == settings.SANDBOX_LIMITS["wall_seconds"]
    assert limits.output_kb == settings.SANDBOX_LIMITS["output_kb"]
    assert limits.case_seconds == 0.5  # half the cpu budget


def test_a_trivial_run_returns_values_and_measures_itself():
    need_bubblewrap()
    result = runner.run(CORRECT_ADD, "add", [{"args": [1, 2]}, {"args": [3], "kwargs": {"b": 4}}], TIGHT)
    assert [o.value for o in result.harness.outcomes] == [3, 7]
    assert result.exit_code == 0
    assert result.killed == ""
    assert result.wall_ms > 0
    assert result.cpu_ms >= 0
    assert 1000 < result.peak_rss_kb < 100_000  # the interpreter's, not the worker's


def test_the_program_runs_as_nobody_with_no_capabilities_limits_and_an_empty_environment():
    need_bubblewrap()
    code = """
import os
def add(a, b):
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    limits = open("/proc/self/limits").read()
    return {
        "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "pid": os.getpid(),
        "caps": status["CapEff"].strip(), "bounding": status["CapBnd"].strip(),
        "no_new_privs": status["NoNewPrivs"].strip(), "seccomp": status["Seccomp"].strip(),
        "environ": sorted(os.environ), "root": sorted(os.listdir("/")), "cwd": os.getcwd(),
        "nproc": [l for l in limits.splitlines() if l.startswith("Max processes")][0].split()[2],
    }
"""
    seen = runner.run(code, "add", [{"args": [1, 2]}], TIGHT).harness.outcomes[0].value
    assert (seen["uid"], seen["gid"], seen["groups"], seen["pid"]) == (65534, 65534, [], 1)
    assert seen["caps"] == "0000000000000000"
    assert seen["bounding"] == "0000000000000000"
    assert seen["no_new_privs"] == "1"
    assert seen["seccomp"] == "2"  # a filter is installed
    assert set(seen["environ"]) <= {"PYTHONHASHSEED", "PWD", "LC_CTYPE"}
    assert set(seen["root"]) <= {
        "bin",
        "dev",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "proc",
        "sandbox",
        "sbin",
        "tmp",
        "usr",
    }
    assert seen["cwd"] == "/tmp"
    assert seen["nproc"] == str(settings.SANDBOX_MAX_PROCESSES)


def test_host_files_and_secrets_are_out_of_sight():
    need_bubblewrap()
    found = run_hostile("read_host_secrets.py").harness.outcomes[0].value
    assert "/work/main/examsite/settings.py" not in found
    assert str(Path(settings.BASE_DIR) / "examsite" / "settings.py") not in found
    assert "/work/main/var/db.sqlite3" not in found
    assert "/etc/shadow" not in found
    assert "/etc/passwd" not in found
    assert "SECRET_KEY" not in found["environ"]
    assert "DJANGO_SETTINGS_MODULE" not in found["environ"]
    assert "DJANGO_SETTINGS_MODULE" not in found["/proc/1/environ"]
    assert set(found) == {"environ", "/proc/1/environ"}


def test_only_the_size_capped_tmp_is_writable():
    need_bubblewrap()
    before = HARNESS_PATH.read_bytes()
    written = run_hostile("write_outside_tmp.py").harness.outcomes[0].value
    assert written == ["/tmp/ok"]
    assert HARNESS_PATH.read_bytes() == before
    code = """
def add(a, b):
    with open("/tmp/big", "wb") as f:
        for _ in range(64):
            f.write(bytes(1024 * 1024))
"""
    outcome = runner.run(code, "add", [{"args": [1, 2]}], TIGHT).harness.outcomes[0]
    assert outcome.error == "OSError"  # RLIMIT_FSIZE (1 MB) or the 16 MB tmpfs, whichever first
    assert "File too large" in outcome.message or "No space left" in outcome.message


def test_sockets_namespaces_and_tracing_are_denied_even_through_raw_syscalls():
    need_bubblewrap()
    network = run_hostile("network_connect.py").harness.outcomes[0]
    assert (network.error, "Operation not permitted" in network.message) == ("PermissionError", True)
    raw = run_hostile("ctypes_raw_syscalls.py").harness.outcomes[0]
    assert raw.value == [-1, -1, -1]


def test_a_syscall_from_a_foreign_architecture_kills_the_program():
    need_bubblewrap()
    # int 0x80 is the i386 ABI; the filter only admits the native one.
    code = """
import ctypes, mmap
def add(a, b):
    # mov eax, 20 (getpid on i386); int 0x80; ret
    machine = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(machine)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    return ctypes.CFUNCTYPE(ctypes.c_long)(address)()
"""
    if os.uname().machine != "x86_64":
        pytest.skip("the foreign-ABI probe is x86-64 machine code")
    result = runner.run(code, "add", [{"args": [1, 2]}], TIGHT)
    assert result.harness.outcomes[0].error == "Crashed"
    assert result.term_signal == signal.SIGSYS


def test_the_wall_clock_kills_a_program_that_ignores_every_timer():
    need_bubblewrap()
    started = time.monotonic()
    result = run_hostile("sleep_past_wall.py")
    assert result.killed == "wall"
    assert result.harness.outcomes[0].error == "Crashed"
    assert time.monotonic() - started < TIGHT.wall_seconds + 1.5


def test_a_spinning_case_is_cut_off_by_its_timer():
    need_bubblewrap()
    result = run_hostile("cpu_spin.py")
    assert result.harness.outcomes[0].error == "TimeLimit"
    assert result.harness.finished


def test_the_cpu_limit_kills_a_program_that_spins_past_its_timer():
    need_bubblewrap()
    code = """
import signal
def add(a, b):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
"""
    # A wall clock far above the CPU limit: on a loaded machine a 2 s wall
    # limit gives the spinner less than 1 s of CPU and ends the run first.
    limits = runner.Limits.for_drill({**TIGHT_LIMITS, "wall_seconds": 30})
    result = runner.run(code, "add", [{"args": [1, 2]}], limits)
    assert result.cpu_limit_hit
    assert result.killed == ""
    assert result.cpu_ms >= 900


def test_raw_output_past_the_byte_cap_kills_the_run():
    need_bubblewrap()
    result = run_hostile("huge_raw_output.py")
    assert result.killed == "output"


def test_a_fork_bomb_stops_at_the_process_limit_and_leaves_nothing_behind():
    need_bubblewrap()
    outcome = run_hostile("fork_bomb.py").harness.outcomes[0]
    assert outcome.error in {"BlockingIOError", "MemoryError", "Crashed"}
    run_hostile("fork_bomb_spinning_children.py")
    if os.geteuid() == 0:
        assert leftovers(sandbox_uids()) == []


def test_killing_everything_in_sight_hurts_nobody_outside():
    need_bubblewrap()
    sentinel = subprocess.Popen(["/bin/sleep", "30"])
    try:
        result = run_hostile("kill_everything.py")
        run_hostile("signal_parent.py")
        assert sentinel.poll() is None
        assert result.harness.outcomes[0].value == 4
    finally:
        sentinel.kill()
        sentinel.wait()


def test_what_enters_the_sandbox_is_the_request_and_nothing_else(monkeypatch):
    need_bubblewrap()
    seen = {}
    real_execute = runner._execute

    def spy(argv, request, *args, **kwargs):
        seen["argv"] = argv
        seen["request"] = request
        return real_execute(argv, request, *args, **kwargs)

    monkeypatch.setattr(runner, "_execute", spy)
    runner.run(CORRECT_ADD, "add", [{"args": [1, 2], "expected": 3}], TIGHT)
    assert set(json.loads(seen["request"])) == {"code", "entry_point", "cases", "case_seconds", "output_bytes"}
    assert json.loads(seen["request"])["cases"] == [{"args": [1, 2], "kwargs": {}}]
    binds = [seen["argv"][i + 1] for i, arg in enumerate(seen["argv"]) if arg in {"--bind", "--ro-bind"}]
    assert binds == ["/usr", str(HARNESS_PATH)]
    assert str(settings.BASE_DIR) not in " ".join(a for a in seen["argv"] if a != str(HARNESS_PATH))


def test_concurrent_runs_get_different_uids(settings, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("uid slots are used only when the worker runs as root")
    settings.SANDBOX_LOCK_DIR = tmp_path / "slots"
    with runner._slot() as first, runner._slot() as second:
        assert first != second
        assert {first, second} <= set(sandbox_uids())


def test_the_same_code_gives_the_same_values_every_time():
    need_bubblewrap()
    code = "def add(a, b):\n    return list({str(i) for i in range(a, a + 50)})\n"
    results = {
        json.dumps(runner.run(code, "add", [{"args": [1, 2]}], TIGHT).harness.outcomes[0].value) for _ in range(3)
    }
    assert len(results) == 1


HOSTILE = sorted(path.name for path in HOSTILE_DIR.glob("*.py"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_submission_ends_as_a_graded_failure_and_the_next_one_grades_normally(name):
    need_bubblewrap()
    item = make_drill(HIDDEN_ADD_CASES, limits=TIGHT_LIMITS)
    hostile = grade(item, (HOSTILE_DIR / name).read_text())
    assert hostile.status == "graded"
    assert hostile.score < item.points
    assert hostile.passed < hostile.total
    normal = grade(item, CORRECT_ADD)
    assert normal.status == "graded"
    assert normal.score == item.points


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "reasons"),
    [
        ("memory_bomb.py", {"memory_limit"}),
        ("cpu_spin.py", {"time_limit"}),
        ("sleep_past_wall.py", {"time_limit"}),
        ("huge_print.py", {"output_limit"}),
        ("huge_raw_output.py", {"output_limit"}),
        ("huge_return_value.py", {"output_limit", "memory_limit"}),
        ("always_equal.py", {"not_serializable"}),
        ("patch_json.py", {"wrong_answer"}),
        ("fake_protocol.py", {"wrong_answer"}),
        ("network_connect.py", {"exception"}),
        ("exit_early.py", {"crashed"}),
        ("close_stdout.py", {"crashed"}),
        ("deep_recursion.py", {"memory_limit", "crashed", "exception", "time_limit"}),
    ],
)
def test_a_hostile_submission_fails_for_the_reason_it_earned(name, reasons):
    need_bubblewrap()
    item = make_drill(HIDDEN_ADD_CASES, limits=TIGHT_LIMITS)
    result = grade(item, (HOSTILE_DIR / name).read_text())
    failed = {failure["reason"] for category in result.categories for failure in category.failures}
    assert failed
    assert failed <= reasons


# The filter is an allow list: a syscall nobody listed fails with ENOSYS
# (so libc falls back where it can), even one no deny list thought of.
UNLISTED_SYSCALLS = """
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)

def add(a, b):
    seen = {}
    for name, call in (
        ("inotify_init1", lambda: libc.inotify_init1(0)),
        ("msgget", lambda: libc.msgget(0, 0o600)),
        ("fanotify_init", lambda: libc.fanotify_init(0, 0)),
        ("mknodat", lambda: libc.mknodat(-100, b"/tmp/fifo", 0o10600, 0)),
    ):
        ctypes.set_errno(0)
        result = call()
        seen[name] = [result, errno.errorcode.get(ctypes.get_errno(), "")]
    return seen
"""

# What ordinary solutions use keeps working under the allow list.
EVERYDAY = """
import concurrent.futures, ctypes, hashlib, heapq, json, mmap, os, random, secrets, select, subprocess
import tempfile, threading, time, uuid

def add(a, b):
    done = []
    thread = threading.Thread(target=done.append, args=(1,))
    thread.start()
    thread.join()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert list(pool.map(abs, [1, -2])) == [1, 2]
    time.sleep(0.01)
    os.urandom(8), random.random(), secrets.token_hex(4), uuid.uuid4(), hashlib.sha256(b"x").hexdigest()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "a")
        with open(path, "w") as f:
            f.write("x")
            f.flush()
            os.fsync(f.fileno())
        os.rename(path, path + "b")
        assert os.listdir(folder) == ["ab"]
    with mmap.mmap(-1, 4096) as page:
        page.write(b"x")
    child = os.fork()
    if child == 0:
        os._exit(7)
    assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 7
    r, w = os.pipe()
    os.write(w, b"x")
    assert select.select([r], [], [], 1)[0] == [r]
    assert subprocess.run(["/usr/bin/true"]).returncode == 0
    assert ctypes.CDLL(None).getpid() == os.getpid()
    heapq.heapify([3, 1]), json.dumps({"t": time.time(), "m": time.monotonic(), "p": time.process_time()})
    os.sched_getaffinity(0), os.cpu_count(), os.getcwd()
    return a + b
"""


def test_a_syscall_outside_the_allow_list_fails_with_enosys():
    need_bubblewrap()
    seen = runner.run(UNLISTED_SYSCALLS, "add", [{"args": [1, 2]}], TIGHT).harness.outcomes[0].value
    assert seen == {name: [-1, "ENOSYS"] for name in ("inotify_init1", "msgget", "fanotify_init", "mknodat")}


def test_everyday_python_runs_under_the_allow_list():
    need_bubblewrap()
    outcome = runner.run(EVERYDAY, "add", [{"args": [1, 2]}], runner.Limits.for_drill({})).harness.outcomes[0]
    assert (outcome.error, outcome.message, outcome.value) == ("", "", 3)


# A worker that is not root runs the sandbox under its own uid, with no slot
# uid to drop to and no sweep: what holds is bubblewrap's namespaces, the
# filter and the rlimits (docs/sandbox.md, "Not root").
UNPRIVILEGED_RUNS = """
import json, os, sys
import django

django.setup()
from grading.sandbox import runner

limits = runner.Limits.for_drill({"cpu_seconds": 1, "wall_seconds": 2, "memory_mb": 128, "output_kb": 16})
report = {"euid": os.geteuid()}
for name in sys.argv[1:]:
    code = open(name).read() if name.endswith(".py") else "def add(a, b):\\n    return a + b\\n"
    result = runner.run(code, "add", [{"args": [1, 2]}], limits)
    outcome = result.harness.outcomes[0]
    report[name.rsplit("/", 1)[-1]] = {"value": outcome.value, "error": outcome.error, "killed": result.killed}
print(json.dumps(report))
"""


def test_a_worker_that_is_not_root_still_sandboxes_hostile_code(tmp_path):
    need_bubblewrap()
    if os.geteuid() != 0:
        pytest.skip("dropping to an unprivileged uid needs root; as a non-root user the whole suite takes this path")
    uid = 2_000_000 + os.getpid() % 100_000  # a uid of this test alone
    hostile = [
        "fork_bomb.py",
        "memory_bomb.py",
        "network_connect.py",
        "kill_everything.py",
        "signal_parent.py",
        "write_outside_tmp.py",
    ]
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="examsite.settings", PYTHONDONTWRITEBYTECODE="1", HOME=str(tmp_path))
    tmp_path.chmod(0o777)
    done = subprocess.run(
        [
            "/usr/bin/setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            sys.executable,
            "-c",
            UNPRIVILEGED_RUNS,
            "correct",
            *(str(HOSTILE_DIR / name) for name in hostile),
            "correct-after",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["euid"] == uid
    assert report["correct"] == {"value": 3, "error": "", "killed": ""}
    # The worker survived the signals sent to its parent and group, and
    # nothing a run left behind took the next run's room.
    assert report["correct-after"] == {"value": 3, "error": "", "killed": ""}
    assert report["network_connect.py"]["error"] == "PermissionError"
    assert report["kill_everything.py"]["value"] == 4  # it reached nothing, so it returned
    assert report["write_outside_tmp.py"]["value"] == ["/tmp/ok"]
    for name in ("fork_bomb.py", "memory_bomb.py"):
        assert report[name]["value"] is None, name
    assert not [line for line in processes_of_uid(uid)], "the unprivileged runs left processes behind"


def processes_of_uid(uid: int) -> list[str]:
    found = subprocess.run(["/usr/bin/pgrep", "-U", str(uid), "-a"], capture_output=True, text=True, check=False)
    return found.stdout.splitlines()
