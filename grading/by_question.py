"""Marking by question: one item across every attempt in the reviewer's
queue, answer after answer with the rubric staying put.

The marks go through the review page's own endpoint and rules
(review_views.mark, reviewing.mark); finalizing stays per attempt, on the
review page. This module only chooses what to show: the exam's markable
items with how many answers are marked, then one answer at a time.

"Marked" follows the rule of reviewing.visible_reviews, in SQL so a whole
queue costs one query: the viewer's own mark, or a final review's once
every review the attempt takes is final (so a second reviewer does not
count, or see, the first one's marks early).
"""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from exams.models import Attempt, Exam, ExamVersion, Item, RubricCriterion
from exams.state import attempt_state
from grading import pseudonyms, reviewing, scoring
from grading.access import reviewable_attempts, reviewer_teams, teams_reviewed
from grading.models import Mark, Membership, Review
from grading.pages import Row, RubricLine, review_marks
from grading.submitting import drill_runs


@dataclass
class QueueRow:
    """One attempt of the item's queue, as the navigation needs it."""

    pk: int
    exam_id: int
    user_id: int
    own_status: str | None
    others: int
    finals: int
    own_mark: bool
    final_mark: bool
    required: int
    label: str = ""

    @property
    def complete(self) -> bool:
        return self.finals >= self.required

    @property
    def marked(self) -> bool:
        return self.own_mark or (self.complete and self.final_mark)

    @property
    def own_final(self) -> bool:
        return self.own_status == Review.Status.FINAL

    @property
    def editable(self) -> bool:
        return reviewing.may_mark(self.own_status, self.others, self.required)

    @property
    def to_do(self) -> bool:
        return not self.marked and self.editable


def _team(request: HttpRequest):
    """The team filter (a slug among the teams the viewer reviews), or None."""
    slug = request.GET.get("team", "")
    if not slug:
        return None
    team = reviewer_teams(request.user).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team among those you review")
    return team


def queue(user, version_id: int, team=None) -> QuerySet:
    """The reviewer's queue for one version of an exam, in queue order."""
    attempts = reviewable_attempts(user).filter(version_id=version_id)
    if team is not None:
        attempts = attempts.filter(user_id__in=Subquery(Membership.objects.filter(team=team).values("user_id")))
    return attempts.order_by("finalized_at", "pk")


def queue_rows(request: HttpRequest, attempts: QuerySet, item: Item, version: ExamVersion) -> list[QueueRow]:
    """Each attempt of the queue with what marking this item needs to know, in one query."""
    user = request.user
    reviews = Review.objects.filter(attempt_id=OuterRef("pk"))
    marks = Mark.objects.filter(review__attempt_id=OuterRef("pk"), item_id=item.pk)
    rows = attempts.annotate(
        own_status=Subquery(reviews.filter(reviewer_id=user.pk).values("status")[:1]),
        others=reviewing.count_of(reviews.exclude(reviewer_id=user.pk)),
        finals=reviewing.count_of(reviews.filter(status=Review.Status.FINAL)),
        own_mark=Exists(marks.filter(review__reviewer_id=user.pk)),
        final_mark=Exists(marks.filter(review__status=Review.Status.FINAL)),
    ).values_list("pk", "exam_id", "user_id", "own_status", "others", "finals", "own_mark", "final_mark")
    result = [QueueRow(*values, required=version.reviews_required) for values in rows]
    if version.anonymous_marking or pseudonyms.queue_option(request):
        for row in result:
            if pseudonyms.names_hidden(
                request, version.anonymous_marking, own_final=row.own_final, complete=row.complete
            ):
                row.label = pseudonyms.pseudonym(row.exam_id, row.user_id)
    return result


def marked_counts(user, attempts: QuerySet, version: ExamVersion) -> dict[int, int]:
    """How many attempts of the queue have each item marked, in one query."""
    complete = (
        attempts.annotate(
            finals=reviewing.count_of(Review.objects.filter(attempt_id=OuterRef("pk"), status=Review.Status.FINAL))
        )
        .filter(finals__gte=F("version__reviews_required"))
        .values("pk")
    )
    visible = Q(review__reviewer_id=user.pk) | Q(review__status=Review.Status.FINAL, review__attempt_id__in=complete)
    rows = (
        Mark.objects.filter(review__attempt_id__in=attempts.values("pk"), item__version_id=version.pk)
        .filter(visible)
        .values("item_id")
        .annotate(n=Count("review__attempt_id", distinct=True))
    )
    return {row["item_id"]: row["n"] for row in rows}


def _exams(user) -> QuerySet:
    return Exam.objects.filter(pk__in=Subquery(reviewable_attempts(user).values("exam_id"))).select_related(
        "current_version"
    )


def _query(**params) -> str:
    kept = {key: value for key, value in params.items() if value not in ("", None)}
    return f"?{urlencode(kept)}" if kept else ""


