"""Operations pages: /healthz, /readyz, /metrics and the staff status page.

They sit at the top, beside the URLconf, because they read both apps: the
sandbox check and the submissions of grading (docs/operations.md).
"""

import hmac
import ipaddress
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from examsite import health, metrics
from grading.models import Submission
from grading.sandbox import runner

QUEUES = [Submission.RUN_QUEUE, Submission.REGRADE_QUEUE]


def sandbox_check() -> str:
    if settings.SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT:
        return "no isolation (SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT, development only)"
    runner.check_available()
    return "bubblewrap, seccomp and the interpreter are in place"


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive and answers; nothing else is asked."""
    return JsonResponse({"status": "alive"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, else 503; either way each check with its reason."""
    checks = health.run(sandbox_check)
    ready = all(check.ok for check in checks)
    body = {"status": "ready" if ready else "not ready", "checks": {check.name: check.as_dict() for check in checks}}
    return JsonResponse(body, status=200 if ready else 503)


def grading_figures(snapshot: metrics.Snapshot, now=None) -> None:
    """Fill in what the submissions table says: the oldest waiting run per
    queue, gradings per minute by outcome and the latency histogram over the
    last few minutes. Four aggregate queries, on the partial index of
    pending submissions and the finished ones of the window."""
    now = now or timezone.now()
    queued = Submission.objects.filter(status=Submission.Status.QUEUED)
    # A candidate has waited since the run was made; a regrade since it was queued.
    oldest = {
        Submission.RUN_QUEUE: queued.filter(queue=Submission.RUN_QUEUE).aggregate(t=Min("created_at"))["t"],
        Submission.REGRADE_QUEUE: queued.filter(queue=Submission.REGRADE_QUEUE).aggregate(t=Min("queued_at"))["t"],
    }
    snapshot.oldest_queued_seconds = {
        queue: round(max(0.0, (now - since).total_seconds()), 1) if since else 0.0 for queue, since in oldest.items()
    }
    window = timedelta(minutes=metrics.GRADING_WINDOW_MINUTES)
    finished = Submission.objects.filter(finished_at__gt=now - window, finished_at__lte=now).annotate(
        latency=ExpressionWrapper(F("finished_at") - F("queued_at"), output_field=DurationField())
    )
    bounds = [*metrics.GRADING_BUCKETS, float("inf")]
    counts = finished.aggregate(
        n_passed=Count("pk", filter=Q(status=Submission.Status.GRADED, passed=F("total"))),
        n_failed=Count("pk", filter=Q(status=Submission.Status.GRADED) & ~Q(passed=F("total"))),
        n_error=Count("pk", filter=Q(status=Submission.Status.ERROR)),
        latency_sum=Sum("latency"),
        **{
            f"le_{i}": Count("pk", filter=Q(latency__lte=timedelta(seconds=bound)))
            for i, bound in enumerate(metrics.GRADING_BUCKETS)
        },
        total=Count("pk"),
    )
    minutes = metrics.GRADING_WINDOW_MINUTES
    snapshot.gradings_per_minute = {k: round(counts[f"n_{k}"] / minutes, 2) for k in ("passed", "failed", "error")}
    cumulative = [counts[f"le_{i}"] for i in range(len(metrics.GRADING_BUCKETS))] + [counts["total"]]
    snapshot.grading_latency_buckets = list(zip(bounds, cumulative, strict=True))
    total_latency = counts["latency_sum"]
    snapshot.grading_latency_sum = total_latency.total_seconds() if total_latency else 0.0


def ops_snapshot(*, with_checks: bool = True) -> metrics.Snapshot:
    """Every figure of /metrics. The workers are asked once, for how many
    answer within half a second and take grading work, which also makes their readiness check."""
    snapshot = metrics.Snapshot()
    if with_checks:
        snapshot.checks = {check.name: check.ok for check in health.run(sandbox_check, ask_workers=False)}
    grading_figures(snapshot)
    if health.broker_configured():
        try:
            snapshot.queue_depth = health.queue_depths(QUEUES)
            statuses = health.worker_statuses(timeout=0.5)
            snapshot.workers_online = sum(1 for status in statuses.values() if health.takes_work(status))
        except Exception:  # an unreachable broker leaves these unknown, as readyz says
            snapshot.queue_depth = snapshot.workers_online = None
        if with_checks:
            snapshot.checks["workers"] = bool(snapshot.workers_online)
    return snapshot


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXIES proxies the address the outermost saw."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_PROXIES:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        address = forwarded[-settings.TRUSTED_PROXIES] if len(forwarded) >= settings.TRUSTED_PROXIES else ""
    return address


def may_scrape(request: HttpRequest) -> bool:
    """From this machine, or with `Authorization: Bearer <METRICS_TOKEN>`."""
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_scrape(request):
        return HttpResponse(
            "Metrics are served to this machine's addresses, or with Authorization: Bearer METRICS_TOKEN.\n",
            status=403,
            content_type="text/plain",
        )
    body = metrics.render(ops_snapshot())
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")


def _percentile(buckets: list[tuple[float, int]], q: float) -> float | None:
    """The bucket bound under which a share q of the gradings finished (an upper estimate)."""
    if not buckets or not buckets[-1][1]:
        return None
    target = q * buckets[-1][1]
    return next(bound for bound, count in buckets if count >= target)


@require_GET
@login_required
def status(request: HttpRequest) -> HttpResponse:
    """The same figures as /readyz and /metrics, for staff, at a glance."""
    if not request.user.is_staff:
        raise Http404
    started = time.perf_counter()
    checks = health.run(sandbox_check, ask_workers=False)
    snapshot = ops_snapshot(with_checks=False)
    if health.broker_configured():
        online = snapshot.workers_online
        detail = "the broker is unreachable" if online is None else f"{online} taking grading work (0.5 s to answer)"
        checks.append(health.Check("workers", bool(online), detail))
    context = {
        "checks": checks,
        "ready": all(check.ok for check in checks),
        "snapshot": snapshot,
        "queues": [
            {
                "name": queue,
                "depth": None if snapshot.queue_depth is None else snapshot.queue_depth.get(queue, 0),
                "oldest": snapshot.oldest_queued_seconds.get(queue, 0.0),
            }
            for queue in QUEUES
        ],
        "p50": _percentile(snapshot.grading_latency_buckets, 0.5),
        "p95": _percentile(snapshot.grading_latency_buckets, 0.95),
        "graded_in_window": snapshot.grading_latency_buckets[-1][1] if snapshot.grading_latency_buckets else 0,
        "window_minutes": metrics.GRADING_WINDOW_MINUTES,
        "requests": metrics.request_summary(),
        "took_ms": round((time.perf_counter() - started) * 1000),
    }
    return render(request, "ops/status.html", context)
