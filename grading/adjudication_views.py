"""The adjudication page of a double-marked attempt: both final reviews side
by side, part by part, and one form that decides every part. The rules
are in grading/adjudicating.py."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from exams.models import Attempt, Item, RubricCriterion
from exams.taking import Refused
from exams.web import strict_post
from grading import adjudicating, scoring
from grading.models import Adjudication, AdjudicationDecision, Mark
from grading.pages import review_marks
from grading.review_views import get_attempt_for_review


@dataclass
class Side:
    """One review's mark on one part."""

    score: scoring.PartScore
    mark: Mark | None
    ticked: list[RubricCriterion]


@dataclass
class PartRow:
    key: str  # the item's pk, or "overall"
    title: str
    rubric_max: int
    sides: list[Side]
    disputed: bool
    choice: str
    points: str
    reason: str

    @property
    def agree(self) -> bool:
        return self.sides[0].score.rubric == self.sides[1].score.rubric


def _rows(attempt: Attempt, settled: scoring.Settled, sent=None) -> list[PartRow]:
    parts = adjudicating.parts_of(settled)
    titles = dict(Item.objects.filter(pk__in=[p for p in parts if p is not None]).values_list("pk", "title"))
    criteria = {c.pk: c for c in RubricCriterion.objects.filter(version_id=attempt.version_id).order_by("position")}
    marks = [review_marks(review) for review in settled.reviews]
    current = {}
    adjudication = Adjudication.objects.filter(attempt_id=attempt.pk).first()
    if adjudication is not None:
        current = {d.item_id: d for d in adjudication.decisions.all()}
    rows = []
    for part in parts:
        key = str(part) if part is not None else "overall"
        sides = []
        for result, review_marks_ in zip(settled.results, marks, strict=True):
            score = result.items[part] if part is not None else result.overall
            mark = review_marks_.get(part)
            ticked = [criteria[c.pk] for c in mark.criteria.all()] if mark else []
            sides.append(Side(score, mark, sorted(ticked, key=lambda c: c.position)))
        decision = current.get(part)
        choice = decision.choice if decision else ""
        if not choice and sides[0].score.rubric == sides[1].score.rubric:
            choice = AdjudicationDecision.Choice.FIRST
        points = f"{decision.rubric:.2f}" if decision and decision.choice == "points" else ""
        reason = decision.reason if decision else ""
        if sent is not None:
            choice, points, reason = (sent.get(f"{name}-{key}", "") for name in ("choice", "points", "reason"))
        rows.append(
            PartRow(
                key=key,
                title=titles.get(part, "Overall: exam-wide signals"),
                rubric_max=sides[0].score.rubric_max,
                sides=sides,
                disputed=part in settled.disagreement.parts,
                choice=choice,
                points=points,
                reason=reason,
            )
        )
    return rows


def _page(request: HttpRequest, attempt: Attempt, settled: scoring.Settled, sent=None, status: int = 200):
    adjudication = Adjudication.objects.filter(attempt_id=attempt.pk).select_related("adjudicator").first()
    context = {
        "attempt": attempt,
        "settled": settled,
        "first": settled.reviews[0],
        "second": settled.reviews[1],
        "totals": [r.total for r in settled.results],
        "gap": settled.disagreement,
        "rows": _rows(attempt, settled, sent),
        "adjudication": adjudication,
        "choices": AdjudicationDecision.Choice,
    }
    return render(request, "grading/adjudicate.html", context, status=status)


def _refusal(request: HttpRequest, attempt: Attempt, refusal: Refused) -> HttpResponse:
    context = {"attempt": attempt, "error": refusal.message}
    return render(request, "grading/adjudicate.html", context, status=refusal.status)


def _points(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _revisions(data) -> tuple[int, int]:
    try:
        return int(data.get("first_revision", "")), int(data.get("second_revision", ""))
    except ValueError:
        raise Refused("The request was missing the reviews' revisions; reload the page.", status=400) from None


@require_http_methods(["GET", "POST"])
@login_required
def adjudicate(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_attempt_for_review(request, pk)
    try:
        settled = adjudicating.check(attempt, request.user)
    except Refused as refusal:
        return _refusal(request, attempt, refusal)
    if request.method == "GET":
        return _page(request, attempt, settled)
    data = None
    try:
        data = strict_post(request)
        decisions = {}
        for part in adjudicating.parts_of(settled):
            key = str(part) if part is not None else "overall"
            choice = data.get(f"choice-{key}", "")
            if choice:
                points = _points(data.get(f"points-{key}", "")) if choice == "points" else None
                decisions[part] = adjudicating.PartDecision(choice, points, data.get(f"reason-{key}", ""))
        adjudicating.decide(attempt, request.user, decisions, revisions=_revisions(data))
    except Refused as refusal:
        if data is None or refusal.status in (403, 409):
            return _refusal(request, attempt, refusal)
        messages.error(request, refusal.message)
        return _page(request, attempt, settled, sent=data, status=refusal.status)
    messages.success(request, "Adjudication recorded: the attempt's score is now final from your decisions.")
    return redirect(reverse("grading:review", args=[attempt.pk]))
