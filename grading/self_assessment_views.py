"""Self-assessment on the pages: the "Rate yourself" panel of a revealed
item on the attempt page, the per-part forms and the calibration on the
results page, and the POST that saves a rating (htmx, or a plain form).

The rules are `grading.self_assessment`'s; this module only builds what the
templates show. Self-assessments are shown to their candidate only: a
reviewer reading the results page sees none (they could anchor a review).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from exams.models import Attempt, Item, RubricCriterion
from exams.state import ItemState, Panel
from exams.taking import Refused
from exams.web import get_item, get_own_attempt, strict_post
from grading import scoring
from grading import self_assessment as rules
from grading.models import SelfAssessment

TEMPLATE = "grading/_self_assessment.html"


@dataclass
class SelfLine:
    criterion: RubricCriterion
    ticked: bool


@dataclass
class SelfForm:
    """One part's rating as a page shows it: the form while it is editable,
    read-only once locked, with the calibration once the review is final."""

    attempt_pk: int
    item_id: int | None
    title: str
    lines: list[SelfLine]
    max_points: int
    assessment: SelfAssessment | None
    editable: bool
    where: str  # "attempt" or "results": where a plain form goes back to
    calibration: rules.PartCalibration | None = None
    review_final: bool = False  # the review is final: an unrated part stays unrated
    # An item whose model answer is not shown (not opened yet): neither its
    # rubric nor a form, only how to get them (grading.self_assessment, NOT_OPENED).
    hidden: bool = False

    @property
    def part(self) -> str:
        return str(self.item_id) if self.item_id is not None else "overall"

    @property
    def score(self) -> Decimal | None:
        return self.assessment.score if self.assessment is not None else None

    @property
    def action(self) -> str:
        if self.item_id is None:
            return reverse("grading:self_assess_overall", args=[self.attempt_pk])
        return reverse("grading:self_assess", args=[self.attempt_pk, self.item_id])


def _form(attempt, item_id, title, criteria, ticks, editable, where, maximum) -> SelfForm:
    ticked = ticks.ticked if ticks is not None else frozenset()
    lines = [SelfLine(c, c.pk in ticked) for c in criteria]
    assessment = ticks.assessment if ticks is not None else None
    return SelfForm(attempt.pk, item_id, title, lines, maximum, assessment, editable, where)


# The attempt page: a panel below each revealed model answer.


def add_self_assessment_panels(attempt: Attempt, items: list[ItemState]) -> None:
    """Registered with `exams.state.register_panels`. Only for an open
    attempt's items whose model answer was revealed and is shown (so never
    while answers are withheld); no query at all when there is none."""
    if not attempt.is_open:
        return
    revealed = [item for item in items if item.answerable and item.reveal is not None and item.model is not None]
    if not revealed:
        return
    # One query: each criterion with whether it is ticked and whether its item was rated at all.
    ticks = SelfAssessment.criteria.through.objects.filter(
        selfassessment__attempt_id=attempt.pk, rubriccriterion_id=OuterRef("pk")
    )
    rated = SelfAssessment.objects.filter(attempt_id=attempt.pk, item_id=OuterRef("item_id"))
    rows = (
        RubricCriterion.objects.filter(item_id__in=[item.pk for item in revealed])
        .only("pk", "item_id", "signal", "text", "points")
        .annotate(ticked=Exists(ticks), rated=Exists(rated))
        .order_by("position", "pk")
    )
    by_item: dict[int, list[RubricCriterion]] = {}
    for criterion in rows:
        by_item.setdefault(criterion.item_id, []).append(criterion)
    for item in revealed:
        criteria = by_item.get(item.pk)
        if not criteria:
            continue
        maximum = rules.rubric_max(item, criteria)
        ticked = frozenset(c.pk for c in criteria if c.ticked)
        assessed = None
        if criteria[0].rated:
            # The stored score is this same arithmetic on the same ticks: computed, not read.
            shown = SelfAssessment(score=rules.self_score(criteria, ticked, maximum), max_points=maximum)
            assessed = rules.Ticks(shown, ticked)
        form = _form(attempt, item.pk, item.title, criteria, assessed, True, "attempt", maximum)
        item.panels.append(Panel(after_answer="grading/_self_assessment_panel.html", data=form))


# The results page.


@dataclass
class SelfAssessmentPage:
    """What the results page shows of self-assessment, for the owner."""

    overall: SelfForm | None
    calibration: rules.Calibration | None
    editable: bool
    locked: bool


def add_to_results(request: HttpRequest, attempt: Attempt, scored, final: bool) -> SelfAssessmentPage | None:
    """Give each row of the results page (`grading.pages.ScoredAttempt`) its
    `self_form`; with a final review, each assessed part its calibration.
    The owner's ended attempts only; None for everyone else."""
    if attempt.user_id != request.user.pk or attempt.is_open:
        return None
    editable = rules.may_assess(attempt, None, request.user)
    locked = not editable and rules.is_locked(attempt)
    if not editable and not locked:
        return None  # never shown (the exam's policy) or withheld: no rubric to show either
    assessed = rules.of_attempt(attempt)
    for row in scored.rows:
        criteria = [line.criterion for line in row.lines]
        if not criteria:
            continue
        item = row.item
        title = item.title if item is not None else "Overall: exam-wide signals"
        part = item.pk if item is not None else None
        maximum = rules.rubric_max(item, criteria)
        row.self_form = _form(attempt, part, title, criteria, assessed.get(part), editable, "results", maximum)
        row.self_form.review_final = final
        if item is not None and item.model is None:
            # The rubric shows only with the model answer, as the rules require.
            row.self_form.hidden = True
            row.self_form.lines = []
    calibration = None
    if final and assessed:
        criteria = [line.criterion for row in scored.rows for line in row.lines]
        reviewer_scores = {
            (row.item.pk if row.item else None): (row.score.rubric if row.score is not None else None)
            for row in scored.rows
        }
        calibration = rules.calibrate(assessed, criteria, scoring.reviewer_ticks(attempt), reviewer_scores)
        for row in scored.rows:
            if row.self_form is not None:
                row.self_form.calibration = calibration.parts.get(row.self_form.item_id)
    overall = scored.overall.self_form if scored.overall.lines else None
    return SelfAssessmentPage(overall, calibration, editable, locked)


