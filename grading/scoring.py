"""Score arithmetic: from the latest runs and a review to an attempt's score.

Three layers, so the rules can be read and tested without a database:

- `compute` is pure: plain facts in (items, criteria, latest runs, marks),
  an `AttemptResult` out.
- `result_for` loads those facts for one attempt in a constant number of
  queries (the review page uses it for a draft's running total).
- `settle` decides which reviews count (every required one final; with
  double marking the mean of two, or an adjudication's decisions, pure
  `disagreement` and `combine`), and `recompute` stores the result as
  `AttemptScore` and `ItemScore` rows. It is the one place stored scores are
  written: when an attempt ends, when a run of a finalized attempt is graded
  (a final run or a regrade), when a review is finalized or reopened.

The rules:

- A reading (text item) has no score.
- A question or prompt is all rubric: rubric_max = item.points.
- A drill's tests part is its latest run's score (0 for an error or no run;
  None, counted 0, while the latest run is queued or running); its rubric
  part is the written part, rubric_max = item.written_points (0: none).
- The Overall part holds the exam-wide criteria; its max is the sum of their
  positive points.
- A part's rubric score is the sum of its ticked criteria plus the
  reviewer's adjustment, clamped to [0, rubric_max]; without a review it is
  None (awaiting review) and counts 0. A part whose rubric_max is 0 has
  nothing to review and scores 0.
- Every amount is a Decimal quantized to 0.01, half up.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from exams.models import Attempt, Item, Reveal, RubricCriterion, Section
from exams.taking import seen_before
from grading import leaderboard
from grading.models import Adjudication, AdjudicationDecision, AttemptScore, ItemScore, Mark, Review, Submission

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal | int | float) -> Decimal:
    """`value` as a Decimal of hundredths, rounded half up. A float goes
    through its shortest repr, so a run's 2.675 stays 2.675 and rounds to 2.68."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def clamp(value: Decimal, low: int, high: int) -> Decimal:
    return max(Decimal(low), min(Decimal(high), value))


# Plain facts: what `compute` needs, with no database behind them.


@dataclass(frozen=True)
class ItemFacts:
    item_id: int
    section_id: int
    kind: str
    points: int
    written_points: int = 0


@dataclass(frozen=True)
class SectionFacts:
    section_id: int
    slug: str
    title: str


@dataclass(frozen=True)
class CriterionFacts:
    criterion_id: int
    item_id: int | None  # None: exam-wide
    signal: str
    text: str
    points: int


@dataclass(frozen=True)
class RunFacts:
    """The latest run of a drill."""

    status: str  # a Submission.Status
    score: float


@dataclass(frozen=True)
class MarkFacts:
    ticked: frozenset[int] = frozenset()
    adjustment: Decimal = ZERO


NO_MARK = MarkFacts()


# Results.


@dataclass
class PartScore:
    """The score of one item, or of the Overall part (item_id None)."""

    item_id: int | None
    section_id: int | None
    tests: Decimal | None  # None: no tests part, or the latest run is pending
    tests_max: int
    rubric: Decimal | None  # None: awaiting review
    rubric_max: int
    score: Decimal
    max_points: int
    ticked: frozenset[int] = frozenset()
    adjustment: Decimal = ZERO
    pending_run: bool = False

    @property
    def awaiting_review(self) -> bool:
        return self.rubric is None


ItemResult = PartScore  # an item's score is a PartScore; so is Overall


@dataclass
class SectionScore:
    slug: str
    title: str
    score: Decimal
    max_points: int

    def as_dict(self) -> dict:
        return {"slug": self.slug, "title": self.title, "score": str(self.score), "max": self.max_points}


@dataclass
class AttemptResult:
    items: dict[int, PartScore]  # by item id, in exam order
    overall: PartScore
    total: Decimal
    max_points: int
    percent: Decimal
    sections: list[SectionScore] = field(default_factory=list)
    strong_points: Decimal = ZERO
    weak_points: Decimal = ZERO
    pending_runs: int = 0
    signals: list[dict] = field(default_factory=list)
    # The share of counted reviews that ticked each criterion (1, or 0.5 when
    # two reviewers disagree); ticked criteria only. Empty without a review.
    shares: dict[int, Decimal] = field(default_factory=dict)

    @property
    def tests(self) -> Decimal:
        return sum((part.tests or ZERO for part in self.items.values()), ZERO)

    @property
    def tests_max(self) -> int:
        return sum(part.tests_max for part in self.items.values())

    @property
    def rubric(self) -> Decimal:
        """The items' rubric parts; Overall is apart."""
        return sum((part.rubric or ZERO for part in self.items.values()), ZERO)

    @property
    def rubric_max(self) -> int:
        return sum(part.rubric_max for part in self.items.values())

    @property
    def awaiting_review(self) -> bool:
        return self.overall.awaiting_review or any(part.awaiting_review for part in self.items.values())


