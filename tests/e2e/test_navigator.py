"""A navigable attempt (issue 11, points 2, 3 and 8 for the attempt page), in
headless Chromium: the question navigator's states follow saves, reveals and
runs, the current item is marked on scroll, the drawer on a phone, the editor
lets the keyboard out, and the start confirmation; axe-core finds no WCAG 2
A/AA violation on the confirmation or the attempt page, neither overflows at
360 px, and both are captured at 1280x900 and 390x844 in light and dark."""

import json
import re

import pytest
from playwright.sync_api import expect

from exams.models import Attempt
from tests.e2e.support import axe_violations, widest
from tests.e2e.test_attempt_flow import ATTEMPT_URL, attempt_from_url, items, log_in
from tests.e2e.test_drill_runs import RIGHT, write_code
from tests.e2e.test_keystrokes import logged_in
from tests.sandbox_support import need_bubblewrap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def entry(page, item):
    return page.locator(f"#nav-item-{item.pk}")


def open_practice(page, live_server, client, mini_exam, personas) -> Attempt:
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    logged_in(page, client, live_server, personas.candidate)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    return attempt


def test_the_navigator_follows_answers_and_reveals(page, live_server, mini_exam, personas, client):
    question, drill = items(mini_exam)
    open_practice(page, live_server, client, mini_exam, personas)
    nav = page.get_by_role("navigation", name="Questions")
    expect(nav.get_by_role("link")).to_have_text(
        [re.compile(r"Basics"), re.compile(r"First question"), re.compile(r"Coding"), re.compile(r"Add two numbers")]
    )
    expect(entry(page, question)).to_have_attribute("data-answered", "0")
    expect(entry(page, drill)).to_have_attribute("data-answered", "0")  # the starter code answers nothing
    expect(entry(page, question).get_by_role("link")).to_have_accessible_name(re.compile(r"\(not answered\)"))

    page.locator(f"#answer-{question.pk}-text").press_sequentially("The 99th percentile.")
    expect(entry(page, question)).to_have_attribute("data-answered", "1")
    expect(entry(page, question).get_by_role("link")).to_have_accessible_name(re.compile(r"\(answered\)"))
    expect(page.locator("#answered-count")).to_have_text("1")
    # Cleared, the save sends the entry back unanswered; written again, the
    # save's status marks it (text that is not blank sends no entry).
    page.locator(f"#answer-{question.pk}-text").fill("")
    expect(entry(page, question)).to_have_attribute("data-answered", "0")
    expect(page.locator("#answered-count")).to_have_text("0")
    page.locator(f"#answer-{question.pk}-text").press_sequentially("The p99.")
    expect(entry(page, question)).to_have_attribute("data-answered", "1")
    expect(entry(page, question).get_by_role("link")).to_have_accessible_name(re.compile(r"\(answered\)"))
    expect(page.locator("#answered-count")).to_have_text("1")

    write_code(page, drill, "def add(a, b):\n    return 0")
    expect(entry(page, drill)).to_have_attribute("data-answered", "1")
    expect(page.locator("#answered-count")).to_have_text("2")

    page.locator(f"#item-{question.pk} .reveal-button").click()
    expect(entry(page, question).locator(".nav-revealed")).to_have_text("revealed")
    expect(entry(page, question)).to_have_attribute("data-answered", "1")

    # The current item follows the scroll, and a click jumps there.
    page.locator(f"#item-{drill.pk} .run-button").scroll_into_view_if_needed()
    page.evaluate(f"document.getElementById('item-{drill.pk}').scrollIntoView()")
    expect(entry(page, drill).get_by_role("link")).to_have_attribute("aria-current", "location")
    entry(page, question).get_by_role("link").click()
    expect(entry(page, question).get_by_role("link")).to_have_attribute("aria-current", "location")
    expect(page.locator(f"#item-{question.pk}")).to_be_focused()
    assert page.url.endswith(f"#item-{question.pk}")
    # The jump (smooth, as Bootstrap sets it) ends with the title below the sticky bar.
    page.wait_for_function(
        """id => {
            const title = document.getElementById(id).getBoundingClientRect();
            const bar = document.getElementById("attempt-bar").getBoundingClientRect();
            return title.top >= bar.bottom && title.top < bar.bottom + 40;
        }""",
        arg=f"item-title-{question.pk}",
    )
    assert page.console_errors == []


