"""Prometheus metrics: requests counted and timed per view here, in every web
process; the grading figures read at scrape time from the database, Redis and
the workers (examsite.views.ops_snapshot), so they are the same whichever
process or host answers.

Under gunicorn each worker process counts its own requests; with
PROMETHEUS_MULTIPROC_DIR set (the Procfile does) they write to files there
and a scrape adds them all up. The directory must be emptied before the web
tier starts (`examsite.stack` does), and a dead worker's gauges are dropped by
the hook in examsite/gunicorn_conf.py.
"""

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from examsite.logs import view_name

disable_created_metrics()  # the *_created series double the output for nothing a dashboard uses

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds from a run being queued to its stored result (run -> result).
GRADING_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
GRADING_WINDOW_MINUTES = 5  # gradings per minute and the latency histogram look this far back

REQUESTS = Counter("examsite_http_requests", "HTTP requests answered, per view", ["view", "method", "status"])
LATENCY = Histogram(
    "examsite_http_request_duration_seconds", "Time to answer a request, per view", ["view"], buckets=REQUEST_BUCKETS
)


class RequestMetricsMiddleware:
    """Count and time every request by its view (after RequestLogMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_name(request)
        LATENCY.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        return response


@dataclass
class Snapshot:
    """What the site knows about its grading at one moment. None: not known
    here (no broker configured, or it could not be asked)."""

    queue_depth: dict[str, int] | None = None
    oldest_queued_seconds: dict[str, float] = field(default_factory=dict)
    gradings_per_minute: dict[str, float] = field(default_factory=dict)
    # Cumulative counts of gradings finished in the window at or under each bound, then the total.
    grading_latency_buckets: list[tuple[float, int]] = field(default_factory=list)
    grading_latency_sum: float = 0.0
    workers_online: int | None = None
    checks: dict[str, bool] = field(default_factory=dict)


def request_collector() -> object:
    """This process's request metrics, or every process's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def snapshot_metrics(snapshot: Snapshot) -> Iterable[Metric]:
    if snapshot.queue_depth is not None:
        depth = GaugeMetricFamily("examsite_queue_depth", "Messages waiting in each Celery queue", labels=["queue"])
        for queue, n in sorted(snapshot.queue_depth.items()):
            depth.add_metric([queue], n)
        yield depth
    oldest = GaugeMetricFamily(
        "examsite_oldest_queued_submission_seconds",
        "Age of the oldest submission waiting for a worker (0 when none waits)",
        labels=["queue"],
    )
    for queue, seconds in sorted(snapshot.oldest_queued_seconds.items()):
        oldest.add_metric([queue], seconds)
    yield oldest
    rate = GaugeMetricFamily(
        "examsite_gradings_per_minute",
        f"Gradings finished per minute over the last {GRADING_WINDOW_MINUTES} minutes, by outcome",
        labels=["outcome"],
    )
    for outcome, value in sorted(snapshot.gradings_per_minute.items()):
        rate.add_metric([outcome], value)
    yield rate
    if snapshot.grading_latency_buckets:
        buckets = [(_bound(b), n) for b, n in snapshot.grading_latency_buckets]
        yield GaugeHistogramMetricFamily(
            "examsite_grading_latency_seconds",
            f"From queued to stored result, gradings finished in the last {GRADING_WINDOW_MINUTES} minutes",
            buckets=buckets,
            gsum_value=snapshot.grading_latency_sum,
        )
    if snapshot.workers_online is not None:
        what = "Celery workers answering and taking grading work"
        yield GaugeMetricFamily("examsite_workers_online", what, snapshot.workers_online)
    ready = GaugeMetricFamily("examsite_ready", "1 when the readiness check passes, per check", labels=["check"])
    for name, ok in sorted(snapshot.checks.items()):
        ready.add_metric([name], 1 if ok else 0)
    yield ready


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class _Combined:
    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class _SnapshotCollector:
    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        return snapshot_metrics(self.snapshot)


def render(snapshot: Snapshot) -> bytes:
    """The text exposition format of every metric."""
    return generate_latest(_Combined(request_collector(), _SnapshotCollector(snapshot)))


def request_summary() -> list[dict]:
    """Per view: requests, errors (5xx) and mean duration, busiest first (the
    status page). Every view: they are a bounded set, the URL patterns."""
    views: dict[str, dict] = {}
    for metric in request_collector().collect():
        for sample in metric.samples:
            if sample.name == "examsite_http_requests_total":
                row = views.setdefault(sample.labels["view"], {"view": sample.labels["view"], "count": 0, "errors": 0})
                row["count"] += int(sample.value)
                if sample.labels["status"].startswith("5"):
                    row["errors"] += int(sample.value)
            elif sample.name == "examsite_http_request_duration_seconds_sum":
                row = views.setdefault(sample.labels["view"], {"view": sample.labels["view"], "count": 0, "errors": 0})
                row["seconds"] = row.get("seconds", 0.0) + sample.value
    rows = sorted(views.values(), key=lambda r: -r["count"])
    for row in rows:
        row["mean_ms"] = round(1000 * row.get("seconds", 0.0) / row["count"], 1) if row["count"] else 0.0
    return rows
