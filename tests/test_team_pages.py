"""The team pages and leaderboards over HTTP: creating a team, invitation
links (valid, used twice, expired, withdrawn, malformed), leaving, roles and
removals with the last-owner guard, 404 for everyone outside the team, hidden
names, freeze and final-only publishing, pagination with the viewer's rank,
a query count that does not grow with members, the cache, and CSRF."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exams.models import Attempt
from grading import leaderboard
from grading.models import AttemptScore, BoardSettings, Invitation, Membership, Team
from grading.teams import LAST_OWNER
from tests.review_support import import_pack, page_text, review_pack, text, texts
from tests.team_support import (
    START,
    board_names,
    board_rows,
    bulk_members,
    finish,
    review,
    snapshot,
    stored_score,
    team_people,
    user,
)

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.fixture
def exam(tmp_path):
    """The mini exam whose question "first" has a rubric: +2, +2, -1."""
    return import_pack(review_pack(tmp_path))


@pytest.fixture
def people(db):
    return team_people()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks of what the block writes (the board's
    cache is invalidated on commit, which a test's transaction never reaches)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def as_user(client, user):
    client.force_login(user)
    return client


def invitation_of(team: Team, owner, days: int = 7) -> Invitation:
    now = timezone.now()
    return Invitation.objects.create(team=team, created_by=owner, created_at=now, expires_at=now + timedelta(days=days))


def board_url(team: Team, exam) -> str:
    return f"/teams/{team.slug}/leaderboards/{exam.slug}/"


def assert_refused(response, status: int, message: str) -> None:
    """Refused with the refusal's own status, and the page says why."""
    assert response.status_code == status, (response.status_code, response.get("Location"))
    assert message in page_text(response.content.decode())


def shown_message(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# Creating a team


def test_the_creator_of_a_team_becomes_its_owner(client, people):
    response = as_user(client, people.outsider).post("/teams/", {"name": "  Night   shift "}, follow=True)
    team = Team.objects.get(name="Night shift")
    assert response.redirect_chain == [(f"/teams/{team.slug}/", 302)]
    assert list(team.memberships.values_list("user__username", "role")) == [("oscar", Role.OWNER)]
    assert "Team Night shift created" in shown_message(response)
    assert text(response.content.decode(), cls="members-table").count("oscar") >= 1


def test_a_blank_name_is_refused_with_a_message_and_no_team(client, people):
    before = snapshot()
    response = as_user(client, people.outsider).post("/teams/", {"name": "   "})
    assert snapshot() == before
    assert_refused(response, 400, "Give the team a name.")


def test_a_name_past_100_characters_is_refused(client, people):
    before = snapshot()
    response = as_user(client, people.outsider).post("/teams/", {"name": "x" * 101})
    assert snapshot() == before
    assert_refused(response, 400, "at most 100 characters")


def test_two_teams_of_the_same_name_get_their_own_addresses(client, people):
    as_user(client, people.outsider)
    client.post("/teams/", {"name": "Team Tangerine"})
    client.post("/teams/", {"name": "Team Tangerine"})
    slugs = set(Team.objects.filter(name="Team Tangerine").values_list("slug", flat=True))
    assert len(slugs) == 3
    assert Membership.objects.filter(user=people.outsider, role=Role.OWNER).count() == 2


def test_the_teams_page_lists_only_my_teams(client, people):
    html = as_user(client, people.member).get("/teams/").content.decode()
    listed = text(html, cls="team-list")
    assert "Team Tangerine" in listed
    assert "Team Umber" not in html
    assert "4 members" in listed


# Inviting


def test_an_owner_creates_a_link_that_the_team_page_shows(client, people):
    response = as_user(client, people.owner).post("/teams/tangerine/invite/", {"days": "3"}, follow=True)
    invitation = Invitation.objects.get(team=people.t)
    assert invitation.created_by == people.owner
    assert timedelta(days=3) - timedelta(seconds=5) < invitation.expires_at - timezone.now() <= timedelta(days=3)
    assert "Invitation link created" in shown_message(response)
    (link,) = texts(response.content.decode(), cls="invitation")
    assert "used 0 times" in link
    assert f"http://testserver/teams/join/{invitation.code}/" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [("member", 403), ("reviewer", 403), ("other_owner", 404), ("outsider", 404)],
)
def test_only_the_teams_owners_invite(client, people, who, status):
    before = snapshot()
    response = as_user(client, getattr(people, who)).post("/teams/tangerine/invite/", {"days": "7"})
    assert response.status_code == status
    assert snapshot() == before


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "An invitation lasts from 1 to 30 days."),
        ("31", "An invitation lasts from 1 to 30 days."),
        ("-2", "An invitation lasts from 1 to 30 days."),
        ("seven", "Give the number of days the link stays valid."),
        ("", "Give the number of days the link stays valid."),
    ],
)
def test_a_link_must_last_1_to_30_days(client, people, days, message):
    before = snapshot()
    response = as_user(client, people.owner).post("/teams/tangerine/invite/", {"days": days})
    assert snapshot() == before
    assert_refused(response, 400, message)