def test_a_run_shows_in_the_navigator(page, live_server, mini_exam, personas, client, eager_grading):
    need_bubblewrap()
    _, drill = items(mini_exam)
    open_practice(page, live_server, client, mini_exam, personas)
    write_code(page, drill, RIGHT)
    page.locator(f"#item-{drill.pk} .run-button").click()  # right after typing: waits for the save
    expect(page.locator(f"#runs-{drill.pk} .run-summary")).to_contain_text("3 of 3 tests passed", timeout=15_000)
    expect(entry(page, drill)).to_have_attribute("data-tests", "passed")
    expect(entry(page, drill).locator(".nav-tests")).to_have_text("tests 3/3")
    expect(page.locator(".save-status.text-danger")).to_have_count(0)
    page.reload()
    expect(entry(page, drill).locator(".nav-tests")).to_have_text("tests 3/3")
    assert page.console_errors == []


def test_on_a_phone_the_navigator_is_a_drawer(page, live_server, mini_exam, personas, client, artifacts):
    _, drill = items(mini_exam)
    page.set_viewport_size({"width": 390, "height": 844})
    open_practice(page, live_server, client, mini_exam, personas)
    nav = page.get_by_role("navigation", name="Questions")
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="Questions").click()
    expect(nav).to_be_visible()
    expect(page.locator("#navigator")).not_to_have_class(re.compile(r"showing"))  # slid in
    page.screenshot(path=str(artifacts / "attempt-navigator-drawer-phone.png"))
    entry(page, drill).get_by_role("link").click()
    expect(nav).to_be_hidden()
    expect(page.locator(f"#item-title-{drill.pk}")).to_be_in_viewport()
    assert page.console_errors == []


def test_esc_then_tab_leaves_the_editor(page, live_server, mini_exam, personas, client):
    _, drill = items(mini_exam)
    open_practice(page, live_server, client, mini_exam, personas)
    editor = page.locator(f"#item-{drill.pk} .CodeMirror")
    expect(editor.get_by_role("textbox", name="Your code: Add two numbers")).to_have_count(1)
    editor.click()
    page.keyboard.press("Tab")  # indents
    assert page.evaluate("document.activeElement.closest('.CodeMirror') !== null")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.CodeMirror') === null")
    expect(page.locator(f"#form-{drill.pk}-code .save-button")).to_be_focused()


def check_page(page, name: str, artifacts, problems: dict) -> None:
    """axe in light and dark, screenshots at both sizes, overflow at 360 px."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = axe_violations(page)
        if violations:
            problems[f"{name} ({scheme}): axe"] = violations
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(100)
            page.screenshot(path=str(artifacts / f"{name}-{size}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 360, "height": 800})
    page.wait_for_timeout(100)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width > 360:
        problems[f"{name}: overflow at 360 px"] = f"scrollWidth {width}: {widest(page)}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_start_confirmation_and_the_attempt_page_pass_axe_and_fit_a_phone(
    page, live_server, mini_exam, personas, artifacts
):
    question, _ = items(mini_exam)
    problems: dict[str, object] = {}
    log_in(page, live_server)
    page.goto(live_server.url + "/exams/mini-exam/")
    page.get_by_role("button", name=re.compile(r"^Start timed attempt \(30 min\)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a timed attempt?")
    expect(page.locator("#rule-duration")).to_contain_text("You will have 30 minutes")
    expect(page.locator("#rule-clock")).to_contain_text("The clock cannot be paused")
    expect(page.locator("#rule-reveal")).to_contain_text("revealing it locks your answer")
    assert not Attempt.objects.exists()
    check_page(page, "start-confirm", artifacts, problems)

    page.get_by_role("button", name="Start the clock (30 min)").click()
    page.wait_for_url(ATTEMPT_URL)
    attempt = attempt_from_url(page)
    assert attempt.mode == Attempt.Mode.TIMED
    page.locator(f"#answer-{question.pk}-text").press_sequentially("The 99th percentile.")
    expect(page.locator(f"#form-{question.pk}-text .save-status")).to_contain_text("Saved at")
    page.locator(f"#answer-{question.pk}-text").press_sequentially(" Unsaved")  # a field showing its state
    check_page(page, "attempt", artifacts, problems)
    assert not problems, json.dumps(problems, indent=2)
    assert page.console_errors == []
