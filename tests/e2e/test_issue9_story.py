"""The whole story of issue 9 in headless Chromium, as its people live it:
two reviewers double-mark an attempt by question, the first adds a line
comment on the drill's code, they disagree past the threshold, staff
adjudicate part by part, and the candidate reads the final score, both
reviewers, the line comment beside its line, the adjudicator's decisions
and their calibration. Each main page is checked by axe-core in light and
dark, with screenshots at desktop and phone sizes, and no horizontal
overflow at 360 px.

The pack (tests.review_support) with `reviews: 2`: a question worth 4
(+2 defines, +2 example, -1 mean), a drill worth 10 (tests, never run
here) + 2 (written, one +2 criterion), Overall +2 / -1: 18 points, so the
threshold (15 %) is 2.7 points."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exams.models import Answer
from grading.models import Adjudication, AttemptScore, LineComment, Membership, Review, SelfAssessment
from tests.e2e.conftest import eventually
from tests.e2e.support import Checks, log_in, log_out
from tests.review_support import finished_attempt, import_pack, parts, review_pack, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ANSWER = "A p99 is the latency 99% of requests beat, like the mean but for the tail."
WRITTEN = "Zero, negative numbers and very large ones."
CODE = "def add(a, b):\n    total = a + b\n    return total\n"
LINE_COMMENT = "Name this for what it is: the sum is the result."
A_OVERALL = "Clear and right: now say why the tail matters."
B_DRILL = "The written part lists cases but says nothing about how to test them."
B_OVERALL = "Confuses the percentile with an average."
REASON = "Defines it with an example, but mixes in the mean"


def open_all_details(page) -> None:
    page.locator("details").evaluate_all("all => all.forEach(d => { d.open = true; })")


def test_two_reviewers_double_mark_staff_adjudicate_and_the_candidate_reads_it_all(
    page, live_server, tmp_path, artifacts
):
    people = team_people()
    victor = get_user_model().objects.create_user("victor", password="pw")
    Membership.objects.create(team=people.t, user=victor, role=Membership.Role.REVIEWER)
    pack = review_pack(tmp_path)
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", "reveal_policy: on_demand\nreviews: 2")
    pack.path("exam.md").write_text(text)
    exam = import_pack(pack)
    assert exam.current_version.reviews_required == 2
    attempt = finished_attempt(people.candidate, exam, {"first": ANSWER, "add": WRITTEN})
    p = parts(attempt)
    Answer.objects.create(attempt=attempt, item=p.drill, part=Answer.Part.CODE, content=CODE, revision=1)
    results_url = f"{live_server.url}/attempts/{attempt.pk}/results/"
    checks = Checks(page, artifacts, "issue9")
    # Without transitions axe reads a focused button's final colours, not a blend halfway there.
    page.emulate_media(reduced_motion="reduce")

    # 1. The candidate opens the question's model answer and rates themselves
    #    from the keyboard, then the exam-wide signals: before any review is final.
    log_in(page, live_server, "alice")
    page.goto(results_url)
    total = page.locator(".total-score")
    expect(total.locator(".badge")).to_have_text("Provisional")
    page.locator(f"#review-{p.question.pk} summary").click()
    page.get_by_role("button", name="Show the model answer of First question").click()
    page.wait_for_url(f"**/results/?opened={p.question.pk}*")
    panel = page.locator(f"#self-{p.question.pk}")
    expect(panel.get_by_role("group", name="Rate yourself on First question")).to_be_visible()
    panel.get_by_role("checkbox", name="Defines the percentile").focus()
    page.keyboard.press("Space")
    status = page.locator(f"#self-status-{p.question.pk}")
    expect(status).to_have_text("Your rating: 2 of 4 · saved")
    page.keyboard.press("Tab")
    expect(panel.get_by_role("checkbox", name="Gives a latency example")).to_be_focused()
    page.keyboard.press("Space")
    expect(status).to_have_text("Your rating: 4 of 4 · saved")
    page.locator("#self-overall").get_by_role("checkbox", name="Names the metric").focus()
    page.keyboard.press("Space")
    expect(page.locator("#self-status-overall")).to_have_text("Your rating: 2 of 2 · saved")

    def rated():
        ticks = {a.item_id: set(a.criteria.values_list("pk", flat=True)) for a in SelfAssessment.objects.all()}
        assert ticks == {p.question.pk: {p.defines.pk, p.example.pk}, None: {p.strong.pk}}

    eventually(page, rated)

    def rating_ready():
        expect(page.locator(f"#self-{p.question.pk} input[type=checkbox]:checked")).to_have_count(2)
        open_all_details(page)

    checks.every_size("candidate-rates", rating_ready)
    log_out(page)

    # 2. Reviewer A (rita) marks by question from the keyboard.
    log_in(page, live_server, "rita")
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("link", name="Mark by question").click()
    page.wait_for_url("**/review/questions/")
    question_entry = page.locator(".by-question-item").filter(has_text="First question")
    expect(question_entry).to_contain_text("0 of 1 marked")
    question_entry.get_by_role("link", name="First question").click()
    page.wait_for_url(f"**/review/questions/{p.question.pk}/")
    expect(page.locator(".answer-text")).to_contain_text(ANSWER)
    page.keyboard.press("1")
    page.keyboard.press("2")
    expect(page.locator(f"#criterion-{p.defines.pk}")).to_be_checked()
    expect(page.locator(f"#criterion-{p.example.pk}")).to_be_checked()
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("Score 4 of 4")
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("saved")
    expect(page.locator("#bq-progress")).to_have_text("1 of 1 marked")
    checks.every_size("a-by-question", lambda: expect(page.locator(".mark-form")).to_have_count(1))

    page.get_by_role("link", name="Mark by question: Mini exam").click()
    page.locator(".by-question-item").filter(has_text="Add two numbers").get_by_role("link").click()
    page.wait_for_url(f"**/review/questions/{p.drill.pk}/")
    expect(page.locator(".bq-answer")).to_contain_text("total = a + b")
    page.keyboard.press("1")
    expect(page.locator(f"#criterion-{p.drill_criterion.pk}")).to_be_checked()
    expect(page.locator(f"#mark-status-{p.drill.pk}")).to_contain_text("saved")

    # On the whole attempt: a comment on line 2 of the code, from the keyboard, and Overall feedback.
    page.get_by_role("link", name="Open the whole attempt to finalize").click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/")
    expect(page.locator("#double-marking")).to_contain_text("Your review is in progress.")
    code = page.locator(f"#code-{p.drill.pk}")
    code.get_by_role("button", name="Comment on line 2").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#line-comment-body-{p.drill.pk}")).to_be_focused()
    page.keyboard.type(LINE_COMMENT)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add comment")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#line-{p.drill.pk}-2 .line-comment")).to_contain_text(LINE_COMMENT)
    page.locator("#comment-overall").fill(A_OVERALL)
    page.keyboard.press("Tab")
    expect(page.locator("#mark-status-overall")).to_contain_text("saved")
    expect(page.locator("#review-total strong")).to_have_text("6")
    eventually(page, lambda: assert_count(LineComment.objects.filter(review__reviewer=people.reviewer_t), 1))

    def a_review_ready():
        expect(page.locator(f"#line-{p.drill.pk}-2 .line-comment")).to_have_count(1)
        expect(page.locator("#review-total strong")).to_have_text("6")

    checks.every_size("a-review", a_review_ready)
    page.get_by_role("button", name="Finalize review").click()
    expect(page.locator("#double-marking")).to_contain_text("1 of 2 reviews is final. Your review is final.")
    log_out(page)

    # 3. Reviewer B (victor) marks by question, blind to A's marks and comment.
    log_in(page, live_server, "victor")
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("link", name="Mark by question").click()
    question_entry = page.locator(".by-question-item").filter(has_text="First question")
    expect(question_entry).to_contain_text("0 of 1 marked")
    question_entry.get_by_role("link", name="First question").click()
    page.wait_for_url(f"**/review/questions/{p.question.pk}/")
    main = page.locator("main")
    expect(page.locator("#bq-progress")).to_have_text("0 of 1 marked")
    expect(page.locator(f"#criterion-{p.defines.pk}")).not_to_be_checked()
    expect(page.locator(f"#criterion-{p.example.pk}")).not_to_be_checked()
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("Score \u2013 of 4")  # not marked yet
    expect(page.locator("#review-total strong")).to_have_text("0")
    page.keyboard.press("3")
    expect(page.locator(f"#criterion-{p.mean.pk}")).to_be_checked()
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("Score 0 of 4")
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("saved")
    checks.every_size("b-by-question", lambda: expect(page.locator(".mark-form")).to_have_count(1))

    page.get_by_role("link", name="Mark by question: Mini exam").click()
    page.locator(".by-question-item").filter(has_text="Add two numbers").get_by_role("link").click()
    page.wait_for_url(f"**/review/questions/{p.drill.pk}/")
    expect(page.locator(f"#criterion-{p.drill_criterion.pk}")).not_to_be_checked()
    expect(main).not_to_contain_text(LINE_COMMENT)
    page.locator(f"#comment-{p.drill.pk}").fill(B_DRILL)
    page.keyboard.press("Tab")
    expect(page.locator(f"#mark-status-{p.drill.pk}")).to_contain_text("saved")

    page.get_by_role("link", name="Open the whole attempt to finalize").click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/")
    expect(page.locator("#double-marking")).to_contain_text("1 of 2 reviews is final. Your review is in progress.")
    expect(page.locator(f"#code-{p.drill.pk} .line-comment")).to_have_count(0)
    for secret in (LINE_COMMENT, A_OVERALL):
        expect(main).not_to_contain_text(secret)
    expect(page.locator(f"#criterion-{p.defines.pk}")).not_to_be_checked()
    expect(page.locator("#comment-overall")).to_have_value("")
    page.locator("#comment-overall").fill(B_OVERALL)
    page.keyboard.press("Tab")
    expect(page.locator("#mark-status-overall")).to_contain_text("saved")
    expect(page.locator("#review-total strong")).to_have_text("0")
    checks.axe("b-review")
    page.get_by_role("button", name="Finalize review").click()
    double = page.locator("#double-marking")
    expect(double).to_contain_text("Double marked: rita 6 and victor 0 of 18.")
    expect(double).to_contain_text("Needs adjudication: the reviews differ by more than the exam allows.")
    assert AttemptScore.objects.get(attempt=attempt).adjudication == "needed"
    log_out(page)

    # Until someone decides, the candidate's score stays provisional, without the reviews' feedback.
    log_in(page, live_server, "alice")
    page.goto(results_url)
    expect(total.locator(".badge")).to_have_text("Provisional")
    expect(page.locator(".provisional-note")).to_contain_text("a third reviewer decides")
    expect(page.locator(".line-comment")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(A_OVERALL)
    checks.every_size("candidate-waits", lambda: expect(page.locator(".provisional-note")).to_be_visible())
    log_out(page)

    # 4. Staff (sam) find it in the queue and adjudicate, part by part.
    log_in(page, live_server, "sam")
    page.goto(f"{live_server.url}/review/")
    page.locator(".queue-status").get_by_role("link", name=re.compile(r"^Needs adjudication")).click()
    page.wait_for_url("**status=needs_adjudication")
    row = page.locator(".queue-row").filter(has_text="alice")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Needs adjudication")
    expect(row).to_contain_text("(provisional)")
    checks.every_size("queue", lambda: expect(page.locator(".queue-row")).to_have_count(1))
    row.get_by_role("link", name=re.compile(r"^Open")).click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/")
    page.get_by_role("link", name="Adjudicate").click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/adjudicate/")
    expect(page.locator("h1")).to_have_text("Adjudication: alice, Mini exam")
    table = page.locator(".adjudication-table")
    expect(table.locator("thead")).to_contain_text("First review: rita (6)")
    expect(table.locator("thead")).to_contain_text("Second review: victor (0)")
    question_row, drill_row = page.locator(f"#part-{p.question.pk}"), page.locator(f"#part-{p.drill.pk}")
    expect(question_row).to_contain_text("differs by more than half")
    expect(question_row.locator(".review-side-1")).to_contain_text("Defines the percentile")
    expect(question_row.locator(".review-side-1")).to_contain_text("Gives a latency example")
    expect(question_row.locator(".review-side-2")).to_contain_text("Confuses it with the mean")
    expect(drill_row.locator(".review-side-1")).to_contain_text("Tests negative numbers")
    expect(drill_row.locator(".review-side-2")).to_contain_text(B_DRILL)
    expect(page.locator("#part-overall .review-side-1")).to_contain_text(A_OVERALL)
    expect(page.locator("#part-overall .review-side-2")).to_contain_text(B_OVERALL)
    checks.every_size("adjudicate", lambda: expect(page.locator(".adjudication-part")).to_have_count(3))

    question_row.get_by_label("Points of my own").check()
    page.fill(f"#points-{p.question.pk}", "3")
    page.fill(f"#reason-{p.question.pk}", REASON)
    drill_row.get_by_label("First review's mark (2)").check()
    expect(page.locator("#choice-overall-first")).to_be_checked()  # both scored 0: the same score
    page.get_by_role("button", name="Record the adjudication").click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/")
    expect(page.locator(".alert-success").first).to_contain_text("Adjudication recorded")
    expect(page.locator("#double-marking")).to_contain_text("Adjudicated by sam: the score is 5.")
    assert Adjudication.objects.get(attempt=attempt).adjudicator == people.staff
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.total, score.max_points, score.is_final) == (Decimal("5.00"), 18, True)
    assert Review.objects.filter(attempt=attempt, status=Review.Status.FINAL).count() == 2
    log_out(page)

    # 5. The candidate reads the final score, both reviewers, the line comment,
    #    the adjudicator's decisions and the calibration.
    log_in(page, live_server, "alice")
    page.goto(results_url)
    expect(total).to_contain_text("5 of 18 (27.8%)")
    expect(total.locator(".badge")).to_have_text("Final")
    expect(page.locator(".provisional-note")).to_have_count(0)
    reviewed_by = page.locator(".results-facts div").filter(has_text="Reviewed by")
    expect(reviewed_by).to_contain_text("rita")
    expect(reviewed_by).to_contain_text("victor")
    expect(reviewed_by).to_contain_text("(double marked: adjudicated)")
    expect(page.locator(f"#result-{p.question.pk}")).to_contain_text("3 of 4")
    feedback = page.locator(".feedback")
    expect(feedback).to_contain_text(A_OVERALL)
    expect(feedback).to_contain_text(B_OVERALL)

    question = page.locator(f"#review-{p.question.pk}")
    question.locator("summary").click()
    expect(question.locator(".adjudicated")).to_have_text(f"Adjudicated by sam: points of their own: {REASON}")
    drill = page.locator(f"#review-{p.drill.pk}")
    drill.locator("summary").click()
    expect(drill.locator(".adjudicated")).to_have_text("Adjudicated by sam: rita's mark")
    expect(drill.locator(".review-comment")).to_contain_text(B_DRILL)
    beside = drill.locator(f"#line-{p.drill.pk}-2")
    expect(beside).to_contain_text("total = a + b")
    expect(beside.locator(".line-comment-author")).to_have_text("rita")
    expect(beside.locator(".line-comment-body")).to_have_text(LINE_COMMENT)
    expect(drill.locator(".line-comment")).to_have_count(1)

    summary = page.locator(".calibration-summary")
    expect(summary).to_contain_text(
        "Over the 2 parts you rated (6 points of rubric): you gave yourself 6, the review gave 3."
    )
    expect(summary).to_contain_text("You were 3 points above it.")
    expect(page.locator(f"#self-{p.question.pk} .calibration-part")).to_contain_text(
        "You rated yourself 4 of 4; the review gave 3. You were 1 point above it."
    )
    gaps = page.locator(f"#self-{p.question.pk} .calibration-gap")
    expect(gaps).to_have_count(3)
    expect(gaps.nth(0)).to_contain_text("Defines the percentile (+2): You ticked it; the reviewers were split.")
    expect(gaps.nth(2)).to_contain_text("Confuses it with the mean (-1): You did not; the reviewers were split.")
    expect(page.locator("#self-overall .calibration-gap")).to_contain_text(
        "Names the metric (+2): You ticked it; the reviewer did not."
    )

    def final_ready():
        expect(page.locator(".self-calibration")).to_have_count(2)
        open_all_details(page)

    final_ready()
    checks.every_size("results-final", final_ready)

    assert page.console_errors == []
    checks.assert_none()


def assert_count(queryset, n: int) -> None:
    assert queryset.count() == n
