"""Faults, each on services the test starts itself (tests/fault_support.py):
Redis stopped while candidates save and run tests, PostgreSQL restarted, no
beat, a worker whose sandbox cannot work. Each asserts that nothing was lost
and nothing was graded twice. (A worker SIGKILLed mid-run: tests/test_worker.py.)

The site runs as in production: gunicorn and Celery workers in processes of
their own, DEBUG off, on a PostgreSQL cluster and a Redis server of the
test's own, on free ports. Needs the PostgreSQL server binaries, redis-server
and bubblewrap; CI (REQUIRE_SERVICES=1) has them, so these never skip there.
"""

import json
import time

import kombu.exceptions
import pytest
import redis

from tests.fault_support import Browser, Site, get, private_site, wait_until

RIGHT = "def add(a, b):\n    return a + b\n"
PASSWORD = "fault-tests-pw"
CANDIDATES = ("redis-killed", "redis-hung", "postgres", "nobeat", "sandbox")

SETUP = f"""
import json
from django.contrib.auth import get_user_model
from exams.models import Attempt, Exam
exam = Exam.objects.get(slug="mini-exam")
out = {{}}
for name in {CANDIDATES!r}:
    user = get_user_model().objects.create_user(name, password={PASSWORD!r})
    mode = Attempt.Mode.TIMED if name == "nobeat" else Attempt.Mode.PRACTICE
    attempt, _ = Attempt.start(user, exam, mode)
    items = {{i.slug: i.pk for i in attempt.version.items.all()}}
    out[name] = {{"attempt": attempt.pk, "question": items["first"], "drill": items["add"]}}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """PostgreSQL, Redis and the site's web tier, for this module; every
    process stopped at the end, the services' folders removed."""
    with private_site(tmp_path_factory.mktemp("faults"), SETUP) as site:
        site.start_web()
        yield site


@pytest.fixture
def site(stack):
    """The stack with both services up and no worker, whatever a test left."""
    yield stack
    stack.redis.resume()
    stack.stop_workers()
    for service in (stack.pg, stack.redis):
        if service.proc is None or service.proc.poll() is not None:
            service.start()


def browser_of(site: Site, name: str) -> tuple[Browser, dict]:
    browser = Browser(site.base_url)
    browser.log_in(name, PASSWORD)
    return browser, site.people[name]


def answer(site: Site, attempt: int, item: int) -> tuple[str, int] | None:
    rows = site.pg.query(
        "SELECT content, revision FROM exams_answer WHERE attempt_id = %s AND item_id = %s", (attempt, item)
    )
    return rows[0] if rows else None


def submissions(site: Site, attempt: int) -> list[tuple]:
    return site.pg.query(
        "SELECT id, status, claims, passed, total FROM grading_submission WHERE attempt_id = %s ORDER BY id",
        (attempt,),
    )


def save(browser: Browser, ids: dict, content: str, revision: int):
    path = f"/attempts/{ids['attempt']}/items/{ids['question']}/save/"
    return browser.post(path, {"part": "text", "content": content, "revision": revision}, htmx=True)


def test_no_beat_an_expired_timed_attempt_ends_when_its_owner_opens_it(site):
    browser, ids = browser_of(site, "nobeat")
    assert save(browser, ids, "saved in time", 0)[0] == 200
    # The deadline passed a while ago, and no beat (nor cron) ran meanwhile.
    site.pg.query("UPDATE exams_attempt SET deadline = now() - interval '10 minutes' WHERE id = %s", (ids["attempt"],))
    assert site.pg.query("SELECT status FROM exams_attempt WHERE id = %s", (ids["attempt"],)) == [("in_progress",)]

    status, _, headers = browser.get(f"/attempts/{ids['attempt']}/")
    assert (status, headers["Location"]) == (302, f"/attempts/{ids['attempt']}/results/")
    assert site.pg.query("SELECT status FROM exams_attempt WHERE id = %s", (ids["attempt"],)) == [("expired",)]
    status, body, _ = save(browser, ids, "too late", 1)
    assert status == 403
    assert "Time is up" in body
    assert answer(site, ids["attempt"], ids["question"]) == ("saved in time", 1)