def test_an_owner_withdraws_a_link(client, people):
    invitation = invitation_of(people.t, people.owner)
    response = as_user(client, people.owner).post(f"/teams/tangerine/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert not texts(client.get("/teams/tangerine/").content.decode(), cls="invitation")


def test_an_owner_cannot_withdraw_another_teams_link(client, people):
    invitation = invitation_of(people.t, people.owner)
    before = snapshot()
    response = as_user(client, people.other_owner).post(f"/teams/umber/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 404
    assert snapshot() == before


# Joining by link


def test_a_valid_link_shows_the_team_and_a_join_button(client, people):
    invitation = invitation_of(people.t, people.owner)
    response = as_user(client, people.outsider).get(f"/teams/join/{invitation.code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "You are invited to join Team Tangerine" in page_text(html)
    assert '<button type="submit" class="btn btn-primary">Join Team Tangerine</button>' in html
    assert not Membership.objects.filter(user=people.outsider).exists()  # looking is not joining


def test_joining_makes_a_member_and_counts_the_use(client, people):
    invitation = invitation_of(people.t, people.owner)
    response = as_user(client, people.outsider).post(f"/teams/join/{invitation.code}/", follow=True)
    assert response.redirect_chain == [("/teams/tangerine/", 302)]
    assert "You joined Team Tangerine." in shown_message(response)
    assert people.membership(people.outsider).role == Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.uses == 1
    as_user(client, user("newcomer")).post(f"/teams/join/{invitation.code}/")
    invitation.refresh_from_db()
    assert invitation.uses == 2


def test_joining_twice_is_refused_and_changes_nothing(client, people):
    invitation = invitation_of(people.t, people.owner)
    before = snapshot()
    response = as_user(client, people.member).post(f"/teams/join/{invitation.code}/")
    assert snapshot() == before
    assert_refused(response, 409, "You are already a member of Team Tangerine.")
    assert "Open Team Tangerine" in page_text(response.content.decode())


def test_a_member_opening_the_link_again_is_told_so_without_a_join_button(client, people):
    invitation = invitation_of(people.t, people.owner)
    response = as_user(client, people.member).get(f"/teams/join/{invitation.code}/")
    assert response.status_code == 200
    assert "You are already a member of Team Tangerine" in page_text(response.content.decode())
    assert "Join Team Tangerine" not in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_link_is_refused(client, people, method):
    invitation = invitation_of(people.t, people.owner, days=1)
    as_user(client, people.outsider)
    before = snapshot()
    with time_machine.travel(invitation.expires_at + timedelta(seconds=1), tick=False):
        response = getattr(client, method)(f"/teams/join/{invitation.code}/")
    assert snapshot() == before
    assert_refused(response, 410, "This invitation has expired; ask the team's owner for a new link.")
    assert "Join Team Tangerine" not in response.content.decode()


def test_a_link_works_until_the_moment_it_expires(client, people):
    invitation = invitation_of(people.t, people.owner, days=1)
    as_user(client, people.outsider)
    with time_machine.travel(invitation.expires_at - timedelta(seconds=1), tick=False):
        assert client.post(f"/teams/join/{invitation.code}/").status_code == 302
    assert Membership.objects.filter(team=people.t, user=people.outsider).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_withdrawn_link_is_refused(client, people, method):
    invitation = invitation_of(people.t, people.owner)
    as_user(client, people.owner).post(f"/teams/tangerine/invitations/{invitation.pk}/revoke/")
    as_user(client, people.outsider)
    before = snapshot()
    response = getattr(client, method)(f"/teams/join/{invitation.code}/")
    assert snapshot() == before
    assert_refused(response, 410, "This invitation was withdrawn by the team's owner; ask them for a new link.")


@pytest.mark.parametrize(
    "code",
    ["not-a-real-code", "%C3%A9t%C3%A9-%E2%9C%93", "x" * 300, "%00%00", "tangerine"],
    ids=["unknown", "non-ascii", "too-long", "nul", "a-slug"],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_malformed_or_unknown_code_is_404_with_a_message(client, people, code, method):
    invitation_of(people.t, people.owner)
    before = snapshot()
    response = getattr(as_user(client, people.outsider), method)(f"/teams/join/{code}/")
    assert snapshot() == before
    assert_refused(response, 404, "This invitation link is not valid: check that it was copied whole.")


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_visitor_is_sent_to_log_in_first(client, people, method):
    invitation = invitation_of(people.t, people.owner)
    before = snapshot()
    response = getattr(client, method)(f"/teams/join/{invitation.code}/")
    assert snapshot() == before
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/teams/join/{invitation.code}/"


# Leaving, roles, removals


def test_a_member_leaves(client, people):
    response = as_user(client, people.member).post("/teams/tangerine/leave/", follow=True)
    assert response.redirect_chain == [("/teams/", 302)]
    assert "You left Team Tangerine." in shown_message(response)
    assert not Membership.objects.filter(team=people.t, user=people.member).exists()
    assert client.get("/teams/tangerine/").status_code == 404


def test_the_last_owner_cannot_leave(client, people):
    before = snapshot()
    response = as_user(client, people.owner).post("/teams/tangerine/leave/")
    assert snapshot() == before
    assert_refused(response, 409, LAST_OWNER)


def test_the_last_owner_cannot_demote_themselves(client, people):
    own = people.membership(people.owner)
    before = snapshot()
    response = as_user(client, people.owner).post(f"/teams/tangerine/members/{own.pk}/", {"role": "member"})
    assert snapshot() == before
    assert_refused(response, 409, LAST_OWNER)


def test_the_last_owner_cannot_remove_themselves(client, people):
    own = people.membership(people.owner)
    before = snapshot()
    response = as_user(client, people.owner).post(f"/teams/tangerine/members/{own.pk}/", {"action": "remove"})
    assert snapshot() == before
    assert_refused(response, 409, LAST_OWNER)


def test_an_owner_steps_down_once_another_owner_exists(client, people):
    as_user(client, people.owner)
    reviewer, own = people.membership(people.reviewer), people.membership(people.owner)
    assert client.post(f"/teams/tangerine/members/{reviewer.pk}/", {"role": "owner"}).status_code == 302
    assert client.post(f"/teams/tangerine/members/{own.pk}/", {"role": "member"}).status_code == 302
    own.refresh_from_db()
    assert own.role == Role.MEMBER
    assert list(people.t.memberships.filter(role=Role.OWNER).values_list("user__username", flat=True)) == ["rhea"]


def test_an_owner_leaves_once_another_owner_exists(client, people):
    as_user(client, people.owner)
    second = people.membership(people.second)
    assert client.post(f"/teams/tangerine/members/{second.pk}/", {"role": "owner"}).status_code == 302
    assert client.post("/teams/tangerine/leave/").status_code == 302
    assert list(people.t.memberships.filter(role=Role.OWNER).values_list("user__username", flat=True)) == ["milo"]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.OWNER, Role.MEMBER])
def test_an_owner_sets_a_members_role(client, people, role):
    target = people.membership(people.member)
    response = as_user(client, people.owner).post(f"/teams/tangerine/members/{target.pk}/", {"role": role}, follow=True)
    target.refresh_from_db()
    assert target.role == role
    assert f"mona is now {role}." in shown_message(response)


def test_an_owner_removes_a_member(client, people):
    target = people.membership(people.member)
    response = as_user(client, people.owner).post(
        f"/teams/tangerine/members/{target.pk}/", {"action": "remove"}, follow=True
    )
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert "mona was removed from the team." in shown_message(response)
    assert "mona" not in text(response.content.decode(), cls="members-table")


@pytest.mark.parametrize("who", ["member", "reviewer"])
@pytest.mark.parametrize("data", [{"role": "owner"}, {"role": "member"}, {"action": "remove"}], ids=str)
def test_a_non_owner_cannot_change_roles_or_remove(client, people, who, data):
    targets = [people.membership(people.second), people.membership(getattr(people, who))]
    before = snapshot()
    for target in targets:
        response = as_user(client, getattr(people, who)).post(f"/teams/tangerine/members/{target.pk}/", data)
        assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("role", ["admin", "", "OWNER", "owner "])
def test_an_unknown_role_is_refused(client, people, role):
    target = people.membership(people.member)
    before = snapshot()
    response = as_user(client, people.owner).post(f"/teams/tangerine/members/{target.pk}/", {"role": role})
    assert snapshot() == before
    assert_refused(response, 400, "Choose owner, reviewer or member.")


def test_an_owner_cannot_touch_a_membership_of_another_team(client, people):
    theirs = people.membership(people.other_member, people.u)
    before = snapshot()
    as_user(client, people.owner)
    for data in ({"role": "owner"}, {"action": "remove"}):
        assert client.post(f"/teams/tangerine/members/{theirs.pk}/", data).status_code == 404
    assert snapshot() == before


def test_a_member_hides_and_shows_their_name(client, people):
    as_user(client, people.member)
    client.post("/teams/tangerine/privacy/", {"hide_name": "1"})
    assert people.membership(people.member).hide_name
    client.post("/teams/tangerine/privacy/", {"hide_name": "0"})
    assert not people.membership(people.member).hide_name


# Only members see a team


def team_requests(people, exam) -> list[tuple[str, str, dict]]:
    """Every team page, leaderboard page and settings POST of team T."""
    invitation = invitation_of(people.t, people.owner)
    target = people.membership(people.member).pk
    board = board_url(people.t, exam)
    return [
        ("get", "/teams/tangerine/", {}),
        ("get", board, {}),
        ("get", board + "?live=1", {}),
        ("post", "/teams/tangerine/invite/", {"days": "7"}),
        ("post", f"/teams/tangerine/invitations/{invitation.pk}/revoke/", {}),
        ("post", "/teams/tangerine/leave/", {}),
        ("post", "/teams/tangerine/privacy/", {"hide_name": "1"}),
        ("post", f"/teams/tangerine/members/{target}/", {"role": "owner"}),
        ("post", f"/teams/tangerine/members/{target}/", {"action": "remove"}),
        ("post", board + "settings/", {"action": "freeze"}),
        ("post", board + "settings/", {"action": "final_only"}),
    ]


@pytest.mark.parametrize("who", ["other_owner", "other_member", "outsider"])
def test_everything_of_a_team_is_404_to_non_members(client, people, exam, who):
    finish(people.member, exam, minutes=10)
    requests = team_requests(people, exam)
    before = snapshot()
    as_user(client, getattr(people, who))
    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url)
        assert "Team Tangerine" not in response.content.decode()
    assert snapshot() == before


def test_an_anonymous_visitor_is_sent_to_log_in_everywhere(client, people, exam):
    requests = team_requests(people, exam)
    before = snapshot()
    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/accounts/login/?next=/teams/"), (method, url)
    assert client.get("/teams/").status_code == 302
    assert snapshot() == before


def test_a_member_reading_an_unknown_exams_board_gets_404(client, people, exam):
    assert as_user(client, people.member).get("/teams/tangerine/leaderboards/no-such-exam/").status_code == 404


def test_a_former_member_loses_the_teams_pages(client, people, exam, committed):
    as_user(client, people.member)
    assert client.get(board_url(people.t, exam)).status_code == 200
    with committed():
        client.post("/teams/tangerine/leave/")
    assert client.get("/teams/tangerine/").status_code == 404
    assert client.get(board_url(people.t, exam)).status_code == 404


# The leaderboard page


@pytest.fixture
def two_finished(people, exam, committed):
    """Mona scored 4 (final review, 20 min); milo's attempt is unreviewed (provisional, 10 min)."""
    with committed():
        review(finish(people.member, exam, minutes=20), people.reviewer, {"first": [0, 1]})
        finish(people.second, exam, minutes=10)


def test_the_board_ranks_by_score_and_marks_the_provisional_row(client, people, exam, two_finished):
    html = as_user(client, people.member).get(board_url(people.t, exam)).content.decode()
    rows = board_rows(html)
    assert [(r.rank, r.name, r.markers) for r in rows] == [("1", "mona (you)", []), ("2", "milo", ["provisional"])]
    assert 'title="The review of this attempt is not final yet' in html
    assert rows[0].score.startswith("4 of ")
    assert rows[1].time_used == "10 min 00 s"


def test_the_viewers_own_row_is_highlighted_and_only_theirs(client, people, exam, two_finished):
    html = as_user(client, people.member).get(board_url(people.t, exam)).content.decode()
    assert [(r.name, r.own) for r in board_rows(html)] == [("mona (you)", True), ("milo", False)]
    html = as_user(client, people.second).get(board_url(people.t, exam)).content.decode()
    assert [(r.name, r.own) for r in board_rows(html)] == [("mona", False), ("milo (you)", True)]
    html = as_user(client, people.owner).get(board_url(people.t, exam)).content.decode()
    assert [r.own for r in board_rows(html)] == [False, False]  # the owner has no attempt


def test_a_hidden_name_is_anonymous_to_other_members_but_not_to_themselves(
    client, people, exam, two_finished, committed
):
    with committed():
        as_user(client, people.second).post("/teams/tangerine/privacy/", {"hide_name": "1"})
    for viewer in (people.member, people.reviewer, people.owner):
        html = as_user(client, viewer).get(board_url(people.t, exam)).content.decode()
        assert board_names(html) == (["mona (you)"] if viewer == people.member else ["mona"]) + ["anonymous member"]
        assert "milo" not in html
    html = as_user(client, people.second).get(board_url(people.t, exam)).content.decode()
    assert board_names(html) == ["mona", "milo (you)"]


def test_a_hidden_name_stays_hidden_on_the_team_page_from_other_members(client, people):
    Membership.objects.filter(team=people.t, user=people.second).update(hide_name=True)
    html = as_user(client, people.member).get("/teams/tangerine/").content.decode()
    assert "milo" not in html
    assert "anonymous member" in text(html, cls="members-table")


def test_after_a_freeze_members_do_not_see_later_finishes_but_the_owners_live_view_does(
    client, people, exam, committed
):
    freeze_at = START + timedelta(hours=1)
    with committed():
        finish(people.member, exam, minutes=10)  # finished before the freeze
    with committed(), time_machine.travel(freeze_at, tick=False):
        as_user(client, people.owner).post(board_url(people.t, exam) + "settings/", {"action": "freeze"})
    assert BoardSettings.objects.get(team=people.t, exam=exam).frozen_at == freeze_at
    with committed():
        finish(people.second, exam, minutes=5, start=START + timedelta(hours=2))  # finished after it
    url = board_url(people.t, exam)

    html = as_user(client, people.member).get(url).content.decode()
    assert board_names(html) == ["mona (you)"]
    assert "Frozen at 2026-05-01 10:00" in text(html, cls="frozen-note")
    assert board_names(client.get(url + "?live=1").content.decode()) == ["mona (you)"]  # a member's ?live=1 is ignored

    as_user(client, people.owner)
    assert board_names(client.get(url).content.decode()) == ["mona"]
    live = client.get(url + "?live=1").content.decode()
    assert board_names(live) == ["milo", "mona"]
    assert "Live view (owners only)" in page_text(live)

    with committed():
        client.post(url + "settings/", {"action": "unfreeze"})
    assert board_names(as_user(client, people.member).get(url).content.decode()) == ["milo", "mona (you)"]


def test_final_only_publishing_hides_provisional_rows(client, people, exam, two_finished, committed):
    url = board_url(people.t, exam)
    assert board_names(as_user(client, people.second).get(url).content.decode()) == ["mona", "milo (you)"]
    with committed():
        as_user(client, people.owner).post(url + "settings/", {"action": "final_only"})
    html = as_user(client, people.second).get(url).content.decode()
    assert board_names(html) == ["mona"]
    assert "Only attempts whose review is final are shown." in text(html, cls="final-only-note")
    assert all(row.markers == [] for row in board_rows(html))
    with committed():
        as_user(client, people.owner).post(url + "settings/", {"action": "all_rows"})
    assert board_names(as_user(client, people.second).get(url).content.decode()) == ["mona", "milo (you)"]


@pytest.mark.parametrize("who", ["member", "reviewer"])
def test_only_owners_publish_a_board(client, people, exam, who):
    before = snapshot()
    as_user(client, getattr(people, who))
    for action in ("freeze", "final_only"):
        assert client.post(board_url(people.t, exam) + "settings/", {"action": action}).status_code == 403
    assert snapshot() == before


def test_an_unknown_board_change_changes_nothing(client, people, exam):
    before = snapshot()
    response = as_user(client, people.owner).post(
        board_url(people.t, exam) + "settings/", {"action": "delete"}, follow=True
    )
    assert snapshot() == before
    assert "Unknown change to the leaderboard." in shown_message(response)


def test_past_100_rows_the_viewers_rank_is_shown_when_their_row_is_on_another_page(client, people, exam):
    # 150 members scoring 150 down to 1; mona's 20.5 ranks her 131st of 151.
    bulk_members(people.t, exam, [Decimal(150 - n) for n in range(150)], prefix="bulk")
    attempt, _ = Attempt.start(people.member, exam, Attempt.Mode.TIMED, now=START)
    Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.SUBMITTED, finalized_at=START)
    stored_score(attempt, Decimal("20.5")).save()
    leaderboard.refresh_best(people.member.pk, exam.pk)  # what recompute does beside a stored score
    url = board_url(people.t, exam)

    first = as_user(client, people.member).get(url).content.decode()
    assert len(board_rows(first)) == 100
    assert not any(row.own for row in board_rows(first))
    assert text(first, cls="own-rank") == "Your rank: 131 of 151 (20.5 of 200)."
    assert "Page 1 of 2" in page_text(first)
    assert 'href="?page=2"' in first

    second = client.get(url + "?page=2").content.decode()
    assert len(board_rows(second)) == 51
    assert [(r.rank, r.name) for r in board_rows(second) if r.own] == [("131", "mona (you)")]
    assert texts(second, cls="own-rank") == []

    # someone ranked on the first page has no "your rank" line there
    top = as_user(client, Membership.objects.get(team=people.t, user__username="bulk-0000").user)
    html = top.get(url).content.decode()
    assert [(r.rank, r.name) for r in board_rows(html) if r.own] == [("1", "bulk-0000 (you)")]
    assert texts(html, cls="own-rank") == []


