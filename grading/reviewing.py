"""The rules of reviewing an attempt: mark a part, finalize, reopen.

Every rule checks everything before it writes and raises `Refused` with a
message for the reviewer, so a refused request changes nothing. Writes run
in one transaction under a row lock on the attempt (reviews of one attempt
happen one after another) and are conditional updates on the revision the
reviewer's page was based on: a stale tab is refused instead of
overwriting, like an answer's autosave.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from exams.models import Attempt, Item, RubricCriterion
from exams.taking import Refused
from grading import audit, scoring
from grading.access import may_review
from grading.models import Adjudication, Mark, Review, ReviewEvent

MAX_REOPEN_REASON = 1000
STALE = "This review was changed in another tab or window; reload to see the latest. Your change was not saved."


def review_of(attempt: Attempt, reviewer) -> Review | None:
    """`reviewer`'s review of `attempt`, if they started one."""
    return Review.objects.filter(attempt_id=attempt.pk, reviewer_id=reviewer.pk).first()


def may_mark(own_status: str | None, others: int, required: int) -> bool:
    """Whether a reviewer may mark an attempt: their own review is a draft,
    or they have none yet and fewer than `required` others hold it."""
    if own_status is not None:
        return own_status == Review.Status.DRAFT
    return others < required


def slot_open(attempt: Attempt, viewer) -> bool:
    """True if `viewer` has no review of `attempt` and it takes another reviewer."""
    reviews = Review.objects.filter(attempt_id=attempt.pk)
    if reviews.filter(reviewer_id=viewer.pk).exists():
        return False
    return may_mark(None, reviews.count(), attempt.version.reviews_required)


