"""Running a drill's tests from the attempt page, and watching a run."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from exams.models import Answer, Attempt
from exams.state import Panel
from exams.taking import Refused, Saved
from exams.web import get_item, get_own_attempt, strict_post
from grading import pseudonyms
from grading.access import may_view_scores
from grading.models import Submission
from grading.own_input import parse_arguments
from grading.submitting import drill_runs, run_tests

STOP_POLLING = 286  # htmx stops an `every` trigger on this status, and still swaps


# Loaded with a submission's item, never: what a run's page shows needs none of it.
HIDDEN_ITEM_FIELDS = ("item__answer_md", "item__answer_html", "item__reference_solution")


def _get_submission_for_user(request: HttpRequest, pk: int) -> Submission:
    """The submission if this user may see its attempt's scores; 404 otherwise."""
    submission = get_object_or_404(
        Submission.objects.select_related("attempt__version", "attempt__exam", "attempt__user", "item").defer(
            *HIDDEN_ITEM_FIELDS
        ),
        pk=pk,
    )
    if not may_view_scores(request.user, submission.attempt):
        raise Http404("No such submission")
    return submission


@require_POST
@login_required
def run(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    attempt = get_own_attempt(request, pk)
    item = get_item(attempt, item_pk)
    if not item.is_drill:
        raise Http404("Only coding drills have tests")
    saved = refusal = None
    try:
        data = strict_post(request)
        try:
            base_revision = int(data.get("revision", ""))
        except ValueError:
            raise Refused("The run was missing its revision; reload the page.", status=400) from None
        _, saved, refusal = run_tests(attempt, item, data.get("content", ""), base_revision)
    except Refused as refused:
        refusal = refused
    if not request.htmx:
        if refusal:
            messages.error(request, f"{item.title}: {refusal.message}")
        else:
            messages.success(request, f"{item.title}: tests are running; reload to see the results.")
        return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
    if refusal:
        return _render_runs(request, attempt, item.pk, saved, run_error=refusal.message, status=refusal.status)
    return _render_runs(request, attempt, item.pk, saved)


@require_POST
@login_required
def run_own_input(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Run the drill's code once on arguments the candidate typed: same
    sandbox, limits and rate as Run tests, never scored. Without the code in
    the form (no JavaScript) the saved code runs."""
    attempt = get_own_attempt(request, pk)
    item = get_item(attempt, item_pk)
    if not item.is_drill:
        raise Http404("Only coding drills can be run")
    saved = refusal = None
    try:
        data = strict_post(request)
        inputs = parse_arguments(data.get("arguments", ""))
        inputs["text"] = data.get("arguments", "")
        if "content" in data:
            code = data.get("content", "")
            try:
                base_revision = int(data.get("revision", ""))
            except ValueError:
                raise Refused("The run was missing its revision; reload the page.", status=400) from None
        else:
            answer = Answer.objects.filter(attempt=attempt, item=item, part=Answer.Part.CODE).first()
            code = answer.content if answer else item.starter_code
            base_revision = answer.revision if answer else 0
        _, saved, refusal = run_tests(attempt, item, code, base_revision, inputs=inputs)
    except Refused as refused:
        refusal = refused
    if not request.htmx:
        if refusal:
            messages.error(request, f"{item.title}: {refusal.message}")
        else:
            messages.success(request, f"{item.title}: your code is running on your input; reload to see it.")
        return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
    if refusal:
        return _render_runs(
            request, attempt, item.pk, saved, run_error=refusal.message, status=refusal.status, part="own"
        )
    return _render_runs(request, attempt, item.pk, saved, part="own")


def _render_runs(
    request: HttpRequest,
    attempt: Attempt,
    item_pk: int,
    saved: Saved | None,
    run_error: str = "",
    status: int = 200,
    part: str = "runs",
) -> HttpResponse:
    panel = Panel("grading/_runs.html", data=drill_runs(attempt, [item_pk])[item_pk])
    context = {"attempt": attempt, "item": {"pk": item_pk}, "panel": panel, "saved": saved, "run_error": run_error}
    return render(request, f"grading/_runs.html#{part}", context, status=status)


@require_GET
@login_required
def submission_code(request: HttpRequest, pk: int) -> HttpResponse:
    """A run's code as plain text, for its owner only ("Load this code"):
    the candidate's own code, nothing of the item."""
    row = Submission.objects.filter(pk=pk).values_list("code", "attempt__user_id").first()
    if row is None or row[1] != request.user.pk:
        raise Http404("No such submission")
    response = HttpResponse(row[0], content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
@vary_on_headers("HX-Request")
def submission(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _get_submission_for_user(request, pk)
    if request.htmx:
        response = render(request, "grading/_submission.html", {"submission": submission})
        if not submission.is_pending:
            response.status_code = STOP_POLLING
        return response
    attempt = submission.attempt
    context = {
        # Reviewers under anonymous marking see a pseudonym (grading/pseudonyms.py).
        "candidate_label": pseudonyms.label_for(request, attempt, own_known=False)[0]
        if attempt.user_id != request.user.pk
        else "",
        "submission": submission,
        "attempt": attempt,
        "item": submission.item,
        "back_to_attempt": attempt.is_open and attempt.can_edit(request.user),
    }
    return render(request, "grading/submission.html", context)