# The arithmetic.


def tests_score(run: RunFacts | None) -> Decimal | None:
    """A drill's tests part: its latest run's score; 0 if it could not be
    graded or never ran; None while it is queued or running."""
    if run is None or run.status == Submission.Status.ERROR:
        return ZERO
    if run.status == Submission.Status.GRADED:
        return cents(run.score)
    return None


def rubric_score(criteria: Sequence[CriterionFacts], mark: MarkFacts | None, rubric_max: int) -> Decimal | None:
    """clamp(ticked points + adjustment, 0, rubric_max); None with no review
    to score from, unless there is nothing to review."""
    if mark is None:
        return None if rubric_max > 0 else ZERO
    raw = sum(c.points for c in criteria if c.criterion_id in mark.ticked) + mark.adjustment
    return cents(clamp(cents(raw), 0, rubric_max))


def _part(
    item_id: int | None,
    section_id: int | None,
    tests: Decimal | None,
    tests_max: int,
    criteria: Sequence[CriterionFacts],
    mark: MarkFacts | None,
    rubric_max: int,
    pending_run: bool = False,
) -> PartScore:
    rubric = rubric_score(criteria, mark, rubric_max)
    return PartScore(
        item_id=item_id,
        section_id=section_id,
        tests=tests,
        tests_max=tests_max,
        rubric=rubric,
        rubric_max=rubric_max,
        score=cents((tests or ZERO) + (rubric or ZERO)),
        max_points=tests_max + rubric_max,
        ticked=frozenset(c.criterion_id for c in criteria if mark and c.criterion_id in mark.ticked),
        adjustment=mark.adjustment if mark else ZERO,
        pending_run=pending_run,
    )


def score_item(
    item: ItemFacts, criteria: Sequence[CriterionFacts], run: RunFacts | None, mark: MarkFacts | None
) -> PartScore:
    if item.kind == Item.Kind.DRILL:
        tests = tests_score(run)
        return _part(
            item.item_id, item.section_id, tests, item.points, criteria, mark, item.written_points, tests is None
        )
    return _part(item.item_id, item.section_id, None, 0, criteria, mark, item.points)


def compute(
    items: Sequence[ItemFacts],
    criteria: Sequence[CriterionFacts],
    runs: Mapping[int, RunFacts],
    marks: Mapping[int | None, MarkFacts] | None,
    sections: Sequence[SectionFacts] = (),
) -> AttemptResult:
    """Score an attempt from plain facts.

    `items` in exam order (readings are skipped); `runs` is the latest run
    by drill id; `marks` the review's marks by item id (None: Overall), or
    None when there is no review to score from. With a review, a part it did
    not mark scores as nothing ticked."""
    by_part: dict[int | None, list[CriterionFacts]] = {}
    for criterion in criteria:
        by_part.setdefault(criterion.item_id, []).append(criterion)

    def mark_of(part_id: int | None) -> MarkFacts | None:
        return None if marks is None else marks.get(part_id, NO_MARK)

    scored = {}
    for item in items:
        if item.kind != Item.Kind.TEXT:
            scored[item.item_id] = score_item(
                item, by_part.get(item.item_id, []), runs.get(item.item_id), mark_of(item.item_id)
            )
    exam_wide = by_part.get(None, [])
    overall_max = sum(c.points for c in exam_wide if c.points > 0)
    overall = _part(None, None, None, 0, exam_wide, mark_of(None), overall_max)

    total = cents(sum((part.score for part in scored.values()), ZERO) + overall.score)
    max_points = sum(part.max_points for part in scored.values()) + overall.max_points
    ticked_ids = _ticked(scored, overall)
    ticked = [c.points for c in criteria if c.criterion_id in ticked_ids]
    return AttemptResult(
        items=scored,
        overall=overall,
        total=total,
        max_points=max_points,
        percent=cents(total * 100 / max_points) if max_points else ZERO,
        sections=_sections(sections, scored),
        strong_points=cents(sum(p for p in ticked if p > 0)),
        weak_points=cents(sum(p for p in ticked if p < 0)),
        pending_runs=sum(1 for part in scored.values() if part.pending_run),
        signals=[
            {"criterion": c.criterion_id, "signal": c.signal, "text": c.text, "points": c.points,
             "hit": c.criterion_id in overall.ticked}
            for c in exam_wide
        ],
        shares={} if marks is None else dict.fromkeys(ticked_ids, Decimal(1)),
    )  # fmt: skip


