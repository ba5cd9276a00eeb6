"""A real Celery worker on real Redis grades submissions: end to end through
the view, and again after the worker is killed (SIGKILL) in the middle of a run.

Needs PostgreSQL (the worker, another process, must see the test database)
and Redis. CI runs these with REQUIRE_SERVICES=1, so they cannot be skipped there.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from exams.models import Attempt
from examsite.celery import app
from grading.models import Submission
from grading.sandbox import runner
from grading.sandbox.runner import HARNESS_INSIDE
from grading.submitting import enqueue
from tests.conftest import need_service
from tests.sandbox_support import need_bubblewrap

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[1]
CELERY = [sys.executable, "-m", "celery", "-A", "examsite"]
WORKER_OPTIONS = [
    "-Q",
    "grading,regrade",
    "-c",
    "1",
    "--pool",
    "prefork",
    "-l",
    "info",
    "--without-gossip",
    "--without-mingle",
]
RIGHT = "def add(a, b):\n    return a + b\n"
# Slow to load, so the worker can be killed while the sandbox runs it.
SLOW = "import time\ntime.sleep(2)\n\ndef add(a, b):\n    return a + b\n"

# Scaled-down production timings: a sandbox run may take 3 s of wall clock
# (a grade is two runs), a task 8 s; a claim lapses 1 s after that, and the
# broker hands an unacknowledged message out again 10 s after it was taken
# (checked every second). The lock workers take turns at that check under
# lasts 2 s: a worker killed while holding it blocks the others no longer.
WORKER_ENV = {
    "SANDBOX_WALL_SECONDS": "3",
    "SANDBOX_CPU_SECONDS": "2",
    "CELERY_TASK_TIME_LIMIT": "8",
    "CELERY_TASK_SOFT_TIME_LIMIT": "7",
    "GRADING_LEASE_MARGIN_SECONDS": "1",
    "CELERY_VISIBILITY_TIMEOUT": "10",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
    "CELERY_UNACKED_MUTEX_EXPIRE": "2",
}
# Other checkouts on the machine may grade code at the same time: this run's
# workers take slot uids of their own (with their own slot locks), so that
# counting sandboxes counts only theirs.
UID_SLOTS = 4
UID_BASE = 1_000_000 + os.getpid() * UID_SLOTS


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` in its own process group, on the test database."""

    def __init__(self, log_path: Path, name: str, **overrides: str):
        env = {**os.environ, **WORKER_ENV, **overrides}
        env.update(DATABASE_URL=_database_url(), REDIS_URL=settings.REDIS_URL)
        env.update(
            SANDBOX_UID_BASE=str(UID_BASE),
            SANDBOX_SLOTS=str(UID_SLOTS),
            SANDBOX_LOCK_DIR=str(log_path.parent / "sandbox-locks"),
        )
        self.name = f"{name}@test"
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [*CELERY, "worker", *WORKER_OPTIONS, "-n", self.name],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the worker exited with {self.proc.returncode}"
            if any(self.name in reply for reply in app.control.ping(destination=[self.name], timeout=0.5)):
                return
        raise AssertionError(f"the worker did not answer a ping within {timeout} s")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class Workers:
    """The workers a test started, and the sandboxes they run."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.log_path = tmp_path / "worker.log"
        self.started: list[Worker] = []

    def __call__(self, name: str, **overrides: str) -> Worker:
        worker = Worker(self.log_path, name, **overrides)
        self.started.append(worker)
        worker.wait_ready()
        return worker

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no worker log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def sandboxes(self) -> int:
        """Sandbox processes of these workers: under their slot uids (when
        they run as root, sandboxes their killed workers left included), or
        descended from one of them. Never another checkout's."""
        table = _processes()
        roots = {worker.proc.pid for worker in self.started}
        return sum(
            1
            for pid, (ppid, uid, cmdline) in table.items()
            if HARNESS_INSIDE in cmdline and (UID_BASE <= uid < UID_BASE + UID_SLOTS or _descends(pid, roots, table))
        )


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, real uid, command line) of every process now."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        table[int(entry.name)] = (int(fields["PPid"]), int(fields["Uid"].split()[0]), cmdline)
    return table


