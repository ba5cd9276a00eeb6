"""The site's own answers to requests that fail: one Django refuses before
any view runs (400), and one whose view cannot reach the database (503).

A body over DATA_UPLOAD_MAX_MEMORY_SIZE or a form with more fields than
DATA_UPLOAD_MAX_NUMBER_FIELDS raises while the form is parsed (usually by
the CSRF middleware); Django then calls `handler400`. A page gets the site's
layout with the reason; an htmx request gets a fragment that htmx puts in
the page's `#request-error` region (base.html), leaving the form it came
from as it was.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

log = logging.getLogger("django.request")


def bad_request_message(exception: Exception | None) -> str:
    if isinstance(exception, RequestDataTooBig):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return (
            f"This request is too large: the site accepts at most {limit_mb:g} MB per request "
            "(and 64 KB per answer), so nothing was saved."
        )
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return (
            f"This request has too many fields: a form may send at most "
            f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}, so nothing was saved."
        )
    return "This request could not be understood, so nothing was changed."


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = bad_request_message(exception)
    htmx = request.headers.get("HX-Request") == "true"
    try:
        body = render_to_string("400.html#message" if htmx else "400.html", {"message": message}, request=request)
    except Exception:  # e.g. a disallowed Host: building the layout asks the request for it again
        body = render_to_string("400.html#message", {"message": message})
    response = HttpResponseBadRequest(body)
    if htmx:
        response["HX-Retarget"] = "#request-error"
        response["HX-Reswap"] = "innerHTML"
    return response


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database (PostgreSQL restarting, a network
    cut) answers 503 with a page that says so and when to try again, instead
    of the generic 500. The connection is dropped at the end of the request
    and the next one opens a fresh one (CONN_HEALTH_CHECKS)."""

    RETRY_AFTER_SECONDS = 10

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.error("database unreachable: %s", exception, exc_info=exception)
        # The user may be what failed to load: middleware that looks at it on
        # the way out (no-store headers, the log line) must not ask again.
        request.user = AnonymousUser()
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        add_never_cache_headers(response)
        return response
