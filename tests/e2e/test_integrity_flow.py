"""In Chromium: a practice attempt cannot feed a timed one (seen before,
answers held back), and a request Django refuses shows its reason in the
page while the form it came from keeps working."""

import re

import pytest
from playwright.sync_api import expect

from exams.models import Answer, Attempt, Item
from tests.conftest import HIDDEN_MARKER
from tests.e2e.conftest import eventually
from tests.e2e.test_attempt_flow import ATTEMPT_URL, attempt_from_url, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_what_practice_revealed_is_seen_before_and_held_back_during_the_timed_attempt(
    page, live_server, mini_exam, personas, artifacts
):
    question = Item.objects.get(slug="first", version=mini_exam.current_version)
    log_in(page, live_server)
    page.goto(live_server.url + "/exams/mini-exam/")
    expect(page.locator(".start-card .seen-rule")).to_contain_text("While a timed attempt of this exam is in progress")

    page.get_by_role("button", name="Start practice (untimed)").click()
    page.wait_for_url(ATTEMPT_URL)
    practice = attempt_from_url(page)
    card = page.locator(f"#item-{question.pk}")
    card.get_by_role("button", name=re.compile("marks it seen before")).click()
    expect(card.locator(".model-answer")).to_contain_text(HIDDEN_MARKER)

    page.goto(live_server.url + "/exams/mini-exam/")
    page.get_by_role("button", name=re.compile(r"^Start timed attempt")).click()
    page.get_by_role("button", name=re.compile(r"^Start the clock")).click()  # the confirmation page
    page.wait_for_url(ATTEMPT_URL)
    timed = attempt_from_url(page)
    assert timed.mode == Attempt.Mode.TIMED
    expect(page.locator(f"#item-{question.pk} .seen-before")).to_have_text("Seen before")
    expect(page.locator(".seen-before")).to_have_count(1)
    page.screenshot(path=str(artifacts / "timed-seen-before.png"), full_page=True)

    page.goto(live_server.url + practice.get_absolute_url())
    expect(page.locator(".withheld-note")).to_contain_text("timed attempt of this exam is in progress")
    expect(page.locator(".reveal-button")).to_have_count(0)
    assert HIDDEN_MARKER not in page.content()
    page.screenshot(path=str(artifacts / "practice-withheld.png"), full_page=True)
    assert page.console_errors == []


def test_a_request_too_large_shows_why_and_the_next_save_works(page, live_server, mini_exam, personas, artifacts):
    question = Item.objects.get(slug="first", version=mini_exam.current_version)
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    log_in(page, live_server)
    page.goto(live_server.url + attempt.get_absolute_url())
    textarea = page.locator(f"#answer-{question.pk}-text")
    # maxlength only limits typing: a script (or a paste tool) can send more.
    textarea.evaluate("area => { area.value = 'x'.repeat(9 * 1024 * 1024); htmx.trigger(area, 'save-now'); }")
    region = page.locator("#request-error")
    expect(region).to_contain_text("This request is too large")
    expect(region).to_be_visible()
    page.screenshot(path=str(artifacts / "request-too-large.png"))
    assert not Answer.objects.exists()

    region.get_by_role("button", name="Close").click()
    expect(region.locator(".alert")).to_have_count(0)
    textarea.fill("")
    textarea.press_sequentially("A normal answer.")
    expect(page.locator(f"#form-{question.pk}-text .save-status")).to_contain_text("Saved at")

    def saved():
        assert Answer.objects.get().content == "A normal answer."

    eventually(page, saved)
