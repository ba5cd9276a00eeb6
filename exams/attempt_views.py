"""Taking an exam: start, the attempt page, autosave, reveal, submit, results."""

from urllib.parse import parse_qsl

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from exams.models import Answer, Attempt, Exam, Item, Reveal
from exams.taking import Refused, reveal, save_answer
from grading.submitting import attach_runs, automatic_score


def _get_attempt_for_user(request: HttpRequest, pk: int, *, edit: bool = False) -> Attempt:
    """The attempt if this user may see it (or change it, with edit=True); 404 otherwise,
    so ids of other people's attempts reveal nothing."""
    attempt = get_object_or_404(Attempt.objects.select_related("version", "exam", "user"), pk=pk)
    allowed = attempt.can_edit(request.user) if edit else attempt.can_view(request.user)
    if not allowed:
        raise Http404("No such attempt")
    return attempt


def _get_item(attempt: Attempt, item_pk: int) -> Item:
    return get_object_or_404(Item, pk=item_pk, version_id=attempt.version_id)


def _strict_post(request: HttpRequest) -> dict[str, str]:
    """The form fields, refusing bytes that are not UTF-8 instead of silently
    replacing them (Django's default), so a corrupt save changes nothing."""
    if request.content_type != "application/x-www-form-urlencoded":
        data = request.POST.dict()
    else:
        try:
            data = dict(parse_qsl(request.body.decode("ascii"), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            raise Refused("The text sent is not valid UTF-8, so nothing was saved.", status=400) from None
    if any("\x00" in value for value in data.values()):
        # PostgreSQL cannot store it; say so instead of failing on the write.
        raise Refused("The text contains a NUL character (\\0), which cannot be stored; nothing was saved.", 400)
    return data


@require_POST
@login_required
def start_attempt(request: HttpRequest, slug: str) -> HttpResponse:
    exam = get_object_or_404(Exam.objects.select_related("current_version"), slug=slug, current_version__isnull=False)
    mode = request.POST.get("mode")
    if mode not in Attempt.Mode.values:
        messages.error(request, "Choose practice or timed mode to start.")
        return redirect(exam)
    attempt, created = Attempt.start(request.user, exam, mode)
    if created:
        messages.success(request, f"{attempt.get_mode_display()} attempt started. Answers save as you type.")
    else:
        messages.info(request, "You already have a timed attempt in progress on this exam: here it is.")
    return redirect(attempt)


def _answered_ids(answers) -> set[int]:
    return {a.item_id for a in answers if a.content.strip()}


def _item_states(attempt: Attempt, items: list[Item]) -> None:
    """Attach answers, reveal state and (only where allowed) the model answer to each item."""
    rows = list(Answer.objects.filter(attempt=attempt))
    answers = {(a.item_id, a.part): a for a in rows}
    answered = _answered_ids(rows)
    reveals = {r.item_id: r for r in Reveal.objects.filter(attempt=attempt)}
    show_all = attempt.reveal_allowed() and not attempt.is_open
    for item in items:
        item.text_answer = answers.get((item.pk, Answer.Part.TEXT))
        item.code_answer = answers.get((item.pk, Answer.Part.CODE))
        item.answered = item.pk in answered
        item.reveal = reveals.get(item.pk)
        item.locked = item.reveal is not None and attempt.reveal_locks()
        item.show_answer = item.kind != Item.Kind.TEXT and (item.reveal is not None or show_all)
        if not item.show_answer:
            # Not in the page at all, not even hidden (invariant 1).
            item.answer_html = item.reference_solution = ""


def _attempt_items(attempt: Attempt) -> tuple[list, list[Item]]:
    sections = list(attempt.version.sections.all())
    items = list(attempt.version.items.all())
    _item_states(attempt, items)
    by_section: dict[int, list[Item]] = {s.pk: [] for s in sections}
    for item in items:
        by_section[item.section_id].append(item)
    for section in sections:
        section.item_list = by_section[section.pk]
    return sections, items


@require_GET
@login_required
@vary_on_headers("HX-Request")
def attempt_page(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _get_attempt_for_user(request, pk)
    attempt.finalize_if_expired()
    if not attempt.is_open or not attempt.can_edit(request.user):
        return redirect("exams:results", pk=attempt.pk)
    sections, items = _attempt_items(attempt)
    attach_runs(attempt, items)
    answerable = [i for i in items if i.kind != Item.Kind.TEXT]
    context = {
        "attempt": attempt,
        "sections": sections,
        "answered": sum(
            1
            for i in answerable
            if (i.text_answer and i.text_answer.content.strip()) or (i.code_answer and i.code_answer.content.strip())
        ),
        "answerable": len(answerable),
        "now": timezone.now(),
    }
    return render(request, "exams/attempt.html", context)


def _render_status(request: HttpRequest, attempt: Attempt, item: Item, part: str, **state) -> HttpResponse:
    context = {"attempt": attempt, "item": item, "part": part, **state}
    return render(request, "exams/attempt.html#save_status", context, status=state.get("status", 200))


@require_POST
@login_required
def save(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    attempt = _get_attempt_for_user(request, pk, edit=True)
    item = _get_item(attempt, item_pk)
    try:
        data = _strict_post(request)
        part = data.get("part", "")
        if item.kind == Item.Kind.TEXT or part not in Answer.Part.values:
            raise Refused("This item takes no answer of that kind.", status=400)
        if part == Answer.Part.CODE and not item.is_drill:
            raise Refused("Only coding drills take code.", status=400)
        try:
            base_revision = int(data.get("revision", ""))
        except ValueError:
            raise Refused("The save was missing its revision; reload the page.", status=400) from None
        saved = save_answer(attempt, item, part, data.get("content", ""), base_revision)
    except Refused as refusal:
        if not request.htmx:
            messages.error(request, f"{item.title}: {refusal.message}")
            return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
        # A stale save learns the current revision; any other refusal echoes what the browser sent.
        sent = request.POST.get("revision", "0")
        revision = refusal.current_revision if refusal.current_revision is not None else (sent if sent.isdigit() else 0)
        return _render_status(
            request,
            attempt,
            item,
            request.POST.get("part", "text"),
            error=refusal.message,
            revision=revision,
            status=refusal.status,
        )
    if not request.htmx:
        messages.success(request, f"{item.title}: saved.")
        return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
    answered_count = len(_answered_ids(Answer.objects.filter(attempt=attempt).only("item", "content")))
    return _render_status(
        request, attempt, item, part, revision=saved.revision, saved_at=saved.saved_at, answered_count=answered_count
    )


@require_POST
@login_required
def reveal_answer(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    attempt = _get_attempt_for_user(request, pk, edit=True)
    item = _get_item(attempt, item_pk)
    if item.kind == Item.Kind.TEXT:
        raise Http404("Reading items have no model answer")
    try:
        reveal(attempt, item, request.user)
    except Refused as refusal:
        if request.htmx:
            return HttpResponse(refusal.message, status=refusal.status)
        messages.error(request, refusal.message)
        return redirect(attempt)
    if not attempt.is_open:
        return redirect("exams:results", pk=attempt.pk)
    if not request.htmx:
        return redirect(f"{attempt.get_absolute_url()}#item-{item.pk}")
    _item_states(attempt, [item])
    attach_runs(attempt, [item])
    return render(request, "exams/attempt.html#item", {"attempt": attempt, "item": item})


@require_GET
@login_required
def clock(request: HttpRequest, pk: int) -> HttpResponse:
    """The countdown's re-sync; once the deadline passes it ends the attempt."""
    attempt = _get_attempt_for_user(request, pk, edit=True)
    attempt.finalize_if_expired()
    if not attempt.is_open:
        results_url = reverse("exams:results", args=[attempt.pk])
        if request.htmx:
            return HttpResponseClientRedirect(results_url)
        return redirect(results_url)
    return render(request, "exams/attempt.html#clock", {"attempt": attempt, "now": timezone.now()})


@login_required
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _get_attempt_for_user(request, pk, edit=True)
    attempt.finalize_if_expired()
    if not attempt.is_open:
        messages.info(request, "This attempt has already ended.")
        return redirect("exams:results", pk=attempt.pk)
    if request.method == "POST":
        attempt.finalize(Attempt.Status.SUBMITTED)
        messages.success(request, "Attempt submitted.")
        return redirect("exams:results", pk=attempt.pk)
    _, items = _attempt_items(attempt)
    unanswered = [
        i
        for i in items
        if i.kind != Item.Kind.TEXT
        and not ((i.text_answer and i.text_answer.content.strip()) or (i.code_answer and i.code_answer.content.strip()))
    ]
    return render(request, "exams/submit.html", {"attempt": attempt, "unanswered": unanswered})


@require_GET
@login_required
def results(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _get_attempt_for_user(request, pk)
    attempt.finalize_if_expired()
    if attempt.is_open and attempt.can_edit(request.user):
        messages.info(request, "Results appear once the attempt is submitted.")
        return redirect(attempt)
    sections, items = _attempt_items(attempt)
    attach_runs(attempt, items)
    for item in items:
        item.revealed_first = item.reveal is not None and not item.reveal.had_answer
    end = attempt.finalized_at or timezone.now()
    context = {
        "attempt": attempt,
        "sections": sections,
        "time_used": end - attempt.started_at,
        "answered": sum(1 for i in items if i.kind != Item.Kind.TEXT and i.answered),
        "answerable": sum(1 for i in items if i.kind != Item.Kind.TEXT),
        "tests": automatic_score(items),
    }
    return render(request, "exams/results.html", context)


@require_GET
@login_required
def my_attempts(request: HttpRequest) -> HttpResponse:
    attempts = list(Attempt.objects.filter(user=request.user).select_related("version", "exam"))
    now = timezone.now()
    for attempt in attempts:
        attempt.finalize_if_expired(now)
    return render(request, "exams/my_attempts.html", {"attempts": attempts})
