"""Running a drill's tests from the attempt page, and watching a run."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from exams.attempt_views import _get_attempt_for_user, _get_item, _strict_post
from exams.models import Answer, Attempt, Item
from exams.taking import Refused, Saved, save_answer
from grading.models import Submission
from grading.submitting import attach_runs, run_tests

STOP_POLLING = 286  # htmx stops an `every` trigger on this status, and still swaps


def _get_submission_for_user(request: HttpRequest, pk: int) -> Submission:
    """The submission if this user may see its attempt; 404 otherwise."""
    submission = get_object_or_404(
        Submission.objects.select_related("attempt__version", "attempt__exam", "attempt__user", "item"), pk=pk
    )
    if not submission.can_view(request.user):
        raise Http404("No such submission")
    return submission


def _save_code(attempt: Attempt, item: Item, data: dict[str, str]) -> Saved | None:
    """Save the code about to run as the answer, unless it is already saved:
    what was tested and what is kept are then always the same text."""
    code = data.get("content", "")
    current = Answer.objects.filter(attempt=attempt, item=item, part=Answer.Part.CODE).first()
    if current is not None and current.content == code:
        return None
    try:
        base_revision = int(data.get("revision", ""))
    except ValueError:
        raise Refused("The run was missing its revision; reload the page.", status=400) from None
    return save_answer(attempt, item, Answer.Part.CODE, code, base_revision)


@require_POST
@login_required
def run(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    attempt = _get_attempt_for_user(request, pk, edit=True)
    item = _get_item(attempt, item_pk)
    if not item.is_drill:
        raise Http404("Only coding drills have tests")
    saved = None
    try:
        data = _strict_post(request)
        saved = _save_code(attempt, item, data)
        run_tests(attempt, item, data.get("content", ""))
    except Refused as refusal:
        if not request.htmx:
            messages.error(request, f"{item.title}: {refusal.message}")
            return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
        return _render_runs(request, attempt, item, saved, run_error=refusal.message, status=refusal.status)
    if not request.htmx:
        messages.success(request, f"{item.title}: tests are running; reload to see the results.")
        return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
    return _render_runs(request, attempt, item, saved)


def _render_runs(
    request: HttpRequest, attempt: Attempt, item: Item, saved: Saved | None, run_error: str = "", status: int = 200
) -> HttpResponse:
    attach_runs(attempt, [item])
    context = {"attempt": attempt, "item": item, "saved": saved, "run_error": run_error}
    return render(request, "grading/_runs.html", context, status=status)


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
        "submission": submission,
        "attempt": attempt,
        "item": submission.item,
        "back_to_attempt": attempt.is_open and attempt.can_edit(request.user),
    }
    return render(request, "grading/submission.html", context)
