"""Structured logs: one JSON object per line, and one line per request.

A request's line carries its id, the user's id, the view's name, the status
and the duration; never the body, the query string, answers or code. Every
other line logged while the request runs carries the same request id, so a
traceback can be matched with the request that caused it.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
# A caller (a proxy, a load balancer) may name the request; anything else is replaced.
INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

log = logging.getLogger("examsite.request")


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record logged during it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, and the
    fields passed in `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_") and value not in ("", None):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def view_name(request: HttpRequest) -> str:
    """The URL pattern's name: a bounded set, unlike paths, which carry ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match._func_path
    return "unresolved"


def user_id(request: HttpRequest) -> int | None:
    try:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user.pk
    except Exception:  # the user could not be loaded (the database or Redis is down): the line is logged anyway
        return None
    return None


class RequestLogMiddleware:
    """Log one line per request (first in MIDDLEWARE, so the duration covers
    every other middleware) and answer with the request's id in X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            response.headers["X-Request-ID"] = request_id
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            log.log(
                level,
                "%s %s %s %.1f ms",
                request.method,
                view_name(request),
                response.status_code,
                duration_ms,
                extra={
                    "user_id": user_id(request),
                    "view": view_name(request),
                    "method": request.method,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(token)
