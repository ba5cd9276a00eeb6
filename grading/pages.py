"""Pages that show an attempt with its scores: what the results page and the
review page both need, built once for both.

An item row joins three layers' views of one item: the candidate's side
(`ItemState` from exams.state: answers, reveal, model answer where allowed),
its drill runs, and its rubric as one review marked it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from exams.models import Attempt, RubricCriterion
from exams.state import ItemState, attempt_state
from grading import pseudonyms, scoring
from grading.access import may_view_scores
from grading.models import AdjudicationDecision, AttemptScore, Mark, Review
from grading.self_assessment_views import add_to_results
from grading.submitting import DrillRuns, drill_runs


@dataclass
class RubricLine:
    criterion: RubricCriterion
    ticked: bool
    key: int  # 1-based: the number key that ticks it on the review page
    # Double marking, as the candidate sees it: the share of the counted
    # reviews that ticked it (1, or 0.5 when the two reviewers differ).
    share: Decimal | None = None

    @property
    def split(self) -> bool:
        return self.share is not None and 0 < self.share < 1


@dataclass
class Row:
    """One part of the attempt as scored: an item, or (item None) Overall, the exam-wide signals."""

    item: ItemState | None
    lines: list[RubricLine]
    mark: Mark | None
    score: object | None  # ItemScore (stored) or scoring.ItemResult (a draft's running figures)
    runs: DrillRuns | None = None
    # Every shown review's mark of this part, in review order (double
    # marking shows both reviewers' feedback); `mark` is the first.
    marks: list[Mark] = field(default_factory=list)
    decision: AdjudicationDecision | None = None  # an adjudicator's, where the two reviews differed too much
    # Self-assessment (grading.self_assessment_views.add_to_results): the
    # owner's own rating of this part, shown beside the score, never in it.
    self_form: object | None = None

    @property
    def pk(self) -> str:
        return str(self.item.pk) if self.item else "overall"

    @property
    def marked(self) -> bool:
        return self.mark is not None


@dataclass
class SectionRows:
    title: str
    rows: list[Row]
    score: Decimal | None = None
    max_points: int = 0


@dataclass
class ScoredAttempt:
    state: object  # exams.state.AttemptState
    sections: list[SectionRows]
    overall: Row
    rows: list[Row] = field(default_factory=list)  # every answerable item and Overall, in order

    @property
    def unmarked(self) -> int:
        return sum(1 for row in self.rows if not row.marked)


@dataclass
class OverallScore:
    """Overall (the exam-wide signals) as a part, shaped like an ItemScore."""

    score: Decimal
    max_points: int
    rubric: Decimal | None
    rubric_max: int
    tests: None = None
    tests_max: int = 0

    @classmethod
    def of(cls, stored: AttemptScore, final: bool) -> "OverallScore":
        rubric = stored.overall if final else None
        return cls(stored.overall, stored.overall_max, rubric, stored.overall_max)


def review_marks(review: Review | None) -> dict[int | None, Mark]:
    """The review's marks by item id (None: Overall), with their ticked criteria, in two queries."""
    if review is None:
        return {}
    marks = Mark.objects.filter(review=review).select_related("review__reviewer").prefetch_related("criteria")
    return {mark.item_id: mark for mark in marks}