def count_of(reviews: QuerySet) -> Coalesce:
    """How many `reviews` (a queryset on OuterRef("pk") of attempts) there
    are, as a subquery annotation on attempts."""
    counted = reviews.order_by().values("attempt_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), Value(0))


def blind_attempts() -> QuerySet:
    """Double-marked attempts with fewer final reviews than they take: where
    one reviewer's marks must not reach another (nor staff, who may yet
    become the second reviewer) by any page, the admin included."""
    finals = (
        Review.objects.filter(attempt=OuterRef("pk"), status=Review.Status.FINAL)
        .order_by()
        .values("attempt")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Attempt.objects.annotate(final_reviews=Coalesce(Subquery(finals[:1]), 0)).filter(
        version__reviews_required__gt=1, final_reviews__lt=F("version__reviews_required")
    )


def visible_reviews(attempt: Attempt, viewer) -> list[Review]:
    """The reviews of `attempt` whose marks and comments `viewer` may see in
    the review flow: their own (draft or final), and others' only once
    every review the attempt takes is final. So a second reviewer (or one
    who may yet become it) never sees the first's marks early."""
    reviews = list(Review.objects.filter(attempt_id=attempt.pk).select_related("reviewer").order_by("created_at", "pk"))
    required = attempt.version.reviews_required
    all_final = sum(1 for r in reviews if r.is_final) >= required
    return [r for r in reviews if r.reviewer_id == viewer.pk or (all_final and r.is_final)]


def holder(attempt: Attempt) -> Review | None:
    """The review that counts today: the final one (the latest finalized),
    else the one in progress."""
    final = scoring.final_review(attempt)
    if final is not None:
        return final
    return Review.objects.filter(attempt_id=attempt.pk, status=Review.Status.DRAFT).order_by("-created_at").first()


def mark(
    attempt: Attempt,
    reviewer,
    item: Item | None,
    *,
    criteria_ids: Iterable[int],
    adjustment: Decimal,
    reason: str,
    comment: str,
    revision: int,
    now: datetime | None = None,
) -> Review:
    """Record `reviewer`'s mark on one part of the attempt (an item, or the
    exam-wide signals when `item` is None): the ticked criteria exactly,
    an adjustment with its reason, a comment. The first mark starts the
    review (send revision 0); each later one must send the review's
    current revision. Returns the review with its new revision."""
    now = now or timezone.now()
    if not may_review(reviewer, attempt):
        raise Refused("You may not review this attempt.", status=403)
    _check_item(attempt, item)
    criteria_ids = _check_criteria(attempt, item, criteria_ids)
    _check_adjustment(adjustment, reason, _rubric_max(attempt, item))
    _check_texts(reason, comment)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        review = _writable_review(attempt, reviewer, revision, now)
        previous = Mark.objects.filter(review=review, item=item).values_list("adjustment", flat=True)
        before = previous.first() or scoring.ZERO
        entry, _ = Mark.objects.update_or_create(
            review=review,
            item=item,
            defaults={"adjustment": adjustment, "reason": reason.strip(), "comment": comment},
        )
        entry.criteria.set(criteria_ids)
        if adjustment != before:
            part = item.slug if item is not None else "overall"
            detail = {"item": part, "before": f"{before:.2f}", "after": f"{adjustment:.2f}", "reason": reason.strip()}
            audit.record(reviewer, audit.Action.ADJUSTMENT, review, attempt=attempt, at=now, **detail)
    return review


def finalize(attempt: Attempt, reviewer, revision: int, now: datetime | None = None) -> Review:
    """Make `reviewer`'s review final, then store the attempt's score from it."""
    now = now or timezone.now()
    if not may_review(reviewer, attempt):
        raise Refused("You may not review this attempt.", status=403)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        review = review_of(attempt, reviewer)
        if review is None:
            raise Refused("There is nothing to finalize yet: mark at least one item.", status=400)
        if review.is_final:
            raise Refused("This review is already final.", current_revision=review.revision)
        updated = Review.objects.filter(pk=review.pk, status=Review.Status.DRAFT, revision=revision).update(
            status=Review.Status.FINAL, revision=F("revision") + 1, finalized_at=now, updated_at=now
        )
        if not updated:
            raise Refused(STALE, current_revision=_revision(review))
        ReviewEvent.objects.create(review=review, action=ReviewEvent.Action.FINALIZED, actor=reviewer, at=now)
        review.refresh_from_db()
        score = scoring.recompute(attempt, now)
        audit.record(reviewer, audit.Action.REVIEW_FINALIZED, review, at=now, total=score.total, max=score.max_points)
    return review


def reopen(review: Review, actor, reason: str, now: datetime | None = None) -> Review:
    """Turn a final review back into a draft, keeping why; the attempt's
    score goes back to provisional until a review is final again."""
    now = now or timezone.now()
    if not actor.is_authenticated or not (actor.pk == review.reviewer_id or actor.is_staff):
        raise Refused("Only the reviewer or staff may reopen this review.", status=403)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise Refused("Say why the review is reopened: the reason is kept in its history.", status=400)
    if len(reason) > MAX_REOPEN_REASON:
        raise Refused(f"A reason is at most {MAX_REOPEN_REASON:,} characters long.", status=400)
    _check_no_nul(reason)
    with transaction.atomic():
        Attempt.objects.select_for_update().get(pk=review.attempt_id)
        updated = Review.objects.filter(pk=review.pk, status=Review.Status.FINAL).update(
            status=Review.Status.DRAFT, revision=F("revision") + 1, finalized_at=None, updated_at=now
        )
        if not updated:
            raise Refused("This review is not final any more; reload to see it.", current_revision=_revision(review))
        ReviewEvent.objects.create(
            review=review, action=ReviewEvent.Action.REOPENED, actor=actor, at=now, reason=reason
        )
        # An adjudication decided between marks that may now change: it no
        # longer counts (scoring asks for one again if the reviews still disagree).
        Adjudication.objects.filter(attempt_id=review.attempt_id, status=Adjudication.Status.FINAL).update(
            status=Adjudication.Status.REOPENED
        )
        review.refresh_from_db()
        scoring.recompute(review.attempt_id, now)
        audit.record(actor, audit.Action.REVIEW_REOPENED, review, at=now, reason=reason)
    return review


# Checks: each raises Refused and writes nothing.


def _check_item(attempt: Attempt, item: Item | None) -> None:
    if item is None:
        return
    if item.version_id != attempt.version_id:
        raise Refused("This item is not part of the exam this attempt took.", status=400)
    if item.kind == Item.Kind.TEXT:
        raise Refused("A reading has no score to mark.", status=400)


def _check_criteria(attempt: Attempt, item: Item | None, criteria_ids: Iterable[int]) -> list[int]:
    """The ids, once each, if every one is a criterion of this part of the rubric."""
    ids = list(dict.fromkeys(criteria_ids))
    where = "this item's rubric" if item is not None else "the exam-wide rubric"
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Refused(f"Criterion {value!r} is not part of {where}.", status=400)
    rows = RubricCriterion.objects.filter(pk__in=ids).values_list("pk", "version_id", "item_id")
    found = {pk: (version_id, item_id) for pk, version_id, item_id in rows}
    part = (attempt.version_id, item.pk if item is not None else None)
    for pk in ids:
        if found.get(pk) != part:
            raise Refused(f"Criterion {pk} is not part of {where}.", status=400)
    return ids


def _rubric_max(attempt: Attempt, item: Item | None) -> int:
    """The most a part's rubric can score: what an adjustment is bounded by."""
    if item is None:
        exam_wide = RubricCriterion.objects.filter(version_id=attempt.version_id, item__isnull=True, points__gt=0)
        return exam_wide.aggregate(total=Sum("points"))["total"] or 0
    return item.written_points if item.is_drill else item.points


def _check_adjustment(adjustment: Decimal, reason: str, rubric_max: int) -> None:
    if not isinstance(adjustment, Decimal) or not adjustment.is_finite():
        raise Refused("An adjustment must be a number of points.", status=400)
    if abs(adjustment) > rubric_max:
        raise Refused(f"An adjustment must be between -{rubric_max} and +{rubric_max} points.", status=400)
    if adjustment != adjustment.quantize(scoring.CENT):
        raise Refused("An adjustment is counted in hundredths of a point at most.", status=400)
    if adjustment and not (isinstance(reason, str) and reason.strip()):
        raise Refused("Say why you adjust the score: an adjustment needs a reason.", status=400)


def _check_texts(reason: str, comment: str) -> None:
    if not isinstance(reason, str) or not isinstance(comment, str):
        raise Refused("A reason and a comment are text.", status=400)
    if len(reason.strip()) > Mark.MAX_REASON:
        raise Refused(f"A reason is at most {Mark.MAX_REASON} characters long.", status=400)
    if len(comment) > Mark.MAX_COMMENT:
        raise Refused(
            f"This comment is {len(comment):,} characters long; the limit is {Mark.MAX_COMMENT:,}. Nothing was saved.",
            status=413,
        )
    _check_no_nul(reason)
    _check_no_nul(comment)


def _check_no_nul(text: str) -> None:
    # PostgreSQL refuses NUL in text columns; refuse it here with a message
    # instead of failing with a database error.
    if "\x00" in text:
        raise Refused("This text contains a NUL character, which cannot be stored.", status=400)


# Writing.


def _writable_review(attempt: Attempt, reviewer, revision: int, now: datetime) -> Review:
    """The reviewer's draft, its revision moved on by one; or a new draft
    when this is their first mark. Called with the attempt row locked."""
    review = review_of(attempt, reviewer)
    if review is None:
        if revision != 0:
            raise Refused(STALE, current_revision=0)
        return _start(attempt, reviewer, now)
    if review.is_final:
        raise Refused("This review is final; reopen it to change it.", current_revision=review.revision)
    updated = Review.objects.filter(pk=review.pk, status=Review.Status.DRAFT, revision=revision).update(
        revision=F("revision") + 1, updated_at=now
    )
    if not updated:
        raise Refused(STALE, current_revision=_revision(review))
    review.revision = revision + 1
    return review


def _start(attempt: Attempt, reviewer, now: datetime) -> Review:
    required = attempt.version.reviews_required
    others = Review.objects.filter(attempt_id=attempt.pk).exclude(reviewer_id=reviewer.pk).select_related("reviewer")
    taken = list(others.order_by("created_at", "pk")[:required])
    if len(taken) >= required:
        raise Refused(f"{taken[0].reviewer.get_username()} is already reviewing this attempt.")
    if Adjudication.objects.filter(attempt_id=attempt.pk, adjudicator_id=reviewer.pk).exists():
        raise Refused("You adjudicated this attempt, so you may not also mark it.", status=403)
    try:
        # A savepoint: where the row lock does not serialize (SQLite ignores
        # SELECT ... FOR UPDATE), a concurrent first mark by the same
        # reviewer meets the unique (attempt, reviewer) instead.
        with transaction.atomic():
            review = Review.objects.create(attempt=attempt, reviewer=reviewer, created_at=now)
    except IntegrityError:
        raise Refused(STALE, current_revision=_revision_of(attempt, reviewer)) from None
    ReviewEvent.objects.create(review=review, action=ReviewEvent.Action.STARTED, actor=reviewer, at=now)
    return review


def _revision(review: Review) -> int:
    return Review.objects.values_list("revision", flat=True).get(pk=review.pk)


def _revision_of(attempt: Attempt, reviewer) -> int:
    revisions = Review.objects.filter(attempt_id=attempt.pk, reviewer_id=reviewer.pk).values_list("revision", flat=True)
    return revisions.first() or 0
