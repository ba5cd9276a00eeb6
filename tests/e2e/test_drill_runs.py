"""Running a drill's tests from the attempt page in headless Chromium: a failing
run, a passing one, the results page, and a refused run."""

import re

import pytest
from playwright.sync_api import expect

from exams.models import Answer, Attempt
from grading.models import Submission
from tests.conftest import HIDDEN_MARKER
from tests.e2e.test_attempt_flow import ATTEMPT_URL, attempt_from_url, eventually, items, log_in
from tests.sandbox_support import need_bubblewrap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WRONG = "def add(a, b):\n    return a - b"
RIGHT = "def add(a, b):\n    return a + b"
# The hidden "large" case is add(1000000, 1); neither its input nor its
# expected value may reach the candidate's page.
HIDDEN_CASE_TEXT = ("1000000", "1000001")
SAMPLE_INPUT = "add(1, 2)"


def start_practice(page, live_server) -> Attempt:
    log_in(page, live_server)
    page.goto(live_server.url + "/exams/mini-exam/")
    page.get_by_role("button", name="Start practice (untimed)").click()
    page.wait_for_url(ATTEMPT_URL)
    return attempt_from_url(page)


def write_code(page, drill, code: str) -> None:
    """Replace the editor's text, line by line: the editor indents a body itself."""
    page.locator(f"#item-{drill.pk} .CodeMirror").click()
    page.keyboard.press("ControlOrMeta+a")
    first, *rest = code.split("\n")
    page.keyboard.type(first)
    for line in rest:
        page.keyboard.press("Enter")
        page.keyboard.type(line.strip())


def run_tests(page, drill) -> None:
    page.locator(f"#item-{drill.pk} .run-button").click()


