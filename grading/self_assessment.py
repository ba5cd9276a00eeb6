"""Self-assessment: the candidate ticks the rubric criteria they believe they
met, and once a review is final sees how their ticks compare (calibration).

The rules:

- Only the attempt's owner self-assesses, and only items with a rubric
  (a reading has none; nor has a drill without criteria).
- An item may be self-assessed once the candidate has seen its model answer
  in this attempt: revealed while answering, or opened on the results page
  once the attempt ended. Not merely because the attempt ended: the rubric
  shows with the form, and a rubric is much of an answer (a prompt's strong
  signals are its outline), so it shows only where the answer was seen and
  recorded as such (`exams.taking.seen_before` marks it in later timed
  attempts). The exam-wide signals (item None), generic, once it has ended.
- Never where the candidate may not see the rubric: an exam whose policy
  never shows model answers, or a practice attempt while a timed attempt of
  the same exam is in progress (`exams.taking.answers_withheld`).
- Editable until a review of the attempt is first finalized, then locked for
  good (reopening the review does not unlock it): ticks made after seeing the
  reviewer's would make the calibration meaningless.
- The self-score is the rubric score the ticks give (`scoring.rubric_score`:
  ticked points, clamped to 0..the part's rubric maximum, no adjustment).
  It is stored on the self-assessment only: never in `AttemptScore`,
  `ItemScore`, a leaderboard or an export.

Every refusal raises `exams.taking.Refused` before anything is written.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exams.models import AnswerOpening, Attempt, ExamVersion, Item, Reveal, RubricCriterion
from exams.taking import WITHHELD, Refused, answers_withheld
from grading import scoring
from grading.models import Review, ReviewEvent, SelfAssessment

LOCKED = "A review of this attempt is final, so your self-assessment is locked: it now shows beside the reviewer's."
NOT_YET = "You can rate yourself on this item once you have revealed its model answer."
NOT_OPENED = "Open this item's model answer first: you rate yourself against its rubric, which shows with the answer."
OVERALL_NOT_YET = "You can rate yourself on the exam-wide signals once the attempt has ended."
NEVER_SHOWN = "This exam does not show its model answers or rubrics, so there is nothing to rate yourself against."


def is_locked(attempt: Attempt) -> bool:
    """A review of the attempt is final, or was once (then reopened)."""
    finalized = Q(status=Review.Status.FINAL) | Q(events__action=ReviewEvent.Action.FINALIZED)
    return Review.objects.filter(finalized, attempt_id=attempt.pk).exists()


def part_criteria(attempt: Attempt, item: Item | None) -> list[RubricCriterion]:
    """The rubric of one part of the attempt's version, in rubric order."""
    return list(
        RubricCriterion.objects.filter(version_id=attempt.version_id, item=item)
        .only("pk", "item_id", "signal", "text", "points")
        .order_by("position", "pk")
    )


def rubric_max(item: Item | None, criteria: Iterable[RubricCriterion]) -> int:
    """What the part's rubric can score: a question's or prompt's points, a
    drill's written points, the exam-wide signals' positive points."""
    if item is None:
        return sum(c.points for c in criteria if c.points > 0)
    return item.written_points if item.kind == Item.Kind.DRILL else item.points


def self_score(criteria: Iterable[RubricCriterion], ticked: Iterable[int], maximum: int) -> Decimal:
    """The score the ticks would give, by the reviewers' arithmetic without an adjustment."""
    facts = [scoring.CriterionFacts(c.pk, c.item_id, c.signal, c.text, c.points) for c in criteria]
    return scoring.rubric_score(facts, scoring.MarkFacts(frozenset(ticked)), maximum)


def check_may_assess(attempt: Attempt, item: Item | None, user, now: datetime | None = None) -> None:
    """Refuse unless `user` may self-assess this part of `attempt` now. The
    attempt should be fresh (read, or locked, in this request)."""
    if user.pk != attempt.user_id:
        raise Refused("Only the candidate rates their own answers.", status=403)
    if item is not None:
        if item.version_id != attempt.version_id:
            raise Refused("This item is not part of the exam this attempt took.", status=400)
        if item.kind == Item.Kind.TEXT:
            raise Refused("Reading items have nothing to rate.", status=400)
    if attempt.version.reveal_policy == ExamVersion.RevealPolicy.NEVER:
        raise Refused(NEVER_SHOWN, status=403)
    if attempt.is_open:
        if item is None:
            raise Refused(OVERALL_NOT_YET, status=403)
        if not Reveal.objects.filter(attempt_id=attempt.pk, item_id=item.pk).exists():
            raise Refused(NOT_YET, status=403)
    else:
        if is_locked(attempt):  # an open attempt has no review
            raise Refused(LOCKED, status=409)
        if item is not None and not answer_seen(attempt, item):
            raise Refused(NOT_OPENED, status=403)
    if answers_withheld(attempt, now):
        raise Refused(WITHHELD, status=403)


def answer_seen(attempt: Attempt, item: Item) -> bool:
    """The candidate saw `item`'s model answer in this attempt (revealed, or opened after it ended)."""
    revealed = Reveal.objects.filter(attempt_id=attempt.pk, item_id=item.pk)
    opened = AnswerOpening.objects.filter(attempt_id=attempt.pk, item_id=item.pk)
    return revealed.exists() or opened.exists()


def _check_criteria(criteria: list[RubricCriterion], item: Item | None, criteria_ids: Iterable[int]) -> list[int]:
    """The ids, once each, if every one is a criterion of this part's rubric."""
    ids = list(dict.fromkeys(criteria_ids))
    where = "this item's rubric" if item is not None else "the exam-wide rubric"
    allowed = {c.pk for c in criteria}
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise Refused(f"Criterion {value!r} is not part of {where}.", status=400)
    return ids