# Double marking: two final reviews of one attempt, combined.


@dataclass(frozen=True)
class Decision:
    """An adjudicator's decision on one part: the rubric points it scores,
    and which review's mark it took (0: the first, 1: the second; None:
    points the adjudicator set)."""

    rubric: Decimal
    source: int | None = None


@dataclass(frozen=True)
class Disagreement:
    """How far two reviews of one attempt are apart, against the version's threshold."""

    total_difference: Decimal
    total_limit: Decimal  # threshold percent of the exam's maximum
    parts: tuple[int | None, ...] = ()  # parts whose rubric scores differ by more than half their rubric points

    @property
    def needs_adjudication(self) -> bool:
        return self.total_difference > self.total_limit or bool(self.parts)


def disagreement(first: AttemptResult, second: AttemptResult, threshold_percent: int) -> Disagreement:
    """Adjudication is needed when the two totals differ by more than
    `threshold_percent` of the exam's maximum, or when any part's rubric
    scores differ by more than half the points its rubric is marked on
    (a question's or prompt's points, a drill's written points, Overall's
    maximum). A drill's tests part is the same for both and never counts."""
    limit = Decimal(first.max_points) * threshold_percent / 100
    pairs = [(first.items[pk], second.items[pk]) for pk in first.items] + [(first.overall, second.overall)]
    parts = tuple(
        a.item_id
        for a, b in pairs
        if a.rubric_max > 0 and abs((a.rubric or ZERO) - (b.rubric or ZERO)) * 2 > a.rubric_max
    )
    return Disagreement(abs(first.total - second.total), limit, parts)


def combine(
    results: Sequence[AttemptResult],
    criteria: Sequence[CriterionFacts],
    sections: Sequence[SectionFacts] = (),
    decisions: Mapping[int | None, Decision] | None = None,
) -> AttemptResult:
    """One score from several final reviews' results (each `compute`d from
    the same items and runs): per part, the adjudicator's decision where
    there is one, else the mean of the reviews' rubric scores to the cent
    (half up); the tests part is common. The total is the sum of the parts.
    Shares of ticks follow the same rule: a decision that took one review's
    mark counts that review's ticks alone; otherwise each review counts
    equally."""
    decisions = decisions or {}
    weight = Decimal(1) / len(results)
    shares: dict[int, Decimal] = {}

    def part(parts: list[PartScore]) -> PartScore:
        decision = decisions.get(parts[0].item_id)
        weights = [weight] * len(parts)
        if decision is not None and decision.source is not None:
            weights = [Decimal(i == decision.source) for i in range(len(parts))]
        if decision is not None:
            rubric = cents(clamp(decision.rubric, 0, parts[0].rubric_max))
        else:
            rubric = cents(sum((p.rubric or ZERO for p in parts), ZERO) / len(parts))
        share: dict[int, Decimal] = {}
        for p, w in zip(parts, weights, strict=True):
            for criterion_id in p.ticked:
                share[criterion_id] = share.get(criterion_id, ZERO) + w
        share = {c: v for c, v in share.items() if v > 0}
        shares.update(share)
        first = parts[0]
        return PartScore(
            item_id=first.item_id,
            section_id=first.section_id,
            tests=first.tests,
            tests_max=first.tests_max,
            rubric=rubric,
            rubric_max=first.rubric_max,
            score=cents((first.tests or ZERO) + rubric),
            max_points=first.max_points,
            ticked=frozenset(c for c, v in share.items() if v * 2 >= 1),
            adjustment=cents(sum((p.adjustment * w for p, w in zip(parts, weights, strict=True)), ZERO)),
            pending_run=first.pending_run,
        )

    items = {pk: part([r.items[pk] for r in results]) for pk in results[0].items}
    overall = part([r.overall for r in results])
    total = cents(sum((p.score for p in items.values()), ZERO) + overall.score)
    max_points = results[0].max_points
    points = {c.criterion_id: c.points for c in criteria}
    weighted = [points[c] * v for c, v in shares.items() if c in points]
    return AttemptResult(
        items=items,
        overall=overall,
        total=total,
        max_points=max_points,
        percent=cents(total * 100 / max_points) if max_points else ZERO,
        sections=_sections(sections, items),
        strong_points=cents(sum((p for p in weighted if p > 0), ZERO)),
        weak_points=cents(sum((p for p in weighted if p < 0), ZERO)),
        pending_runs=results[0].pending_runs,
        signals=[{**signal, "hit": signal["criterion"] in overall.ticked} for signal in results[0].signals],
        shares=shares,
    )