# Saving a rating.


def _ids(values: list[str]) -> list[int]:
    """Criterion ids as sent: decimal digits only, nothing else."""
    ids = []
    for value in values:
        if not (value.isascii() and value.isdigit() and len(value) < 19):
            raise Refused("Criteria are sent by their numbers; reload the page.", status=400)
        ids.append(int(value))
    return ids


def _back(attempt: Attempt, item: Item | None, where: str) -> HttpResponse:
    if where == "attempt" and attempt.is_open and item is not None:
        return redirect(f"{attempt.get_absolute_url()}#self-{item.pk}")
    anchor = f"self-{item.pk}" if item is not None else "self-overall"
    return redirect(f"{attempt.get_results_url()}#{anchor}")


@require_POST
@login_required
def self_assess(request: HttpRequest, pk: int, item_pk: int | None = None) -> HttpResponse:
    """Save the candidate's ticks on one part (all of them: a box left out is unticked)."""
    attempt = get_own_attempt(request, pk)
    item = get_item(attempt, item_pk) if item_pk is not None else None
    if item is not None and item.kind == Item.Kind.TEXT:
        raise Http404("Reading items have nothing to rate")
    part = str(item.pk) if item is not None else "overall"
    where = "results"
    try:
        data = strict_post(request)
        where = "attempt" if data.get("from") == "attempt" else "results"
        assessment = rules.assess(attempt, request.user, item, _ids(data.getlist("criteria")))
    except Refused as refusal:
        if not request.htmx:
            messages.error(request, refusal.message)
            attempt.refresh_from_db(fields=["status", "finalized_at"])
            return _back(attempt, item, where)
        context = {"sa": {"part": part}, "error": refusal.message}
        return render(request, f"{TEMPLATE}#status", context, status=refusal.status)
    if not request.htmx:
        messages.success(request, f"Your rating of {item.title if item else 'the exam-wide signals'} was saved.")
        return _back(attempt, item, where)
    context = {
        "sa": {"part": part, "assessment": assessment, "score": assessment.score, "max_points": assessment.max_points},
        "saved": True,
    }
    return render(request, f"{TEMPLATE}#status", context)
