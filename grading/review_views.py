"""Interviewers' pages: the review queue, the review page, and its writes
(mark an item, finalize, reopen). The rules are in grading/reviewing.py."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from exams.models import Attempt, Exam, Item, RubricCriterion
from exams.taking import Refused
from exams.web import get_item, strict_post
from grading import adjudicating, pseudonyms, reviewing, scoring
from grading.access import may_review, reviewable_attempts, reviewer_teams, teams_reviewed
from grading.models import Membership, Review
from grading.pages import scored_attempt

PER_PAGE = 25
STATUSES = {
    "needs_review": "Needs review",
    "in_review": "In review",
    "needs_adjudication": "Needs adjudication",
    "done": "Done",
}


def get_attempt_for_review(request: HttpRequest, pk: int) -> Attempt:
    """The attempt if this user may review it; 404 for anyone else, whatever the id."""
    attempt = get_object_or_404(Attempt.objects.select_related("version", "exam", "user"), pk=pk)
    if not may_review(request.user, attempt):
        raise Http404("No such attempt to review")
    return attempt


@require_GET
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    teams = teams_reviewed(user)
    attempts = reviewable_attempts(user)
    exam_slug, team_slug, status = (request.GET.get(k, "") for k in ("exam", "team", "status"))
    if exam_slug:
        attempts = attempts.filter(exam__slug=exam_slug)
    if team_slug:
        team = next((t for t in teams if t.slug == team_slug), None)
        if team is None:
            raise Http404("No such team among those you review")
        attempts = attempts.filter(user_id__in=Subquery(Membership.objects.filter(team=team).values("user_id")))
    reviews = Review.objects.filter(attempt=OuterRef("pk"))
    required = F("version__reviews_required")
    attempts = attempts.annotate(
        final_reviews=reviewing.count_of(reviews.filter(status=Review.Status.FINAL)),
        all_reviews=reviewing.count_of(reviews),
        review_state=Case(
            When(score__adjudication="needed", then=Value("needs_adjudication")),
            When(final_reviews__gte=required, then=Value("done")),
            # Double marking: a slot for another reviewer is open (and it is not the viewer's own review).
            When(
                Q(all_reviews__lt=required) & ~Exists(reviews.filter(reviewer_id=user.pk)), then=Value("needs_review")
            ),
            When(all_reviews__gt=0, then=Value("in_review")),
            default=Value("needs_review"),
            output_field=CharField(),
        ),
        reviewer_name=Subquery(reviews.order_by("created_at").values("reviewer__username")[:1]),
    )
    counts = attempts.aggregate(**{key: Count("pk", filter=Q(review_state=key)) for key in STATUSES})
    if status in STATUSES:
        attempts = attempts.filter(review_state=status)
    rows = attempts.select_related("user", "version", "exam", "score").order_by("finalized_at", "pk")
    rows = rows.annotate(
        own_final=Exists(reviews.filter(reviewer_id=user.pk, status=Review.Status.FINAL)),
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for attempt in page.object_list:
        hidden = pseudonyms.names_hidden(
            request,
            attempt.version.anonymous_marking,
            own_final=attempt.own_final,
            complete=attempt.final_reviews >= attempt.version.reviews_required,
        )
        attempt.candidate_label = pseudonyms.candidate_label(attempt, hidden)
    exams = Exam.objects.filter(pk__in=Subquery(reviewable_attempts(user).values("exam_id"))).select_related(
        "current_version"
    )
    context = {
        "page": page,
        "counts": counts,
        "statuses": STATUSES,
        "teams": teams,
        "exams": exams,
        "filters": {"exam": exam_slug, "team": team_slug, "status": status if status in STATUSES else ""},
        "anonymous": pseudonyms.queue_option(request),
    }
    return render(request, "grading/review_queue.html", context)


@require_POST
@login_required
def anonymous_marking(request: HttpRequest) -> HttpResponse:
    """Turn the queue's anonymous marking on or off for this session."""
    if not reviewer_teams(request.user).exists() and not request.user.is_staff:
        raise PermissionDenied("You do not review any team's attempts.")
    try:
        data = strict_post(request)
    except Refused as refusal:
        return HttpResponseBadRequest(refusal.message)
    choice = data.get("anonymous", "")
    if choice not in ("on", "off"):
        return HttpResponseBadRequest("Send anonymous=on or anonymous=off; nothing was changed.")
    pseudonyms.set_queue_option(request, choice == "on")
    if choice == "on":
        messages.success(request, "Anonymous marking is on: candidates show as pseudonyms until your review is final.")
    else:
        messages.success(request, "Anonymous marking is off, except for exams that require it.")
    kept = {key: data.get(key, "") for key in ("exam", "team", "status")}
    kept = {key: value for key, value in kept.items() if value and value.isascii() and len(value) <= 100}
    return redirect(reverse("grading:review_queue") + (f"?{urlencode(kept)}" if kept else ""))


def _review_context(request: HttpRequest, attempt: Attempt) -> dict:
    own = reviewing.review_of(attempt, request.user)
    holder = own or reviewing.holder(attempt)
    # Others' marks show only once every review the attempt takes is final
    # (a draft is its reviewer's alone; a second reviewer marks blind).
    finals = [r for r in reviewing.visible_reviews(attempt, request.user) if r.is_final]
    shown = own or (finals[-1] if finals else None)
    result = scoring.result_for(attempt, shown)
    scores = {**result.items, None: result.overall}
    scored = scored_attempt(attempt, review=shown, scores=scores, show_answers=True)
    reveals = sorted((i for i in scored.state.items if i.reveal), key=lambda i: i.reveal.revealed_at)
    candidate_label, anonymous = pseudonyms.label_for(request, attempt, own)
    double = attempt.version.reviews_required > 1
    return {
        "candidate_label": candidate_label,  # a pseudonym under anonymous marking (grading/pseudonyms.py)
        "anonymous": anonymous,
        "attempt": attempt,
        "own": own,
        "holder": holder,
        "shown": shown,
        "editable": own.status == Review.Status.DRAFT if own else reviewing.slot_open(attempt, request.user),
        "unmarked": scored.unmarked,
        "revision": own.revision if own else 0,
        "result": result,
        "scored": scored,
        "reveals": reveals,
        "events": list(shown.events.select_related("actor")) if shown else [],
        "double": _double_marking(attempt, request.user) if double else None,
    }


