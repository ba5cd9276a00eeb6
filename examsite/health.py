"""Readiness checks: each says whether one thing the site needs works, and if
not, why. /readyz (examsite.views) runs them; the sandbox check comes from
grading, passed in by the view, as examsite sits below the apps."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from django.db import connection

from examsite.celery import app

# A readiness probe must answer within a load balancer's timeout (often 2-5 s)
# even when a service hangs: every wait here is bounded.
REDIS_TIMEOUT = 1.0
PING_TIMEOUT = 1.0
DATABASE_TIMEOUT = 2.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    ms: float = 0.0

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "ms": self.ms}


def timed(name: str, probe: Callable[[], str]) -> Check:
    """Run `probe`: what it returns is the detail of a pass, what it raises of a failure."""
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # any failure is the answer, with its reason
        detail, ok = f"{type(exc).__name__}: {exc}".strip(), False
    return Check(name, ok, detail[:500], round((time.perf_counter() - started) * 1000, 1))


@cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)


def broker_configured() -> bool:
    return bool(settings.REDIS_URL) and not app.conf.task_always_eager


def database() -> str:
    """SELECT 1, waited on for DATABASE_TIMEOUT seconds at most: a database
    that accepts connections but never answers (a hung server) fails the
    check instead of hanging the probe. The query runs in a daemon thread of
    its own, with its own connection, closed after it."""
    outcome: dict = {}

    def probe() -> None:
        try:
            outcome["vendor"] = select_one()
        except Exception as exc:  # the check's answer, raised in the caller
            outcome["error"] = exc

    thread = threading.Thread(target=probe, name="readyz-database", daemon=True)
    thread.start()
    thread.join(DATABASE_TIMEOUT)
    if thread.is_alive():
        raise RuntimeError(f"the database did not answer within {DATABASE_TIMEOUT:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["vendor"]


def select_one() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connection.vendor
    finally:
        connection.close()


def redis_ping() -> str:
    redis_client(settings.REDIS_URL).ping()
    return "PONG"


# The remote-control command each worker answers with whether it takes
# grading work (grading.worker: not when its sandbox cannot run code).
WORKER_STATUS = "grading_status"


def worker_statuses(timeout: float = PING_TIMEOUT, limit: int | None = None) -> dict[str, dict]:
    """{worker name: {"ok": takes grading work, "detail": why not}} of the
    workers that answered within `timeout`."""
    replies = app.control.broadcast(WORKER_STATUS, reply=True, timeout=timeout, limit=limit)
    return {name: status for reply in replies for name, status in reply.items()}


def takes_work(status: dict) -> bool:
    return status.get("ok") is not False  # a worker without the command says nothing against it


def workers() -> str:
    statuses = worker_statuses(limit=1)
    if statuses and not any(takes_work(s) for s in statuses.values()):
        # The first to answer takes no work: wait for the others' answers.
        statuses = worker_statuses()
    taking = sorted(name for name, status in statuses.items() if takes_work(status))
    if taking:
        return f"{taking[0]} answered"
    if not statuses:
        raise RuntimeError(f"no Celery worker answered a ping within {PING_TIMEOUT:g} s")
    refusals = "; ".join(f"{name} {status.get('detail', '')}" for name, status in sorted(statuses.items()))
    raise RuntimeError(f"no worker takes grading work: {refusals}")


def run(sandbox: Callable[[], str], *, ask_workers: bool = True) -> list[Check]:
    """Every check that applies to this configuration. Redis and the workers
    only with a broker; the workers are not asked when Redis is down (the ping
    would wait on the connection instead of saying so)."""
    checks = [timed("database", database)]
    if settings.REDIS_URL:
        checks.append(timed("redis", redis_ping))
    if broker_configured() and ask_workers:
        if checks[-1].ok:
            checks.append(timed("workers", workers))
        else:
            checks.append(Check("workers", False, "not asked: the broker (Redis) is unreachable"))
    checks.append(timed("sandbox", sandbox))
    return checks


QUEUE_PRIORITY_SEPARATOR = "\x06\x16"
QUEUE_PRIORITY_STEPS = (3, 6, 9)  # kombu's Redis transport keeps other priorities in lists of their own


def queue_depths(queues: list[str]) -> dict[str, int]:
    """Messages waiting in each Celery queue (its Redis lists), not counting
    those a worker holds unacknowledged."""
    client = redis_client(settings.REDIS_URL)
    pipe = client.pipeline()
    for queue in queues:
        pipe.llen(queue)
        for step in QUEUE_PRIORITY_STEPS:
            pipe.llen(f"{queue}{QUEUE_PRIORITY_SEPARATOR}{step}")
    lengths = pipe.execute()
    per_queue = 1 + len(QUEUE_PRIORITY_STEPS)
    return {queue: sum(lengths[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(queues)}
