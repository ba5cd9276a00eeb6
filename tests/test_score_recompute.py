"""Stored scores follow what they are made of: an attempt that ends, a run
graded after it ended (final runs, regrades), a review finalized or reopened.
`grading.scoring.recompute` is the one writer; each hook is proven here."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exams.models import Answer, Attempt, Exam
from grading import reviewing
from grading.models import AttemptScore, ItemScore, Mark, Membership, Review, Submission, Team
from grading.scoring import recompute
from grading.submitting import regrade
from grading.tasks import grade_submission
from tests.sandbox_support import need_bubblewrap
from tests.test_runs import RIGHT

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_grading")]
D = Decimal


@pytest.fixture
def question(attempt):
    return attempt.version.items.get(slug="first")


def stored(attempt) -> AttemptScore:
    return AttemptScore.objects.get(attempt=attempt)


def test_an_open_attempt_has_no_stored_score(attempt):
    assert not AttemptScore.objects.filter(attempt=attempt).exists()


def test_ending_an_attempt_stores_its_score_awaiting_review(attempt, drill, question):
    attempt.finalize()
    score = stored(attempt)
    assert (score.total, score.max_points, score.percent) == (D("0.00"), 18, D("0.00"))
    assert (score.is_final, score.review, score.pending_runs) == (False, None, 0)
    assert score.sections == [
        {"slug": "basics", "title": "Basics", "score": "0.00", "max": 4},
        {"slug": "coding", "title": "Coding", "score": "0.00", "max": 12},
    ]
    assert [signal["hit"] for signal in score.signals] == [False, False]
    rows = {row.item_id: row for row in ItemScore.objects.filter(attempt=attempt)}
    assert set(rows) == {drill.pk, question.pk}
    assert (rows[question.pk].rubric, rows[question.pk].scored_by) == (None, None)
    assert (rows[drill.pk].tests, rows[drill.pk].tests_max, rows[drill.pk].rubric_max) == (D("0.00"), 10, 2)


def test_the_final_run_is_pending_in_the_stored_score_until_it_is_graded(
    attempt, drill, django_capture_on_commit_callbacks
):
    need_bubblewrap()
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=RIGHT, revision=1)
    with django_capture_on_commit_callbacks() as queued:
        attempt.finalize()
    score = stored(attempt)
    assert (score.pending_runs, score.tests) == (1, D("0.00"))
    assert ItemScore.objects.get(attempt=attempt, item=drill).tests is None
    for send in queued:  # the broker delivers: the run is graded in-process
        send()
    assert Submission.objects.get().status == "graded"
    score = stored(attempt)
    assert (score.pending_runs, score.tests, score.total) == (0, D("10.00"), D("10.00"))
    assert ItemScore.objects.get(attempt=attempt, item=drill).tests == D("10.00")


def test_a_regrade_of_an_ended_attempt_reaches_its_stored_score(attempt, drill, django_capture_on_commit_callbacks):
    need_bubblewrap()
    # An older grader gave the right code 0; the candidate's last code is that code.
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=RIGHT, revision=1)
    Submission.objects.create(
        attempt=attempt, item=drill, code=RIGHT, status="graded", score=0.0, finished_at=timezone.now()
    )
    attempt.finalize()
    assert stored(attempt).tests == D("0.00")
    with django_capture_on_commit_callbacks(execute=True):
        assert len(regrade(Submission.objects.all())) == 1
    assert stored(attempt).tests == D("10.00")


def test_a_run_graded_while_the_attempt_is_open_stores_no_score(attempt, drill):
    need_bubblewrap()
    submission = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT)
    assert grade_submission(submission.pk) == "graded"
    assert not AttemptScore.objects.filter(attempt=attempt).exists()


def test_a_run_given_up_on_after_the_attempt_ended_is_no_longer_pending(attempt, drill, settings):
    submission = Submission.objects.create(
        attempt=attempt,
        item=drill,
        code=RIGHT,
        status="running",
        claims=settings.GRADING_MAX_CLAIMS,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    attempt.finalize()
    assert stored(attempt).pending_runs == 1
    assert grade_submission(submission.pk) == "given up"
    assert (stored(attempt).pending_runs, stored(attempt).tests) == (0, D("0.00"))


@pytest.fixture
def reviewer(personas, attempt):
    team = Team.objects.create(name="T", slug="t")
    Membership.objects.create(team=team, user=personas.candidate)
    Membership.objects.create(team=team, user=personas.other, role=Membership.Role.REVIEWER)
    return personas.other


def mark(attempt, reviewer, item, revision, adjustment="0", reason=""):
    return reviewing.mark(
        attempt,
        reviewer,
        item,
        criteria_ids=[],
        adjustment=D(adjustment),
        reason=reason,
        comment="",
        revision=revision,
    )


def test_finalizing_a_review_scores_from_it_and_reopening_makes_it_provisional(attempt, question, reviewer):
    attempt.finalize()
    mark(attempt, reviewer, question, 0, adjustment="3", reason="Clear")
    assert stored(attempt).total == D("0.00")  # a draft does not count
    review = reviewing.finalize(attempt, reviewer, 1)
    score = stored(attempt)
    assert (score.total, score.is_final, score.review) == (D("3.00"), True, review)
    assert ItemScore.objects.get(attempt=attempt, item=question).scored_by == reviewer
    reviewing.reopen(review, reviewer, "Recount")
    score = stored(attempt)
    assert (score.total, score.is_final, score.review) == (D("0.00"), False, None)
    assert ItemScore.objects.get(attempt=attempt, item=question).scored_by is None


def test_a_final_review_with_a_run_pending_is_not_final_yet(attempt, drill, question, reviewer):
    Submission.objects.create(attempt=attempt, item=drill, code=RIGHT)  # queued, never delivered here
    attempt.finalize()
    mark(attempt, reviewer, question, 0)
    reviewing.finalize(attempt, reviewer, 1)
    assert (stored(attempt).pending_runs, stored(attempt).is_final) == (1, False)


def test_the_most_recently_finalized_review_counts(attempt, question, personas):
    attempt.finalize()
    now = timezone.now()
    for reviewer, adjustment, minutes in [(personas.staff, "1", 2), (personas.other, "2", 1)]:
        review = Review.objects.create(
            attempt=attempt, reviewer=reviewer, status="final", finalized_at=now - timedelta(minutes=minutes)
        )
        Mark.objects.create(review=review, item=question, adjustment=D(adjustment), reason="r")
    score = recompute(attempt)
    assert (score.total, score.review.reviewer) == (D("2.00"), personas.other)


def test_an_item_score_names_the_reviewer_only_where_a_rubric_part_was_scored(db, pack, personas):
    # A drill without a written part: nothing of it is the reviewer's.
    text = pack.drill.joinpath("item.md").read_text()
    pack.write("02-coding/01-add/item.md", text[: text.index("## Written part")] + text[text.index("## Model") :])
    call_command("import_exams", str(pack.root), stdout=StringIO())
    attempt, _ = Attempt.start(personas.candidate, Exam.objects.get(slug="mini-exam"), Attempt.Mode.PRACTICE)
    attempt.finalize()
    question, drill = (attempt.version.items.get(slug=slug) for slug in ("first", "add"))
    review = Review.objects.create(
        attempt=attempt, reviewer=personas.staff, status="final", finalized_at=timezone.now()
    )
    Mark.objects.create(review=review, item=question)
    recompute(attempt)
    rows = {row.item_id: row for row in ItemScore.objects.filter(attempt=attempt)}
    assert (rows[question.pk].review, rows[question.pk].scored_by) == (review, personas.staff)
    assert (rows[drill.pk].rubric_max, rows[drill.pk].review, rows[drill.pk].scored_by) == (0, None, None)


def test_recomputing_again_updates_the_same_rows(attempt):
    attempt.finalize()
    first = {row.item_id: row.pk for row in ItemScore.objects.filter(attempt=attempt)}
    recompute(attempt.pk)
    assert {row.item_id: row.pk for row in ItemScore.objects.filter(attempt=attempt)} == first
    assert AttemptScore.objects.filter(attempt=attempt).count() == 1


def test_attempts_and_their_scores_are_read_in_one_query(mini_exam, personas):
    for user in (personas.candidate, personas.other):
        Attempt.start(user, mini_exam, Attempt.Mode.PRACTICE)[0].finalize()
    with CaptureQueriesContext(connection) as captured:
        totals = [(a.user_id, a.score.total) for a in Attempt.objects.select_related("score")]
    assert len(totals) == 2
    assert len(captured) == 1