@pytest.mark.parametrize("fault", ["killed", "hung"])
def test_redis_down_saves_keep_working_and_runs_are_graded_once_it_is_back(site, fault):
    browser, ids = browser_of(site, f"redis-{fault}")
    worker = site.start_worker("through-outage")
    assert save(browser, ids, "before the outage", 0)[0] == 200

    if fault == "killed":
        site.redis.stop()
    else:
        site.redis.pause()
    started = time.monotonic()
    status, body, _ = save(browser, ids, "during the outage", 1)
    assert status == 200, body[:2000]
    assert answer(site, ids["attempt"], ids["question"]) == ("during the outage", 2)
    run = f"/attempts/{ids['attempt']}/items/{ids['drill']}/run/"
    status, body, _ = browser.post(run, {"part": "code", "content": RIGHT, "revision": 0}, htmx=True)
    assert status == 200, body[:2000]
    assert "queued" in body.lower() or "waiting" in body.lower(), body
    # No request waited long on the missing broker: a hung one is given up on after its timeouts.
    assert time.monotonic() - started < 15
    [(pk, state, claims, _, _)] = submissions(site, ids["attempt"])
    assert (state, claims) == ("queued", 0)  # stored, though its message could not be sent
    status, body = get(f"{site.base_url}/readyz")
    checks = json.loads(body)["checks"]
    assert status == 503
    assert not checks["redis"]["ok"]
    assert checks["database"]["ok"]

    if fault == "killed":
        site.redis.start()  # empty: whatever was queued in it is gone
    else:
        site.redis.resume()
    site.wait_worker("through-outage@faults", worker)
    # What beat sends every minute: the sweep finds the run no worker took.
    site.control.send_task("grading.sweep_submissions", queue="grading")
    graded = lambda: submissions(site, ids["attempt"])[0][1] == "graded"  # noqa: E731
    wait_until(graded, 40, "the run to be graded after Redis came back", site.logs / "worker.log")
    time.sleep(3)  # a second sweep, or a late duplicate, changes nothing
    site.control.send_task("grading.sweep_submissions", queue="grading")
    time.sleep(2)
    assert submissions(site, ids["attempt"]) == [(pk, "graded", 1, 3, 3)]
    assert answer(site, ids["attempt"], ids["question"]) == ("during the outage", 2)


def test_postgres_restarted_requests_fail_clearly_then_the_same_session_works_again(site):
    browser, ids = browser_of(site, "postgres")
    page = f"/attempts/{ids['attempt']}/"
    assert browser.get(page)[0] == 200
    assert save(browser, ids, "before the restart", 0)[0] == 200  # the web threads now hold connections

    site.pg.stop()
    status, body, headers = browser.get(page)
    assert status == 503, body[:2000]
    assert "cannot reach its database" in body
    assert "Traceback" not in body
    assert headers.get("Retry-After")
    status, body, _ = save(browser, ids, "while it is down", 1)
    assert status == 503
    assert browser.post(f"/attempts/{ids['attempt']}/submit/", {})[0] == 503
    status, body = get(f"{site.base_url}/readyz")
    checks = json.loads(body)["checks"]
    assert status == 503
    assert not checks["database"]["ok"]
    assert "OperationalError" in checks["database"]["detail"]

    site.pg.start()
    # The same session, on the web threads' kept connections: checked before use, and replaced.
    assert browser.get(page)[0] == 200
    status, body, _ = save(browser, ids, "after the restart", 1)
    assert status == 200, body[:2000]
    # The save refused during the outage left nothing behind: one revision per save that succeeded.
    assert answer(site, ids["attempt"], ids["question"]) == ("after the restart", 2)
    # Nor did the refused submit: the attempt was still open, and ends now, whole.
    attempt_row = "SELECT status, finalized_at IS NOT NULL FROM exams_attempt WHERE id = %s"
    assert site.pg.query(attempt_row, (ids["attempt"],)) == [("in_progress", False)]
    status, _, headers = browser.post(f"/attempts/{ids['attempt']}/submit/", {})
    assert (status, headers["Location"]) == (302, f"/attempts/{ids['attempt']}/results/")
    assert site.pg.query(attempt_row, (ids["attempt"],)) == [("submitted", True)]
    assert browser.get(f"/attempts/{ids['attempt']}/results/")[0] == 200