def page_queries(client, url) -> tuple[int, int]:
    """Queries of the page read cold (nothing cached), then warm."""
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).status_code == 200
    return len(cold), len(warm)


def test_the_page_costs_the_same_queries_for_5_and_300_members_and_the_cache_saves_the_ranking(client, people, exam):
    small = Team.objects.create(name="Small", slug="small")
    big = Team.objects.create(name="Big", slug="big")
    viewer = people.member
    for team in (small, big):
        Membership.objects.create(team=team, user=viewer)
    finish(viewer, exam, minutes=10)
    bulk_members(small, exam, [Decimal(n % 7) for n in range(4)], prefix="small")
    bulk_members(big, exam, [Decimal(n % 7) for n in range(299)], prefix="big")
    as_user(client, viewer)

    small_cold, small_warm = page_queries(client, board_url(small, exam))
    big_cold, big_warm = page_queries(client, board_url(big, exam))
    assert len(board_rows(client.get(board_url(big, exam)).content.decode())) == 100
    assert (small_cold, small_warm) == (big_cold, big_warm)
    assert small_warm < small_cold


def test_a_cached_board_is_fresh_after_a_review_is_finalized(client, people, exam, committed):
    with committed():
        attempt = finish(people.member, exam, minutes=10)
    url = board_url(people.t, exam)
    as_user(client, people.member)
    assert board_rows(client.get(url).content.decode())[0].markers == ["provisional"]
    with committed():
        review(attempt, people.reviewer, {"first": [0]})
    (row,) = board_rows(client.get(url).content.decode())
    assert row.markers == []
    assert row.score.startswith("2 of ")
    assert AttemptScore.objects.get(attempt=attempt).is_final


