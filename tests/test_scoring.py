"""Score arithmetic: clamping, signals, adjustments, drills, pending runs,
sections and percent; and loading an attempt's facts in a fixed number of
queries."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.models import Attempt, Exam, RubricCriterion
from grading.models import Mark, Review, Submission
from grading.scoring import (
    CriterionFacts,
    ItemFacts,
    MarkFacts,
    RunFacts,
    SectionFacts,
    cents,
    compute,
    result_for,
)
from tests.conftest import PackBuilder

D = Decimal

# A question worth 4 (three criteria), a drill worth 10 + 2 written (one
# criterion), a reading, and two exam-wide signals (+2, -1).
SECTIONS = [SectionFacts(10, "basics", "Basics"), SectionFacts(20, "coding", "Coding")]
QUESTION = ItemFacts(1, 10, "question", points=4)
READING = ItemFacts(3, 10, "text", points=0)
DRILL = ItemFacts(2, 20, "drill", points=10, written_points=2)
ITEMS = [QUESTION, READING, DRILL]
CRITERIA = [
    CriterionFacts(101, 1, "strong", "Defines p99", 3),
    CriterionFacts(102, 1, "strong", "Gives an example", 2),
    CriterionFacts(103, 1, "weak", "Confuses mean and median", -2),
    CriterionFacts(201, 2, "strong", "Tests negative numbers", 2),
    CriterionFacts(901, None, "strong", "Names the metric", 2),
    CriterionFacts(902, None, "weak", "Ignores the tail", -1),
]
GRADED_7_5 = {2: RunFacts("graded", 7.5)}


def marks(**parts) -> dict:
    """marks(question=({101}, "0.5"), overall=({901},)): MarkFacts by part id."""
    ids = {"question": 1, "drill": 2, "overall": None}
    result = {}
    for name, (ticked, *adjustment) in parts.items():
        result[ids[name]] = MarkFacts(frozenset(ticked), D(adjustment[0]) if adjustment else D("0.00"))
    return result


def score(part_marks=None, runs=GRADED_7_5, items=ITEMS, criteria=CRITERIA):
    return compute(items, criteria, runs, part_marks, SECTIONS)


def test_without_a_review_every_rubric_part_awaits_review_and_counts_zero():
    result = score(None)
    assert result.items[1].rubric is None and result.items[1].awaiting_review
    assert result.items[2].rubric is None
    assert result.overall.rubric is None
    assert result.total == D("7.50")
    assert result.max_points == 4 + 12 + 2
    assert result.awaiting_review


def test_a_reading_has_no_score():
    assert 3 not in score(None).items


def test_ticked_points_above_the_maximum_are_clamped_to_it():
    assert score(marks(question=({101, 102},))).items[1].rubric == D("4.00")


def test_weak_signals_alone_are_clamped_at_zero():
    assert score(marks(question=({103},))).items[1].rubric == D("0.00")


def test_weak_signals_subtract_from_strong_ones():
    assert score(marks(question=({101, 103},))).items[1].rubric == D("1.00")


def test_an_adjustment_moves_the_score_up_or_down():
    assert score(marks(question=({101}, "0.5"))).items[1].rubric == D("3.50")
    assert score(marks(question=({101}, "-1.25"))).items[1].rubric == D("1.75")


def test_an_adjustment_cannot_push_a_part_past_its_bounds():
    assert score(marks(question=({101}, "4"))).items[1].rubric == D("4.00")
    assert score(marks(question=({101}, "-4"))).items[1].rubric == D("0.00")


def test_with_a_review_a_part_it_did_not_mark_scores_nothing_ticked():
    result = score(marks(question=({101},)))
    assert result.items[2].rubric == D("0.00")
    assert result.overall.rubric == D("0.00")
    assert not result.awaiting_review


def test_a_drill_adds_its_tests_to_its_written_part():
    drill = score(marks(drill=({201},))).items[2]
    assert (drill.tests, drill.tests_max) == (D("7.50"), 10)
    assert (drill.rubric, drill.rubric_max) == (D("2.00"), 2)
    assert (drill.score, drill.max_points) == (D("9.50"), 12)


def test_a_question_has_no_tests_part():
    question = score(None).items[1]
    assert (question.tests, question.tests_max, question.rubric_max, question.max_points) == (None, 0, 4, 4)


def test_a_drill_without_a_written_part_has_nothing_to_review():
    no_written = ItemFacts(2, 20, "drill", points=10, written_points=0)
    drill = score(None, items=[no_written]).items[2]
    assert (drill.rubric, drill.rubric_max, drill.awaiting_review) == (D("0.00"), 0, False)


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_pending_run_counts_zero_and_is_counted_as_pending(status):
    result = score(marks(drill=({201},)), runs={2: RunFacts(status, 0.0)})
    assert result.items[2].tests is None
    assert result.items[2].score == D("2.00")
    assert result.pending_runs == 1


def test_a_run_that_could_not_be_graded_scores_zero_and_is_not_pending():
    result = score(None, runs={2: RunFacts("error", 5.0)})
    assert result.items[2].tests == D("0.00")
    assert result.pending_runs == 0


def test_a_drill_never_run_scores_zero_tests():
    assert score(None, runs={}).items[2].tests == D("0.00")


def test_a_run_score_is_rounded_half_up_to_cents():
    assert score(None, runs={2: RunFacts("graded", 2.675)}).items[2].tests == D("2.68")
    assert score(None, runs={2: RunFacts("graded", 10 / 3)}).items[2].tests == D("3.33")
    assert cents(D("0.005")) == D("0.01")


def test_exam_wide_signals_make_the_overall_part():
    result = score(marks(overall=({901, 902},)))
    assert (result.overall.item_id, result.overall.rubric, result.overall.max_points) == (None, D("1.00"), 2)
    assert result.signals == [
        {"criterion": 901, "signal": "strong", "text": "Names the metric", "points": 2, "hit": True},
        {"criterion": 902, "signal": "weak", "text": "Ignores the tail", "points": -1, "hit": True},
    ]
    assert [signal["hit"] for signal in score(None).signals] == [False, False]


def test_the_total_sums_items_and_overall_and_the_percent_follows():
    result = score(marks(question=({101},), drill=({201},), overall=({901},)))
    assert result.total == D("3") + D("9.50") + D("2")
    assert result.max_points == 18
    assert result.percent == D("80.56")  # 14.5 / 18


def test_sections_sum_their_items_in_section_order():
    result = score(marks(question=({101},), drill=({201},)))
    assert [section.as_dict() for section in result.sections] == [
        {"slug": "basics", "title": "Basics", "score": "3.00", "max": 4},
        {"slug": "coding", "title": "Coding", "score": "9.50", "max": 12},
    ]


def test_strong_and_weak_points_are_raw_sums_before_clamping():
    result = score(marks(question=({101, 102, 103},), drill=({201},), overall=({901, 902},)))
    assert result.items[1].rubric == D("3.00")  # 5 - 2, within 4
    assert result.strong_points == D("9.00")  # 3 + 2 + 2 + 2
    assert result.weak_points == D("-3.00")  # -2 - 1


def test_a_tick_outside_its_part_counts_nowhere():
    result = score(marks(question=({201, 901},)))
    assert result.items[1].rubric == D("0.00")
    assert result.strong_points == D("0.00")


def test_an_exam_without_points_is_zero_percent():
    result = compute([ItemFacts(1, 10, "question", points=0)], [], {}, None, SECTIONS)
    assert (result.total, result.max_points, result.percent) == (D("0.00"), 0, D("0.00"))


# result_for: the same facts from the database.


def exam_with(tmp_path, extra: int) -> Exam:
    """The test pack plus `extra` questions, each with its own criterion."""
    pack = PackBuilder(tmp_path / f"n{extra}", slug=f"exam-{extra}")
    for n in range(extra):
        pack.write(
            f"01-basics/{n + 10:02d}-q-{n}.md",
            f"---\ntitle: Q{n}\nkind: question\nrubric:\n  strong:\n    - text: Says {n}\n      points: 1\n---\n"
            f"Why {n}?\n",
        )
    call_command("import_exams", str(pack.root), stdout=StringIO())
    return Exam.objects.select_related("current_version").get(slug=f"exam-{extra}")


def reviewed_attempt(exam: Exam, candidate, reviewer) -> tuple[Attempt, Review]:
    """A finalized attempt with two runs of its drill and a review marking every part."""
    attempt, _ = Attempt.start(candidate, exam, Attempt.Mode.PRACTICE)
    Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.SUBMITTED)
    drill = attempt.version.items.get(slug="add")
    Submission.objects.create(attempt=attempt, item=drill, code="old", status="graded", score=3.0)
    Submission.objects.create(attempt=attempt, item=drill, code="new", status="graded", score=10.0)
    review = Review.objects.create(attempt=attempt, reviewer=reviewer)
    for item in [*attempt.version.items.exclude(kind="text"), None]:
        entry = Mark.objects.create(review=review, item=item, adjustment=D("0.50"), reason="generous")
        entry.criteria.set(RubricCriterion.objects.filter(version=attempt.version, item=item, points__gt=0))
    return attempt, review


def test_result_for_scores_the_latest_run_and_the_reviews_marks(mini_exam, personas):
    attempt, review = reviewed_attempt(mini_exam, personas.candidate, personas.staff)
    result = result_for(attempt, review)
    first, add = (attempt.version.items.get(slug=slug).pk for slug in ("first", "add"))
    assert result.items[add].tests == D("10.00")  # the latest run, not the first
    assert result.items[add].rubric == D("2.00")  # 2 ticked + 0.50, clamped to 2
    assert result.items[first].rubric == D("0.50")  # no criteria, the adjustment alone
    assert result.overall.rubric == D("2.00")
    assert result.total == D("14.50")
    assert result_for(attempt, None).total == D("10.00")


def test_result_for_costs_the_same_queries_for_2_items_and_for_30(tmp_path, personas):
    def queries(exam):
        attempt, review = reviewed_attempt(exam, personas.candidate, personas.staff)
        with CaptureQueriesContext(connection) as captured:
            result = result_for(attempt, review)
        return len(captured), result

    small, small_result = queries(exam_with(tmp_path, 0))
    big, big_result = queries(exam_with(tmp_path, 28))
    assert (len(small_result.items), len(big_result.items)) == (2, 30)
    assert big == small <= 6
    assert big_result.rubric == D("0.50") + D("2.00") + 28 * D("1.50")
