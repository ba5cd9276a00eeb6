"""/healthz says the process is alive; /readyz says whether each thing the
site needs works, and which one does not (503)."""

import threading
import time

import pytest
from django.conf import settings

from examsite import health
from examsite.celery import app
from tests.conftest import need_service
from tests.sandbox_support import need_bubblewrap

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Set app.conf.task_always_eager for one test (conf is a mapping, not attributes monkeypatch restores)."""
    previous = app.conf.task_always_eager

    def set_eager(value: bool) -> None:
        app.conf.task_always_eager = value

    yield set_eager
    app.conf.task_always_eager = previous


@pytest.fixture
def no_broker(settings, eager):
    settings.REDIS_URL = ""
    eager(True)


@pytest.fixture
def sandbox_ok(monkeypatch):
    monkeypatch.setattr("examsite.views.sandbox_check", lambda: "fine")


def test_healthz_answers_without_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_readyz_is_ready_without_a_broker_when_the_database_and_sandbox_work(client, no_broker, sandbox_ok):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "sandbox"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_checks_the_real_sandbox(client, no_broker):
    need_bubblewrap()
    response = client.get("/readyz")
    assert response.json()["checks"]["sandbox"]["ok"] is True


def test_readyz_says_the_sandbox_is_unusable_without_bubblewrap(client, no_broker, settings):
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    settings.SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT = False
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["sandbox"]["ok"] is False
    assert "bubblewrap was not found at /nonexistent/bwrap" in body["checks"]["sandbox"]["detail"]


def test_readyz_says_redis_is_unreachable_and_does_not_wait_on_workers(client, settings, eager, sandbox_ok):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    eager(False)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is False
    assert "Connection" in checks["redis"]["detail"]
    assert checks["workers"] == {"ok": False, "detail": "not asked: the broker (Redis) is unreachable", "ms": 0.0}


def test_readyz_says_no_worker_answered(client, monkeypatch, eager, sandbox_ok):
    need_service("Redis", bool(settings.REDIS_URL), "REDIS_URL is not set")
    eager(False)
    # A real ping through the test's Redis, to a worker name nobody has (other
    # test runs may have workers of their own on the same Redis).
    monkeypatch.setattr(
        health,
        "worker_statuses",
        lambda timeout=health.PING_TIMEOUT, limit=None: {
            name: status
            for reply in app.control.broadcast(
                health.WORKER_STATUS, reply=True, destination=["nobody@nowhere"], timeout=0.3
            )
            for name, status in reply.items()
        },
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is True
    assert checks["workers"]["ok"] is False
    assert "no Celery worker answered a ping" in checks["workers"]["detail"]


def test_readyz_is_ready_when_a_worker_answers(client, settings, monkeypatch, eager, sandbox_ok):
    settings.REDIS_URL = "redis://broker.invalid:6379/0"
    eager(False)
    monkeypatch.setattr(health, "redis_ping", lambda: "PONG")
    monkeypatch.setattr(health, "worker_statuses", lambda timeout=1.0, limit=None: {"celery@worker-1": TAKES})
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"]["detail"] == "celery@worker-1 answered"


TAKES = {"ok": True, "detail": "takes grading work"}
REFUSES = {"ok": False, "detail": "takes no grading work: bubblewrap was not found at /nowhere/bwrap"}


def test_readyz_says_why_the_only_worker_takes_no_grading_work(client, settings, monkeypatch, eager, sandbox_ok):
    settings.REDIS_URL = "redis://broker.invalid:6379/0"
    eager(False)
    monkeypatch.setattr(health, "redis_ping", lambda: "PONG")
    monkeypatch.setattr(health, "worker_statuses", lambda timeout=1.0, limit=None: {"celery@broken": REFUSES})
    response = client.get("/readyz")
    assert response.status_code == 503
    detail = response.json()["checks"]["workers"]["detail"]
    assert detail == f"RuntimeError: no worker takes grading work: celery@broken {REFUSES['detail']}"


def test_readyz_is_ready_when_another_worker_takes_the_work(client, settings, monkeypatch, eager, sandbox_ok):
    settings.REDIS_URL = "redis://broker.invalid:6379/0"
    eager(False)
    monkeypatch.setattr(health, "redis_ping", lambda: "PONG")
    # The refusing worker answers first; asked again without a limit, the other one too.
    answers = {1: {"celery@broken": REFUSES}, None: {"celery@broken": REFUSES, "celery@fine": TAKES}}
    monkeypatch.setattr(health, "worker_statuses", lambda timeout=1.0, limit=None: answers[limit])
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"]["detail"] == "celery@fine answered"


def test_readyz_says_the_database_is_unreachable(client, no_broker, sandbox_ok, monkeypatch):
    def refuse():
        raise OSError("connection refused")

    monkeypatch.setattr(health, "database", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    check = response.json()["checks"]["database"]
    assert (check["ok"], check["detail"]) == (False, "OSError: connection refused")


def test_readyz_says_a_database_that_never_answers_instead_of_hanging(client, no_broker, sandbox_ok, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(health, "select_one", lambda: release.wait(10) and "late")
    monkeypatch.setattr(health, "DATABASE_TIMEOUT", 0.3)
    started = time.monotonic()
    try:
        response = client.get("/readyz")
    finally:
        release.set()
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    check = response.json()["checks"]["database"]
    assert (check["ok"], check["detail"]) == (False, "RuntimeError: the database did not answer within 0.3 s")


def test_the_database_check_asks_the_database_on_a_connection_of_its_own():
    assert health.database() == settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1].replace("sqlite3", "sqlite")


def test_the_probes_answer_plain_http_behind_a_tls_proxy(client, settings, no_broker, sandbox_ok):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 301
