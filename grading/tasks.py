"""Celery tasks of grading. The state lives on the Submission row, not in a
result backend; every task takes a primary key and is safe to run twice."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from grading import grader
from grading.models import Submission
from grading.submitting import sweep

log = logging.getLogger(__name__)


@shared_task(bind=True, name="grading.grade_submission", acks_late=True, reject_on_worker_lost=True, max_retries=10)
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
        submission.record(claim, _error(submission, why))
        return "given up"
    try:
        # The claim already set 0%: write only real progress.
        progress = lambda percent: percent and submission.set_progress(claim, percent)  # noqa: E731
        result = grader.grade(submission.item, submission.code, progress)
        outcome = result.as_dict()
    except SoftTimeLimitExceeded:
        outcome = _error(submission, "grading took longer than the time allowed")
    stored = submission.record(claim, outcome)
    if not stored:
        log.info("submission %s: claim %s was superseded; its result was dropped", submission_id, claim)
    return submission.status if stored else "superseded"


def _error(submission: Submission, why: str) -> dict:
    empty = grader.GradeResult(status="error", error=why, max_score=submission.item.points)
    empty.total = submission.item.cases.count()
    return empty.as_dict()


@shared_task(name="grading.sweep_submissions", ignore_result=True)
def sweep_submissions() -> int:
    """Re-send submissions stuck in the queue or left by a dead worker."""
    return sweep()
