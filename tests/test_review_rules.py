"""The rules of reviewing: marking a part, revisions, a second reviewer,
finalizing and reopening. Every refusal leaves the database as it was."""

import threading
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.forms.models import model_to_dict

from exams.models import Attempt, Exam, Item, RubricCriterion
from exams.taking import Refused
from grading import reviewing
from grading.models import AttemptScore, ItemScore, Mark, Membership, Review, ReviewEvent, Team

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def exam(db, pack):
    """The test pack with a reading added: a question worth 4 (no criteria),
    a drill worth 10 + 2 written (one +2 criterion), exam-wide +2 and -1."""
    pack.write("01-basics/00-intro.md", "---\ntitle: Intro\nkind: text\n---\nRead this first.\n")
    call_command("import_exams", str(pack.root), stdout=StringIO())
    return Exam.objects.select_related("current_version").get(slug="mini-exam")


@pytest.fixture
def people(personas):
    """personas plus the team T's reviewer, a second reviewer of T and a reviewer of another team."""
    User = get_user_model()
    t, u = Team.objects.create(name="T", slug="t"), Team.objects.create(name="U", slug="u")
    personas.reviewer = User.objects.create_user("rita", password="pw")
    personas.second = User.objects.create_user("ronald", password="pw")
    personas.outsider = User.objects.create_user("ursula", password="pw")
    Membership.objects.create(team=t, user=personas.candidate)
    Membership.objects.create(team=t, user=personas.reviewer, role=Membership.Role.REVIEWER)
    Membership.objects.create(team=t, user=personas.second, role=Membership.Role.OWNER)
    Membership.objects.create(team=u, user=personas.outsider, role=Membership.Role.REVIEWER)
    return personas


