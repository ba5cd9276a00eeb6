"""My progress in headless Chromium: a candidate with practice and timed
attempts, some reviewed, in a team whose members finished timed attempts,
opens the page from the menu and reads the charts. Screenshots in light and
dark at desktop and phone sizes, no horizontal overflow at 360 px, and no
WCAG 2 A/AA violation found by axe-core."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from grading.models import Membership
from tests.e2e.support import SIZES, axe_violations, log_in, widest
from tests.progress_support import scored_attempt
from tests.review_support import import_pack, review_pack, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# (percent, timed, final) of alice's attempts, oldest first.
ALICE = [(31.5, False, True), (44, True, True), (52.25, False, True), (61, True, False), (68.5, False, False)]
# Best timed percents of the other members of Team T (one band holds two).
TEAM = [22, 47.5, 55, 58, 83]


def progress_data(tmp_path) -> None:
    people = team_people()
    exam = import_pack(review_pack(tmp_path))
    now = timezone.now()
    for n, (percent, timed, final) in enumerate(ALICE):
        scored_attempt(
            people.candidate,
            exam,
            percent,
            timed=timed,
            final=final,
            reviewer=people.reviewer_t if final else None,
            when=now - timedelta(days=len(ALICE) - n),
            hits=("Names the metric",) if n else ("Ignores the tail",),
            strong="2" if n else "0",
            weak="0" if n else "-1",
        )
    User = get_user_model()
    for n, percent in enumerate(TEAM):
        member = User.objects.create_user(f"member-{n}", password="pw")
        Membership.objects.create(team=people.t, user=member)
        scored_attempt(member, exam, percent, timed=True, when=now - timedelta(hours=n + 1))


def test_a_candidate_reads_their_progress_charts(page, live_server, tmp_path, artifacts):
    progress_data(tmp_path)
    log_in(page, live_server, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My progress").click()
    page.wait_for_url("**/progress/")
    expect(page.locator("h1")).to_have_text("My progress")

    history = page.get_by_role("img", name="Mini exam: score of each attempt over time")
    expect(history).to_be_visible()
    expect(history.locator("circle.point")).to_have_count(3)  # final
    expect(history.locator("path.point")).to_have_count(2)  # provisional
    # The latest reviewed attempt (3), not the newer provisional ones.
    expect(page.get_by_role("img", name="Mini exam: score per section, attempt 3")).to_be_visible()
    team = page.get_by_role("img", name="Team T: best timed scores on Mini exam")
    expect(team).to_be_visible()
    expect(team.locator(".hist-you")).to_contain_text("You")
    expect(page.locator(".strong-signals tbody tr")).to_contain_text("Names the metric")
    expect(page.locator(".strong-signals tbody tr")).to_contain_text("2 of 3")
    expect(page.locator(".weak-signals tbody tr")).to_contain_text("1 of 3")

    # The table behind a chart says the same in words.
    page.locator(".history details summary").click()
    rows = page.locator(".attempts-table tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(3)).to_contain_text("Provisional")
    expect(rows.nth(0)).to_contain_text("Final")

    # Another attempt's sections.
    rows.nth(1).get_by_role("link", name="Show the sections of attempt 2").click()
    expect(page.get_by_role("img", name="Mini exam: score per section, attempt 2")).to_be_visible()

    problems: dict[str, object] = {}

    def ready():
        expect(page.locator("svg.chart")).to_have_count(3)
        page.locator("details.chart-table").evaluate_all("all => all.forEach(d => { d.open = true; })")

    ready()
    violations = axe_violations(page)
    if violations:
        problems["axe"] = violations
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.reload()
            ready()
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(artifacts / f"progress-{size}-{scheme}.png"), full_page=True)
        if scheme == "dark":
            violations = axe_violations(page)
            if violations:
                problems["axe (dark)"] = violations
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 360, "height": 800})
    page.reload()
    ready()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width > 360:
        problems["overflow at 360 px"] = f"scrollWidth {width}: {widest(page)}"

    assert page.console_errors == []
    assert not problems, json.dumps(problems, indent=2)
