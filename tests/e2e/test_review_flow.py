"""Reviewing in headless Chromium: the reviewer of a team marks a finished
attempt from the keyboard and finalizes it, then the candidate reads the
final score and the feedback. Screenshots of the three pages in light and
dark at desktop and phone sizes, no horizontal overflow at 360 px, and no
WCAG 2 A/AA violation found by axe-core."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from grading.models import AttemptScore, Mark, Review
from tests.e2e.conftest import eventually
from tests.e2e.support import Checks, log_in, log_out
from tests.review_support import finished_attempt, import_pack, parts, review_pack, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ANSWERS = {"first": "The latency that 99% of requests beat.", "add": "Zero, negatives and large numbers."}


def test_a_reviewer_marks_from_the_keyboard_and_the_candidate_reads_the_final_score(
    page, live_server, tmp_path, artifacts
):
    people = team_people()
    exam = import_pack(review_pack(tmp_path))
    attempt = finished_attempt(people.candidate, exam, ANSWERS)
    p = parts(attempt)
    checks = Checks(page, artifacts, "review")

    log_in(page, live_server, "rita")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review").click()
    page.wait_for_url("**/review/")
    row = page.locator(".queue-row").filter(has_text="alice")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Needs review")
    checks.every_size("queue", lambda: expect(page.locator(".queue-row")).to_have_count(1))

    row.get_by_role("link", name=re.compile(r"^Review")).click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/")
    expect(page.locator("h1")).to_have_text("Review: alice")

    # j reaches the first item; 1 ticks its first criterion and saves it through htmx.
    question_card, drill_card = page.locator(f"#item-{p.question.pk}"), page.locator(f"#item-{p.drill.pk}")
    page.keyboard.press("j")
    expect(question_card).to_have_class(re.compile(r"\breview-current\b"))
    page.keyboard.press("1")
    expect(page.locator(f"#criterion-{p.defines.pk}")).to_be_checked()
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("saved")
    expect(page.locator("#review-total strong")).to_have_text("2")

    # The next item, its first criterion.
    page.keyboard.press("j")
    expect(drill_card).to_have_class(re.compile(r"\breview-current\b"))
    page.keyboard.press("1")
    expect(page.locator(f"#criterion-{p.drill_criterion.pk}")).to_be_checked()
    expect(page.locator(f"#mark-status-{p.drill.pk}")).to_contain_text("saved")
    expect(page.locator("#review-total strong")).to_have_text("4")

    # An adjustment with its reason on the question, each saved on leaving the field.
    page.locator(f"#reason-{p.question.pk}").fill("Names p99 but not why the tail matters")
    page.keyboard.press("Tab")
    page.locator(f"#adjustment-{p.question.pk}").fill("-0.5")
    page.keyboard.press("Tab")
    expect(page.locator("#review-total strong")).to_have_text("3.5")
    page.locator(f"#comment-{p.question.pk}").fill("Say what the p99 hides.")
    page.keyboard.press("Tab")
    page.locator("#comment-overall").fill("A good start: explain your tests next time.")
    page.keyboard.press("Tab")
    expect(page.locator("#mark-status-overall")).to_contain_text("saved")

    def marks_are_saved():
        review = Review.objects.get(attempt=attempt, reviewer=people.reviewer_t)
        question = Mark.objects.get(review=review, item=p.question)
        assert list(question.criteria.all()) == [p.defines]
        assert (question.adjustment, question.reason, question.comment) == (
            Decimal("-0.5"),
            "Names p99 but not why the tail matters",
            "Say what the p99 hides.",
        )
        assert list(Mark.objects.get(review=review, item=p.drill).criteria.all()) == [p.drill_criterion]
        assert Mark.objects.get(review=review, item=None).comment == "A good start: explain your tests next time."

    eventually(page, marks_are_saved)
    checks.every_size("review", lambda: expect(page.locator(".review-item")).to_have_count(3))

    page.get_by_role("button", name="Finalize review").click()
    expect(page.get_by_role("alert").filter(has_text="Review finalized")).to_be_visible()
    expect(page.locator(".review-final")).to_contain_text("Final review by rita")
    score = AttemptScore.objects.get(attempt=attempt)
    # Question 2 - 0.5, drill tests 0 (never run) + written part 2, Overall 0.
    assert (score.total, score.is_final) == (Decimal("3.5"), True)
    log_out(page)

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/results/")
    total = page.locator(".total-score")
    expect(total).to_contain_text(f"3.5 of {score.max_points}")
    expect(total.locator(".badge")).to_have_text("Final")
    expect(page.locator(".provisional-note")).to_have_count(0)
    feedback = page.locator(".feedback")
    expect(feedback).to_contain_text("A good start: explain your tests next time.")
    question = page.locator(f"#review-{p.question.pk}")
    question.locator("summary").click()
    expect(question.locator(".rubric-breakdown .ticked")).to_contain_text("Defines the percentile")
    expect(question.locator(".adjustment")).to_have_text("Adjustment -0.5: Names p99 but not why the tail matters")
    expect(question.locator(".review-comment")).to_contain_text("Say what the p99 hides.")

    def results_ready():
        expect(page.locator(".total-score")).to_be_visible()
        page.locator("details.answer-review").evaluate_all("all => all.forEach(d => { d.open = true; })")

    checks.every_size("results", results_ready)

    assert page.console_errors == []
    checks.assert_none()