def _descends(pid: int, roots: set[int], table: dict[int, tuple[int, int, str]]) -> bool:
    seen = set()
    while pid in table and pid not in seen:
        if pid in roots:
            return True
        seen.add(pid)
        pid = table[pid][0]
    return False


@pytest.fixture
def workers(tmp_path):
    need_service("PostgreSQL", connection.vendor == "postgresql", "the worker needs a shared database (DATABASE_URL)")
    need_service("Redis", bool(settings.REDIS_URL), "REDIS_URL is not set")
    app.control.purge()  # nothing left over from other tests reaches this worker
    started = Workers(tmp_path)
    yield started
    for worker in started.started:
        worker.stop()
    app.control.purge()


@pytest.fixture
def attempt(mini_exam, personas):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    return attempt


def wait_for(predicate, timeout: float, what: str, workers: Workers | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    rows = list(Submission.objects.values("pk", "status", "claims", "lease_until", "started_at"))
    log = f"\nworkers' log:\n{workers.log_tail()}" if workers else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; submissions: {rows}{log}")


def test_a_worker_grades_a_run_from_the_page(workers, attempt, candidate_client):
    workers("one")
    drill = attempt.version.items.get(slug="add")
    response = candidate_client.post(
        f"/attempts/{attempt.pk}/items/{drill.pk}/run/",
        {"part": "code", "content": RIGHT, "revision": 0},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    submission = Submission.objects.get()
    assert 'hx-trigger="every 500ms"' in response.content.decode()  # queued for the worker: the fragment polls

    def graded():
        fragment = candidate_client.get(f"/submissions/{submission.pk}/", HTTP_HX_REQUEST="true")
        return fragment if fragment.status_code == 286 else None

    fragment = wait_for(graded, 30, "the worker to grade the run", workers)
    assert "3 of 3 tests passed" in fragment.content.decode()
    submission.refresh_from_db()
    assert (submission.status, submission.passed, submission.claims) == ("graded", 3, 1)


def test_a_worker_killed_mid_run_leaves_the_submission_graded_exactly_once(workers, attempt):
    drill = attempt.version.items.get(slug="add")
    first = workers("first")
    with transaction.atomic():
        submission = Submission.objects.create(attempt=attempt, item=drill, code=SLOW, max_score=drill.points)
        enqueue(submission)

    wait_for(
        lambda: Submission.objects.filter(pk=submission.pk, status="running").exists(), 30, "the run to start", workers
    )
    time.sleep(0.5)  # inside the sandbox, sleeping
    first.kill()
    # The sandbox died with the worker that started it.
    wait_for(lambda: workers.sandboxes() == 0, 5, "the sandbox to go away with its worker")
    assert Submission.objects.get(pk=submission.pk).status == "running"

    workers("second")
    wait_for(
        lambda: Submission.objects.filter(pk=submission.pk, status="graded").exists(),
        60,
        "the regrade after the kill",
        workers,
    )
    graded = Submission.objects.get(pk=submission.pk)
    assert (graded.passed, graded.total, graded.claims) == (3, 3, 2)
    time.sleep(3)  # any further delivery of the same message must change nothing
    again = Submission.objects.get(pk=submission.pk)
    assert (again.claims, again.finished_at, again.result) == (2, graded.finished_at, graded.result)


def test_hostile_submissions_through_the_worker_end_graded_and_the_worker_stays_healthy(workers, attempt):
    drill = attempt.version.items.get(slug="add")
    worker = workers("hostile")
    programs = sorted((ROOT / "tests" / "hostile").glob("*.py"))
    with transaction.atomic():
        hostile = [
            Submission.objects.create(attempt=attempt, item=drill, code=path.read_text(), max_score=drill.points)
            for path in programs
        ]
        normal = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, max_score=drill.points)
        for submission in [*hostile, normal]:
            enqueue(submission)

    pending = Submission.objects.filter(status__in=["queued", "running"])
    wait_for(lambda: not pending.exists(), 240, "every hostile submission to be graded", workers)
    for path, submission in zip(programs, hostile, strict=True):
        submission.refresh_from_db()
        assert (path.name, submission.status, submission.claims) == (path.name, "graded", 1)
        assert submission.passed < submission.total, path.name
    normal.refresh_from_db()
    assert (normal.status, normal.passed, normal.total) == ("graded", 3, 3)
    assert worker.proc.poll() is None  # the same worker process, still alive
    assert workers.sandboxes() == 0


# Sleeps at load, in both of its sandbox runs: about 5 s of grading in all,
# more than the time limits the tests below give their worker.
SLEEPY = "import time\ntime.sleep(2.5)\n\ndef add(a, b):\n    return a + b\n"


def _grade_through(start, attempt, **limits: str) -> Submission:
    drill = attempt.version.items.get(slug="add")
    start("timed", **limits)
    with transaction.atomic():
        submission = Submission.objects.create(attempt=attempt, item=drill, code=SLEEPY, max_score=drill.points)
        enqueue(submission)
    finished = Submission.objects.filter(pk=submission.pk, status__in=["graded", "error"])
    wait_for(finished.exists, 30, "the submission to end", start)
    return Submission.objects.get(pk=submission.pk)


def test_the_workers_soft_time_limit_ends_a_long_grading_as_an_error(workers, attempt):
    # This process, the sender, keeps the default limits (120 s and 100 s):
    # the limits the worker was started with are the ones that hold.
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT > 10
    ended = _grade_through(workers, attempt, CELERY_TASK_SOFT_TIME_LIMIT="2", CELERY_TASK_TIME_LIMIT="4")
    assert (ended.status, ended.claims) == ("error", 1)
    assert "longer than the time allowed" in ended.error
    assert (ended.finished_at - ended.started_at).total_seconds() < 4
    wait_for(lambda: workers.sandboxes() == 0, 5, "the interrupted sandbox to go away")


def test_the_workers_hard_time_limit_ends_a_long_grading_as_an_error(workers, attempt):
    # No soft limit: the pool kills the process at the hard one, and the
    # worker's main process stores the error instead of leaving the row running.
    ended = _grade_through(workers, attempt, CELERY_TASK_SOFT_TIME_LIMIT="0", CELERY_TASK_TIME_LIMIT="3")
    assert (ended.status, ended.claims) == ("error", 1)
    assert "longer than the time allowed" in ended.error
    assert (ended.finished_at - ended.started_at).total_seconds() < 5
    time.sleep(3)  # nothing delivers it again
    assert Submission.objects.get(pk=ended.pk).claims == 1


def test_sandboxes_that_other_checkouts_run_are_not_counted(tmp_path):
    # Another checkout grading on this machine: a sandbox started by this
    # test process itself, with the default slot uids, not by a test worker.
    need_bubblewrap()
    mine = Workers(tmp_path)
    code = "import time\ntime.sleep(2)\n\ndef add(a, b):\n    return a + b\n"
    other = threading.Thread(target=runner.run, args=(code, "add", [{"args": [1, 2]}], runner.Limits.for_drill({})))
    other.start()
    try:
        wait_for(lambda: _own_sandbox_running(os.getpid()), 5, "the other checkout's sandbox to start")
        assert mine.sandboxes() == 0
    finally:
        other.join()


def _own_sandbox_running(pid: int) -> bool:
    table = _processes()
    return any(HARNESS_INSIDE in cmdline and _descends(p, {pid}, table) for p, (_, _, cmdline) in table.items())
