"""Deployment checks: `manage.py check --deploy` is clean under production
settings, and every response carries the security headers and cookie flags."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "exams.example.com",
    "BEHIND_TLS_PROXY": "1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment would not.
    unset = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_says_what_is_missing_without_tls():
    env = {k: v for k, v in PRODUCTION.items() if k != "BEHIND_TLS_PROXY"}
    result = manage("check", "--deploy", **env)
    assert "security.W004" in result.stderr  # no HSTS
    assert "security.W008" in result.stderr  # no redirect to HTTPS


@pytest.fixture
def behind_tls(settings):
    settings.DEBUG = False
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


HTTPS = {"HTTP_X_FORWARDED_PROTO": "https", "secure": False}


def test_every_page_sends_the_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_behind_tls_it_sends_hsts_and_redirects_plain_http(client, behind_tls):
    response = client.get("/", **HTTPS)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = client.get("/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/"


def test_without_tls_there_is_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/")


def test_cookies_are_secure_httponly_and_samesite_behind_tls(client, personas, behind_tls):
    page = client.get("/accounts/login/", **HTTPS)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "pw", "csrfmiddlewaretoken": csrf.value},
        **HTTPS,
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_a_logged_in_page_is_never_stored(client, personas):
    client.force_login(personas.candidate)
    response = client.get("/attempts/")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


# ---------------------------------------------------------------------------
# Every URL pattern, as an anonymous visitor and as a foreign candidate, filled
# in with another user's ids: no page answers 200 with that user's data.
# ---------------------------------------------------------------------------

VICTIM = "victimalice"
MARKERS = (VICTIM, "victim-answer-text", "victim-draft-text", "victim-code-text", "victim-review-note", "Victim Team")
# An invitation code is a secret the owner shares on purpose: whoever has the
# link may see the team's name and join. Guessing one is not a way in.
CAPABILITY_PARAMS = {"code"}
SKIPPED_NAMES = {"logout"}  # it would end the foreign candidate's session mid-walk


@pytest.fixture
def victim(mini_exam):
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from exams.models import Answer, Attempt
    from grading import reviewing
    from grading.models import Invitation, Membership, Submission, Team

    User = get_user_model()
    alice = User.objects.create_user(VICTIM, password="pw")
    reviewer = User.objects.create_user("victim-team-reviewer", password="pw")
    team = Team.objects.create(name="Victim Team", slug="victim-team")
    Membership.objects.create(team=team, user=alice)
    Membership.objects.create(team=team, user=reviewer, role=Membership.Role.OWNER)
    invitation = Invitation.objects.create(
        team=team, created_by=reviewer, expires_at=timezone.now() + timedelta(days=1)
    )

    finished, _ = Attempt.start(alice, mini_exam, Attempt.Mode.TIMED)
    items = {item.slug: item for item in finished.version.items.all()}
    Answer.objects.create(attempt=finished, item=items["first"], content="victim-answer-text", revision=1)
    Answer.objects.create(
        attempt=finished, item=items["add"], part=Answer.Part.CODE, content="# victim-code-text\n", revision=1
    )
    submission = Submission.objects.create(
        attempt=finished, item=items["add"], code="# victim-code-text\n", max_score=items["add"].points
    )
    finished.finalize()
    review = reviewing.mark(
        finished,
        reviewer,
        items["first"],
        criteria_ids=[],
        adjustment=Decimal(0),
        reason="",
        comment="victim-review-note",
        revision=0,
    )
    reviewing.finalize(finished, reviewer, review.revision)

    open_attempt, _ = Attempt.start(alice, mini_exam, Attempt.Mode.PRACTICE)
    Answer.objects.create(attempt=open_attempt, item=items["first"], content="victim-draft-text", revision=1)
    ints = {finished.pk, open_attempt.pk, submission.pk, invitation.pk, alice.pk, review.pk, team.pk}
    return {
        "int": sorted(ints),
        "item": sorted(item.pk for item in items.values()),
        "slug": [team.slug, mini_exam.slug],
        "str": [str(i) for i in sorted(ints)] + ["exams", "grading", "auth"],
    }


def url_patterns():
    """(route with <name> placeholders, {name: converter}, url name) of every pattern."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix, converters):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            found = {**converters, **getattr(entry.pattern, "converters", {})}
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route, found)
            elif isinstance(entry, URLPattern):
                yield route, found, entry.name

    return list(walk(get_resolver().url_patterns, "", {}))


def fillings(route: str, values: dict) -> list[str]:
    """The route with every combination of the victim's values (a few per parameter)."""
    import itertools

    names = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    if any(name in CAPABILITY_PARAMS for _, name in names):
        return []
    if route.startswith("^") or "(?P" in route:  # regex routes (admin): filled from the names below
        names = [("", name) for name in re.findall(r"\(\?P<(\w+)>", route)]
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route).strip("^$").replace("\\", "")
    choices = []
    for converter, name in names:
        if name.endswith("item_pk"):
            choices.append(values["item"])
        elif converter == "int" or name in {"pk", "object_id", "content_type_id"}:
            choices.append(values["int"])
        elif converter == "slug" or name.endswith("slug"):
            choices.append(values["slug"])
        else:
            choices.append(values["str"])
    urls = []
    for combination in itertools.product(*choices):
        url = route
        for (_, name), value in zip(names, combination, strict=True):
            url = re.sub(rf"<(?:\w+:)?{name}>", str(value), url, count=1)
        urls.append("/" + url)
    return urls


def test_no_url_shows_another_users_data_to_an_outsider(client, victim, personas):
    walked, leaks = 0, []
    for route, _, name in url_patterns():
        if name in SKIPPED_NAMES:
            continue
        for url in fillings(route, victim):
            for who in ("anonymous", "foreign candidate"):
                client.logout()
                if who == "foreign candidate":
                    client.force_login(personas.other)
                for method, extra in (("get", {}), ("get", {"HTTP_HX_REQUEST": "true"}), ("post", {})):
                    response = getattr(client, method)(url, **extra)
                    walked += 1
                    if response.status_code != 200 or response.streaming:
                        continue
                    body = response.content.decode(errors="replace")
                    found = [marker for marker in MARKERS if marker in body]
                    if found:
                        leaks.append((who, method.upper(), url, found))
    assert walked > 200
    assert leaks == []


def test_the_walk_would_see_the_data_on_the_owners_own_pages(client, victim):
    """The control: walked as the victim, the same URLs show every marker, so
    their absence above means something."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=VICTIM))
    seen = set()
    for route, _, name in url_patterns():
        if name in SKIPPED_NAMES or route.startswith("admin/"):
            continue
        for url in fillings(route, victim):
            response = client.get(url)
            if response.status_code == 200 and not response.streaming:
                body = response.content.decode(errors="replace")
                seen.update(marker for marker in MARKERS if marker in body)
    assert seen == set(MARKERS)
