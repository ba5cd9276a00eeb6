"""Line comments on the review page: add, edit and delete one's own comment
on a line of a drill's code. The rules are in grading/line_comments.py.

Each view answers an htmx request with the drill's code listing again (its
comments as the reviewer may see them) and the review's new revision out
of band; a refusal answers with its message in the form's status line,
retargeted there so what the reviewer typed stays. Without htmx, each form
posts and the review page comes back at the drill's code."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from exams.models import Attempt, Item
from exams.taking import Refused
from exams.web import get_item, strict_post
from grading import line_comments, reviewing
from grading.models import LineComment
from grading.review_views import get_attempt_for_review


def _number(data, name: str, what: str) -> int:
    value = data.get(name, "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise Refused(f"The {what} must be a whole number.", status=400)
    return int(value)


def _own_comment(request: HttpRequest, attempt: Attempt, comment_pk: int) -> LineComment:
    """The user's own comment on this attempt; 404 for any other, whatever the id."""
    return get_object_or_404(
        LineComment.objects.select_related("review", "item"),
        pk=comment_pk,
        review__attempt_id=attempt.pk,
        review__reviewer_id=request.user.pk,
    )


def _drill(attempt: Attempt, item_pk: int) -> Item:
    item = get_item(attempt, item_pk)
    if not item.is_drill:
        raise Http404("Only a drill's code takes line comments")
    return item


def _answer(request: HttpRequest, attempt: Attempt, item: Item, *, focus: str) -> HttpResponse:
    """The drill's code listing again, with the review's revision and state out of band."""
    own = reviewing.review_of(attempt, request.user)
    comments = [c for c in line_comments.review_flow_comments(attempt, request.user) if c.item_id == item.pk]
    context = {
        "attempt": attempt,
        "item": item,
        "listing": line_comments.listing(line_comments.code_of(attempt, item), comments),
        "can_comment": own is not None and not own.is_final,
        "revision": own.revision if own else 0,
        "focus": focus,
        "oob": True,
        "own": own,
        "holder": own or reviewing.holder(attempt),
    }
    html = render_to_string("grading/_code_listing.html", context, request=request)
    html += render_to_string("grading/review.html#revision_input", context, request=request)
    html += render_to_string("grading/review.html#review_state", context, request=request)
    return HttpResponse(html)


def _refused(request: HttpRequest, attempt: Attempt, item: Item, refusal: Refused, where: str) -> HttpResponse:
    if not request.htmx:
        messages.error(request, refusal.message)
        return _back(attempt, f"code-{item.pk}")
    context = {"error": refusal.message, "status_for": where}
    response = render(request, "grading/_code_listing.html#comment_status", context, status=refusal.status)
    response["HX-Retarget"] = f"#line-comment-status-{where}"
    response["HX-Reswap"] = "outerHTML"
    return response


def _back(attempt: Attempt, anchor: str) -> HttpResponse:
    return redirect(reverse("grading:review", args=[attempt.pk]) + f"#{anchor}")


def _revision(data) -> int:
    try:
        return int(data.get("revision", ""))
    except ValueError:
        raise Refused("The request was missing the review's revision; reload the page.", status=400) from None


@require_POST
@login_required
def add(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    item = _drill(attempt, item_pk)
    try:
        data = strict_post(request)
        comment = line_comments.add(
            attempt,
            request.user,
            item,
            line=_number(data, "line", "line number"),
            body=data.get("body", ""),
            revision=_revision(data),
        )
    except Refused as refusal:
        return _refused(request, attempt, item, refusal, str(item.pk))
    if not request.htmx:
        messages.success(request, f"{item.title}: comment on line {comment.line} saved.")
        return _back(attempt, f"line-comment-{comment.pk}")
    return _answer(request, attempt, item, focus=f"line-comment-{comment.pk}")


@require_POST
@login_required
def edit(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    comment = _own_comment(request, attempt, comment_pk)
    try:
        data = strict_post(request)
        line_comments.edit(attempt, request.user, comment, body=data.get("body", ""), revision=_revision(data))
    except Refused as refusal:
        return _refused(request, attempt, comment.item, refusal, f"{comment.item_id}-{comment.pk}")
    if not request.htmx:
        messages.success(request, f"{comment.item.title}: comment on line {comment.line} saved.")
        return _back(attempt, f"line-comment-{comment.pk}")
    return _answer(request, attempt, comment.item, focus=f"line-comment-{comment.pk}")


@require_POST
@login_required
def delete(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    comment = _own_comment(request, attempt, comment_pk)
    try:
        line_comments.delete(attempt, request.user, comment, revision=_revision(strict_post(request)))
    except Refused as refusal:
        return _refused(request, attempt, comment.item, refusal, f"{comment.item_id}-{comment.pk}")
    if not request.htmx:
        messages.success(request, f"{comment.item.title}: comment on line {comment.line} deleted.")
        return _back(attempt, f"code-{comment.item_id}")
    return _answer(request, attempt, comment.item, focus=f"line-{comment.item_id}-{comment.line}-open")