@pytest.fixture
def attempt(exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    attempt.finalize()
    return attempt


@pytest.fixture
def parts(attempt):
    items = {item.slug: item for item in attempt.version.items.all()}
    criteria = RubricCriterion.objects.filter(version=attempt.version)
    return {
        "question": items["first"],
        "drill": items["add"],
        "reading": items["intro"],
        "drill_criterion": criteria.get(item=items["add"]),
        "strong": criteria.get(item=None, points__gt=0),
        "weak": criteria.get(item=None, points__lt=0),
    }


def mark(attempt, reviewer, item, revision=0, criteria=(), adjustment="0", reason="", comment=""):
    return reviewing.mark(
        attempt,
        reviewer,
        item,
        criteria_ids=[c if isinstance(c, int) else c.pk for c in criteria],
        adjustment=D(adjustment),
        reason=reason,
        comment=comment,
        revision=revision,
    )


def snapshot() -> dict:
    """Everything reviewing may write, to compare before and after a refusal."""
    return {
        "reviews": [model_to_dict(r) for r in Review.objects.order_by("pk")],
        "marks": [model_to_dict(m) for m in Mark.objects.order_by("pk")],
        "events": list(ReviewEvent.objects.order_by("pk").values()),
        "scores": list(AttemptScore.objects.values()),
        "item_scores": list(ItemScore.objects.order_by("pk").values()),
    }


def refused(call, status: int) -> Refused:
    before = snapshot()
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.status == status, caught.value.message
    assert snapshot() == before
    return caught.value


# Marking.


def test_the_first_mark_starts_a_draft_review_with_an_event(attempt, people, parts):
    review = mark(attempt, people.reviewer, parts["drill"], criteria=[parts["drill_criterion"]], comment="Neat.")
    assert (review.status, review.revision) == (Review.Status.DRAFT, 1)
    entry = Mark.objects.get(review=review)
    assert (entry.item, entry.comment, list(entry.criteria.all())) == (
        parts["drill"],
        "Neat.",
        [parts["drill_criterion"]],
    )
    assert list(review.events.values_list("action", "actor")) == [("started", people.reviewer.pk)]


def test_each_mark_moves_the_revision_on_and_sets_the_ticks_exactly(attempt, people, parts):
    mark(attempt, people.reviewer, None, criteria=[parts["strong"], parts["weak"]])
    review = mark(attempt, people.reviewer, None, revision=1, criteria=[parts["weak"]])
    assert review.revision == 2
    overall = Mark.objects.get(review=review, item=None)
    assert list(overall.criteria.all()) == [parts["weak"]]
    assert Mark.objects.count() == 1


def test_one_review_holds_one_mark_per_part(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"], adjustment="1", reason="clear")
    review = mark(attempt, people.reviewer, parts["question"], revision=1, adjustment="2", reason="very clear")
    assert list(review.marks.values_list("adjustment", "reason")) == [(D("2.00"), "very clear")]


@pytest.mark.parametrize("who", ["candidate", "outsider", "other"])
def test_the_candidate_and_strangers_may_not_review(attempt, people, parts, who):
    error = refused(lambda: mark(attempt, getattr(people, who), parts["question"]), 403)
    assert error.message == "You may not review this attempt."


def test_nobody_reviews_an_open_attempt(exam, people, parts):
    open_attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    refused(lambda: mark(open_attempt, people.reviewer, parts["question"]), 403)


def test_it_refuses_a_reading(attempt, people, parts):
    refused(lambda: mark(attempt, people.reviewer, parts["reading"]), 400)


def test_it_refuses_an_item_of_another_exam_version(attempt, people, parts, pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First question\nkind: question\npoints: 5\n---\nChanged.\n")
    call_command("import_exams", str(pack.root), stdout=StringIO())
    newer = Item.objects.exclude(version=attempt.version).get(slug="first")
    refused(lambda: mark(attempt, people.reviewer, newer), 400)


def test_it_refuses_a_criterion_of_another_item(attempt, people, parts):
    error = refused(lambda: mark(attempt, people.reviewer, parts["question"], criteria=[parts["drill_criterion"]]), 400)
    assert error.message == f"Criterion {parts['drill_criterion'].pk} is not part of this item's rubric."


def test_it_refuses_an_exam_wide_criterion_on_an_item_and_an_items_criterion_overall(attempt, people, parts):
    refused(lambda: mark(attempt, people.reviewer, parts["drill"], criteria=[parts["strong"]]), 400)
    refused(lambda: mark(attempt, people.reviewer, None, criteria=[parts["drill_criterion"]]), 400)


def test_it_refuses_a_criterion_of_another_version(attempt, people, parts, pack):
    pack.write("02-coding/01-add/item.md", pack.drill.joinpath("item.md").read_text().replace("Write", "Please write"))
    call_command("import_exams", str(pack.root), stdout=StringIO())
    newer = RubricCriterion.objects.exclude(version=attempt.version).get(item__slug="add")
    refused(lambda: mark(attempt, people.reviewer, parts["drill"], criteria=[newer]), 400)


def test_it_refuses_an_unknown_criterion(attempt, people, parts):
    error = refused(lambda: mark(attempt, people.reviewer, parts["drill"], criteria=[999_999]), 400)
    assert "Criterion 999999" in error.message


@pytest.mark.parametrize("adjustment", ["-1000", "1000", "4.01", "NaN", "Infinity"])
def test_it_refuses_an_adjustment_beyond_the_parts_points(attempt, people, parts, adjustment):
    error = refused(
        lambda: mark(attempt, people.reviewer, parts["question"], adjustment=adjustment, reason="because"), 400
    )
    assert "adjustment" in error.message


def test_an_adjustment_is_bounded_by_the_parts_rubric_not_the_whole_item(attempt, people, parts):
    error = refused(lambda: mark(attempt, people.reviewer, parts["drill"], adjustment="3", reason="x"), 400)
    assert error.message == "An adjustment must be between -2 and +2 points."  # the written part, not 12


def test_it_accepts_a_negative_adjustment_with_a_reason(attempt, people, parts):
    review = mark(attempt, people.reviewer, parts["question"], adjustment="-2", reason="Vague about the tail")
    assert Mark.objects.get(review=review).adjustment == D("-2.00")


def test_it_refuses_an_adjustment_without_a_reason(attempt, people, parts):
    refused(lambda: mark(attempt, people.reviewer, parts["question"], adjustment="1", reason="   "), 400)


def test_it_refuses_an_adjustment_finer_than_a_hundredth(attempt, people, parts):
    refused(lambda: mark(attempt, people.reviewer, parts["question"], adjustment="0.001", reason="x"), 400)


def test_it_refuses_a_reason_or_a_comment_that_is_too_long(attempt, people, parts):
    refused(lambda: mark(attempt, people.reviewer, parts["question"], reason="x" * 301), 400)
    refused(lambda: mark(attempt, people.reviewer, parts["question"], comment="x" * (Mark.MAX_COMMENT + 1)), 413)


def test_it_refuses_a_nul_character(attempt, people, parts):
    refused(lambda: mark(attempt, people.reviewer, parts["question"], comment="a\x00b"), 400)


def test_it_refuses_a_stale_revision(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"], comment="first tab")
    mark(attempt, people.reviewer, parts["question"], revision=1, comment="second tab")
    error = refused(lambda: mark(attempt, people.reviewer, parts["question"], revision=1, comment="stale"), 409)
    assert error.current_revision == 2
    assert "another tab" in error.message
    assert Mark.objects.get().comment == "second tab"


def test_a_second_reviewer_is_refused_and_nothing_is_overwritten(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"], comment="mine")
    error = refused(lambda: mark(attempt, people.second, parts["question"], comment="theirs"), 409)
    assert error.message == "rita is already reviewing this attempt."
    assert list(Review.objects.values_list("reviewer__username", flat=True)) == ["rita"]
    assert Mark.objects.get().comment == "mine"


def test_the_first_review_race_leaves_one_review(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"], comment="first")
    # The second of two first marks, sent from two tabs at once.
    refused(lambda: mark(attempt, people.reviewer, parts["question"], comment="second"), 409)
    # Even when it did not see the first review (no row lock on SQLite), the
    # unique (attempt, reviewer) refuses it.
    with mock.patch.object(reviewing, "review_of", return_value=None):
        error = refused(lambda: mark(attempt, people.reviewer, parts["question"], comment="third"), 409)
    assert error.current_revision == 1
    assert Review.objects.count() == 1
    assert Mark.objects.get().comment == "first"


def test_a_final_review_refuses_marks_until_it_is_reopened(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"])
    reviewing.finalize(attempt, people.reviewer, revision=1)
    error = refused(lambda: mark(attempt, people.reviewer, parts["question"], revision=2), 409)
    assert error.message == "This review is final; reopen it to change it."
    review = reviewing.reopen(Review.objects.get(), people.reviewer, "One more look")
    assert mark(attempt, people.reviewer, parts["question"], revision=review.revision).revision == 4


def test_a_final_review_still_keeps_a_second_reviewer_out(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"])
    reviewing.finalize(attempt, people.reviewer, revision=1)
    refused(lambda: mark(attempt, people.second, parts["question"]), 409)


# Finalizing.


def test_finalize_needs_a_mark_first(attempt, people):
    error = refused(lambda: reviewing.finalize(attempt, people.reviewer, revision=0), 400)
    assert error.message == "There is nothing to finalize yet: mark at least one item."


def test_finalize_is_refused_to_those_who_may_not_review(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"])
    refused(lambda: reviewing.finalize(attempt, people.outsider, revision=1), 403)


def test_finalize_refuses_a_stale_revision(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"])
    mark(attempt, people.reviewer, parts["question"], revision=1)
    error = refused(lambda: reviewing.finalize(attempt, people.reviewer, revision=1), 409)
    assert error.current_revision == 2


def test_of_two_finalizes_with_the_same_revision_exactly_one_wins(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"])
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(reviewing.finalize(attempt, people.reviewer, revision=1).revision)
        except Refused as error:
            outcomes.append(error.status)
    assert outcomes == [2, 409]
    assert ReviewEvent.objects.filter(action="finalized").count() == 1


def test_finalizing_stores_the_score_from_the_review(attempt, people, parts):
    mark(attempt, people.reviewer, parts["question"], adjustment="3", reason="solid")
    mark(attempt, people.reviewer, None, revision=1, criteria=[parts["strong"], parts["weak"]])
    review = reviewing.finalize(attempt, people.reviewer, revision=2)
    assert (review.status, review.revision) == (Review.Status.FINAL, 3)
    assert review.finalized_at is not None
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.total, score.max_points, score.is_final, score.review) == (D("4.00"), 18, True, review)
    assert (score.strong_points, score.weak_points) == (D("2.00"), D("-1.00"))
    question = ItemScore.objects.get(attempt=attempt, item=parts["question"])
    assert (question.rubric, question.scored_by) == (D("3.00"), people.reviewer)
    assert reviewing.holder(attempt) == review


# Reopening.


@pytest.fixture
def final(attempt, people, parts) -> Review:
    mark(attempt, people.reviewer, parts["question"], adjustment="3", reason="solid")
    return reviewing.finalize(attempt, people.reviewer, revision=1)


def test_reopen_keeps_the_reason_and_the_score_goes_back_to_provisional(attempt, people, parts, final):
    review = reviewing.reopen(final, people.reviewer, "  Missed the drill's written part  ")
    assert (review.status, review.revision, review.finalized_at) == (Review.Status.DRAFT, 3, None)
    event = review.events.last()
    assert (event.action, event.actor, event.reason) == ("reopened", people.reviewer, "Missed the drill's written part")
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.is_final, score.review, score.total) == (False, None, D("0.00"))
    assert ItemScore.objects.get(attempt=attempt, item=parts["question"]).rubric is None
    assert reviewing.holder(attempt) == review


def test_staff_may_reopen_someone_elses_review(final, people):
    assert reviewing.reopen(final, people.staff, "Appeal").status == Review.Status.DRAFT


@pytest.mark.parametrize("who", ["candidate", "second", "outsider"])
def test_only_the_reviewer_or_staff_may_reopen(final, people, who):
    refused(lambda: reviewing.reopen(final, getattr(people, who), "I disagree"), 403)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_reopen_needs_a_reason_of_reasonable_length(final, people, reason):
    refused(lambda: reviewing.reopen(final, people.reviewer, reason), 400)


def test_a_review_that_is_not_final_cannot_be_reopened(final, people):
    reviewing.reopen(final, people.reviewer, "Once")
    error = refused(lambda: reviewing.reopen(final, people.reviewer, "Twice"), 409)
    assert error.current_revision == 3


def test_review_pages_in_the_admin_show_marks_and_history(client, final):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    page = client.get(f"/admin/grading/review/{final.pk}/change/").content.decode()
    assert "solid" in page and "Finalized" in page
    assert client.post(f"/admin/grading/review/{final.pk}/delete/").status_code == 403
    assert Review.objects.filter(pk=final.pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", ["reviewer", "second"], ids=["two-tabs", "two-reviewers"])
def test_two_first_marks_at_the_same_moment_leave_one_review(attempt, people, parts, second):
    start = threading.Barrier(2)
    outcomes = []

    def first_mark(reviewer, comment):
        try:
            start.wait()
            mark(attempt, reviewer, parts["question"], comment=comment)
            outcomes.append("saved")
        except Refused as error:
            outcomes.append(error.status)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=first_mark, args=(people.reviewer, "one")),
        threading.Thread(target=first_mark, args=(getattr(people, second), "two")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [409, "saved"]
    assert Review.objects.count() == 1
    assert Mark.objects.count() == 1
    assert ReviewEvent.objects.count() == 1