def scored_attempt(
    attempt: Attempt,
    *,
    review: Review | None,
    scores: dict,
    show_answers: bool | None,
    runs: bool = True,
    also: Sequence[Review] = (),
    shares: dict[int, Decimal] | None = None,
) -> ScoredAttempt:
    """Rows of every answerable item and of Overall, grouped by section.

    `scores` maps item id (None: Overall) to its score; `review` gives the
    marks shown (None: none shown), `also` more reviews whose marks are
    shown beside them (double marking). With `shares` (scoring.reviewer_ticks)
    a criterion is met by the counted reviews' ticks, not by `review`'s alone."""
    state = attempt_state(attempt, show_answers=show_answers, panels=False)
    criteria = list(
        RubricCriterion.objects.filter(version_id=attempt.version_id).only("pk", "item_id", "signal", "text", "points")
    )
    marks = review_marks(review)
    more = [review_marks(other) for other in also]
    by_part: dict[int | None, list[RubricCriterion]] = {}
    for criterion in criteria:
        by_part.setdefault(criterion.item_id, []).append(criterion)
    run_map = drill_runs(attempt, [item.pk for item in state.items if item.is_drill]) if runs else {}

    def row(item: ItemState | None) -> Row:
        part = item.pk if item else None
        mark = marks.get(part)
        ticked = {c.pk for c in mark.criteria.all()} if mark else set()
        lines = [RubricLine(c, c.pk in ticked, n) for n, c in enumerate(by_part.get(part, []), start=1)]
        if shares is not None:
            for line in lines:
                line.share = shares.get(line.criterion.pk, Decimal(0))
                line.ticked = line.share > 0
        every = [m for m in [mark, *(other.get(part) for other in more)] if m is not None]
        return Row(item, lines, mark, scores.get(part), run_map.get(part) if item else None, marks=every)

    sections, rows = [], []
    for section in state.sections:
        section_rows = [row(item) for item in section.answerable]
        if section_rows:
            sections.append(SectionRows(section.title, section_rows))
            rows.extend(section_rows)
    overall = row(None)
    if overall.lines:
        rows.append(overall)
    for section in sections:
        parts = [r.score for r in section.rows if r.score is not None]
        section.score = sum((p.score for p in parts), Decimal(0))
        section.max_points = sum(r.item.max_points for r in section.rows)
    return ScoredAttempt(state, sections, overall, rows)


def stored_score(attempt: Attempt) -> AttemptScore:
    """The attempt's stored score; attempts that ended before scores were
    stored get theirs computed once, here."""
    score = AttemptScore.objects.filter(attempt=attempt).select_related("review__reviewer").first()
    if score is None:
        score = scoring.recompute(attempt)
    return score


def get_attempt_for_scores(request: HttpRequest, pk: int) -> Attempt:
    """The attempt if this user may see its scores (its owner, staff, the
    reviewers of a team its owner is in); 404 for everyone else."""
    attempt = get_object_or_404(Attempt.objects.select_related("version", "exam", "user"), pk=pk)
    if not may_view_scores(request.user, attempt):
        raise Http404("No such attempt")
    return attempt


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


@require_GET
@login_required
def results(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_attempt_for_scores(request, pk)
    attempt.finalize_if_expired()
    owner = attempt.user_id == request.user.pk
    if attempt.is_open and owner:
        return redirect(attempt)
    score = stored_score(attempt) if not attempt.is_open else None
    final = score is not None and score.review is not None and score.review.is_final
    # Double marking: the candidate sees every counted reviewer's feedback,
    # and a criterion as met by the reviews that count (adjudication included).
    reviewers = [score.review] if final else []
    double = final and attempt.version.reviews_required > 1
    if double:
        finals = Review.objects.filter(attempt_id=attempt.pk, status=Review.Status.FINAL).select_related("reviewer")
        reviewers = list(finals.order_by("finalized_at", "pk"))
    item_scores = {s.item_id: s for s in attempt.item_scores.all()} if score else {}
    if score is not None:
        item_scores[None] = OverallScore.of(score, final)
    scored = scored_attempt(
        attempt,
        review=reviewers[0] if reviewers else None,
        also=reviewers[1:],
        shares=scoring.reviewer_ticks(attempt) if double else None,
        scores=item_scores,
        # The candidate sees what the reveal rules allow; reviewers and staff see every model answer.
        show_answers=None if owner else True,
    )
    if double and score.adjudication == "decided":
        decisions = AdjudicationDecision.objects.filter(adjudication__attempt_id=attempt.pk).select_related(
            "adjudication__adjudicator", "adjudication__first_review__reviewer", "adjudication__second_review__reviewer"
        )
        by_part = {decision.item_id: decision for decision in decisions}
        for row in scored.rows:
            row.decision = by_part.get(row.item.pk if row.item else None)
    # Self-assessment: the owner's ratings and, once the review is final, their calibration.
    self_assessment = add_to_results(request, attempt, scored, final)
    end = attempt.finalized_at or timezone.now()
    context = {
        # Reviewers under anonymous marking see a pseudonym (grading/pseudonyms.py).
        "candidate_label": "" if owner else pseudonyms.label_for(request, attempt, own_known=False)[0],
        "self_assessment": self_assessment,
        "attempt": attempt,
        "scored": scored,
        "score": score,
        "review_final": final,
        "reviewers": reviewers,
        "time_used": end - attempt.started_at,
        "owner": owner,
        "opened_now": _int(request.GET.get("opened", "")),
    }
    return render(request, "grading/results.html", context)