def screenshot(page, path) -> None:
    """A full-page capture from the top: scrolled down, the sticky attempt bar
    would be drawn in the middle of the image."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def assert_no_hidden_case(page) -> None:
    content = page.content()
    for text in (*HIDDEN_CASE_TEXT, HIDDEN_MARKER):
        assert text not in content, text


def test_a_failing_run_then_a_passing_one(page, live_server, mini_exam, personas, eager_grading, artifacts):
    need_bubblewrap()
    _, drill = items(mini_exam)
    attempt = start_practice(page, live_server)
    runs = page.locator(f"#runs-{drill.pk}")
    expect(runs.locator(".no-runs")).to_be_visible()

    write_code(page, drill, WRONG)
    run_tests(page, drill)
    summary = runs.locator(".run-summary")
    expect(summary).to_contain_text("0 of 3 tests passed", timeout=15_000)
    expect(summary).to_contain_text("Score 0 of 10")
    categories = runs.locator("table.run-categories tbody tr")
    expect(categories).to_have_count(2)
    expect(categories.nth(0).locator("td")).to_have_text(["basics", "0/2", "2 × wrong answer"])  # noqa: RUF001
    expect(categories.nth(1).locator("td")).to_have_text(["large", "0/1", "1 × wrong answer"])  # noqa: RUF001
    expect(runs.locator("tr.category-failed")).to_have_count(2)

    # Only the visible case is shown in full, and only once opened.
    samples = runs.locator("details.sample-cases")
    expect(samples.locator("summary")).to_have_text("Sample cases, in full (1)")
    samples.locator("summary").click()
    case = samples.locator(".sample-case")
    expect(case).to_have_count(1)
    expect(case.locator("div").first).to_have_text("Sample 1 · wrong answer")  # unnamed: numbered
    expect(case.locator("dd code")).to_have_text([SAMPLE_INPUT, "3", "-1"])
    expect(runs.locator("details.earlier-runs")).to_have_count(0)
    assert_no_hidden_case(page)
    screenshot(page, artifacts / "drill-run-failing.png")

    write_code(page, drill, RIGHT)
    run_tests(page, drill)
    expect(summary).to_contain_text("3 of 3 tests passed", timeout=15_000)
    expect(summary).to_contain_text("Score 10 of 10")
    expect(runs.locator("tr.category-passed")).to_have_count(2)
    expect(runs.locator("tr.category-failed")).to_have_count(0)

    earlier = runs.locator("details.earlier-runs")
    expect(earlier.locator("summary")).to_have_text("Earlier runs (1)")
    earlier.locator("summary").click()
    earlier_rows = earlier.locator("tbody tr")
    expect(earlier_rows).to_have_count(1)
    expect(earlier_rows.locator("td").nth(1)).to_have_text("0 of 3 passed")
    expect(earlier_rows.locator("td").nth(2)).to_have_text("0 of 10")
    runs.locator("details.sample-cases summary").click()
    expect(runs.locator(".sample-case dd code")).to_have_text([SAMPLE_INPUT, "3", "3"])
    assert_no_hidden_case(page)
    screenshot(page, artifacts / "drill-run-passing.png")

    submissions = list(Submission.objects.filter(attempt=attempt, item=drill).order_by("created_at", "pk"))
    assert [s.code for s in submissions] == [WRONG, RIGHT]
    latest = submissions[-1]
    assert (latest.status, latest.passed, latest.total) == (Submission.Status.GRADED, 3, 3)
    assert latest.score == drill.points
    assert submissions[0].score == 0

    def answer_is_the_last_code():
        assert Answer.objects.get(attempt=attempt, item=drill, part=Answer.Part.CODE).content == RIGHT

    eventually(page, answer_is_the_last_code)
    assert page.console_errors == []


def test_the_results_show_the_tests_score(page, live_server, mini_exam, personas, eager_grading, artifacts):
    need_bubblewrap()
    _, drill = items(mini_exam)
    attempt = start_practice(page, live_server)
    write_code(page, drill, RIGHT)
    run_tests(page, drill)
    expect(page.locator(f"#runs-{drill.pk} .run-summary")).to_contain_text("3 of 3 tests passed", timeout=15_000)

    page.get_by_role("link", name="Submit…", exact=True).click()
    page.wait_for_url(f"**/attempts/{attempt.pk}/submit/")
    page.locator("#confirm-submit").click()
    page.wait_for_url(f"**/attempts/{attempt.pk}/results/")

    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    facts = page.locator(".results-facts")
    expect(facts).to_contain_text("Tests score")
    expect(facts.locator(".tests-score")).to_have_text("10 of 10")
    expect(page.locator(f"#result-{drill.pk} td").nth(3)).to_contain_text(
        re.compile(r"^Tests: 10 of 10 \(3/3 passed\)")
    )
    # The code was already graded as it stands: submitting queues no final run.
    assert list(Submission.objects.filter(attempt=attempt).values_list("source", flat=True)) == [Submission.Source.RUN]
    page.screenshot(path=str(artifacts / "drill-results.png"), full_page=True)
    assert page.console_errors == []


def test_a_run_over_the_rate_limit_is_refused_in_the_panel(
    page, live_server, mini_exam, personas, eager_grading, settings
):
    need_bubblewrap()
    settings.GRADING_RUNS_PER_MINUTE = 1
    _, drill = items(mini_exam)
    attempt = start_practice(page, live_server)
    runs = page.locator(f"#runs-{drill.pk}")

    write_code(page, drill, WRONG)
    run_tests(page, drill)
    expect(runs.locator(".run-summary")).to_contain_text("0 of 3 tests passed", timeout=15_000)
    expect(runs.locator(".run-error")).to_have_count(0)

    write_code(page, drill, RIGHT)
    run_tests(page, drill)
    error = runs.locator(".run-error")
    expect(error).to_have_text(re.compile(r"^You can run tests 1 times a minute\. Try again in \d+ s\.$"))
    # The refusal keeps the last run on show, and runs nothing new.
    expect(runs.locator(".run-summary")).to_contain_text("0 of 3 tests passed")
    assert list(Submission.objects.filter(attempt=attempt).values_list("code", flat=True)) == [WRONG]
    # The refused request is the only error: the response hook records it and
    # Chromium logs the same response to the console.
    run_url = f"{live_server.url}/attempts/{attempt.pk}/items/{drill.pk}/run/"
    assert sorted(page.console_errors) == [
        f"429 {run_url}",
        "Failed to load resource: the server responded with a status of 429 (Too Many Requests)",
    ]
