"""Taking an exam: start, the attempt page, autosave, reveal, submit.

The results page shows scores, so it lives with scoring (grading/pages.py);
pages here only redirect to it by its URL.
"""

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from exams import taking
from exams.models import Accommodation, Answer, Attempt, Exam, Item
from exams.state import attempt_state
from exams.taking import Refused, reveal, save_answer
from exams.web import get_item, get_own_attempt, strict_post


def _current_exam(slug: str) -> Exam:
    return get_object_or_404(Exam.objects.select_related("current_version"), slug=slug, current_version__isnull=False)


def _open_timed_attempt(user, exam: Exam) -> Attempt | None:
    attempt = Attempt.objects.filter(user=user, exam=exam, mode=Attempt.Mode.TIMED, status=Attempt.Status.IN_PROGRESS)
    attempt = attempt.first()
    if attempt is not None and attempt.finalize_if_expired():
        return None
    return attempt


@require_POST
@login_required
def start_attempt(request: HttpRequest, slug: str) -> HttpResponse:
    exam = _current_exam(slug)
    mode = request.POST.get("mode")
    if mode not in Attempt.Mode.values:
        messages.error(request, "Choose practice or timed mode to start.")
        return redirect(exam)
    confirmed = request.POST.get("confirmed") == "yes"
    if mode == Attempt.Mode.TIMED and not confirmed and not _open_timed_attempt(request.user, exam):
        # A clock that cannot be paused starts only from the confirmation page.
        return redirect("exams:confirm_start", slug=exam.slug)
    attempt, created = Attempt.start(request.user, exam, mode)
    if created:
        messages.success(request, f"{attempt.get_mode_display()} attempt started. Answers save as you type.")
    else:
        messages.info(request, "You already have a timed attempt in progress on this exam: here it is.")
    return redirect(attempt)


