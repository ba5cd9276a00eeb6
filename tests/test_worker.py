"""A real Celery worker on real Redis grades submissions: end to end through
the view, and again after the worker is killed (SIGKILL) in the middle of a run.

Needs PostgreSQL (the worker, another process, must see the test database)
and Redis. CI runs these with REQUIRE_SERVICES=1, so they cannot be skipped there.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from exams.models import Attempt
from examsite.celery import app
from grading.models import Submission
from grading.submitting import enqueue
from tests.conftest import need_service

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
# (checked every second).
WORKER_ENV = {
    "SANDBOX_WALL_SECONDS": "3",
    "SANDBOX_CPU_SECONDS": "2",
    "CELERY_TASK_TIME_LIMIT": "8",
    "CELERY_TASK_SOFT_TIME_LIMIT": "7",
    "GRADING_LEASE_MARGIN_SECONDS": "1",
    "CELERY_VISIBILITY_TIMEOUT": "10",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` in its own process group, on the test database."""

    def __init__(self, log_path: Path, name: str):
        env = {**os.environ, **WORKER_ENV, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL}
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


@pytest.fixture
def workers(tmp_path):
    need_service("PostgreSQL", connection.vendor == "postgresql", "the worker needs a shared database (DATABASE_URL)")
    need_service("Redis", bool(settings.REDIS_URL), "REDIS_URL is not set")
    app.control.purge()  # nothing left over from other tests reaches this worker
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(tmp_path / "worker.log", name)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()
    app.control.purge()


@pytest.fixture
def attempt(mini_exam, personas):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    return attempt


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


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
    assert 'hx-trigger="every 1s"' in response.content.decode()  # queued for the worker: the fragment polls

    def graded():
        fragment = candidate_client.get(f"/submissions/{submission.pk}/", HTTP_HX_REQUEST="true")
        return fragment if fragment.status_code == 286 else None

    fragment = wait_for(graded, 30, "the worker to grade the run")
    assert "3 of 3 tests passed" in fragment.content.decode()
    submission.refresh_from_db()
    assert (submission.status, submission.passed, submission.claims) == ("graded", 3, 1)


def test_a_worker_killed_mid_run_leaves_the_submission_graded_exactly_once(workers, attempt):
    drill = attempt.version.items.get(slug="add")
    first = workers("first")
    with transaction.atomic():
        submission = Submission.objects.create(attempt=attempt, item=drill, code=SLOW, max_score=drill.points)
        enqueue(submission)

    wait_for(lambda: Submission.objects.filter(pk=submission.pk, status="running").exists(), 30, "the run to start")
    time.sleep(0.5)  # inside the sandbox, sleeping
    first.kill()
    # The sandbox died with the worker that started it.
    wait_for(lambda: _sandboxes_running() == 0, 5, "the sandbox to go away with its worker")
    assert Submission.objects.get(pk=submission.pk).status == "running"

    workers("second")
    wait_for(
        lambda: Submission.objects.filter(pk=submission.pk, status="graded").exists(), 60, "the regrade after the kill"
    )
    graded = Submission.objects.get(pk=submission.pk)
    assert (graded.passed, graded.total, graded.claims) == (3, 3, 2)
    time.sleep(3)  # any further delivery of the same message must change nothing
    again = Submission.objects.get(pk=submission.pk)
    assert (again.claims, again.finished_at, again.result) == (2, graded.finished_at, graded.result)


def _sandboxes_running() -> int:
    found = subprocess.run(["/usr/bin/pgrep", "-f", "/sandbox/harness.py"], capture_output=True, text=True, check=False)
    return len(found.stdout.split())


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
    wait_for(lambda: not pending.exists(), 240, "every hostile submission to be graded")
    for path, submission in zip(programs, hostile, strict=True):
        submission.refresh_from_db()
        assert (path.name, submission.status, submission.claims) == (path.name, "graded", 1)
        assert submission.passed < submission.total, path.name
    normal.refresh_from_db()
    assert (normal.status, normal.passed, normal.total) == ("graded", 3, 3)
    assert worker.proc.poll() is None  # the same worker process, still alive
    assert _sandboxes_running() == 0
