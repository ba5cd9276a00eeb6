"""/metrics: Prometheus text for this machine or a bearer of METRICS_TOKEN;
request counts and latencies per view, queue depth, the oldest queued run,
gradings per minute by outcome, the grading latency histogram, workers online.
The staff status page shows the same; request log lines are JSON and carry
no answer text."""

import json
import logging
from datetime import timedelta
from uuid import uuid4

import pytest
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from examsite import health
from examsite.celery import app
from examsite.logs import JsonFormatter, RequestIdFilter
from grading.models import Submission
from tests.conftest import need_service

pytestmark = pytest.mark.django_db
CONFIGURED_REDIS_URL = settings.REDIS_URL  # before the fixture below hides it


@pytest.fixture(autouse=True)
def _no_broker(settings):
    """Grading figures from the database only, unless a test asks for Redis."""
    previous = app.conf.task_always_eager
    settings.REDIS_URL = ""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def samples(response) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a /metrics answer."""
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_it_answers_this_machine(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_it_refuses_other_addresses_without_the_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    right = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert right.status_code == 200


def test_no_token_configured_lets_no_outsider_in(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_behind_a_proxy_on_this_machine_the_client_address_counts(client, settings):
    settings.TRUSTED_PROXIES = 1
    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert outside.status_code == 403
    inside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert inside.status_code == 200


def test_requests_are_counted_and_timed_per_view(client):
    def count(view: str, status: str) -> float:
        labels = (("method", "GET"), ("status", status), ("view", view))
        return samples(client.get("/metrics")).get(("examsite_http_requests_total", labels), 0.0)

    before = count("exams:catalogue", "200"), count("unresolved", "404")
    client.get("/")
    client.get("/")
    client.get("/no-such-page/")
    assert count("exams:catalogue", "200") == before[0] + 2
    assert count("unresolved", "404") == before[1] + 1
    timed = samples(client.get("/metrics"))
    assert timed[("examsite_http_request_duration_seconds_count", (("view", "exams:catalogue"),))] >= 2


def make_submission(attempt, drill, **fields) -> Submission:
    return Submission.objects.create(attempt=attempt, item=drill, code="x", max_score=drill.points, **fields)


def test_grading_figures_come_from_the_submissions(client, attempt, drill):
    now = timezone.now()
    minute = timedelta(minutes=1)
    make_submission(attempt, drill, created_at=now - timedelta(seconds=90), queued_at=now - timedelta(seconds=90))
    # Sent again by the sweep 5 s ago: the candidate has still waited since the run was made.
    make_submission(attempt, drill, created_at=now - 2 * minute, queued_at=now - timedelta(seconds=5))
    make_submission(attempt, drill, queue="regrade", created_at=now - 60 * minute, queued_at=now - 3 * minute)
    for latency, status, passed in [(1.5, "graded", 3), (4, "graded", 1), (20, "error", 0)]:
        finished = now - minute
        make_submission(
            attempt,
            drill,
            status=status,
            passed=passed,
            total=3,
            queued_at=finished - timedelta(seconds=latency),
            finished_at=finished,
        )
    # Finished before the window: not counted.
    make_submission(
        attempt, drill, status="graded", passed=3, total=3, queued_at=now - 20 * minute, finished_at=now - 10 * minute
    )

    metrics = samples(client.get("/metrics"))
    assert 119 <= metrics[("examsite_oldest_queued_submission_seconds", (("queue", "grading"),))] <= 150
    assert 179 <= metrics[("examsite_oldest_queued_submission_seconds", (("queue", "regrade"),))] <= 210
    for outcome in ("passed", "failed", "error"):
        assert metrics[("examsite_gradings_per_minute", (("outcome", outcome),))] == 0.2
    bucket = "examsite_grading_latency_seconds_bucket"
    assert metrics[(bucket, (("le", "1.0"),))] == 0
    assert metrics[(bucket, (("le", "2.0"),))] == 1
    assert metrics[(bucket, (("le", "5.0"),))] == 2
    assert metrics[(bucket, (("le", "30.0"),))] == 3
    assert metrics[(bucket, (("le", "+Inf"),))] == 3
    assert metrics[("examsite_grading_latency_seconds_gcount", ())] == 3
    assert metrics[("examsite_grading_latency_seconds_gsum", ())] == pytest.approx(25.5)


def test_with_nothing_queued_the_oldest_age_is_zero(client):
    metrics = samples(client.get("/metrics"))
    assert metrics[("examsite_oldest_queued_submission_seconds", (("queue", "grading"),))] == 0
    # No broker: queue depth and workers are not known, so not reported.
    assert not any(name in {"examsite_queue_depth", "examsite_workers_online"} for name, _ in metrics)


def test_queue_depth_and_workers_online_with_a_broker(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://broker.invalid:6379/0"
    app.conf.task_always_eager = False
    monkeypatch.setattr(health, "redis_ping", lambda: "PONG")
    monkeypatch.setattr(health, "queue_depths", lambda queues: {"grading": 7, "regrade": 40})
    statuses = {
        "celery@a": {"ok": True},
        "celery@b": {"ok": True},
        "celery@c": {"ok": False, "detail": "bubblewrap was not found"},
    }
    monkeypatch.setattr(health, "worker_statuses", lambda timeout=1.0, limit=None: statuses)
    monkeypatch.setattr("examsite.views.sandbox_check", lambda: "fine")
    metrics = samples(client.get("/metrics"))
    assert metrics[("examsite_queue_depth", (("queue", "grading"),))] == 7
    assert metrics[("examsite_queue_depth", (("queue", "regrade"),))] == 40
    # A worker whose sandbox cannot run code answers, but takes no work: not counted.
    assert metrics[("examsite_workers_online", ())] == 2
    assert metrics[("examsite_ready", (("check", "workers"),))] == 1


def test_queue_depth_counts_the_redis_lists_of_each_queue_and_priority(settings):
    need_service("Redis", bool(CONFIGURED_REDIS_URL), "REDIS_URL is not set")
    settings.REDIS_URL = CONFIGURED_REDIS_URL
    client = health.redis_client(CONFIGURED_REDIS_URL)
    queue = f"test-queue-{uuid4().hex}"
    try:
        client.rpush(queue, "a", "b", "c")
        client.rpush(f"{queue}\x06\x166", "d")
        assert health.queue_depths([queue, f"{queue}-empty"]) == {queue: 4, f"{queue}-empty": 0}
    finally:
        client.delete(queue, f"{queue}\x06\x166")


def test_the_status_page_is_for_staff_only(client, personas, monkeypatch):
    monkeypatch.setattr("examsite.views.sandbox_check", lambda: "fine")
    client.get("/")
    assert client.get("/ops/status/").status_code == 302
    client.force_login(personas.candidate)
    assert client.get("/ops/status/").status_code == 404
    client.force_login(personas.staff)
    response = client.get("/ops/status/")
    assert response.status_code == 200
    page = response.content.decode()
    for expected in ("Readiness", "database", "sandbox", "grading", "regrade", "Workers online", "exams:catalogue"):
        assert expected in page


def test_a_request_logs_one_json_line_with_its_id_user_view_status_and_duration(client, personas, caplog, attempt):
    question = attempt.version.items.get(slug="first")
    client.force_login(personas.candidate)
    secret_answer = f"answer-text-{uuid4().hex}"
    with caplog.at_level(logging.INFO, logger="examsite.request"):
        response = client.post(
            f"/attempts/{attempt.pk}/items/{question.pk}/save/",
            {"part": "text", "revision": 0, "content": secret_answer},
            HTTP_HX_REQUEST="true",
            HTTP_X_REQUEST_ID="from-the-proxy-1234",
        )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "from-the-proxy-1234"
    [record] = [r for r in caplog.records if r.name == "examsite.request"]
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["request_id"] == "from-the-proxy-1234"
    assert entry["user_id"] == personas.candidate.pk
    assert entry["view"] == "exams:save"
    assert entry["status"] == 200
    assert entry["method"] == "POST"
    assert entry["duration_ms"] >= 0
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert secret_answer not in everything
    assert "\n" not in line


def test_a_request_without_a_usable_id_gets_a_new_one(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith a newline")
    assert len(response["X-Request-ID"]) == 32
    assert response["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_lines_logged_during_a_request_carry_its_id(client, caplog, monkeypatch):
    def noisy() -> str:
        logging.getLogger("grading.sandbox").warning("checked the sandbox")
        return "fine"

    monkeypatch.setattr("examsite.views.sandbox_check", noisy)
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = client.get("/readyz")
    [warning] = [r for r in caplog.records if r.getMessage() == "checked the sandbox"]
    assert warning.request_id == response["X-Request-ID"]
