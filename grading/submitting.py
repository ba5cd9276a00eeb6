"""The rules of running a drill's tests, and the plumbing that keeps every
submission moving: queue on commit, final runs, regrades, the sweep.

A submission row is always written before anything is sent to the broker,
and the message goes out only once that row is committed (invariant 5): a
worker never looks for a row that does not exist yet, and a broker that loses
the message leaves a row the sweep will find.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import kombu.exceptions
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from exams.models import Answer, Attempt, Item
from exams.state import Panel
from exams.taking import Refused, Saved, check_length, store_answer, writing
from grading.grader import MAX_CODE_BYTES
from grading.models import Submission

log = logging.getLogger(__name__)


def enqueue(submission: Submission) -> None:
    """Send the submission to its queue once the current transaction commits.

    With the broker unreachable (Redis down) the row stays queued and the
    request goes on: the sweep sends it once the broker is back, so a
    candidate's Run tests is stored, not a 500 (docs/operations.md, Faults)."""
    from grading.tasks import grade_submission

    pk, queue = submission.pk, submission.queue

    def send() -> None:
        try:
            grade_submission.apply_async((pk,), queue=queue)
        except kombu.exceptions.OperationalError as exc:
            log.warning("submission %s is stored but could not be queued (%s); the sweep will send it", pk, exc)

    transaction.on_commit(send)