def _ticked(items: Mapping[int, PartScore], overall: PartScore) -> set[int]:
    ids = set(overall.ticked)
    for part in items.values():
        ids |= part.ticked
    return ids


def _sections(sections: Sequence[SectionFacts], items: Mapping[int, PartScore]) -> list[SectionScore]:
    """Each section holding a scored item, in section order (a section of
    readings alone has nothing to show)."""
    result = []
    for section in sections:
        parts = [part for part in items.values() if part.section_id == section.section_id]
        if parts:
            score = cents(sum((part.score for part in parts), ZERO))
            result.append(SectionScore(section.slug, section.title, score, sum(part.max_points for part in parts)))
    return result


# Loading.


def latest_runs(attempt: Attempt) -> dict[int, RunFacts]:
    """The latest scored run of each drill (a run on the candidate's own input
    never counts), in one query that reads three columns of those rows only
    (an attempt may hold many runs, each with its code)."""
    latest = (
        Submission.objects.filter(
            attempt_id=OuterRef("attempt_id"), item_id=OuterRef("item_id"), source__in=Submission.SCORED
        )
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    rows = Submission.objects.filter(attempt_id=attempt.pk, pk=Subquery(latest)).values_list(
        "item_id", "status", "score"
    )
    return {item_id: RunFacts(status, score) for item_id, status, score in rows}


def marks_of(review: Review) -> dict[int | None, MarkFacts]:
    """The review's marks by item id (None: Overall), in two queries."""
    rows = list(Mark.objects.filter(review=review).values_list("pk", "item_id", "adjustment"))
    ticks: dict[int, set[int]] = {}
    through = Mark.criteria.through.objects.filter(mark__review=review)
    for mark_id, criterion_id in through.values_list("mark_id", "rubriccriterion_id"):
        ticks.setdefault(mark_id, set()).add(criterion_id)
    return {item_id: MarkFacts(frozenset(ticks.get(pk, ())), adjustment) for pk, item_id, adjustment in rows}


@dataclass(frozen=True)
class Facts:
    """What `compute` needs of an attempt besides the marks."""

    items: list[ItemFacts]
    criteria: list[CriterionFacts]
    runs: dict[int, RunFacts]
    sections: list[SectionFacts]


def facts_of(attempt: Attempt) -> Facts:
    """The attempt's items, criteria, latest runs and sections, in four queries."""
    version_id = attempt.version_id
    items = [
        ItemFacts(*row)
        for row in Item.objects.filter(version_id=version_id)
        .exclude(kind=Item.Kind.TEXT)
        .order_by("position")
        .values_list("pk", "section_id", "kind", "points", "written_points")
    ]
    sections = [
        SectionFacts(*row)
        for row in Section.objects.filter(version_id=version_id).order_by("position").values_list("pk", "slug", "title")
    ]
    criteria = [
        CriterionFacts(*row)
        for row in RubricCriterion.objects.filter(version_id=version_id)
        .order_by("position", "pk")
        .values_list("pk", "item_id", "signal", "text", "points")
    ]
    return Facts(items, criteria, latest_runs(attempt), sections)


def result_for(attempt: Attempt, review: Review | None, facts: Facts | None = None) -> AttemptResult:
    """Score `attempt` as `review` alone marked it (None: as if unreviewed).
    Costs four queries, six with a review, however many items the exam has."""
    facts = facts or facts_of(attempt)
    marks = marks_of(review) if review is not None else None
    return compute(facts.items, facts.criteria, facts.runs, marks, facts.sections)


@dataclass
class Settled:
    """Where an attempt's rubric score stands (`settle`)."""

    required: int  # reviews the version takes
    reviews: list[Review]  # the counted final reviews, oldest first (at most `required`)
    results: list[AttemptResult]  # each counted review's own result
    result: AttemptResult  # what the attempt scores today
    disagreement: Disagreement | None = None  # with two final reviews
    adjudication: Adjudication | None = None  # a decided adjudication that counts

    @property
    def reviewed(self) -> bool:
        """Every required review is final."""
        return len(self.reviews) >= self.required

    @property
    def needs_adjudication(self) -> bool:
        return self.disagreement is not None and self.disagreement.needs_adjudication and self.adjudication is None

    @property
    def complete(self) -> bool:
        """The rubric score is final: every required review is, and an
        adjudication where one is needed."""
        return self.reviewed and not self.needs_adjudication

    @property
    def review(self) -> Review | None:
        """The review stored as the score's (the latest finalized counted one), once complete."""
        if not self.complete:
            return None
        return max(self.reviews, key=lambda r: (r.finalized_at, r.pk))


def counted_reviews(attempt: Attempt, required: int) -> list[Review]:
    """The final reviews that count, oldest first: with one review required,
    the latest finalized; with two, the first two started."""
    finals = Review.objects.filter(attempt_id=attempt.pk, status=Review.Status.FINAL).select_related("reviewer")
    if required <= 1:
        latest = finals.order_by("-finalized_at", "-pk").first()
        return [latest] if latest is not None else []
    return list(finals.order_by("created_at", "pk")[:required])


def decisions_of(adjudication: Adjudication) -> dict[int | None, Decision]:
    sources = {AdjudicationDecision.Choice.FIRST: 0, AdjudicationDecision.Choice.SECOND: 1}
    rows = AdjudicationDecision.objects.filter(adjudication=adjudication).values_list("item_id", "choice", "rubric")
    return {item_id: Decision(rubric, sources.get(choice)) for item_id, choice, rubric in rows}


def settle(attempt: Attempt, facts: Facts | None = None) -> Settled:
    """Score `attempt` from its reviews by the version's rule: until every
    required review is final, as if unreviewed (so nothing of a first
    review shows in stored scores before the second is final); with one
    review, from it; with two, the mean of the two per part, or the
    adjudicator's decisions once a needed adjudication is decided. While
    an adjudication is needed the mean is stored, provisional."""
    version = attempt.version
    required = version.reviews_required
    facts = facts or facts_of(attempt)
    reviews = counted_reviews(attempt, required)
    if len(reviews) < required or not reviews:
        return Settled(required, reviews, [], result_for(attempt, None, facts))
    results = [result_for(attempt, review, facts) for review in reviews]
    if len(results) == 1:
        return Settled(required, reviews, results, results[0])
    gap = disagreement(results[0], results[1], version.adjudication_threshold)
    adjudication = None
    if gap.needs_adjudication:
        adjudication = Adjudication.objects.filter(
            attempt_id=attempt.pk,
            status=Adjudication.Status.FINAL,
            first_review=reviews[0],
            second_review=reviews[1],
            first_revision=reviews[0].revision,
            second_revision=reviews[1].revision,
        ).first()
    decisions = decisions_of(adjudication) if adjudication is not None else None
    result = combine(results, facts.criteria, facts.sections, decisions)
    return Settled(required, reviews, results, result, gap, adjudication)


def reviewer_ticks(attempt: Attempt) -> dict[int, Decimal]:
    """For each rubric criterion of the attempt's version that a counted
    final review ticked: the share of those reviews that ticked it (1, or
    0.5 when two reviewers disagree; for an adjudicated part, the ticks of
    the review whose mark the adjudicator took, or both reviews' shares
    when they set points themselves). Empty until the rubric score is
    final (every required review final, and adjudicated where needed).
    Candidates' self-assessments are compared with this, never mixed in."""
    settled = settle(attempt)
    if not settled.complete:
        return {}
    return dict(settled.result.shares)


# Storing.


def final_review(attempt: Attempt) -> Review | None:
    """The review that counts: the final one (if several, the latest finalized)."""
    finals = Review.objects.filter(attempt_id=attempt.pk, status=Review.Status.FINAL)
    return finals.order_by("-finalized_at", "-pk").first()


def recompute(attempt_or_pk: Attempt | int, now: datetime | None = None) -> AttemptScore:
    """Score the attempt from its final review (or none) and store the
    result. Under a row lock on the attempt, so two recomputes (a run graded
    while a review is finalized) store one after the other, the later one
    reading what the earlier one committed."""
    pk = attempt_or_pk.pk if isinstance(attempt_or_pk, Attempt) else attempt_or_pk
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=pk)
        return _store(attempt, now or timezone.now())


