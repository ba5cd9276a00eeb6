"""The rules of adjudication: when two final reviews of a double-marked
attempt disagree too much (`grading.scoring.disagreement`), a third person
decides per part between the first review's mark, the second's, or points
of their own with a reason; those decisions are the attempt's rubric score.

Like reviewing, every rule checks everything before it writes and raises
`Refused` with a message, so a refused request changes nothing; the write
runs under a row lock on the attempt and stands only for the revisions of
the two reviews the adjudicator saw.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exams.models import Attempt, Item
from exams.taking import Refused
from grading import audit, scoring
from grading.access import may_review
from grading.models import Adjudication, AdjudicationDecision, Mark, Review

Choice = AdjudicationDecision.Choice
MARKED = (
    "You marked this attempt: its adjudication is for someone who did not (another reviewer of the team, or staff)."
)


@dataclass(frozen=True)
class PartDecision:
    """What the adjudicator sent for one part."""

    choice: str  # a Choice
    points: Decimal | None = None  # with Choice.POINTS
    reason: str = ""


def may_adjudicate(user, attempt: Attempt) -> bool:
    """True if `user` may review the attempt and marked none of it (no
    review of theirs, draft or final). Whether an adjudication is needed is
    `check`'s question."""
    if not may_review(user, attempt):
        return False
    return not Review.objects.filter(attempt_id=attempt.pk, reviewer_id=user.pk).exists()


def check(attempt: Attempt, user) -> scoring.Settled:
    """Where the attempt stands, if `user` may adjudicate it now; else
    Refused: 403 for someone who marked it, 409 before both reviews are
    final or when they agree within the threshold. (Callers answer 404 to
    those who may not review the attempt at all.)"""
    if not may_review(user, attempt):
        raise Refused("You may not review this attempt.", status=403)
    if Review.objects.filter(attempt_id=attempt.pk, reviewer_id=user.pk).exists():
        raise Refused(MARKED, status=403)
    if attempt.version.reviews_required < 2:
        raise Refused("This exam takes one review per attempt: there is nothing to adjudicate.", status=409)
    settled = scoring.settle(attempt)
    if not settled.reviewed:
        raise Refused(
            "Both reviews must be final before an adjudication: neither reviewer's marks are shown until then.",
            status=409,
        )
    if not settled.disagreement.needs_adjudication:
        raise Refused(
            "The two reviews agree within the exam's threshold: the score is their mean, with no adjudication.",
            status=409,
        )
    return settled


def parts_of(settled: scoring.Settled) -> list[int | None]:
    """The parts an adjudication decides, in exam order: every item with a
    rubric, then Overall if it has one."""
    first = settled.results[0]
    parts: list[int | None] = [pk for pk, part in first.items.items() if part.rubric_max > 0]
    if first.overall.rubric_max > 0:
        parts.append(None)
    return parts


def decide(
    attempt: Attempt,
    adjudicator,
    decisions: Mapping[int | None, PartDecision],
    *,
    revisions: tuple[int, int],
    now: datetime | None = None,
) -> Adjudication:
    """Record `adjudicator`'s decision on every part and store the score
    from it. `revisions` are those of the two reviews (first, second) the
    adjudicator's page showed: if either changed since, nothing is written."""
    now = now or timezone.now()
    settled = check(attempt, adjudicator)
    parts = parts_of(settled)
    titles = dict(Item.objects.filter(pk__in=[p for p in parts if p is not None]).values_list("pk", "title"))
    rows = _check_decisions(settled, parts, decisions, titles)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        settled = check(attempt, adjudicator)  # again, under the lock
        first, second = settled.reviews
        if (first.revision, second.revision) != tuple(revisions):
            raise Refused(
                "A review changed since this page was loaded; reload to see both marks as they are now. "
                "Nothing was saved.",
            )
        adjudication, created = Adjudication.objects.get_or_create(
            attempt=attempt,
            defaults={
                "adjudicator": adjudicator,
                "first_review": first,
                "second_review": second,
                "first_revision": first.revision,
                "second_revision": second.revision,
                "decided_at": now,
                "created_at": now,
            },
        )
        if not created:
            adjudication.adjudicator = adjudicator
            adjudication.status = Adjudication.Status.FINAL
            adjudication.first_review, adjudication.second_review = first, second
            adjudication.first_revision, adjudication.second_revision = first.revision, second.revision
            adjudication.revision += 1
            adjudication.decided_at = now
            adjudication.save()
            adjudication.decisions.all().delete()
        AdjudicationDecision.objects.bulk_create(
            AdjudicationDecision(adjudication=adjudication, item_id=part, **fields) for part, fields in rows.items()
        )
        score = scoring.recompute(attempt, now)
        slugs = dict(Item.objects.filter(pk__in=[p for p in parts if p is not None]).values_list("pk", "slug"))
        audit.record(
            adjudicator,
            audit.Action.ADJUDICATION,
            adjudication,
            attempt=attempt,
            at=now,
            first_reviewer=first.reviewer.get_username(),
            second_reviewer=second.reviewer.get_username(),
            first_total=settled.results[0].total,
            second_total=settled.results[1].total,
            total=score.total,
            max=score.max_points,
            decisions={
                slugs.get(part, "overall"): {
                    "choice": fields["choice"], "points": f"{fields['rubric']:.2f}", "reason": fields["reason"],
                }
                for part, fields in rows.items()
            },
        )  # fmt: skip
    return adjudication


def _check_decisions(
    settled: scoring.Settled,
    parts: list[int | None],
    decisions: Mapping[int | None, PartDecision],
    titles: Mapping[int, str],
) -> dict[int | None, dict]:
    """Each part's row, if every part has a valid decision and no other part is sent."""
    unknown = set(decisions) - set(parts)
    if unknown:
        raise Refused("A decision was sent for a part this attempt does not have; reload the page.", status=400)
    first, second = settled.results
    rows = {}
    for part in parts:
        decision = decisions.get(part)
        a = first.items[part] if part is not None else first.overall
        b = second.items[part] if part is not None else second.overall
        name = "Overall" if part is None else titles.get(part, f"Item {part}")
        if decision is None or decision.choice not in Choice.values:
            raise Refused(f"{name}: choose the first review's mark, the second's, or points of your own.", status=400)
        reason = decision.reason.strip() if isinstance(decision.reason, str) else ""
        if len(reason) > Mark.MAX_REASON:
            raise Refused(f"A reason is at most {Mark.MAX_REASON} characters long.", status=400)
        if "\x00" in reason:
            raise Refused("This text contains a NUL character, which cannot be stored.", status=400)
        if decision.choice == Choice.FIRST:
            rubric = a.rubric
        elif decision.choice == Choice.SECOND:
            rubric = b.rubric
        else:
            rubric = _check_points(name, decision.points, a.rubric_max)
            if not reason:
                raise Refused(f"{name}: say why you set the points yourself: a reason is needed.", status=400)
        rows[part] = {"choice": decision.choice, "rubric": rubric, "reason": reason}
    return rows


def _check_points(name: str, points: Decimal | None, rubric_max: int) -> Decimal:
    if not isinstance(points, Decimal) or not points.is_finite():
        raise Refused(f"{name}: the points must be a number.", status=400)
    if not 0 <= points <= rubric_max:
        raise Refused(f"{name}: the points must be between 0 and {rubric_max}.", status=400)
    if points != points.quantize(scoring.CENT):
        raise Refused(f"{name}: points are counted in hundredths at most.", status=400)
    return points
