"""Taking an exam in headless Chromium: log in, start, autosave, reveal, the
code editor, the countdown, submit and results; and the same without JavaScript."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exams.models import Answer, Attempt, Item, Reveal
from tests.conftest import HIDDEN_MARKER
from tests.e2e.conftest import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ATTEMPT_URL = re.compile(r"/attempts/(\d+)/(#.*)?$")


def log_in(page, live_server, username="alice", password="pw"):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name=username)).to_be_visible()


def attempt_from_url(page) -> Attempt:
    match = ATTEMPT_URL.search(page.url)
    assert match, page.url
    return Attempt.objects.get(pk=int(match.group(1)))


def items(exam) -> tuple[Item, Item]:
    version = exam.current_version
    return Item.objects.get(slug="first", version=version), Item.objects.get(slug="add", version=version)


def test_a_candidate_takes_a_timed_attempt_from_login_to_results(page, live_server, mini_exam, personas, artifacts):
    question, drill = items(mini_exam)
    log_in(page, live_server)

    page.goto(live_server.url + "/exams/mini-exam/")
    page.get_by_role("button", name=re.compile(r"^Start timed attempt")).click()
    page.get_by_role("button", name=re.compile(r"^Start the clock")).click()  # the confirmation page
    page.wait_for_url(ATTEMPT_URL)
    attempt = attempt_from_url(page)
    assert (attempt.user, attempt.mode) == (personas.candidate, Attempt.Mode.TIMED)
    expect(page.get_by_role("alert").filter(has_text="Timed attempt started")).to_be_visible()

    # The countdown is drawn by attempt.js from the server's deadline.
    expect(page.locator("#clock .clock-remaining")).to_have_text(re.compile(r"^(29:[0-5]\d|30:00)$"))
    expect(page.locator("#clock .progress .progress-bar")).to_have_count(1)

    # Typing autosaves after a pause.
    answer_text = "The 99th percentile: 99% of requests are faster."
    textarea = page.locator(f"#answer-{question.pk}-text")
    textarea.press_sequentially(answer_text)
    status = page.locator(f"#form-{question.pk}-text .save-status")
    expect(status).to_contain_text(re.compile(r"Saved at \d\d:\d\d:\d\d"))
    question_answer = Answer.objects.filter(attempt=attempt, item=question, part=Answer.Part.TEXT)

    def answer_is_saved():
        assert question_answer.get().content == answer_text

    eventually(page, answer_is_saved)
    page.screenshot(path=str(artifacts / "attempt.png"), full_page=True)

    page.reload()
    expect(textarea).to_have_value(answer_text)
    expect(page.locator("#answered-count")).to_have_text("1")
    # The model answer is not in the page at all before it is revealed.
    assert HIDDEN_MARKER not in page.content()

    # Revealing in a timed attempt asks first, then locks the answer.
    card = page.locator(f"#item-{question.pk}")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    card.locator(".reveal-button").click()
    expect(card.locator(".model-answer")).to_contain_text(HIDDEN_MARKER)
    assert dialogs and "locks your answer" in dialogs[0]
    expect(card.get_by_role("status").filter(has_text="this answer is locked")).to_be_visible()
    expect(textarea).to_have_attribute("readonly", "")
    expect(textarea).to_have_value(answer_text)
    expect(card.locator(".reveal-button")).to_have_count(0)
    expect(card.locator(".save-button")).to_have_count(0)
    reveal = Reveal.objects.get(attempt=attempt, item=question)
    assert (reveal.user, reveal.had_answer) == (personas.candidate, True)
    # The drill's model answer stays hidden.
    assert "Negative numbers and zero" not in page.content()

    # The drill's code editor: replace the starter code and let it autosave.
    drill_card = page.locator(f"#item-{drill.pk}")
    editor = drill_card.locator(".CodeMirror")
    expect(editor).to_be_visible()
    expect(editor).to_contain_text("raise NotImplementedError")  # the starter code
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("def add(a, b):")
    page.keyboard.press("Enter")  # the editor indents the body itself
    page.keyboard.type("return a + b")
    code_status = page.locator(f"#form-{drill.pk}-code .save-status")
    expect(code_status).to_contain_text("Saved at")
    code_answer = Answer.objects.filter(attempt=attempt, item=drill, part=Answer.Part.CODE)

    def code_is_saved():
        assert code_answer.get().content == "def add(a, b):\n    return a + b"

    eventually(page, code_is_saved)

    page.get_by_role("link", name="Submit…", exact=True).click()
    page.wait_for_url(f"**/attempts/{attempt.pk}/submit/")
    expect(page.locator(".alert-success")).to_have_text("Every item has an answer.")
    page.locator("#confirm-submit").click()
    page.wait_for_url(f"**/attempts/{attempt.pk}/results/")

    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    expect(page.locator("h1")).to_have_text("Results: Mini exam")
    question_row = page.locator(f"#result-{question.pk} td")
    expect(question_row.nth(1)).to_have_text("Yes")
    expect(question_row.nth(2)).to_have_text("Revealed · locked")
    drill_row = page.locator(f"#result-{drill.pk} td")
    expect(drill_row.nth(1)).to_have_text("Yes")
    expect(drill_row.nth(2)).to_have_text("Not revealed")
    page.screenshot(path=str(artifacts / "results.png"), full_page=True)
    assert page.console_errors == []


def test_the_countdown_reaching_zero_ends_the_attempt(page, live_server, mini_exam, personas, client):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    attempt.deadline = timezone.now() + timedelta(seconds=4)
    attempt.save(update_fields=["deadline"])
    client.force_login(personas.candidate)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    expect(page.locator("#clock .clock-remaining")).to_have_text(re.compile(r"^0:0[0-4]$"))
    expect(page.locator("#clock-warning")).to_have_text(re.compile(r"^1 minute left\."))
    # The server keeps accepting saves for Attempt.GRACE after the deadline,
    # so the browser lands on the results only once that has passed too.
    expect(page).to_have_url(re.compile(rf"/attempts/{attempt.pk}/results/$"), timeout=15_000)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EXPIRED
    expect(page.locator(".results-facts")).to_contain_text("Ended at the deadline")
    assert page.console_errors == []


def test_the_page_works_without_javascript(browser, live_server, mini_exam, personas):
    question, drill = items(mini_exam)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        failures = []
        page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
        log_in(page, live_server)
        page.goto(live_server.url + "/exams/mini-exam/")
        page.get_by_role("button", name="Start practice (untimed)").click()
        page.wait_for_url(ATTEMPT_URL)
        attempt = attempt_from_url(page)
        assert attempt.mode == Attempt.Mode.PRACTICE
        expect(page.locator("#clock")).to_have_count(0)
        # No editor without JavaScript: the plain textarea holds the starter code.
        expect(page.locator(".CodeMirror")).to_have_count(0)
        expect(page.locator(f"#answer-{drill.pk}-code")).to_have_value(drill.starter_code)

        answer_text = "The 99th percentile of latency."
        page.locator(f"#answer-{question.pk}-text").fill(answer_text)
        page.locator(f"#form-{question.pk}-text").get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(rf"/attempts/{attempt.pk}/#item-{question.pk}$"))
        expect(page.locator(".alert-success")).to_have_text("First question: saved.")
        expect(page.locator(f"#answer-{question.pk}-text")).to_have_value(answer_text)
        expect(page.locator(f"#form-{question.pk}-text .save-status")).to_contain_text("Saved at")
        saved = Answer.objects.get(attempt=attempt, item=question, part=Answer.Part.TEXT)
        assert (saved.content, saved.revision) == (answer_text, 1)
        assert failures == []
    finally:
        context.close()


def test_revealing_a_drill_in_practice_keeps_the_editor_and_the_page_clean(page, live_server, mini_exam, personas):
    question, drill = items(mini_exam)
    log_in(page, live_server)
    page.goto(live_server.url + "/exams/mini-exam/")
    page.get_by_role("button", name="Start practice (untimed)").click()
    page.wait_for_url(ATTEMPT_URL)

    page.fill(f"#answer-{question.pk}-text", "An answer")
    expect(page.locator(f"#form-{question.pk}-text .save-status")).to_contain_text("Saved at")
    expect(page.locator("#answered-count")).to_have_text("1")  # updated without a reload

    card = page.locator(f"#item-{drill.pk}")
    card.locator(".reveal-button").click()  # practice: no confirmation, no lock
    expect(card).to_contain_text("Reference solution")
    expect(card.locator(".CodeMirror")).to_have_count(1)
    assert card.locator("textarea.code-editor").get_attribute("readonly") is None
    assert page.console_errors == []