def assess(
    attempt: Attempt, user, item: Item | None, criteria_ids: Iterable[int], now: datetime | None = None
) -> SelfAssessment:
    """Store exactly these ticks as `user`'s self-assessment of one part
    (an item, or the exam-wide signals when `item` is None), with the score
    they give. Under a row lock on the attempt, so a review finalized at the
    same moment either comes first (and this is refused) or after."""
    now = now or timezone.now()
    attempt.finalize_if_expired(now)
    criteria = part_criteria(attempt, item)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().select_related("version").get(pk=attempt.pk)
        check_may_assess(attempt, item, user, now)
        if not criteria:
            raise Refused("This part has no rubric to rate yourself against.", status=400)
        ids = _check_criteria(criteria, item, criteria_ids)
        maximum = rubric_max(item, criteria)
        assessment, _ = SelfAssessment.objects.get_or_create(
            attempt=attempt, item=item, defaults={"created_at": now, "updated_at": now}
        )
        assessment.score = self_score(criteria, ids, maximum)
        assessment.max_points = maximum
        assessment.updated_at = now
        assessment.save(update_fields=["score", "max_points", "updated_at"])
        assessment.criteria.set(ids)
    return assessment


def may_assess(attempt: Attempt, item: Item | None, user, now: datetime | None = None) -> bool:
    """Whether a form should be offered (the same rules as `assess`)."""
    try:
        check_may_assess(attempt, item, user, now)
    except Refused:
        return False
    return True


@dataclass
class Ticks:
    """One part's self-assessment as pages show it."""

    assessment: SelfAssessment
    ticked: frozenset[int]


def of_attempt(attempt: Attempt) -> dict[int | None, Ticks]:
    """The attempt's self-assessments by item id (None: Overall), in two queries."""
    rows = list(SelfAssessment.objects.filter(attempt_id=attempt.pk))
    through = SelfAssessment.criteria.through.objects.filter(selfassessment__attempt_id=attempt.pk)
    ticks: dict[int, set[int]] = {}
    for assessment_id, criterion_id in through.values_list("selfassessment_id", "rubriccriterion_id"):
        ticks.setdefault(assessment_id, set()).add(criterion_id)
    return {row.item_id: Ticks(row, frozenset(ticks.get(row.pk, ()))) for row in rows}


# Calibration: the candidate's ticks against the reviewers', once final.


@dataclass
class CriterionGap:
    """A criterion where the candidate's tick and the reviewers' differ."""

    criterion: RubricCriterion
    yours: bool
    reviewers: Decimal  # the share of counted reviews that ticked it: 0, 0.5 or 1

    @property
    def split(self) -> bool:
        return 0 < self.reviewers < 1

    @property
    def words(self) -> str:
        if self.split:
            return f"{'You ticked it' if self.yours else 'You did not'}; the reviewers were split."
        return "You ticked it; the reviewer did not." if self.yours else "The reviewer ticked it; you did not."


@dataclass
class PartCalibration:
    item_id: int | None
    yours: Decimal
    reviewers: Decimal | None  # the part's stored rubric score (with any adjustment)
    max_points: int
    criteria: int  # how many criteria the part has
    gaps: list[CriterionGap] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        return scoring.cents(self.yours - (self.reviewers or scoring.ZERO))

    @property
    def distance(self) -> Decimal:
        return abs(self.difference)

    @property
    def agreed(self) -> int:
        return self.criteria - len(self.gaps)


@dataclass
class Calibration:
    parts: dict[int | None, PartCalibration]

    @property
    def yours(self) -> Decimal:
        return scoring.cents(sum((p.yours for p in self.parts.values()), scoring.ZERO))

    @property
    def reviewers(self) -> Decimal:
        return scoring.cents(sum((p.reviewers or scoring.ZERO for p in self.parts.values()), scoring.ZERO))

    @property
    def max_points(self) -> int:
        return sum(p.max_points for p in self.parts.values())

    @property
    def difference(self) -> Decimal:
        return scoring.cents(self.yours - self.reviewers)

    @property
    def distance(self) -> Decimal:
        return abs(self.difference)

    @property
    def gaps(self) -> int:
        return sum(len(p.gaps) for p in self.parts.values())

    @property
    def criteria(self) -> int:
        return sum(p.criteria for p in self.parts.values())


def calibrate(
    assessed: Mapping[int | None, Ticks],
    criteria: Iterable[RubricCriterion],
    reviewer_ticks: Mapping[int, Decimal],
    reviewer_scores: Mapping[int | None, Decimal | None],
) -> Calibration:
    """Compare each self-assessed part with the reviews: per criterion where
    the ticks differ, the part's self-score against its reviewed rubric score.
    Pure: `reviewer_ticks` is `scoring.reviewer_ticks(attempt)`,
    `reviewer_scores` the stored rubric score of each part."""
    by_part: dict[int | None, list[RubricCriterion]] = {}
    for criterion in criteria:
        by_part.setdefault(criterion.item_id, []).append(criterion)
    parts = {}
    for part, ticks in assessed.items():
        lines = by_part.get(part, [])
        gaps = []
        for criterion in lines:
            yours = criterion.pk in ticks.ticked
            share = Decimal(reviewer_ticks.get(criterion.pk, 0))
            if share != (1 if yours else 0):
                gaps.append(CriterionGap(criterion, yours, share))
        parts[part] = PartCalibration(
            part, ticks.assessment.score, reviewer_scores.get(part), ticks.assessment.max_points, len(lines), gaps
        )
    return Calibration(parts)
