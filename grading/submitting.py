"""The rules of running a drill's tests, and the plumbing that keeps every
submission moving: queue on commit, final runs, regrades, the sweep.

A submission row is always written before anything is sent to the broker,
and the message goes out only once that row is committed (invariant 5): a
worker never looks for a row that does not exist yet, and a broker that loses
the message leaves a row the sweep will find.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from exams.models import Answer, Attempt, Item
from exams.taking import Refused, check_writable, is_locked
from grading.grader import MAX_CODE_BYTES
from grading.models import Submission


def enqueue(submission: Submission) -> None:
    """Send the submission to its queue once the current transaction commits."""
    from grading.tasks import grade_submission

    pk, queue = submission.pk, submission.queue
    transaction.on_commit(lambda: grade_submission.apply_async((pk,), queue=queue))


def check_code_size(code: str) -> None:
    size = len(code.encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise Refused(
            f"This code is {size:,} bytes; tests run on at most {MAX_CODE_BYTES // 1024} KB. Nothing was run.",
            status=413,
        )


def run_tests(attempt: Attempt, item: Item, code: str, now: datetime | None = None) -> Submission:
    """Store a run of `code` against the drill's tests and queue it."""
    now = now or timezone.now()
    if not item.is_drill:
        raise Refused("Only coding drills have tests to run.", status=400)
    check_code_size(code)
    if not code.strip():
        raise Refused("There is no code to run yet.", status=400)
    attempt.finalize_if_expired(now)
    with transaction.atomic():
        # Locking the attempt serializes runs of one candidate, so the checks
        # below cannot both pass for two simultaneous clicks.
        attempt = Attempt.objects.select_for_update().select_related("version").get(pk=attempt.pk)
        check_writable(attempt, now)
        if is_locked(attempt, item):
            raise Refused("You revealed the model answer for this drill, so its tests can no longer be run.", 403)
        if Submission.objects.filter(attempt=attempt, item=item, status__in=Submission.PENDING).exists():
            raise Refused("Your previous run of this drill has not finished yet; its results will appear here.", 429)
        _check_rate(attempt, now)
        submission = Submission.objects.create(
            attempt=attempt, item=item, code=code, created_at=now, queued_at=now, max_score=item.points
        )
        enqueue(submission)
    return submission


def _check_rate(attempt: Attempt, now: datetime) -> None:
    limit = settings.GRADING_RUNS_PER_MINUTE
    recent = list(
        Submission.objects.filter(
            attempt__user_id=attempt.user_id, source=Submission.Source.RUN, created_at__gt=now - timedelta(minutes=1)
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        wait = max(1, int((recent[0] + timedelta(minutes=1) - now).total_seconds()) + 1)
        raise Refused(f"You can run tests {limit} times a minute. Try again in {wait} s.", status=429)


def latest_submissions(attempt: Attempt) -> dict[int, Submission]:
    """The latest submission of each drill of the attempt: the one that counts."""
    latest: dict[int, Submission] = {}
    for submission in Submission.objects.filter(attempt=attempt).order_by("item_id", "-created_at", "-pk"):
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
    finished = submissions.exclude(status__in=Submission.PENDING)
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


def attach_runs(attempt: Attempt, items: list[Item], history: int = 10) -> None:
    """Give each drill its latest run (`latest_run`, the one that counts) and
    up to `history` earlier ones (`earlier_runs`), in one query."""
    drills = [item for item in items if item.is_drill]
    runs: dict[int, list[Submission]] = {item.pk: [] for item in drills}
    if drills:
        rows = Submission.objects.filter(attempt=attempt, item__in=drills).defer("code", "earlier_results")
        for submission in rows.order_by("-created_at", "-pk"):
            runs[submission.item_id].append(submission)
    for item in drills:
        for submission in runs[item.pk]:
            submission.item = item  # already loaded: the template names its entry point
        item.latest_run = runs[item.pk][0] if runs[item.pk] else None
        item.earlier_runs = runs[item.pk][1 : 1 + history]
        item.run_count = len(runs[item.pk])


@dataclass
class TestScore:
    """The attempt's automatic score: the sum over drills of their latest run."""

    score: float
    max_score: int
    pending: int  # drills whose latest run is still queued or running


def automatic_score(items: list[Item]) -> TestScore:
    """From items that went through attach_runs."""
    drills = [item for item in items if item.is_drill]
    runs = [item.latest_run for item in drills if item.latest_run is not None]
    graded = [run for run in runs if run.status == Submission.Status.GRADED]
    return TestScore(
        score=round(sum(run.score for run in graded), 2),
        max_score=sum(item.points for item in drills),
        pending=sum(1 for run in runs if run.is_pending),
    )
