"""Teams and a leaderboard in headless Chromium: an owner creates a team and
copies its invitation link, two members and a future reviewer join through
it, the owner makes the reviewer through the role form, the members' timed
attempts are finished, the reviewer finalizes one review, and a member reads
the leaderboard: the order a person expects, the provisional marker on the
other row, their own row highlighted. Screenshots of the team page and the
leaderboard in light and dark at desktop and phone sizes, no horizontal
overflow at 360 px, no WCAG 2 A/AA violation found by axe-core on the teams
list, the team page, the join page and the leaderboard."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grading.models import AttemptScore, Mark, Membership, Team
from tests.e2e.conftest import eventually
from tests.e2e.support import Checks, log_in, log_out
from tests.review_support import import_pack, review_pack
from tests.team_support import finish, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def join_through(page, live_server, link: str, username: str, checks: Checks | None = None) -> None:
    log_in(page, live_server, username)
    page.goto(link)
    expect(page.locator("main")).to_contain_text("You are invited to join Night shift")
    join = page.get_by_role("button", name="Join Night shift")
    if checks is not None:
        checks.axe("join")
        checks.overflow("join", lambda: expect(join).to_be_visible())
    join.click()
    page.wait_for_url("**/teams/night-shift/")
    expect(page.get_by_role("alert").filter(has_text="You joined Night shift.")).to_be_visible()
    log_out(page)


def test_a_team_joins_by_link_and_reads_its_leaderboard(page, live_server, tmp_path, artifacts):
    exam = import_pack(review_pack(tmp_path))
    for name in ("olive", "mona", "milo", "rhea"):
        user(name)
    checks = Checks(page, artifacts, "teams")

    # The owner creates the team from the teams page.
    log_in(page, live_server, "olive")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Teams").click()
    page.wait_for_url("**/teams/")
    expect(page.locator(".no-teams")).to_have_text("You are in no team yet.")
    page.get_by_label("Name", exact=True).fill("Night shift")
    page.get_by_role("button", name="Create team").click()
    page.wait_for_url("**/teams/night-shift/")
    expect(page.locator("h1")).to_have_text("Night shift")
    expect(page.get_by_role("alert").filter(has_text="Team Night shift created")).to_be_visible()
    team = Team.objects.get(slug="night-shift")
    assert list(team.memberships.values_list("user__username", "role")) == [("olive", "owner")]

    # ... and copies its invitation link.
    page.get_by_role("button", name="Create a link").click()
    expect(page.get_by_role("alert").filter(has_text="Invitation link created")).to_be_visible()
    link = page.locator(".invitation").get_by_role("textbox", name="Link").input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/teams/join/[\w-]+/", link), link
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Teams").click()
    expect(page.locator(".team-list")).to_contain_text("Night shift")
    checks.axe("teams")
    checks.overflow("teams", lambda: expect(page.locator(".team-list")).to_be_visible())
    log_out(page)

    # Two members and the future reviewer join through the link.
    join_through(page, live_server, link, "mona", checks)
    join_through(page, live_server, link, "milo")
    join_through(page, live_server, link, "rhea")
    assert team.invitations.get().uses == 3

    # The owner makes rhea a reviewer through the role form.
    log_in(page, live_server, "olive")
    page.goto(f"{live_server.url}/teams/night-shift/")
    page.get_by_label("Role of rhea").select_option("reviewer")
    page.get_by_role("button", name="Set the role of rhea").click()
    expect(page.get_by_role("alert").filter(has_text="rhea is now reviewer.")).to_be_visible()
    assert Membership.objects.get(team=team, user__username="rhea").role == "reviewer"
    expect(page.locator(".members-table tbody tr")).to_have_count(4)
    expect(page.locator(".invitation")).to_contain_text("used 3 times")
    checks.every_size("team-owner", lambda: expect(page.locator(".members-table")).to_be_visible())
    log_out(page)

    # Both members finished a timed attempt: mona in 25 minutes, milo in 12.
    start = timezone.now() - timedelta(hours=3)
    mona = finish(Membership.objects.get(user__username="mona").user, exam, minutes=25, start=start)
    milo = finish(Membership.objects.get(user__username="milo").user, exam, minutes=12, start=start)

    # The reviewer finalizes mona's review from the queue, ticking the two strong criteria.
    log_in(page, live_server, "rhea")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review").click()
    page.wait_for_url("**/review/")
    expect(page.locator(".queue-row")).to_have_count(2)
    page.get_by_role("link", name="Review the attempt of mona").click()
    page.wait_for_url(f"**/review/attempts/{mona.pk}/")
    page.keyboard.press("j")
    page.keyboard.press("1")
    page.keyboard.press("2")
    expect(page.locator("#review-total strong")).to_have_text("4")
    eventually(page, lambda: _marked(mona, 2))
    page.get_by_role("button", name="Finalize review").click()
    expect(page.get_by_role("alert").filter(has_text="Review finalized")).to_be_visible()
    assert AttemptScore.objects.get(attempt=mona).is_final
    assert not AttemptScore.objects.get(attempt=milo).is_final
    log_out(page)

    # Milo reads the leaderboard from the team page.
    log_in(page, live_server, "milo")
    page.goto(f"{live_server.url}/teams/night-shift/")
    expect(page.locator(".members-table tbody tr")).to_have_count(4)
    checks.every_size("team-member", lambda: expect(page.locator(".members-table")).to_be_visible())
    page.locator(".board-list").get_by_role("link", name="Mini exam").click()
    page.wait_for_url(f"**/teams/night-shift/leaderboards/{exam.slug}/")
    rows = page.locator("tr.board-row")
    expect(rows).to_have_count(2)
    # Score first: mona's 4 (final) beats milo's 0 although milo was faster.
    expect(rows.nth(0)).to_contain_text("mona")
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("1")
    expect(rows.nth(0).locator("td").nth(2)).to_contain_text("4 of")
    expect(rows.nth(0).locator(".marker")).to_have_count(0)
    expect(rows.nth(1)).to_contain_text("milo (you)")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("2")
    provisional = rows.nth(1).locator(".marker", has_text="provisional").locator("visible=true")
    expect(provisional).to_have_count(1)
    expect(provisional).to_have_attribute("title", re.compile("not final yet"))
    # The viewer's own row, and only theirs, is highlighted.
    expect(page.locator("tr.own-row")).to_have_count(1)
    expect(rows.nth(1)).to_have_class(re.compile(r"\bown-row\b"))
    own_colour = rows.nth(1).locator("td").nth(1).evaluate("td => getComputedStyle(td).backgroundColor")
    other_colour = rows.nth(0).locator("td").nth(1).evaluate("td => getComputedStyle(td).backgroundColor")
    assert own_colour != other_colour
    checks.every_size("leaderboard", lambda: expect(page.locator("tr.board-row")).to_have_count(2))
    leaderboard_url = page.url
    log_out(page)

    # The owner freezes the board: the controls and the note, at every size.
    log_in(page, live_server, "olive")
    page.goto(leaderboard_url)
    expect(page.locator("tr.own-row")).to_have_count(0)  # the owner has no attempt
    page.get_by_role("button", name="Freeze now").click()
    expect(page.locator(".frozen-note")).to_contain_text("Frozen at")
    expect(page.get_by_role("link", name="Live view")).to_be_visible()
    checks.every_size("leaderboard-owner", lambda: expect(page.locator(".frozen-note")).to_be_visible())

    assert page.console_errors == []
    checks.assert_none()


def _marked(attempt, ticks: int) -> None:
    mark = Mark.objects.filter(review__attempt=attempt, item__slug="first").first()
    assert mark is not None and mark.criteria.count() == ticks
