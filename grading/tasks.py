"""Celery tasks of grading. The state lives on the Submission row, not in a
result backend; every task takes a primary key and is safe to run twice."""

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from grading import grader
from grading.models import Submission
from grading.scoring import recompute_if_finalized
from grading.submitting import sweep

log = logging.getLogger(__name__)


TOO_LONG = "grading took longer than the time allowed"


class GradingTask(Task):
    """Time limits are the worker's, and a grading past them ends as an error.

    Celery stamps the *sender's* `task_time_limit` and `task_soft_time_limit`
    into every message, and a worker obeys the message over its own settings.
    So a web process configured apart from the worker (or a test process with
    the defaults) set the limits, and the worker's limits never fired, while
    the worker's lease (`Submission.lease`, from its own settings) assumed
    them. Messages of this task carry no limits: the worker's apply."""

    def apply_async(self, args=None, kwargs=None, **options):
        options.setdefault("time_limit", None)
        options.setdefault("soft_time_limit", None)
        return super().apply_async(args, kwargs, **options)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Soft limit outside the grading itself (claiming, storing), in the
        # pool process; hard limit, in the worker's main process after the
        # pool process was killed. Either way the claim is still ours: it
        # lasts the hard limit plus a margin.
        if isinstance(exc, (SoftTimeLimitExceeded, TimeLimitExceeded)) and args:
            try:
                _store_time_out(args[0])
            except Exception:
                log.exception("submission %s: could not store its time-out", args[0])


@shared_task(
    base=GradingTask,
    bind=True,
    name="grading.grade_submission",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=10,
)
def grade_submission(self, submission_id: int) -> str:
    """Grade one submission in the sandbox and store the result on its row.

    A second delivery of the same message finds the row already claimed or
    graded and does nothing; a delivery that finds a claim still running
    (its worker may have died) looks again once that claim's lease is over."""
    claim = Submission.claim(submission_id)
    if claim is None:
        row = Submission.objects.filter(pk=submission_id).values("status", "lease_until").first()
        if row is None or row["status"] != Submission.Status.RUNNING:
            return "nothing to do"
        wait = (row["lease_until"] - timezone.now()).total_seconds() if row["lease_until"] else 0
        raise self.retry(countdown=max(1, round(wait) + 1))
    submission = Submission.objects.select_related("item").get(pk=submission_id)
    if claim > settings.GRADING_MAX_CLAIMS:
        why = f"grading was interrupted {claim - 1} times; this submission was given up on"
        if submission.record(claim, _error(submission, why)):
            _rescore(submission)
        return "given up"
    if not submission.is_custom:
        # How many tests there are, for "3 of 12 tests done" while it runs.
        total = submission.item.cases.count()
        Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING, claims=claim).update(total=total)
    try:
        # The claim already set 0%: write only real progress.
        progress = lambda percent: percent and submission.set_progress(claim, percent)  # noqa: E731
        if submission.is_custom:
            result = grader.run_own_input(submission.item, submission.code, submission.custom_input or {}, progress)
        else:
            result = grader.grade(submission.item, submission.code, progress)
        outcome = result.as_dict()
    except SoftTimeLimitExceeded:
        outcome = _error(submission, TOO_LONG)
    stored = submission.record(claim, outcome)
    if stored:
        _rescore(submission)
    else:
        log.info("submission %s: claim %s was superseded; its result was dropped", submission_id, claim)
    return submission.status if stored else "superseded"


def _store_time_out(submission_id: int) -> None:
    close_old_connections()  # the worker's main process may hold a stale one
    now = timezone.now()
    running = Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING, lease_until__gt=now)
    claim = running.values_list("claims", flat=True).first()
    if claim is None:
        return  # stored already, or another claim took over
    submission = Submission.objects.select_related("item").get(pk=submission_id)
    if submission.record(claim, _error(submission, TOO_LONG)):
        log.warning("submission %s: claim %s ran past the time limit; stored as an error", submission_id, claim)
        _rescore(submission)


def _rescore(submission: Submission) -> None:
    """A finalized attempt's stored score counts this run now (a final run,
    or a regrade); an open attempt is scored when it ends."""
    recompute_if_finalized(submission.attempt_id)


def _error(submission: Submission, why: str) -> dict:
    if submission.is_custom:
        return grader.GradeResult(status="error", error=why).as_dict()
    empty = grader.GradeResult(status="error", error=why, max_score=submission.item.points)
    empty.total = submission.item.cases.count()
    return empty.as_dict()


@shared_task(name="grading.sweep_submissions", ignore_result=True)
def sweep_submissions() -> int:
    """Re-send submissions stuck in the queue or left by a dead worker."""
    return sweep()
