"""Self-assessment in headless Chromium: the candidate reveals a model answer,
rates themselves from the keyboard in the panel below it, rates the
exam-wide signals on the results page, and once a reviewer finalizes reads
the calibration there and on My progress. Screenshots of the pages in light
and dark at desktop and phone sizes, no horizontal overflow at 360 px, and
no WCAG 2 A/AA violation found by axe-core."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from exams.models import Answer, Attempt
from grading import reviewing
from grading.models import SelfAssessment
from tests.e2e.conftest import eventually
from tests.e2e.support import Checks, log_in, settled
from tests.review_support import import_pack, parts, review_pack, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def ticked(attempt, item) -> set[int]:
    return set(SelfAssessment.objects.get(attempt=attempt, item=item).criteria.values_list("pk", flat=True))


def test_a_candidate_rates_themselves_from_the_keyboard_and_reads_the_calibration(
    page, live_server, tmp_path, artifacts
):
    people = team_people()
    exam = import_pack(review_pack(tmp_path))
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    p = parts(attempt)
    Answer.objects.create(attempt=attempt, item=p.question, content="The latency 99% of requests beat.", revision=1)
    checks = Checks(page, artifacts, "self-assessment")

    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    card = page.locator(f"#item-{p.question.pk}")
    expect(card.get_by_text("Rate yourself")).to_have_count(0)
    card.get_by_role("button", name="Reveal model answer").click()
    panel = page.locator(f"#self-{p.question.pk}")
    expect(panel.get_by_role("group", name="Rate yourself on First question")).to_be_visible()
    settled(page.locator(f"#item-{p.question.pk}"))  # the new panel's form saves on change only from then on

    # Space ticks the focused box and saves it; Tab reaches the next one.
    panel.get_by_role("checkbox", name="Defines the percentile").focus()
    page.keyboard.press("Space")
    status = page.locator(f"#self-status-{p.question.pk}")
    expect(status).to_have_text("Your rating: 2 of 4 · saved")
    page.keyboard.press("Tab")
    expect(panel.get_by_role("checkbox", name="Gives a latency example")).to_be_focused()
    page.keyboard.press("Space")
    expect(status).to_have_text("Your rating: 4 of 4 · saved")

    def both_saved():
        assert ticked(attempt, p.question) == {p.defines.pk, p.example.pk}

    eventually(page, both_saved)

    def attempt_ready():
        expect(page.locator(f"#self-{p.question.pk} input[type=checkbox]:checked")).to_have_count(2)

    checks.every_size("attempt", attempt_ready)

    # The attempt ends; on the results page the exam-wide signals wait for a rating.
    attempt.finalize()
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/results/")
    overall = page.locator("#self-overall")
    overall.get_by_role("checkbox", name="Names the metric").focus()
    page.keyboard.press("Space")
    expect(page.locator("#self-status-overall")).to_have_text("Your rating: 2 of 2 · saved")
    expect(page.locator(f"#result-{p.question.pk}")).to_contain_text("Your rating: 4 of 4")

    def results_ready():
        expect(page.locator(".self-assessment")).to_have_count(3)
        page.locator("details").evaluate_all("all => all.forEach(d => { d.open = true; })")

    results_ready()
    checks.every_size("results", results_ready)

    # A reviewer finalizes: the question 2 (one criterion), the drill's written part 0, Overall 2.
    marks = {"adjustment": Decimal(0), "reason": "", "comment": ""}
    rita = people.reviewer_t
    reviewing.mark(attempt, rita, p.question, criteria_ids=[p.defines.pk], revision=0, **marks)
    reviewing.mark(attempt, rita, p.drill, criteria_ids=[], revision=1, **marks)
    reviewing.mark(attempt, rita, None, criteria_ids=[p.strong.pk], revision=2, **marks)
    reviewing.finalize(attempt, rita, revision=3)

    page.reload()
    summary = page.locator(".calibration-summary")
    expect(summary).to_contain_text("you gave yourself 6, the review gave 4.")
    expect(summary).to_contain_text("You were 2 points above it.")
    page.locator(f"#review-{p.question.pk} summary").click()
    gap = page.locator(f"#self-{p.question.pk} .calibration-gap")
    expect(gap).to_have_count(1)
    expect(gap).to_contain_text("Gives a latency example (+2): You ticked it; the reviewer did not.")
    expect(page.locator("#self-overall")).to_contain_text("Your ticks match the review on all 2 criteria.")

    def final_ready():
        expect(page.locator(".self-calibration")).to_have_count(2)
        page.locator("details").evaluate_all("all => all.forEach(d => { d.open = true; })")

    final_ready()
    checks.every_size("results-final", final_ready)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My progress").click()
    page.wait_for_url("**/progress/")
    chart = page.get_by_role("img", name="Mini exam: your self-assessment against the review, per attempt")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.cal-over")).to_have_count(2)  # the attempt's bar and the legend's key

    def progress_ready():
        expect(page.locator("svg.chart-calibration")).to_have_count(1)
        page.locator("details.chart-table").evaluate_all("all => all.forEach(d => { d.open = true; })")

    progress_ready()
    expect(page.locator(".calibration-table tbody tr")).to_contain_text("+2 (+33.3%)")
    checks.every_size("progress", progress_ready)

    assert page.console_errors == []
    checks.assert_none()