# CSRF


def csrf_requests(people, exam) -> list[tuple[str, dict]]:
    invitation = invitation_of(people.t, people.owner)
    target = people.membership(people.member).pk
    return [
        ("/teams/", {"name": "Forged"}),
        (f"/teams/join/{invitation.code}/", {}),
        ("/teams/tangerine/invite/", {"days": "7"}),
        (f"/teams/tangerine/invitations/{invitation.pk}/revoke/", {}),
        ("/teams/tangerine/leave/", {}),
        ("/teams/tangerine/privacy/", {"hide_name": "1"}),
        (f"/teams/tangerine/members/{target}/", {"action": "remove"}),
        (board_url(people.t, exam) + "settings/", {"action": "freeze"}),
    ]


@pytest.mark.parametrize("who", ["owner", "outsider"])
def test_a_post_without_the_csrf_token_is_refused(people, exam, who):
    requests = csrf_requests(people, exam)
    client = Client(enforce_csrf_checks=True)
    client.force_login(getattr(people, who))
    before = snapshot()
    for url, data in requests:
        assert client.post(url, data).status_code == 403, url
    assert snapshot() == before


def test_a_post_with_the_csrf_token_goes_through(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.outsider)
    client.get("/teams/")
    token = client.cookies["csrftoken"].value
    assert client.post("/teams/", {"name": "Genuine", "csrfmiddlewaretoken": token}).status_code == 302
    assert Team.objects.filter(name="Genuine").exists()
