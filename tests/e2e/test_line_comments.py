"""Line comments in headless Chromium: the team's reviewer comments on a line
of a drill's code from the keyboard and finalizes, then the candidate reads
the comment under that line of their code. Screenshots of both pages in
light and dark at desktop and phone sizes, no horizontal overflow at 360 px,
and no WCAG 2 A/AA violation found by axe-core."""

import re

import pytest
from playwright.sync_api import expect

from exams.models import Answer
from grading.models import LineComment, Review
from tests.e2e.conftest import eventually
from tests.e2e.support import Checks, log_in, log_out
from tests.review_support import finished_attempt, import_pack, parts, review_pack, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ANSWERS = {"first": "The latency that 99% of requests beat.", "add": "Zero, negatives and large numbers."}
SAID = "Name this for what it is: the sum is the result."
CODE = (
    "def add(a, b):\n"
    "    total = a + b\n"
    "    # a deliberately long line, to show that long lines wrap rather than scroll the page sideways on a phone\n"
    "    return total\n"
)


def test_a_reviewer_comments_on_a_line_and_the_candidate_reads_it_beside_the_code(
    page, live_server, tmp_path, artifacts
):
    people = team_people()
    exam = import_pack(review_pack(tmp_path))
    attempt = finished_attempt(people.candidate, exam, ANSWERS)
    drill = parts(attempt).drill
    Answer.objects.create(attempt=attempt, item=drill, part=Answer.Part.CODE, content=CODE, revision=1)
    checks = Checks(page, artifacts, "line-comments")

    log_in(page, live_server, "rita")
    page.goto(f"{live_server.url}/review/attempts/{attempt.pk}/")
    code = page.locator(f"#code-{drill.pk}")
    expect(code.locator(".code-row")).to_have_count(4)

    # From the keyboard: Tab reaches line 2's button, Enter opens the form under it.
    line_1 = code.get_by_role("button", name="Comment on line 1")
    line_1.focus()
    page.keyboard.press("Tab")
    expect(code.get_by_role("button", name="Comment on line 2")).to_be_focused()
    page.keyboard.press("Enter")
    body = page.locator(f"#line-comment-body-{drill.pk}")
    expect(body).to_be_focused()
    expect(page.locator(f"#line-{drill.pk}-2 #line-comment-form-{drill.pk}")).to_be_visible()
    expect(page.locator(f"label[for=line-comment-body-{drill.pk}]")).to_have_text("Comment on line 2")
    page.keyboard.type(SAID)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add comment")).to_be_focused()
    page.keyboard.press("Enter")

    comment = page.locator(f"#line-{drill.pk}-2 .line-comment")
    expect(comment).to_contain_text(SAID)
    expect(comment).to_be_focused()
    expect(page.locator("#review-state")).to_have_text("in review")

    def saved():
        stored = LineComment.objects.get()
        assert (stored.line, stored.body, stored.review.revision) == (
            2,
            SAID,
            1,
        )

    eventually(page, saved)

    # Escape puts an opened form back and returns to its line.
    code.get_by_role("button", name="Comment on line 4").click()
    expect(page.locator(f"#line-{drill.pk}-4 #line-comment-body-{drill.pk}")).to_be_focused()
    page.keyboard.press("Escape")
    expect(code.get_by_role("button", name="Comment on line 4")).to_be_focused()

    def review_ready():
        expect(page.locator(f"#line-{drill.pk}-2 .line-comment")).to_have_count(1)
        code.get_by_role("button", name="Comment on line 3").click()
        expect(page.locator(f"#line-{drill.pk}-3 .line-comment-add")).to_be_visible()

    checks.every_size("review", review_ready)

    # A mark after the comment carries the comment's revision.
    page.keyboard.press("Escape")
    page.locator(f"#item-{drill.pk} .mark-form input[type=checkbox]").first.check()
    expect(page.locator(f"#mark-status-{drill.pk}")).to_contain_text("saved")
    page.get_by_role("button", name="Finalize review").click()
    expect(page.locator(".review-final")).to_contain_text("Final review by rita")
    assert Review.objects.get().is_final
    expect(code.get_by_role("button", name=re.compile("Comment on line"))).to_have_count(0)
    log_out(page)

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/results/")
    answer = page.locator(f"#review-{drill.pk}")
    answer.locator("summary").click()
    beside = answer.locator(f"#line-{drill.pk}-2")
    expect(beside).to_contain_text("total = a + b")
    expect(beside.locator(".line-comment")).to_contain_text("rita")
    expect(beside.locator(".line-comment")).to_contain_text(SAID)
    expect(answer.get_by_role("button", name=re.compile("Comment on line"))).to_have_count(0)

    def results_ready():
        expect(page.locator(".total-score")).to_be_visible()
        page.locator("details.answer-review").evaluate_all("all => all.forEach(d => { d.open = true; })")

    checks.every_size("results", results_ready)

    assert page.console_errors == []
    checks.assert_none()