def _double_marking(attempt: Attempt, user) -> dict:
    """What the review page says of double marking: how many reviews are
    final, and once both are, the two totals, the counted one and whether
    an adjudication is needed (and whether this user may give it)."""
    reviews = list(Review.objects.filter(attempt_id=attempt.pk).select_related("reviewer").order_by("created_at"))
    finals = [r for r in reviews if r.is_final]
    context = {"reviews": reviews, "final": len(finals), "required": attempt.version.reviews_required}
    if len(finals) >= context["required"]:
        settled = scoring.settle(attempt)
        context.update(
            settled=settled,
            totals=list(zip(settled.reviews, (r.total for r in settled.results), strict=True)),
            may_adjudicate=adjudicating.may_adjudicate(user, attempt),
        )
    return context


@require_GET
@login_required
def review_page(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    return render(request, "grading/review.html", _review_context(request, attempt))


def _decimal(value: str, what: str) -> Decimal:
    try:
        number = Decimal(value.strip() or "0")
    except InvalidOperation:
        raise Refused(f"The {what} must be a number of points, like 1.5 or -2.", status=400) from None
    if not number.is_finite():
        raise Refused(f"The {what} must be a number of points, like 1.5 or -2.", status=400)
    return number


def _revision(data) -> int:
    try:
        return int(data.get("revision", ""))
    except ValueError:
        raise Refused("The request was missing the review's revision; reload the page.", status=400) from None


def _back(attempt: Attempt, anchor: str = "", data=None) -> HttpResponse:
    """To the review page; or, for a mark sent from marking by question
    without JavaScript, back to that page (the form's `next`, if it is one)."""
    back = data.get("next", "") if data is not None else ""
    if back.startswith(reverse("grading:by_question")):  # a path on this site, never another host
        return redirect(back)
    return redirect(reverse("grading:review", args=[attempt.pk]) + (f"#{anchor}" if anchor else ""))


@require_POST
@login_required
def mark(request: HttpRequest, pk: int, item_pk: int | None = None) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    item = get_item(attempt, item_pk) if item_pk is not None else None
    if item is not None and item.kind == Item.Kind.TEXT:
        raise Http404("Reading items are not marked")
    part = str(item.pk) if item else "overall"
    data = None
    try:
        data = strict_post(request)
        try:
            criteria = [int(value) for value in data.getlist("criteria")]
        except ValueError:
            raise Refused("Criteria are sent by their numbers; reload the page.", status=400) from None
        review = reviewing.mark(
            attempt,
            request.user,
            item,
            criteria_ids=criteria,
            adjustment=_decimal(data.get("adjustment", ""), "adjustment"),
            reason=data.get("reason", ""),
            comment=data.get("comment", ""),
            revision=_revision(data),
        )
    except Refused as refusal:
        if not request.htmx:
            messages.error(request, refusal.message)
            return _back(attempt, f"mark-{part}", data)
        context = {"part": part, "error": refusal.message, "revision": refusal.current_revision}
        return render(request, "grading/review.html#mark_status", context, status=refusal.status)
    if not request.htmx:
        messages.success(request, f"{item.title if item else 'Overall'}: marks saved.")
        return _back(attempt, f"mark-{part}", data)
    result = scoring.result_for(attempt, review)
    parts = len(result.items) + RubricCriterion.objects.filter(version_id=attempt.version_id, item=None).exists()
    context = {
        "part": part,
        "score": result.items[item.pk] if item else result.overall,
        "result": result,
        "revision": review.revision,
        "saved": True,
        "oob": True,
        "holder": review,
        "own": review,
        "editable": True,
        "unmarked": parts - review.marks.count(),
    }
    return render(request, "grading/review.html#mark_status", context)


def _refused(request: HttpRequest, attempt: Attempt, refusal: Refused) -> HttpResponse:
    """The review page again, with why the request was refused and its status (nothing changed)."""
    messages.error(request, refusal.message)
    return render(request, "grading/review.html", _review_context(request, attempt), status=refusal.status)


@require_POST
@login_required
def finalize(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    try:
        reviewing.finalize(attempt, request.user, _revision(strict_post(request)))
    except Refused as refusal:
        return _refused(request, attempt, refusal)
    if scoring.settle(attempt).complete:
        messages.success(request, "Review finalized: the candidate now sees the final score and your feedback.")
    else:
        messages.success(
            request, "Review finalized. The score stays provisional until every review (and any adjudication) is final."
        )
    return _back(attempt)


@require_POST
@login_required
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    finals = [r for r in reviewing.visible_reviews(attempt, request.user) if r.is_final]
    review = reviewing.review_of(attempt, request.user) or (finals[-1] if finals else reviewing.holder(attempt))
    if review is None:
        raise Http404("No review to reopen")
    try:
        reviewing.reopen(review, request.user, strict_post(request).get("reason", ""))
    except Refused as refusal:
        return _refused(request, attempt, refusal)
    messages.success(request, "Review reopened: the score is provisional again until it is finalized.")
    return _back(attempt)
