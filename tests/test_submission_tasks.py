"""The life of a submission behind the page: claims, leases, retries, the
sweep, final runs at the end of an attempt, and regrades."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from celery.exceptions import Retry
from django.core.management import CommandError, call_command
from django.utils import timezone

from exams.models import Answer
from grading.models import Submission
from grading.submitting import sweep
from grading.tasks import grade_submission
from tests.test_runs import RIGHT, WRONG

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_grading")]


@pytest.fixture
def queued(attempt, drill):
    return Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, max_score=drill.points)


def test_grading_the_same_submission_twice_stores_one_result(queued):
    assert grade_submission(queued.pk) == "graded"
    first = Submission.objects.get(pk=queued.pk)
    assert grade_submission(queued.pk) == "nothing to do"
    again = Submission.objects.get(pk=queued.pk)
    assert (again.claims, again.finished_at, again.result) == (1, first.finished_at, first.result)


def test_a_deleted_submission_is_nothing_to_do(queued):
    pk = queued.pk
    queued.delete()
    assert grade_submission(pk) == "nothing to do"


def test_a_delivery_during_a_live_claim_looks_again_after_the_lease(queued):
    assert Submission.claim(queued.pk) == 1
    with pytest.raises(Retry):
        grade_submission(queued.pk)
    assert Submission.objects.get(pk=queued.pk).claims == 1  # it did not take the submission


def test_a_lapsed_claim_is_taken_over_and_the_late_result_is_dropped(queued):
    now = timezone.now()
    first = Submission.claim(queued.pk, now)
    assert Submission.claim(queued.pk, now + timedelta(seconds=5)) is None  # still leased
    later = now + Submission.lease() + timedelta(seconds=1)
    second = Submission.claim(queued.pk, later)
    assert (first, second) == (1, 2)
    late = {"status": "graded", "passed": 0, "total": 3, "score": 0.0, "max_score": 10}
    assert not queued.record(first, late)  # the dead worker's result, if it ever came
    with time_machine.travel(later + timedelta(seconds=1)):
        Submission.objects.filter(pk=queued.pk).update(lease_until=later - timedelta(seconds=1))
        assert grade_submission(queued.pk) == "graded"
    graded = Submission.objects.get(pk=queued.pk)
    assert (graded.claims, graded.passed) == (3, 3)


def test_a_submission_interrupted_too_often_is_given_up(queued, settings):
    Submission.objects.filter(pk=queued.pk).update(
        status="running", claims=settings.GRADING_MAX_CLAIMS, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert grade_submission(queued.pk) == "given up"
    queued.refresh_from_db()
    assert queued.status == "error"
    assert "interrupted" in queued.error


def test_progress_is_recorded_as_each_case_ends(queued, monkeypatch):
    seen = []
    original = Submission.set_progress

    def spy(self, claim, percent):
        seen.append(percent)
        original(self, claim, percent)

    monkeypatch.setattr(Submission, "set_progress", spy)
    grade_submission(queued.pk)
    # The claim set 0%; then a step per case the harness was heard answering
    # (fast cases arrive together), each told once; 100% is the stored result.
    assert seen[0] == 33
    assert seen == sorted(set(seen)) and all(0 < percent < 100 for percent in seen)


def test_the_sweep_resends_what_no_worker_is_working_on(attempt, drill, settings, django_capture_on_commit_callbacks):
    now = timezone.now()
    old = now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER_SECONDS + 1)
    lost = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, queued_at=old)
    fresh = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, queued_at=now)
    dead = Submission.objects.create(
        attempt=attempt, item=drill, code=WRONG, status="running", claims=1, lease_until=now - timedelta(seconds=1)
    )
    alive = Submission.objects.create(
        attempt=attempt, item=drill, code=WRONG, status="running", claims=1, lease_until=now + timedelta(seconds=60)
    )
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert sweep(now) == 2
    assert len(sent) == 2
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "graded", fresh.pk: "queued", dead.pk: "graded", alive.pk: "running"}


def test_sweep_is_scheduled(settings):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-submissions"]["task"] == "grading.sweep_submissions"


def test_ending_an_attempt_grades_the_final_code_once(
    candidate_client, attempt, drill, django_capture_on_commit_callbacks
):
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=RIGHT, revision=1)
    with django_capture_on_commit_callbacks(execute=True):
        candidate_client.post(f"/attempts/{attempt.pk}/submit/")
    final = Submission.objects.get()
    assert (final.source, final.status, final.score) == ("final", "graded", drill.points)
    results = candidate_client.get(f"/attempts/{attempt.pk}/results/").content.decode()
    assert "Tests score" in results
    assert f"Tests: <strong>{drill.points}</strong> of {drill.points}" in results


def test_an_expired_attempt_grades_its_final_code_too(attempt, drill, django_capture_on_commit_callbacks):
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=WRONG, revision=1)
    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(attempt.deadline + timedelta(minutes=1)),
    ):
        call_command("finalize_expired", stdout=StringIO())
    final = Submission.objects.get()
    assert (final.source, final.status, final.passed) == ("final", "graded", 0)


def test_no_final_run_when_the_last_run_already_graded_the_code(attempt, drill):
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=RIGHT, revision=1)
    Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, status="graded")
    attempt.finalize()
    assert Submission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_regrade_keeps_the_earlier_result_and_uses_the_bulk_queue(queued):
    grade_submission(queued.pk)
    Submission.objects.filter(pk=queued.pk).update(passed=1, score=3.33)  # as an older grader had it
    out = StringIO()
    call_command("regrade", "--exam", "mini-exam", "--wait", "5", stdout=out)
    regraded = Submission.objects.get(pk=queued.pk)
    assert (regraded.status, regraded.queue, regraded.passed) == ("graded", Submission.REGRADE_QUEUE, 3)
    assert [(e["passed"], e["score"]) for e in regraded.earlier_results] == [(1, 3.33)]
    text = out.getvalue()
    assert "1 submission(s) of mini-exam queued for regrading on the 'regrade' queue" in text
    assert "1/3 3.33 -> 3/3 10.0" in text
    assert "1 regraded: 0 unchanged, 1 changed." in text


def test_regrade_leaves_pending_submissions_alone(queued):
    out = StringIO()
    call_command("regrade", "--exam", "mini-exam", stdout=out)
    assert "0 submission(s)" in out.getvalue()
    assert Submission.objects.get(pk=queued.pk).earlier_results == []


def test_regrade_of_an_unknown_exam_says_which_exist(mini_exam):
    with pytest.raises(CommandError, match="unknown exam 'nope' \\(known: mini-exam\\)"):
        call_command("regrade", "--exam", "nope")


def test_output_with_nul_characters_is_stored_as_a_graded_result(attempt, drill):
    # PostgreSQL refuses NUL in text and jsonb; the grade must be stored anyway.
    code = 'def add(a, b):\n    print("out\\x00put")\n    raise ValueError("bad\\x00value")\n'
    submission = Submission.objects.create(attempt=attempt, item=drill, code=code)
    assert grade_submission(submission.pk) == "graded"
    submission.refresh_from_db()
    sample = submission.visible_cases[0]
    assert (sample["reason"], sample["message"], sample["stdout"]) == (
        "exception",
        "ValueError: bad\ufffdvalue",
        "out\ufffdput\n",
    )
