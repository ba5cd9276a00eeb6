"""What every view over an attempt needs, for this app and the ones above it:
the object-level lookups that answer 404, and strict reading of form data."""

from io import BytesIO
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404
from django.utils.datastructures import MultiValueDict

from exams.models import Attempt, Item
from exams.taking import Refused


def get_own_attempt(request: HttpRequest, pk: int) -> Attempt:
    """The attempt if it is this user's own; 404 otherwise, so ids of other
    people's attempts reveal nothing."""
    attempt = get_object_or_404(Attempt.objects.select_related("version", "exam", "user"), pk=pk)
    if not attempt.can_edit(request.user):
        raise Http404("No such attempt")
    return attempt


def get_item(attempt: Attempt, item_pk: int) -> Item:
    """An item of the attempt's version (an item of another exam or version is 404)."""
    return get_object_or_404(Item, pk=item_pk, version_id=attempt.version_id)


NOT_UTF8 = "The text sent is not valid UTF-8, so nothing was saved."


def _strict_multipart(request: HttpRequest) -> MultiValueDict:
    """multipart/form-data read again from the body that
    `examsite.middleware.KeepMultipartBodyMiddleware` kept. Django decodes
    each field with errors="replace" (and base64 parts after decoding them),
    so its `request.POST` cannot tell a sent U+FFFD from a broken byte:
    here Django's own parser decodes as Latin-1, which maps every byte to
    one character, and each value's bytes are then decoded as strict UTF-8."""
    try:
        body = request.body
    except RawPostDataException:
        # Only without the middleware: refuse rather than trust request.POST.
        raise Refused("This form could not be read; reload the page and try again. Nothing was saved.", 400) from None
    try:
        fields, files = MultiPartParser(request.META, BytesIO(body), request.upload_handlers, "latin-1").parse()
    except MultiPartParserError:
        raise Refused("This form could not be read; reload the page and try again. Nothing was saved.", 400) from None
    if files:
        raise Refused("Files cannot be sent here; nothing was saved.", status=400)
    data = MultiValueDict()
    try:
        for name, values in fields.lists():
            for value in values:
                data.appendlist(name.encode("latin-1").decode("utf-8"), value.encode("latin-1").decode("utf-8"))
    except UnicodeDecodeError:
        raise Refused(NOT_UTF8, status=400) from None
    return data


def strict_post(request: HttpRequest) -> MultiValueDict:
    """The form fields (`get` gives a field's last value, `getlist` all of
    them), refusing bytes that are not UTF-8 instead of silently replacing
    them (Django's default), in urlencoded and multipart forms alike, so a
    corrupt save changes nothing."""
    if request.content_type == "multipart/form-data":
        data = _strict_multipart(request)
    elif request.content_type != "application/x-www-form-urlencoded":
        data = request.POST.copy()
    else:
        body = request.body
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if limit is not None and body.count(b"&") + 1 > limit:
            # What Django's own parsing raises; the site's 400 page says it.
            raise TooManyFieldsSent("The number of POST fields exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.")
        data = MultiValueDict()
        try:
            for name, value in parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict"):
                data.appendlist(name, value)
        except (UnicodeDecodeError, ValueError):
            raise Refused(NOT_UTF8, status=400) from None
    if any("\x00" in value for _, values in data.lists() for value in values):
        # PostgreSQL cannot store it; say so instead of failing on the write.
        raise Refused("The text contains a NUL character (\\0), which cannot be stored; nothing was saved.", 400)
    return data