def test_a_worker_without_bubblewrap_takes_no_work_and_readyz_says_why(site):
    browser, ids = browser_of(site, "sandbox")
    site.start_worker("no-sandbox", SANDBOX_BWRAP="/nonexistent/bwrap")
    run = f"/attempts/{ids['attempt']}/items/{ids['drill']}/run/"
    status, body, _ = browser.post(run, {"part": "code", "content": RIGHT, "revision": 0}, htmx=True)
    assert status == 200, body[:2000]

    status, body = get(f"{site.base_url}/readyz")
    checks = json.loads(body)["checks"]
    assert status == 503
    assert not checks["workers"]["ok"]
    assert "no-sandbox@faults takes no grading work" in checks["workers"]["detail"]
    assert "bubblewrap was not found at /nonexistent/bwrap" in checks["workers"]["detail"]
    assert checks["sandbox"]["ok"]  # the web host's own sandbox is fine
    assert "takes no grading work: bubblewrap was not found" in site.log_tail("worker.log", 200)
    time.sleep(2)  # the worker had the time to take the run, had it listened
    [(pk, state, claims, _, _)] = submissions(site, ids["attempt"])
    assert (state, claims) == ("queued", 0)  # not taken, not failed: waiting for a worker that can grade it

    site.start_worker("with-sandbox")
    graded = lambda: submissions(site, ids["attempt"])[0][1] == "graded"  # noqa: E731
    wait_until(graded, 40, "a worker with a sandbox to grade the run", site.logs / "worker.log")
    assert submissions(site, ids["attempt"]) == [(pk, "graded", 1, 3, 3)]
    status, body = get(f"{site.base_url}/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"]["workers"]["detail"] == "with-sandbox@faults answered"


# In-process checks of the pieces the faults above rely on (no services started).


class UnreachableCache:
    """A cache whose every call fails as Redis's does while it is down."""

    def _refuse(self, *args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    get = set = delete = __contains__ = _refuse


@pytest.mark.django_db
def test_a_session_is_read_from_the_database_while_the_cache_is_unreachable():
    from examsite.sessions import SessionStore

    stored = SessionStore()
    stored["_auth_user_id"] = "7"
    stored.save()
    again = SessionStore(stored.session_key)
    again._cache = UnreachableCache()
    assert again["_auth_user_id"] == "7"


@pytest.mark.django_db
def test_logging_out_while_the_cache_is_unreachable_fails_and_leaves_the_session_whole():
    # Deleted from the database but left in a Redis that comes back, the
    # session would be valid again: so nothing is deleted until Redis answers.
    from django.contrib.sessions.models import Session

    from examsite.sessions import SessionStore

    stored = SessionStore()
    stored["_auth_user_id"] = "7"
    stored.save()
    again = SessionStore(stored.session_key)
    again._cache = UnreachableCache()
    with pytest.raises(redis.ConnectionError):
        again.flush()
    assert Session.objects.filter(session_key=stored.session_key).exists()


@pytest.mark.django_db
def test_a_run_whose_message_cannot_be_sent_stays_queued_for_the_sweep(
    attempt, drill, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from grading.models import Submission
    from grading.submitting import enqueue
    from grading.tasks import grade_submission

    def unreachable(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(grade_submission, "apply_async", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        submission = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, max_score=drill.points)
        enqueue(submission)
    submission.refresh_from_db()
    assert (submission.status, submission.claims) == ("queued", 0)
    assert f"submission {submission.pk} is stored but could not be queued" in caplog.text


def test_a_view_that_cannot_reach_the_database_answers_503_with_a_page_saying_so(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.db import OperationalError

    from examsite.errors import DatabaseUnavailableMiddleware

    request = rf.get("/attempts/1/")
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    response = middleware.process_exception(request, OperationalError("connection refused"))
    assert response.status_code == 503
    assert "cannot reach its database" in response.content.decode()
    assert response["Retry-After"] == "10"
    assert "no-store" in response["Cache-Control"]
    assert isinstance(request.user, AnonymousUser)  # middleware on the way out does not ask the database again
    assert middleware.process_exception(request, ValueError("a bug")) is None  # left to the 500 page


def test_a_server_error_gets_the_sites_page_not_djangos_bare_one(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
