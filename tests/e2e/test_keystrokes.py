"""Never lose a keystroke (issue 11, point 1), in headless Chromium: typing
without a pause through the deadline, leaving the page 100 ms after typing,
and Save pressed while an autosave is on its way."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exams.models import Answer, Attempt
from tests.e2e.conftest import eventually
from tests.e2e.test_attempt_flow import items

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def logged_in(page, client, live_server, user) -> None:
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def stored(attempt, item, part="text") -> str:
    answer = Answer.objects.filter(attempt=attempt, item=item, part=part).first()
    return answer.content if answer else ""


def test_every_character_typed_before_the_deadline_is_stored(page, live_server, mini_exam, personas, client):
    question, _ = items(mini_exam)
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    logged_in(page, client, live_server, personas.candidate)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    textarea = page.locator(f"#answer-{question.pk}-text")
    textarea.click()
    # time_machine cannot move the browser's clock: move the deadline instead.
    deadline = timezone.now() + timedelta(seconds=5)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=deadline)
    page.locator("#clock").evaluate("(clock, deadline) => { clock.dataset.deadline = deadline; }", deadline.isoformat())

    typed_before = ""
    letters = "abcdefghijklmnopqrstuvwxyz "
    n = 0
    while time.time() < deadline.timestamp() + 2:
        page.keyboard.type(letters[n % len(letters)])
        # keyboard.type returns once the browser has handled the key.
        if time.time() < deadline.timestamp():
            typed_before = textarea.input_value()
        n += 1
        page.wait_for_timeout(20)
    assert len(typed_before) > 60, "typing was too slow to test anything"

    # The page stopped the typing at zero and saved what was there.
    expect(textarea).to_have_attribute("readonly", "")
    expect(page.locator("#clock-warning")).to_contain_text("Time is up")
    shown = textarea.input_value()

    def everything_is_stored():
        content = stored(attempt, question)
        assert content.startswith(typed_before), (len(content), len(typed_before))
        assert content == shown

    eventually(page, everything_is_stored, timeout_ms=8_000)
    expect(page).to_have_url(re.compile(rf"/attempts/{attempt.pk}/results/$"), timeout=15_000)
    assert page.console_errors == []


def test_leaving_100_ms_after_typing_keeps_the_text_and_warns_first(page, live_server, mini_exam, personas, client):
    question, _ = items(mini_exam)
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    logged_in(page, client, live_server, personas.candidate)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))

    text = "Typed in a hurry, then gone."
    page.locator(f"#answer-{question.pk}-text").press_sequentially(text)
    status = page.locator(f"#form-{question.pk}-text .save-status")
    expect(status).to_have_attribute("data-state", re.compile("dirty|saving"))
    page.wait_for_timeout(100)
    page.goto(f"{live_server.url}/attempts/")
    assert dialogs in ([], ["beforeunload"])  # Chromium warns when the page was used

    eventually(page, lambda: assert_equal(stored(attempt, question), text))


def test_leaving_right_after_editing_code_keeps_it(page, live_server, mini_exam, personas, client):
    _, drill = items(mini_exam)
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    logged_in(page, client, live_server, personas.candidate)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#item-{drill.pk} .CodeMirror").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("def add(a, b):")
    page.keyboard.press("Enter")
    page.keyboard.type("return b + a")
    page.wait_for_timeout(100)
    page.goto(f"{live_server.url}/attempts/")
    eventually(page, lambda: assert_equal(stored(attempt, drill, "code"), "def add(a, b):\n    return b + a"))


def test_an_unsaved_field_says_so_until_it_is_saved(page, live_server, mini_exam, personas, client):
    question, _ = items(mini_exam)
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    logged_in(page, client, live_server, personas.candidate)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    page.locator(f"#answer-{question.pk}-text").press_sequentially("abc")
    status = page.locator(f"#form-{question.pk}-text .save-status")
    expect(status).to_have_text("Unsaved changes")
    expect(status).to_contain_text(re.compile(r"Saved at \d\d:\d\d:\d\d"))
    assert page.console_errors == []


def test_save_right_after_typing_shows_no_conflict(page, live_server, mini_exam, personas, client):
    question, _ = items(mini_exam)
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    logged_in(page, client, live_server, personas.candidate)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    textarea = page.locator(f"#answer-{question.pk}-text")
    save = page.locator(f"#form-{question.pk}-text .save-button")
    text = ""
    for word in ("Saved ", "while ", "an ", "autosave ", "was ", "on ", "its ", "way."):
        textarea.press_sequentially(word)
        text += word
        save.click()  # races the autosave of the same text: both go through one queue
    status = page.locator(f"#form-{question.pk}-text .save-status")
    expect(status).to_contain_text("Saved at")
    eventually(page, lambda: assert_equal(stored(attempt, question), text))
    expect(page.locator(".save-status.text-danger")).to_have_count(0)
    expect(page.locator(".alert-danger")).to_have_count(0)
    assert page.url.endswith(f"/attempts/{attempt.pk}/")  # no reload
    assert page.console_errors == []  # no 409 on the way


def assert_equal(actual, expected) -> None:
    assert actual == expected