def check_code_size(code: str) -> None:
    size = len(code.encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise Refused(
            f"This code is {size:,} bytes; tests run on at most {MAX_CODE_BYTES // 1024} KB. Nothing was run.",
            status=413,
        )


PENDING_RUN = "Your previous run of this drill has not finished yet; its results will appear here."


def run_tests(
    attempt: Attempt,
    item: Item,
    code: str,
    base_revision: int,
    now: datetime | None = None,
    inputs: dict | None = None,
) -> tuple[Submission | None, Saved | None, Refused | None]:
    """Save `code` as the drill's answer and queue a run of it, in one
    transaction under the attempt's row lock: one deadline check, one lock.

    With `inputs` (the candidate's own arguments, from
    grading.own_input.parse_arguments) the run is a custom one: the code is
    called once on them, under the same limits and the same rate, and the
    run is never scored nor the one that counts.

    Returns the submission, the save (None if the code was saved already) and
    the refusal of the run, if any: a run refused for its size, the rate or a
    pending run still keeps the code, so no keystroke is lost. A refusal of
    the save itself (deadline, reveal lock, stale revision) is raised.
    """
    now = now or timezone.now()
    if not item.is_drill:
        raise Refused("Only coding drills have tests to run.", status=400)
    check_length(code)
    locked = "You revealed the model answer for this drill, so its tests can no longer be run."
    with writing(attempt, item, now, locked=locked) as attempt:
        current = Answer.objects.filter(attempt=attempt, item=item, part=Answer.Part.CODE).first()
        saved = None
        if current is None or current.content != code:
            saved = store_answer(attempt, item, Answer.Part.CODE, code, base_revision, now)
        try:
            check_code_size(code)
            if not code.strip():
                raise Refused("There is no code to run yet.", status=400)
            if Submission.objects.filter(attempt=attempt, item=item, status__in=Submission.PENDING).exists():
                raise Refused(
                    "Your previous run of this drill has not finished yet; its results will appear here.", 429
                )
            _check_rate(attempt, now)
        except Refused as refusal:
            return None, saved, refusal
        if inputs is not None:
            submission = Submission.objects.create(
                attempt=attempt,
                item=item,
                code=code,
                created_at=now,
                queued_at=now,
                source=Submission.Source.CUSTOM,
                custom_input=inputs,
                max_score=0,
            )
        else:
            submission = Submission.objects.create(
                attempt=attempt, item=item, code=code, created_at=now, queued_at=now, max_score=item.points
            )
        enqueue(submission)
    return submission, saved, None


def _check_rate(attempt: Attempt, now: datetime) -> None:
    limit = settings.GRADING_RUNS_PER_MINUTE
    recent = list(
        Submission.objects.filter(
            attempt__user_id=attempt.user_id,
            source__in=(Submission.Source.RUN, Submission.Source.CUSTOM),
            created_at__gt=now - timedelta(minutes=1),
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        wait = max(1, int((recent[0] + timedelta(minutes=1) - now).total_seconds()) + 1)
        raise Refused(f"You can run tests {limit} times a minute. Try again in {wait} s.", status=429)


def latest_submissions(attempt: Attempt) -> dict[int, Submission]:
    """The latest scored submission of each drill of the attempt: the one that
    counts (a run on the candidate's own input never does)."""
    latest: dict[int, Submission] = {}
    for submission in Submission.objects.filter(attempt=attempt, source__in=Submission.SCORED).order_by(
        "item_id", "-created_at", "-pk"
    ):
        latest.setdefault(submission.item_id, submission)
    return latest


def queue_final_runs(attempt: Attempt) -> list[Submission]:
    """When an attempt ends, grade each drill's saved code that no run has
    graded yet, so the score is the score of the code the candidate left."""
    latest = latest_submissions(attempt)
    created = []
    answers = Answer.objects.filter(attempt=attempt, part=Answer.Part.CODE, item__kind=Item.Kind.DRILL)
    for answer in answers.select_related("item"):
        previous = latest.get(answer.item_id)
        if not answer.content.strip() or (previous is not None and previous.code == answer.content):
            continue
        with transaction.atomic():
            submission = Submission.objects.create(
                attempt=attempt,
                item=answer.item,
                code=answer.content,
                source=Submission.Source.FINAL,
                max_score=answer.item.points,
            )
            enqueue(submission)
        created.append(submission)
    return created


def regrade(submissions: QuerySet, now: datetime | None = None) -> list[int]:
    """Grade finished submissions again on the bulk queue; each keeps its
    current result in `earlier_results`. Pending ones are left alone (they are
    about to be graded anyway). Returns the ids of those queued."""
    now = now or timezone.now()
    queued = []
    finished = submissions.exclude(status__in=Submission.PENDING).exclude(source=Submission.Source.CUSTOM)
    for pk in finished.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            submission = (
                Submission.objects.select_for_update().filter(pk=pk).exclude(status__in=Submission.PENDING).first()
            )
            if submission is None:
                continue
            submission.earlier_results.append(
                {
                    "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
                    "status": submission.status,
                    "passed": submission.passed,
                    "total": submission.total,
                    "score": submission.score,
                    "result": submission.result,
                }
            )
            submission.status = Submission.Status.QUEUED
            submission.queue = Submission.REGRADE_QUEUE
            submission.queued_at = now
            submission.progress = 0
            submission.claims = 0
            submission.save(update_fields=["earlier_results", "status", "queue", "queued_at", "progress", "claims"])
            enqueue(submission)
        queued.append(pk)
    return queued


def sweep(now: datetime | None = None) -> int:
    """Send again what no worker is working on: submissions queued for too
    long (a message the broker lost) and claims that lapsed (a worker that
    died). A duplicate message is harmless: only one claim can win."""
    now = now or timezone.now()
    waited_since = now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER_SECONDS)
    stuck = Q(status=Submission.Status.QUEUED, queued_at__lt=waited_since)
    lapsed = Q(status=Submission.Status.RUNNING, lease_until__lt=now)
    sent = 0
    for submission in Submission.objects.filter(stuck | lapsed).only("pk", "status", "queue", "queued_at"):
        with transaction.atomic():
            # Conditional on what was read, so a worker's claim in between wins.
            updated = Submission.objects.filter(pk=submission.pk, status=submission.status).filter(stuck | lapsed)
            if updated.update(status=Submission.Status.QUEUED, queued_at=now):
                enqueue(submission)
                sent += 1
    return sent


# A run as lists show it: not its code, not its earlier grades, and of its
# item only what the result names (never the item's hidden answer).
RUN_FIELDS = [
    *(f.name for f in Submission._meta.concrete_fields if f.name not in ("code", "earlier_results")),
    "item__entry_point",
    "item__title",
    "item__points",
]


@dataclass
class DrillRuns:
    """A drill's runs in an attempt: the latest scored one (the one that
    counts), the latest on the candidate's own input, and the history."""

    latest: Submission | None
    earlier: list[Submission]
    count: int
    custom: Submission | None = None  # the latest run on the candidate's own input
    # While a run is pending, the finished run of the same kind before it (shown dimmed).
    previous: Submission | None = None
    custom_previous: Submission | None = None

    @property
    def pending(self) -> bool:
        return any(run is not None and run.is_pending for run in (self.latest, self.custom))

    @property
    def earlier_count(self) -> int:
        return self.count - (1 if self.latest else 0)


def drill_runs(attempt: Attempt, item_pks: list[int], history: int = 10) -> dict[int, DrillRuns]:
    """The runs of each of these drills, in one query."""
    runs: dict[int, list[Submission]] = {pk: [] for pk in item_pks}
    if item_pks:
        rows = Submission.objects.filter(attempt=attempt, item_id__in=item_pks).select_related("item")
        for submission in rows.only(*RUN_FIELDS).order_by("-created_at", "-pk"):
            runs[submission.item_id].append(submission)
    return {pk: _drill_runs(rows, history) for pk, rows in runs.items()}


def _drill_runs(rows: list[Submission], history: int) -> DrillRuns:
    scored = [run for run in rows if not run.is_custom]
    custom = [run for run in rows if run.is_custom]
    latest = scored[0] if scored else None
    return DrillRuns(
        latest=latest,
        earlier=[run for run in rows if run is not latest][:history],
        count=len(rows),
        custom=custom[0] if custom else None,
        previous=_previous(scored),
        custom_previous=_previous(custom),
    )


def _previous(runs: list[Submission]) -> Submission | None:
    if runs and runs[0].is_pending:
        return next((run for run in runs[1:] if not run.is_pending), None)
    return None


def add_run_panels(attempt: Attempt, items: list) -> None:
    """The attempt page's panel of each drill: Run tests and its results.
    Registered with `exams.state.register_panels`."""
    drills = [item for item in items if item.is_drill]
    runs = drill_runs(attempt, [item.pk for item in drills])
    for item in drills:
        latest = runs[item.pk].latest
        graded = latest is not None and latest.status == Submission.Status.GRADED
        item.panels.append(
            Panel(
                "grading/_runs.html",
                actions="grading/_run_button.html",
                data=runs[item.pk],
                # A run answers the drill even with the starter code (the navigator, the answered count).
                answered=runs[item.pk].count > 0,
                tests=(latest.passed, latest.total) if graded else None,
            )
        )