@require_GET
@login_required
def by_question(request: HttpRequest) -> HttpResponse:
    """The exam's markable items, each with how many answers in the queue are marked."""
    user = request.user
    teams = teams_reviewed(user)
    team = _team(request)
    exams = list(_exams(user))
    exam = next((e for e in exams if e.slug == request.GET.get("exam", "")), None)
    if request.GET.get("exam") and exam is None:
        raise Http404("No such exam in your queue")
    if exam is None and len(exams) == 1:
        exam = exams[0]
    context = {"exams": exams, "teams": teams, "exam": exam, "team": team, "items": [], "versions": []}
    if exam is not None:
        versions = list(
            ExamVersion.objects.filter(
                pk__in=Subquery(reviewable_attempts(user).filter(exam=exam).values("version_id"))
            )
            .order_by("-number")
            .only("pk", "number", "title", "reviews_required", "anonymous_marking")
        )
        number = request.GET.get("version", "")
        version = next((v for v in versions if str(v.number) == number), None) if number else None
        if number and version is None:
            raise Http404("No attempts of this version in your queue")
        version = version or next((v for v in versions if v.pk == exam.current_version_id), versions[0])
        attempts = queue(user, version.pk, team)
        total = attempts.count()
        counts = marked_counts(user, attempts, version)
        items = Item.objects.filter(version_id=version.pk).exclude(kind=Item.Kind.TEXT).order_by("position")
        team_slug = team.slug if team else ""
        context.update(
            version=version,
            versions=versions,
            total=total,
            items=[
                (item, counts.get(item.pk, 0), _query(team=team_slug))
                for item in items.only("pk", "title", "kind", "points", "written_points", "position")
            ],
        )
    return render(request, "grading/by_question.html", context)


def _current(rows: list[QueueRow], wanted: str) -> int:
    """The index of the answer to show: the one asked for, else the first still to do."""
    if wanted:
        index = next((n for n, row in enumerate(rows) if str(row.pk) == wanted), None)
        if index is None:
            raise Http404("No such attempt in your queue for this item")
        return index
    return next((n for n, row in enumerate(rows) if row.to_do), 0)


def _next_to_do(rows: list[QueueRow], index: int) -> QueueRow | None:
    """The next answer still to mark after this one, going round to the start."""
    for row in rows[index + 1 :] + rows[:index]:
        if row.to_do:
            return row
    return None


@require_GET
@login_required
@vary_on_headers("HX-Request")
def by_question_item(request: HttpRequest, item_pk: int) -> HttpResponse:
    """One answer to this item at a time, across the reviewer's queue; its
    progress alone for htmx (refreshed after each save)."""
    user = request.user
    item = get_object_or_404(
        Item.objects.exclude(kind=Item.Kind.TEXT).select_related("version__exam").only(
            "pk", "version_id", "kind", "title", "position", "version__title", "version__number",
            "version__reviews_required", "version__anonymous_marking", "version__exam__slug",
        ),
        pk=item_pk,
    )  # fmt: skip
    version = item.version
    # Invariant 4: an item is found only by someone with an attempt of its version to review.
    if not reviewable_attempts(user).filter(version_id=version.pk).exists():
        raise Http404("No such item to review")
    team = _team(request)
    rows = queue_rows(request, queue(user, version.pk, team), item, version)
    marked = sum(1 for row in rows if row.marked)
    team_slug = team.slug if team else ""
    progress_url = reverse("grading:by_question_item", args=[item.pk]) + _query(team=team_slug)
    context = {"item": item, "version": version, "rows": rows, "marked": marked, "progress_url": progress_url}
    if request.htmx:
        return render(request, "grading/by_question_item.html#progress", context)
    context.update(team=team, index_url=reverse("grading:by_question") + _query(exam=version.exam.slug, team=team_slug))
    if not rows:
        return render(request, "grading/by_question_item.html", context)
    index = _current(rows, request.GET.get("attempt", ""))
    row = rows[index]

    def link(target: QueueRow | None) -> str:
        if target is None:
            return ""
        return reverse("grading:by_question_item", args=[item.pk]) + _query(attempt=target.pk, team=team_slug)

    attempt = Attempt.objects.select_related("version", "exam", "user").get(pk=row.pk)
    context.update(_answer_context(request, attempt, item, row))
    context.update(
        row_info=row,
        position=index + 1,
        previous_url=link(rows[index - 1]) if index > 0 else "",
        next_url=link(rows[index + 1]) if index + 1 < len(rows) else "",
        next_to_do_url=link(_next_to_do(rows, index)),
    )
    return render(request, "grading/by_question_item.html", context)


def _answer_context(request: HttpRequest, attempt: Attempt, item: Item, queue_row: QueueRow) -> dict:
    """One attempt's answer to the item with the marks the viewer may see
    (their own review, or a final one once every review is final) and what
    the review page's mark form and its out-of-band fragments need."""
    user = request.user
    own = reviewing.review_of(attempt, user)
    visible = reviewing.visible_reviews(attempt, user)
    shown = own or next((r for r in reversed(visible) if r.is_final), None)
    holder = reviewing.holder(attempt)
    result = scoring.result_for(attempt, shown)
    state = attempt_state(attempt, item_pks=[item.pk], show_answers=True, panels=False)
    answer = state.items[0]
    mark = review_marks(shown).get(item.pk)
    ticked = {c.pk for c in mark.criteria.all()} if mark else set()
    criteria = RubricCriterion.objects.filter(version_id=attempt.version_id, item_id=item.pk).order_by("position", "pk")
    lines = [RubricLine(c, c.pk in ticked, n) for n, c in enumerate(criteria, start=1)]
    runs = drill_runs(attempt, [item.pk]).get(item.pk) if answer.is_drill else None
    row = Row(answer, lines, mark, result.items.get(item.pk), runs)
    overall = RubricCriterion.objects.filter(version_id=attempt.version_id, item=None).exists()
    parts = len(result.items) + overall
    return {
        "attempt": attempt,
        "answer": answer,
        "row": row,
        "own": own,
        "holder": holder,
        "shown": shown,
        "result": result,
        "editable": queue_row.editable,
        "revision": own.revision if own else 0,
        "unmarked": parts - (shown.marks.count() if shown else 0),
        "candidate_label": queue_row.label or attempt.user.get_username(),
        "anonymous": bool(queue_row.label),
        # Without JavaScript a mark posts the form: it comes back here.
        "return_to": request.get_full_path(),
    }