@require_GET
@login_required
def confirm_start(request: HttpRequest, slug: str) -> HttpResponse:
    """What starting a timed attempt commits to, before the clock starts."""
    exam = _current_exam(slug)
    open_attempt = _open_timed_attempt(request.user, exam)
    if open_attempt is not None:
        messages.info(request, "You already have a timed attempt in progress on this exam: here it is.")
        return redirect(open_attempt)
    version = exam.current_version
    multiplier = Accommodation.objects.filter(user=request.user).values_list("time_multiplier", flat=True).first()
    minutes = round(version.duration_minutes * multiplier) if multiplier else version.duration_minutes
    context = {"exam": exam, "version": version, "multiplier": multiplier, "minutes": minutes}
    return render(request, "exams/start_confirm.html", context)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def attempt_page(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(Attempt.objects.select_related("version", "exam", "user"), pk=pk)
    if not attempt.can_edit(request.user) and not request.user.is_staff:
        raise Http404("No such attempt")
    attempt.finalize_if_expired()
    if not attempt.is_open or not attempt.can_edit(request.user):
        # A finished attempt, or staff looking at someone's: the read-only results.
        return redirect(attempt.get_results_url())
    state = attempt_state(attempt)
    context = {"attempt": attempt, "state": state, "sections": state.sections, "now": timezone.now()}
    return render(request, "exams/attempt.html", context)


def _render_status(request: HttpRequest, item, part: str, **state) -> HttpResponse:
    context = {"item": item, "part": part, **state}
    return render(request, "exams/attempt.html#save_status", context, status=state.get("status", 200))


def _quick_save(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse | None:
    """An autosave in the page's background (htmx) of an answer already
    stored, by `taking.quick_save`; None for anything else (a first save, a
    plain form, any refusal), which the full path then handles and explains."""
    if not request.htmx:
        return None
    try:
        data = strict_post(request)
        part, revision = data.get("part", ""), int(data.get("revision", ""))
    except (Refused, ValueError):
        return None
    if part not in Answer.Part.values:
        return None
    content = data.get("content", "")
    saved = taking.quick_save(pk, request.user.pk, item_pk, part, content, revision)
    if saved is None:
        return None
    return _saved(request, pk, item_pk, part, content, saved)


def _saved(
    request: HttpRequest, attempt_pk: int, item_pk: int, part: str, content: str, saved, attempt: Attempt | None = None
) -> HttpResponse:
    """A save's answer: its status, and what the question navigator needs.
    Written text that is not blank answers its item whatever else the item
    holds, and a save changes nothing else in the navigator: the status says
    so (the page marks the entry), with no state to read. Any other save
    sends the item's entry out of band, from the state of this item alone
    (the page counts the answered entries)."""
    when = {"revision": saved.revision, "saved_at": saved.saved_at}
    if part == Answer.Part.TEXT and content.strip():
        return _render_status(request, SimpleNamespace(pk=item_pk), part, answered=True, **when)
    attempt = attempt or Attempt.objects.select_related("version").get(pk=attempt_pk)
    state = attempt_state(attempt, item_pks=[item_pk], show_answers=False, with_seen_before=False)
    item = state.item(item_pk)
    return _render_status(request, item, part, nav_item=item, **when)


@require_POST
@login_required
def save(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    quick = _quick_save(request, pk, item_pk)
    if quick is not None:
        return quick
    attempt = get_own_attempt(request, pk)
    item = get_item(attempt, item_pk)
    try:
        data = strict_post(request)
        part = data.get("part", "")
        if item.kind == Item.Kind.TEXT or part not in Answer.Part.values:
            raise Refused("This item takes no answer of that kind.", status=400)
        if part == Answer.Part.CODE and not item.is_drill:
            raise Refused("Only coding drills take code.", status=400)
        try:
            base_revision = int(data.get("revision", ""))
        except ValueError:
            raise Refused("The save was missing its revision; reload the page.", status=400) from None
        content = data.get("content", "")
        saved = save_answer(attempt, item, part, content, base_revision)
    except Refused as refusal:
        if not request.htmx:
            messages.error(request, f"{item.title}: {refusal.message}")
            return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
        # A stale save learns the current revision; any other refusal echoes what the browser sent.
        sent = request.POST.get("revision", "0")
        revision = refusal.current_revision if refusal.current_revision is not None else (sent if sent.isdigit() else 0)
        return _render_status(
            request,
            item,
            request.POST.get("part", "text"),
            error=refusal.message,
            revision=revision,
            status=refusal.status,
        )
    if not request.htmx:
        messages.success(request, f"{item.title}: saved.")
        return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
    return _saved(request, attempt.pk, item.pk, part, content, saved, attempt=attempt)


@require_POST
@login_required
def reveal_answer(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    attempt = get_own_attempt(request, pk)
    item = get_item(attempt, item_pk)
    if item.kind == Item.Kind.TEXT:
        raise Http404("Reading items have no model answer")
    try:
        reveal(attempt, item, request.user)
    except Refused as refusal:
        if not request.htmx:
            messages.error(request, refusal.message)
            return redirect(attempt)
        attempt.refresh_from_db(fields=["status", "finalized_at"])
        if not attempt.is_open:
            # The results page says why (the message) and shows what the policy allows.
            messages.error(request, refusal.message)
            response = HttpResponse(refusal.message, status=refusal.status)
            response["HX-Redirect"] = attempt.get_results_url()
            return response
        return _render_item(request, attempt, item, status=refusal.status, reveal_error=refusal.message)
    if not request.htmx:
        return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
    return _render_item(request, attempt, item)


def _render_item(request: HttpRequest, attempt: Attempt, item: Item, status: int = 200, **extra) -> HttpResponse:
    state = attempt_state(attempt, item_pks=[item.pk])
    context = {"attempt": attempt, "state": state, "item": state.items[0], **extra}
    # The item, and its entry in the question navigator (revealed, locked) out of band.
    return render(request, "exams/_item_response.html", context, status=status)


@require_POST
@login_required
def open_answer(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Open one model answer on the results page of an ended attempt."""
    attempt = get_own_attempt(request, pk)
    item = get_item(attempt, item_pk)
    try:
        taking.open_answer(attempt, item)
    except Refused as refusal:
        messages.error(request, refusal.message)
        if attempt.is_open:
            return redirect(attempt)
    return redirect(f"{attempt.get_results_url()}?opened={item.pk}#review-{item.pk}")


@require_GET
@login_required
def clock(request: HttpRequest, pk: int) -> HttpResponse:
    """The countdown's re-sync; once the deadline passes it ends the attempt."""
    attempt = get_own_attempt(request, pk)
    attempt.finalize_if_expired()
    if not attempt.is_open:
        results_url = attempt.get_results_url()
        if request.htmx:
            return HttpResponseClientRedirect(results_url)
        return redirect(results_url)
    return render(request, "exams/attempt.html#clock", {"attempt": attempt, "now": timezone.now()})


@login_required
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_own_attempt(request, pk)
    attempt.finalize_if_expired()
    if not attempt.is_open:
        messages.info(request, "This attempt has already ended.")
        return redirect(attempt.get_results_url())
    if request.method == "POST":
        attempt.finalize(Attempt.Status.SUBMITTED)
        messages.success(request, "Attempt submitted.")
        return redirect(attempt.get_results_url())
    # With the panels: a drill with a test run counts as answered.
    state = attempt_state(attempt)
    return render(request, "exams/submit.html", {"attempt": attempt, "unanswered": state.unanswered})


@require_GET
@login_required
def my_attempts(request: HttpRequest) -> HttpResponse:
    attempts = list(Attempt.objects.filter(user=request.user).select_related("version", "exam"))
    now = timezone.now()
    for attempt in attempts:
        attempt.finalize_if_expired(now)
    return render(request, "exams/my_attempts.html", {"attempts": attempts})
