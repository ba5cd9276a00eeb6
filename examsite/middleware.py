from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY on every response that has none.

    Django 5.2 has no built-in CSP; this is the whole of what the site needs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = policy
        return response


class KeepMultipartBodyMiddleware:
    """Read a multipart/form-data body into memory before anything parses it.

    Django parses multipart forms from the request stream and keeps no copy,
    replacing bytes that are not UTF-8 with U+FFFD; the CSRF middleware
    parses the form before any view runs. With the body kept,
    `exams.web.strict_post` can read the bytes that were sent and refuse
    invalid UTF-8 (invariant 8). The site takes no file uploads, so the
    whole body counts against DATA_UPLOAD_MAX_MEMORY_SIZE: a larger one is
    refused here (RequestDataTooBig, answered by the 400 page).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/"):
            request.body  # noqa: B018 - read for its side effect: Django keeps it
        return self.get_response(request)


class PrivatePagesMiddleware:
    """No cache keeps a response to a logged-in user.

    Such pages may hold model answers, scores and reviews: `no-store` (with
    `private`) keeps them out of shared caches and the browser's, and
    `Vary: Cookie` stops a cache from serving one user's page to another.
    Listed after the authentication middleware, which sets `request.user`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
        return response