def recompute_if_finalized(attempt_pk: int, now: datetime | None = None) -> AttemptScore | None:
    """Recompute unless the attempt is still open (its score is not kept
    until it ends). The status is read under the lock: an attempt being
    finalized at this moment is seen finalized once its transaction commits,
    so a run graded during the finalization is never left out."""
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt_pk)
        if attempt.is_open:
            return None
        return _store(attempt, now or timezone.now())


def seen_item_ids(attempt: Attempt) -> set[int]:
    """Items of the attempt whose model answer the candidate saw before
    answering them: revealed in this attempt before any answer was written,
    or seen in an earlier attempt of the same content (exams.taking.seen_before,
    practice included). Leaderboards count these items as zero."""
    revealed = set(Reveal.objects.filter(attempt=attempt, had_answer=False).values_list("item_id", flat=True))
    items = Item.objects.filter(version_id=attempt.version_id).exclude(kind=Item.Kind.TEXT)
    hashes = dict(items.values_list("pk", "content_hash"))
    earlier = seen_before(attempt.user_id, hashes.values(), before=attempt)
    return revealed | {pk for pk, content in hashes.items() if content in earlier}


def _store(attempt: Attempt, now: datetime) -> AttemptScore:
    settled = settle(attempt)
    result, review = settled.result, settled.review
    adjudication = "decided" if settled.adjudication is not None else ""
    if settled.needs_adjudication:
        adjudication = "needed"
    seen = seen_item_ids(attempt) & set(result.items)
    ranked = result.total - sum((result.items[pk].score for pk in seen), ZERO)
    score, _ = AttemptScore.objects.update_or_create(
        attempt=attempt,
        defaults={
            "total": result.total,
            "max_points": result.max_points,
            "percent": result.percent,
            "is_final": settled.complete and result.pending_runs == 0,
            "review": review,
            "tests": result.tests,
            "tests_max": result.tests_max,
            "rubric": result.rubric,
            "rubric_max": result.rubric_max,
            "overall": result.overall.score,
            "overall_max": result.overall.max_points,
            "strong_points": result.strong_points,
            "weak_points": result.weak_points,
            "pending_runs": result.pending_runs,
            "sections": [section.as_dict() for section in result.sections],
            "signals": result.signals,
            "ranked_total": ranked,
            "seen_items": len(seen),
            "adjudication": adjudication,
            "computed_at": now,
        },
    )
    user_id = attempt.user_id
    if attempt.mode == Attempt.Mode.TIMED:
        leaderboard.refresh_best(user_id, attempt.exam_id)
    transaction.on_commit(lambda: leaderboard.invalidate_user(user_id))
    decided = settled.adjudication
    rows = [_item_score(attempt, part, review, decided) for part in result.items.values()]
    # One statement for every item, however many: insert, or update the row
    # the unique (attempt, item) already holds.
    ItemScore.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["attempt", "item"],
        update_fields=[
            "tests", "tests_max", "rubric", "rubric_max", "score", "max_points", "review", "scored_by", "updated_at",
        ],
    )  # fmt: skip
    return score


def _item_score(
    attempt: Attempt, part: PartScore, review: Review | None, adjudication: Adjudication | None
) -> ItemScore:
    """An item's stored score; scored by the adjudicator where one decided, else by the (latest) counted review."""
    reviewed = review is not None and part.rubric_max > 0
    scorer = adjudication.adjudicator_id if adjudication is not None else (review.reviewer_id if review else None)
    return ItemScore(
        attempt=attempt,
        item_id=part.item_id,
        tests=part.tests,
        tests_max=part.tests_max,
        rubric=part.rubric,
        rubric_max=part.rubric_max,
        score=part.score,
        max_points=part.max_points,
        review=review if reviewed else None,
        scored_by_id=scorer if reviewed else None,
    )
