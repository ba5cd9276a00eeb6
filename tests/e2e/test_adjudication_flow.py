"""Double marking in headless Chromium: with two final reviews apart by more
than the exam allows, a third reviewer of the team reads both side by side
and decides each part; staff then read the agreement figures. No WCAG 2
A/AA violation found by axe-core and no horizontal overflow at 360 px on
the adjudication and agreement pages."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from grading import reviewing
from grading.models import Adjudication, AttemptScore, Membership
from tests.e2e.support import Checks, log_in, log_out
from tests.review_support import finished_attempt, import_pack, parts, review_pack, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def review(attempt, reviewer, marks: dict) -> None:
    revision = 0
    for item, criteria in marks.items():
        done = reviewing.mark(
            attempt, reviewer, item, criteria_ids=[c.pk for c in criteria], adjustment=Decimal(0), reason="",
            comment=f"{reviewer.username}'s comment", revision=revision,
        )  # fmt: skip
        revision = done.revision
    reviewing.finalize(attempt, reviewer, revision)


def test_a_third_reviewer_adjudicates_and_staff_read_the_agreement(page, live_server, tmp_path, artifacts):
    people = team_people()
    third = get_user_model().objects.create_user("victor", password="pw")
    Membership.objects.create(team=people.t, user=third, role=Membership.Role.REVIEWER)
    pack = review_pack(tmp_path)
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", "reveal_policy: on_demand\nreviews: 2")
    pack.path("exam.md").write_text(text)
    exam = import_pack(pack)
    attempt = finished_attempt(people.candidate, exam, {"first": "The tail."})
    p = parts(attempt)
    review(attempt, people.reviewer_t, {p.question: [p.defines, p.example], None: [p.strong]})
    review(attempt, people.owner_t, {p.question: [], None: []})
    checks = Checks(page, artifacts, "adjudication")

    log_in(page, live_server, "victor")
    page.goto(live_server.url + "/review/?status=needs_adjudication")
    row = page.locator(".queue-row").filter(has_text="alice")
    expect(row).to_contain_text("Needs adjudication")
    row.get_by_role("link").click()
    page.get_by_role("link", name="Adjudicate").click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/adjudicate/")
    expect(page.locator("h1")).to_contain_text("Adjudication")
    expect(page.locator(".review-side-1").first).to_contain_text("rita's comment")
    checks.axe("adjudicate")
    checks.overflow("adjudicate", lambda: expect(page.locator(".adjudication-table")).to_be_visible())

    page.get_by_label("Second review's mark (0)").first.check()
    page.locator("#choice-overall-points").check()
    page.fill("#points-overall", "1")
    page.fill("#reason-overall", "Names the metric, but only once")
    page.get_by_role("button", name="Record the adjudication").click()
    page.wait_for_url(f"**/review/attempts/{attempt.pk}/")
    expect(page.locator(".alert-success").first).to_contain_text("Adjudication recorded")
    expect(page.locator("#double-marking")).to_contain_text("Adjudicated by victor: the score is 1.")
    assert Adjudication.objects.get(attempt=attempt).adjudicator == third
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.total, score.is_final) == (Decimal("1.00"), True)

    log_out(page)
    log_in(page, live_server, "sam")
    page.goto(live_server.url + "/review/")
    page.get_by_role("link", name="Reviewer agreement on double-marked exams").click()
    expect(page.locator(".agreement-attempts")).to_have_text("1")
    checks.every_size("agreement", lambda: expect(page.locator(".agreement-table")).to_be_visible())
    checks.assert_none()
