"""The audit log: an entry for each action (who, what, when, on what), none
for a refused request, and an admin that shows and filters entries but lets
nobody, not even a superuser, add, change or delete one."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from exams import taking
from exams.models import Attempt, Reveal
from exams.taking import Refused
from grading import reviewing, teams
from grading.audit import record
from grading.models import AuditEvent, Membership, Review
from tests.review_support import finished_attempt, import_pack, parts, review_pack

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def exam(tmp_path):
    return import_pack(review_pack(tmp_path))


@pytest.fixture
def attempt(exam, people) -> Attempt:
    return finished_attempt(people.candidate, exam, {"first": "The 99th percentile."})


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def only(action: str) -> AuditEvent:
    found = events(action)
    assert len(found) == 1, found
    return found[0]


def recent(event: AuditEvent, since: datetime) -> bool:
    return since <= event.at <= timezone.now()


# An entry for each action.


def test_a_reveal_is_recorded_with_who_what_and_when(exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    item = attempt.version.items.get(slug="first")
    when = timezone.now()
    reveal = taking.reveal(attempt, item, people.candidate, now=when)
    taking.reveal(attempt, item, people.candidate)  # the same reveal again: no second entry
    event = only("reveal")
    assert (event.actor, event.actor_name, event.at) == (people.candidate, "alice", when)
    assert (event.target_type, event.target_id) == ("exams.reveal", str(reveal.pk))
    assert event.target_repr == f"alice revealed first in attempt {attempt.pk}"
    assert event.attempt_id == attempt.pk
    assert event.details == {"item": "first", "had_answer": False}


def test_a_model_answer_opened_after_the_attempt_is_recorded_once(attempt, people):
    item = attempt.version.items.get(slug="first")
    when = timezone.now()
    opening = taking.open_answer(attempt, item, now=when)
    taking.open_answer(attempt, item)  # opened again: no second entry
    event = only("answer_opened")
    assert (event.actor, event.at, event.attempt_id) == (people.candidate, when, attempt.pk)
    assert (event.target_type, event.target_id) == ("exams.answeropening", str(opening.pk))
    assert event.details == {"item": "first"}


def test_a_reveal_refused_after_the_deadline_records_nothing(exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.TIMED)
    item = attempt.version.items.get(slug="first")
    with pytest.raises(Refused):
        taking.reveal(attempt, item, people.candidate, now=attempt.deadline + timedelta(minutes=5))
    assert not Reveal.objects.exists()
    assert not events("reveal")


def mark(attempt, reviewer, item, revision, adjustment="0", reason="", criteria=()):
    return reviewing.mark(
        attempt,
        reviewer,
        item,
        criteria_ids=[c.pk for c in criteria],
        adjustment=Decimal(adjustment),
        reason=reason,
        comment="",
        revision=revision,
        now=NOW,
    )


def test_adjustments_are_recorded_when_they_change(attempt, people):
    p = parts(attempt)
    review = mark(attempt, people.reviewer_t, p.question, 0, criteria=[p.defines])  # no adjustment: no entry
    assert not events("adjustment")
    review = mark(attempt, people.reviewer_t, p.question, review.revision, "-1.5", "Vague", [p.defines])
    review = mark(attempt, people.reviewer_t, p.question, review.revision, "-1.50", "Vague, said twice", [p.defines])
    review = mark(attempt, people.reviewer_t, p.question, review.revision, "0", "", [p.defines])
    review = mark(attempt, people.reviewer_t, None, review.revision, "1", "Clear overall")
    found = events("adjustment")
    assert [e.details for e in found] == [
        {"item": "first", "before": "0.00", "after": "-1.50", "reason": "Vague"},
        {"item": "first", "before": "-1.50", "after": "0.00", "reason": ""},
        {"item": "overall", "before": "0.00", "after": "1.00", "reason": "Clear overall"},
    ]
    assert {(e.actor, e.attempt_id, e.target_type, e.target_id, e.at) for e in found} == {
        (people.reviewer_t, attempt.pk, "grading.review", str(review.pk), NOW)
    }


def test_a_refused_mark_records_nothing(attempt, people):
    p = parts(attempt)
    with pytest.raises(Refused):
        mark(attempt, people.reviewer_u, p.question, 0, "1", "Not my team")  # may not review
    with pytest.raises(Refused):
        mark(attempt, people.reviewer_t, p.question, 5, "1", "Stale tab")  # wrong revision
    assert not AuditEvent.objects.exists()


def test_finalizing_and_reopening_are_recorded(attempt, people):
    p = parts(attempt)
    review = mark(attempt, people.reviewer_t, p.question, 0, criteria=[p.defines, p.example])
    reviewing.finalize(attempt, people.reviewer_t, review.revision, now=NOW)
    finalized = only("review_finalized")
    assert (finalized.actor, finalized.at, finalized.attempt_id) == (people.reviewer_t, NOW, attempt.pk)
    assert (finalized.target_type, finalized.target_id) == ("grading.review", str(review.pk))
    assert finalized.details == {"total": "4.00", "max": 18}
    later = NOW + timedelta(hours=1)
    reviewing.reopen(Review.objects.get(pk=review.pk), people.staff, "  The candidate appealed.  ", now=later)
    reopened = only("review_reopened")
    assert (reopened.actor, reopened.actor_name, reopened.at) == (people.staff, "sam", later)
    assert reopened.details == {"reason": "The candidate appealed."}
    assert reopened.attempt_id == attempt.pk


def test_a_refused_finalize_or_reopen_records_nothing(attempt, people):
    with pytest.raises(Refused):
        reviewing.finalize(attempt, people.reviewer_t, 0)  # nothing marked yet
    review = mark(attempt, people.reviewer_t, None, 0)
    with pytest.raises(Refused):
        reviewing.reopen(review, people.reviewer_t, "It is not final")
    with pytest.raises(Refused):
        reviewing.finalize(attempt, people.reviewer_t, review.revision + 3)  # stale
    assert not AuditEvent.objects.exclude(action="adjustment").exists()


def test_role_changes_and_removals_by_an_owner_are_recorded(client, people):
    since = timezone.now()
    client.force_login(people.owner_t)
    rita = Membership.objects.get(team=people.t, user=people.reviewer_t)
    assert client.post(f"/teams/t/members/{rita.pk}/", {"role": "owner"}).status_code == 302
    assert client.post(f"/teams/t/members/{rita.pk}/", {"role": "owner"}).status_code == 302  # no change, no entry
    changed = only("role_changed")
    assert (changed.actor, changed.team, changed.target_type) == (people.owner_t, people.t, "grading.membership")
    assert (changed.target_id, changed.details) == (
        str(rita.pk),
        {"user": people.reviewer_t.pk, "before": "reviewer", "after": "owner"},
    )
    assert changed.target_repr == "rita · Team T · Owner"
    assert recent(changed, since)
    alice = Membership.objects.get(team=people.t, user=people.candidate)
    assert client.post(f"/teams/t/members/{alice.pk}/", {"action": "remove"}).status_code == 302
    removed = only("member_removed")
    assert (removed.actor, removed.team, removed.target_id) == (people.owner_t, people.t, str(alice.pk))
    assert removed.details == {"user": people.candidate.pk, "role": "member"}
    assert removed.target_repr == "alice · Team T · Member"


def test_leaving_is_recorded_as_the_member_s_own_act(client, people):
    client.force_login(people.reviewer_t)
    assert client.post("/teams/t/leave/").status_code == 302
    left = only("member_removed")
    assert (left.actor, left.team, left.details["role"]) == (people.reviewer_t, people.t, "reviewer")


def test_refused_team_changes_record_nothing(people):
    otto = Membership.objects.get(team=people.t, user=people.owner_t)
    with pytest.raises(Refused):
        teams.set_role(otto, "member", actor=people.owner_t)  # the last owner
    with pytest.raises(Refused):
        teams.remove(otto, actor=people.owner_t)
    with pytest.raises(Refused):
        teams.set_role(otto, "king", actor=people.owner_t)
    assert not AuditEvent.objects.exists()


def test_joining_is_recorded(client, people):
    invitation = teams.invite(people.t, people.owner_t)
    newcomer = get_user_model().objects.create_user("nina", password="pw")
    client.force_login(newcomer)
    assert client.post(f"/teams/join/{invitation.code}/").status_code == 302
    assert client.post(f"/teams/join/{invitation.code}/").status_code == 409  # already a member: no entry
    joined = only("member_joined")
    assert (joined.actor, joined.team, joined.target_type) == (newcomer, people.t, "grading.membership")
    assert joined.details == {"invitation": invitation.pk}


def test_an_export_is_recorded(client, exam, people, attempt):
    client.force_login(people.reviewer_t)
    response = client.get("/review/export/", {"exam": exam.slug, "team": "t", "from": "2026-01-01"})
    assert response.status_code == 200
    exported = only("export")
    assert (exported.actor, exported.team, exported.target_type) == (people.reviewer_t, people.t, "exams.examversion")
    assert exported.target_repr == "mini-exam v1"
    assert exported.details == {
        "exam": "mini-exam",
        "version": 1,
        "team_slug": "t",
        "from": "2026-01-01",
        "to": None,
        "format": "csv",
    }


def test_the_system_may_act_and_the_record_outlives_its_actor(people):
    event = record(None, AuditEvent.Action.ROLE_CHANGED, people.t, why="an import")
    assert (event.actor, event.actor_name, event.team) == (None, "", people.t)
    assert str(event).startswith("Role changed by system at ")
    gone = record(people.member_u, AuditEvent.Action.MEMBER_JOINED, None)
    people.member_u.delete()
    gone.refresh_from_db()
    assert (gone.actor, gone.actor_name) == (None, "mallory")


# The admin: read and filter; nothing else, even for a superuser.


@pytest.fixture
def admin_client(client, people, attempt):
    record(people.reviewer_t, AuditEvent.Action.EXPORT, attempt.version, team=people.t, exam="mini-exam")
    record(people.owner_t, AuditEvent.Action.ROLE_CHANGED, people.t, before="member", after="reviewer")
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(boss)
    return client


LIST = "/admin/grading/auditevent/"


def listed(client, **params) -> list[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return sorted(event.action for event in response.context["cl"].result_list)


def test_the_admin_lists_and_filters_entries(admin_client, people):
    assert listed(admin_client) == ["export", "role_changed"]
    page = admin_client.get(LIST).content.decode()
    assert "Scores exported" in page and "rita" in page and "mini-exam v1" in page
    assert listed(admin_client, action__exact="export") == ["export"]
    assert listed(admin_client, actor__id__exact=people.owner_t.pk) == ["role_changed"]
    # The date filter's own links ("Today"): aware midnights.
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)
    assert listed(admin_client, at__gte=str(today), at__lt=str(tomorrow)) == ["export", "role_changed"]
    assert listed(admin_client, at__lt=str(today - timedelta(days=365))) == []
    assert listed(admin_client, q="otto") == ["role_changed"]
    event = AuditEvent.objects.get(action="export")
    assert admin_client.get(f"{LIST}{event.pk}/change/").status_code == 200


def test_the_admin_refuses_to_add_change_or_delete(admin_client):
    event = AuditEvent.objects.get(action="export")
    before = list(AuditEvent.objects.order_by("pk").values())
    assert admin_client.get(f"{LIST}add/").status_code == 403
    assert admin_client.post(f"{LIST}add/", {"action": "export", "actor_name": "forged"}).status_code == 403
    assert admin_client.post(f"{LIST}{event.pk}/change/", {"actor_name": "forged"}).status_code == 403
    assert admin_client.get(f"{LIST}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{LIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = admin_client.post(LIST, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)
    assert list(AuditEvent.objects.order_by("pk").values()) == before
    listing = admin_client.get(LIST).content.decode()
    assert "delete_selected" not in listing
    assert f"{LIST}add/" not in listing
