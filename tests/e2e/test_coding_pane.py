"""The coding pane of a drill in headless Chromium (issue 11, points 4 and 5):
statement beside the editor, Ctrl/Cmd+Enter, run on your own input, a
traceback whose lines move the cursor, reset and load an earlier run's code,
a run in progress; screenshots light and dark at 1280 and 390; axe-core."""

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grading.models import Submission
from tests.e2e.support import axe_violations
from tests.e2e.test_attempt_flow import items
from tests.e2e.test_drill_runs import assert_no_hidden_case, screenshot, start_practice, write_code
from tests.sandbox_support import need_bubblewrap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Written line by line by write_code (the editor indents bodies itself).
RAISES = "def add(a, b):\ncheck = a + b\nif a == 1: raise ValueError('one is odd')\nreturn check"
RAISES_LINES = 4  # `raise` is on line 3 of the editor


def editor_value(page, drill) -> str:
    return page.evaluate(f"() => document.querySelector('#item-{drill.pk} .CodeMirror').CodeMirror.getValue()")


def cursor_line(page, drill) -> int:
    return page.evaluate(
        f"() => document.querySelector('#item-{drill.pk} .CodeMirror').CodeMirror.getCursor().line + 1"
    )


def test_the_coding_pane(page, live_server, mini_exam, personas, eager_grading, artifacts):
    need_bubblewrap()
    _, drill = items(mini_exam)
    attempt = start_practice(page, live_server)
    item = page.locator(f"#item-{drill.pk}")
    starter = editor_value(page, drill)

    # Wide screen: the statement beside the editor, scrolling on its own.
    statement = item.locator(".card-body > .prose").first
    editor = item.locator(".CodeMirror")
    left, right = statement.bounding_box(), editor.bounding_box()
    assert left["x"] + left["width"] <= right["x"]
    assert abs(left["y"] - right["y"]) < 120
    assert statement.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert statement.evaluate("e => getComputedStyle(e).overflowY") == "auto"
    expect(statement).to_have_attribute("tabindex", "0")

    # Ctrl+Enter in the editor runs the tests; the sample's traceback shows
    # the candidate's own lines, the exception once.
    write_code(page, drill, RAISES)
    page.keyboard.press("ControlOrMeta+Enter")
    runs = page.locator(f"#runs-{drill.pk}")
    expect(runs.locator(".run-summary")).to_contain_text("tests passed", timeout=15_000)
    assert editor_value(page, drill).count("\n") == RAISES_LINES - 1  # Ctrl+Enter added no line
    runs.locator("details.sample-cases summary").click()
    case = runs.locator(".sample-case")
    expect(case.locator(".traceback-exception")).to_have_text("ValueError: one is odd")
    expect(case).not_to_contain_text("ValueError: ValueError")
    frames = case.locator(".traceback-frame")
    expect(frames).to_have_count(1)
    expect(frames.first).to_contain_text("line 3, in add")
    expect(frames.first.locator(".traceback-code")).to_have_text("if a == 1: raise ValueError('one is odd')")
    # Clicking the line moves the editor's cursor there.
    page.evaluate(f"() => document.querySelector('#item-{drill.pk} .CodeMirror').CodeMirror.setCursor(0, 0)")
    frames.first.get_by_role("button", name="line 3").click()
    assert cursor_line(page, drill) == 3
    assert_no_hidden_case(page)

    # Own input: Python literals, the value, the prints, never scored.
    own = item.locator("details.own-input")
    own.locator("summary").click()
    arguments = own.get_by_label("Arguments of add(…), as Python literals")
    arguments.fill("2, b=40")
    arguments.press("ControlOrMeta+Enter")
    result = own.locator(".own-result .submission")
    expect(result.locator(".own-run-summary")).to_contain_text("Returned", timeout=15_000)
    expect(result.locator(".own-run-value")).to_have_text("42")
    expect(result).to_contain_text("not scored")
    arguments.fill("1, 2")
    own.get_by_role("button", name="Run on this input").click()
    expect(result.locator(".traceback-exception")).to_have_text("ValueError: one is odd", timeout=15_000)
    screenshot(page, artifacts / "coding-pane-own-input-1280-light.png")
    arguments.fill("open('/etc/passwd')")
    own.get_by_role("button", name="Run on this input").click()
    expect(own.locator(".own-run-error")).to_contain_text("is not a literal (a call is not allowed)")
    page.console_errors.clear()  # the 400 above, on purpose

    # The own-input runs did not become the run that counts.
    expect(runs.locator(".run-summary")).to_contain_text("2 of 3 tests passed")
    sources = list(Submission.objects.filter(attempt=attempt).order_by("pk").values_list("source", flat=True))
    assert sources == ["run", "custom", "custom"]

    # Reset to the starter code, after a confirmation.
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Reset to starter code").click()
    assert editor_value(page, drill) == starter
    # Declining changes nothing.
    write_code(page, drill, "def add(a, b):\nreturn a + b")
    page.once("dialog", lambda dialog: dialog.dismiss())
    item.get_by_role("button", name="Reset to starter code").click()
    assert editor_value(page, drill) == "def add(a, b):\n    return a + b"

    # Load an earlier run's code.
    page.once("dialog", lambda dialog: dialog.accept())
    runs.locator(".run-summary").get_by_role("button", name="Load this code").click()
    page.wait_for_function(
        f"() => document.querySelector('#item-{drill.pk} .CodeMirror').CodeMirror.getValue().includes('one is odd')"
    )
    assert page.console_errors == []


