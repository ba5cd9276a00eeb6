"""The site's own answer to a request Django refuses before any view runs.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE or a form with more fields than
DATA_UPLOAD_MAX_NUMBER_FIELDS raises while the form is parsed (usually by
the CSRF middleware); Django then calls `handler400`. A page gets the site's
layout with the reason; an htmx request gets a fragment that htmx puts in
the page's `#request-error` region (base.html), leaving the form it came
from as it was.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string


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
