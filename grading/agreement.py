"""How much two reviewers agree on double-marked attempts: percent agreement
and Cohen's kappa over the criterion ticks.

Each rubric criterion on each attempt with two final reviews is one pair of
binary ratings (ticked by the first reviewer? by the second?). `measure` is
pure arithmetic over such pairs; `exam_agreement` loads the pairs of one
exam version in a fixed number of queries and measures the whole version
and each criterion.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from exams.models import ExamVersion, Item, RubricCriterion
from grading.models import Mark, Review

Pair = tuple[bool, bool]


@dataclass(frozen=True)
class Agreement:
    attempts: int  # double-marked attempts behind the figures
    pairs: int  # rating pairs (criteria x attempts)
    percent: Decimal | None  # None: no pairs
    kappa: Decimal | None  # None: no pairs, or undefined (chance agreement is 1)

    @property
    def enough_data(self) -> bool:
        return self.percent is not None and self.kappa is not None


def measure(pairs: Iterable[Pair], attempts: int) -> Agreement:
    """Percent agreement p_o = agreeing pairs / pairs, and Cohen's kappa
    (p_o - p_e) / (1 - p_e), where p_e = p1 p2 + (1 - p1)(1 - p2) is the
    agreement expected by chance from each reviewer's own rate of ticking
    (p1, p2). Kappa is undefined (None) when p_e is 1: both reviewers
    ticked everything, or nothing. Rounded to 0.1 % and 0.001."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return Agreement(attempts, 0, None, None)
    agree = sum(1 for a, b in pairs if a == b)
    first = Decimal(sum(1 for a, _ in pairs if a)) / n
    second = Decimal(sum(1 for _, b in pairs if b)) / n
    observed = Decimal(agree) / n
    expected = first * second + (1 - first) * (1 - second)
    percent = (observed * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if expected == 1:
        return Agreement(attempts, n, percent, None)
    kappa = ((observed - expected) / (1 - expected)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return Agreement(attempts, n, percent, kappa)


@dataclass(frozen=True)
class CriterionAgreement:
    criterion: RubricCriterion
    part: str  # the item's title, or "Overall"
    agreement: Agreement


@dataclass(frozen=True)
class ExamAgreement:
    version: ExamVersion
    overall: Agreement
    criteria: list[CriterionAgreement]


def double_marked(version: ExamVersion) -> dict[int, tuple[int, int]]:
    """The attempts of `version` with two final reviews: attempt id to the
    ids of its first two final reviews (by when they were started), one query."""
    rows = (
        Review.objects.filter(attempt__version=version, status=Review.Status.FINAL)
        .order_by("attempt_id", "created_at", "pk")
        .values_list("attempt_id", "pk")
    )
    found: dict[int, list[int]] = {}
    for attempt_id, pk in rows:
        found.setdefault(attempt_id, []).append(pk)
    return {attempt_id: (ids[0], ids[1]) for attempt_id, ids in found.items() if len(ids) >= 2}


def exam_agreement(version: ExamVersion) -> ExamAgreement:
    """Agreement over every criterion of `version` on its double-marked
    attempts, and per criterion; four queries however many attempts."""
    attempts = double_marked(version)
    reviews = {pk for pair in attempts.values() for pk in pair}
    ticked: set[tuple[int, int]] = set()  # (review id, criterion id)
    through = Mark.criteria.through.objects.filter(mark__review_id__in=reviews)
    for review_id, criterion_id in through.values_list("mark__review_id", "rubriccriterion_id"):
        ticked.add((review_id, criterion_id))
    items = {
        pk: (position, title)
        for pk, position, title in Item.objects.filter(version=version).values_list("pk", "position", "title")
    }
    # Items in exam order, Overall last (in Python: databases sort NULLs differently).
    criteria = sorted(
        RubricCriterion.objects.filter(version=version),
        key=lambda c: (c.item_id is None, items.get(c.item_id, (0, ""))[0], c.position, c.pk),
    )
    by_criterion = []
    everything: list[Pair] = []
    for criterion in criteria:
        pairs = [((a, criterion.pk) in ticked, (b, criterion.pk) in ticked) for a, b in attempts.values()]
        everything.extend(pairs)
        part = items[criterion.item_id][1] if criterion.item_id else "Overall"
        by_criterion.append(CriterionAgreement(criterion, part, measure(pairs, len(attempts))))
    return ExamAgreement(version, measure(everything, len(attempts)), by_criterion)