def test_a_run_in_progress_disables_the_buttons_and_dims_the_previous_result(
    page, live_server, mini_exam, personas, artifacts
):
    _, drill = items(mini_exam)
    attempt = start_practice(page, live_server)
    done = Submission.objects.create(
        attempt=attempt,
        item=drill,
        code="def add(a, b):\n    return a - b\n",
        status="graded",
        passed=1,
        total=3,
        max_score=10,
        score=3.33,
        result={"status": "graded", "categories": [{"name": "basics", "passed": 1, "total": 3, "failures": []}]},
        created_at=timezone.now(),
    )
    pending = Submission.objects.create(
        attempt=attempt, item=drill, code="x", status="running", progress=33, total=3, created_at=timezone.now()
    )
    page.reload()
    runs = page.locator(f"#runs-{drill.pk}")
    expect(runs.locator(f"#submission-{pending.pk} .run-pending")).to_contain_text("1 of 3 tests done")
    expect(runs.locator(".previous-result")).to_contain_text("1 of 3 tests passed")
    assert runs.locator(".previous-result").evaluate("e => getComputedStyle(e).opacity") == "0.55"
    expect(page.locator(f"#item-{drill.pk} .run-button")).to_be_disabled()
    expect(page.locator(f"#item-{drill.pk} .own-run-button")).to_be_disabled()
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(f"#item-{drill.pk}").screenshot(path=str(artifacts / "coding-pane-running-1280-light.png"))

    Submission.objects.filter(pk=pending.pk).update(
        status="graded", passed=3, total=3, score=10, max_score=10, result={"status": "graded", "categories": []}
    )
    expect(runs.locator(f"#submission-{pending.pk} .run-summary")).to_contain_text("3 of 3 tests passed")
    expect(runs.locator(".previous-result")).to_have_count(0)
    expect(page.locator(f"#item-{drill.pk} .run-button")).to_be_enabled()
    assert done.pk


def test_screenshots_and_accessibility(page, live_server, mini_exam, personas, eager_grading, artifacts):
    need_bubblewrap()
    _, drill = items(mini_exam)
    start_practice(page, live_server)
    write_code(page, drill, RAISES)
    page.keyboard.press("ControlOrMeta+Enter")
    expect(page.locator(f"#runs-{drill.pk} .run-summary")).to_contain_text("tests passed", timeout=15_000)
    item = page.locator(f"#item-{drill.pk}")
    item.locator("details.own-input summary").click()
    item.locator(".own-arguments").fill("[1, 2], b=3")
    item.get_by_role("button", name="Run on this input").click()
    expect(item.locator(".own-result .own-run-summary")).to_be_visible(timeout=15_000)

    problems = {}

    def ready():
        expect(page.locator(f"#item-{drill.pk} .CodeMirror")).to_be_visible()
        page.locator(f"#item-{drill.pk} details.sample-cases summary").click()

    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.reload()
            ready()
            page.locator(f"#item-{drill.pk}").scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / f"coding-pane-{width}-{scheme}.png"))
            item.screenshot(path=str(artifacts / f"coding-pane-item-{width}-{scheme}.png"))
            overflow = page.evaluate("() => document.documentElement.scrollWidth")
            if overflow > width:
                problems[f"{width} {scheme}: overflow"] = overflow
        violations = axe_violations(page)
        if violations:
            problems[f"{scheme}: axe"] = violations
    assert not problems, json.dumps(problems, indent=2)
    assert page.console_errors == []
