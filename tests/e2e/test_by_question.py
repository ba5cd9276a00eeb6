"""Marking by question in headless Chromium: the reviewer of a team takes
one question across three attempts from the keyboard, the progress follows
each save, and the rubric and the answer are checked by axe-core in light
and dark, at desktop and phone sizes, with no horizontal overflow at 360 px."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from grading.models import Mark, Membership
from tests.e2e.conftest import eventually
from tests.e2e.support import Checks, log_in
from tests.review_support import finished_attempt, import_pack, parts, review_pack, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_marks_one_question_across_three_attempts_from_the_keyboard(page, live_server, tmp_path, artifacts):
    people = team_people()
    User = get_user_model()
    candidates = [people.candidate]
    for name in ("bob", "carol"):
        user = User.objects.create_user(name, password="pw")
        Membership.objects.create(team=people.t, user=user)
        candidates.append(user)
    exam = import_pack(review_pack(tmp_path))
    attempts = [
        finished_attempt(user, exam, {"first": f"{user.username.title()} says the p99 is the tail latency."})
        for user in candidates
    ]
    p = parts(attempts[0])
    checks = Checks(page, artifacts, "by-question")

    log_in(page, live_server, "rita")
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("link", name="Mark by question").click()
    page.wait_for_url("**/review/questions/")
    item = page.locator(".by-question-item").filter(has_text="First question")
    expect(item).to_contain_text("0 of 3 marked")
    checks.every_size("index", lambda: expect(page.locator(".by-question-item")).to_have_count(2))

    item.get_by_role("link", name="First question").click()
    page.wait_for_url(f"**/review/questions/{p.question.pk}/")
    progress, position = page.locator("#bq-progress"), page.locator(".bq-position")
    expect(progress).to_have_text("0 of 3 marked")
    expect(position).to_have_text("Answer 1 of 3")
    expect(page.locator(".answer-text")).to_contain_text("Alice says")
    checks.every_size("item", lambda: expect(page.locator(".mark-form")).to_have_count(1))

    # 1 ticks the first criterion and saves it; the progress follows.
    page.keyboard.press("1")
    expect(page.locator(f"#criterion-{p.defines.pk}")).to_be_checked()
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("saved")
    expect(progress).to_have_text("1 of 3 marked")

    # n: the next unmarked answer; 1 and 2 tick both criteria.
    page.keyboard.press("n")
    expect(position).to_have_text("Answer 2 of 3")
    expect(page.locator(".answer-text")).to_contain_text("Bob says")
    page.keyboard.press("1")
    page.keyboard.press("2")
    expect(page.locator(f"#criterion-{p.example.pk}")).to_be_checked()
    expect(progress).to_have_text("2 of 3 marked")

    # j: the next answer, marked straight away, then k back to the second: its ticks kept.
    page.keyboard.press("j")
    expect(position).to_have_text("Answer 3 of 3")
    page.keyboard.press("3")
    expect(page.locator(f"#mark-status-{p.question.pk}")).to_contain_text("saved")
    expect(progress).to_have_text("3 of 3 marked")
    page.keyboard.press("k")
    expect(position).to_have_text("Answer 2 of 3")
    expect(page.locator(".bq-nav")).to_contain_text("Nothing left to mark here.")
    expect(page.locator(f"#criterion-{p.defines.pk}")).to_be_checked()
    expect(page.locator(f"#criterion-{p.example.pk}")).to_be_checked()

    def marks_are_saved():
        ticked = [
            set(Mark.objects.get(review__attempt=a, review__reviewer=people.reviewer_t, item=p.question).criteria.all())
            for a in attempts
        ]
        assert ticked == [{p.defines}, {p.defines, p.example}, {p.mean}]

    eventually(page, marks_are_saved)

    # Finalizing stays on the attempt's page.
    page.get_by_role("link", name=re.compile("Open the whole attempt")).click()
    page.wait_for_url(f"**/review/attempts/{attempts[1].pk}/")
    expect(page.get_by_role("button", name="Finalize review")).to_be_visible()

    # Anonymous marking from the queue: pseudonyms in the queue and when marking by question.
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("button", name="Hide candidates' names").click()
    expect(page.locator(".anonymity-state")).to_have_text("on")
    rows = page.locator(".queue-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text(re.compile(r"Candidate [A-Z0-9]{5}"))
    expect(page.locator("main")).not_to_contain_text("alice")
    checks.every_size("queue-anonymous", lambda: expect(page.locator(".queue-row")).to_have_count(3))
    page.goto(f"{live_server.url}/review/questions/{p.question.pk}/")
    expect(page.locator("#answer-title")).to_contain_text(re.compile(r"Answer of Candidate [A-Z0-9]{5}"))
    expect(page.locator("main")).not_to_contain_text("alice")

    assert page.console_errors == []
    checks.assert_none()
