"""Every page a visitor, a candidate, a reviewer, a team owner and staff meet,
in headless Chromium: no horizontal overflow at 360 px and no WCAG 2 A/AA
violation found by axe-core, in the light and the dark colour scheme; the
navbar's theme toggle is remembered. Screenshots of each page at 1280x900
and 390x844, light and dark, go to test-artifacts/ (every-<page>-...png)."""

import json

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from exams.models import Answer, Attempt, Exam, Item
from grading import teams
from tests.e2e.support import axe_violations, widest
from tests.review_support import finished_attempt, team_people

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
NARROWEST = 360
# Left out of axe's run until its owner fixes it (the drill panel,
# static/js/coding.js): the drill statement's highlighted code scrolls
# sideways but no key can reach it (scrollable-region-focusable; a tabindex on
# that <pre>, or wrapping its lines, would do). Everything else is checked.
NOT_YET: dict[str, list[str]] = {}  # axe rules left out per selector, with why: none now


class Walk:
    """Checks pages one after another and collects every problem, so one run
    reports them all."""

    def __init__(self, page, live_server, artifacts):
        self.page, self.url, self.artifacts = page, live_server.url, artifacts
        self.problems: dict[str, object] = {}
        self.seen: list[str] = []

    def log_in(self, username: str) -> None:
        page = self.page
        if page.get_by_role("button", name="Log out").count():
            page.get_by_role("button", name="Log out").click()
            expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()
        page.goto(self.url + "/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "pw")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("link", name=username)).to_be_visible()

    def check(self, name: str, path: str, ready=None) -> None:
        page = self.page
        page.set_viewport_size({"width": 1280, "height": 900})
        response = page.goto(self.url + path)
        assert response is not None and response.status == 200, (
            f"{name}: {path} answered {response and response.status}"
        )
        expect(page.locator("h1").first).to_be_visible()
        if ready:
            ready()
        self.seen.append(name)
        ours = page.locator("html[data-bs-theme]").count() > 0  # Django's admin has its own colour modes
        for scheme in ("light", "dark"):
            # Reduced motion turns Bootstrap's transitions off, so axe never
            # reads a colour halfway between the two schemes.
            page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
            if ours:
                expect(page.locator("html")).to_have_attribute("data-bs-theme", scheme)
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                page.evaluate("() => window.scrollTo(0, 0)")
                self.axe(f"{name} ({scheme}, {size})")
                page.screenshot(path=str(self.artifacts / f"every-{name}-{size}-{scheme}.png"), full_page=True)
            page.set_viewport_size({"width": NARROWEST, "height": 800})
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > NARROWEST:
                self.problems[f"{name} ({scheme}): overflow at {NARROWEST} px"] = f"scrollWidth {width}: {widest(page)}"
        page.emulate_media(color_scheme="light")
        page.set_viewport_size({"width": 1280, "height": 900})

    def axe(self, name: str) -> None:
        violations = [
            {**v, "nodes": kept}
            for v in axe_violations(self.page)
            if (kept := [n for n in v.get("nodes", []) if not self.not_yet(v["id"], n["target"])]) or not v.get("nodes")
        ]
        if violations:
            self.problems[f"{name}: axe"] = violations

    def not_yet(self, rule: str, target: str) -> bool:
        return any(
            self.page.evaluate("([t, s]) => !!document.querySelector(t)?.closest(s)", [target, selector])
            for selector in NOT_YET.get(rule, [])
        )

    def assert_none(self) -> None:
        report = self.artifacts / "every-page-problems.json"
        report.write_text(json.dumps(self.problems, indent=2), encoding="utf-8")
        assert not self.problems, f"{len(self.problems)} problems, all in {report}: " + json.dumps(self.problems)[:4000]


@pytest.fixture
def world(shipped_packs):
    """The people of a team, a finished attempt and an open one of the
    candidate's, an invitation to another team."""
    people = team_people()
    people.candidate.email = "alice@example.com"
    people.candidate.save(update_fields=["email"])
    exam = Exam.objects.get(slug="serving-reliability")
    people.exam = exam
    people.finished = finished_attempt(people.candidate, exam, {"readiness": "Accuracy is not serving."})
    timed, _ = Attempt.start(people.candidate, exam, Attempt.Mode.TIMED)
    timed.finalize(Attempt.Status.SUBMITTED)
    people.open, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    drill = Item.objects.filter(version=people.open.version, kind=Item.Kind.DRILL).first()
    Answer.objects.create(
        attempt=people.open, item=drill, part=Answer.Part.CODE, content="def f(x):\n    return x\n", revision=1
    )
    people.invitation = teams.invite(people.u, people.reviewer_u)
    return people


def test_every_page_fits_a_phone_and_passes_axe_in_light_and_dark(page, live_server, artifacts, world):
    walk = Walk(page, live_server, artifacts)
    exam, people = world.exam, world

    # A visitor.
    walk.check("landing", "/")
    expect(page.get_by_role("link", name="Create a free account")).to_be_visible()
    expect(page.locator(".reveal-rule").first).to_contain_text("Model answers")
    walk.check("exam", f"/exams/{exam.slug}/")
    walk.check("login", "/accounts/login/")
    walk.check("signup", "/accounts/signup/")
    walk.check("password-reset", "/accounts/password/reset/")
    walk.check("password-reset-sent", "/accounts/password/reset/sent/")
    uid = urlsafe_base64_encode(force_bytes(people.candidate.pk))
    token = default_token_generator.make_token(people.candidate)
    walk.check("password-reset-confirm", f"/accounts/password/reset/{uid}/{token}/")
    walk.check("password-reset-bad-link", "/accounts/password/reset/MQ/expired-token/")

    # The candidate.
    walk.log_in("alice")
    walk.check("catalogue", "/")
    walk.check("exam-logged-in", f"/exams/{exam.slug}/")
    walk.check("attempt", f"/attempts/{people.open.pk}/")
    walk.check("submit", f"/attempts/{people.open.pk}/submit/")
    walk.check("results", f"/attempts/{people.finished.pk}/results/")
    walk.check("my-attempts", "/attempts/")
    walk.check("progress", "/progress/")
    walk.check("teams", "/teams/")
    walk.check("team", f"/teams/{people.t.slug}/")
    walk.check("leaderboard", f"/teams/{people.t.slug}/leaderboards/{exam.slug}/")
    walk.check("join", f"/teams/join/{people.invitation.code}/")
    walk.check("password-change", "/accounts/password/")

    # The reviewer.
    walk.log_in("rita")
    walk.check("review-queue", "/review/")
    walk.check("review", f"/review/attempts/{people.finished.pk}/")
    question = Item.objects.filter(version_id=people.finished.version_id).exclude(kind=Item.Kind.TEXT).first()
    walk.check("by-question", "/review/questions/")
    walk.check("by-question-item", f"/review/questions/{question.pk}/")

    # The team's owner.
    walk.log_in("otto")
    walk.check("team-owner", f"/teams/{people.t.slug}/")
    walk.check("leaderboard-owner", f"/teams/{people.t.slug}/leaderboards/{exam.slug}/")

    # Staff.
    walk.log_in("sam")
    walk.check("admin", "/admin/")

    walk.assert_none()
    # Django's admin links no icon, so the browser asks for /favicon.ico.
    assert [e for e in page.console_errors if "favicon.ico" not in e and "404 (Not Found)" not in e] == []


def test_the_theme_toggle_overrides_the_system_and_is_remembered(page, live_server):
    page.emulate_media(color_scheme="light")
    page.goto(live_server.url + "/")
    html = page.locator("html")
    expect(html).to_have_attribute("data-bs-theme", "light")
    toggle = page.get_by_role("button", name="Dark theme")
    if not toggle.is_visible():  # collapsed navbar
        page.get_by_role("button", name="Menu").click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(html).to_have_attribute("data-bs-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"

    page.goto(live_server.url + "/accounts/login/")
    expect(html).to_have_attribute("data-bs-theme", "dark")  # remembered, though the system says light
    page.get_by_role("button", name="Dark theme").click()
    expect(html).to_have_attribute("data-bs-theme", "light")
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(html).to_have_attribute("data-bs-theme", "light")  # the explicit choice still wins
    assert page.console_errors == []
