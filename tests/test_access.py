"""Who may review an attempt and see its scores: one table per predicate,
persona by persona, on a finalized attempt and on an open one."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from exams.models import Attempt
from grading.access import may_review, may_view_scores, reviewable_attempts, reviewable_user_ids
from grading.models import Membership, Team

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def people(db):
    """The candidate is a member of team T; U is another team without them."""
    User = get_user_model()
    names = ["candidate", "teammate", "reviewer_t", "owner_t", "reviewer_u", "member_u"]
    people = SimpleNamespace(**{name: User.objects.create_user(name, password="pw") for name in names})
    people.staff = User.objects.create_user("staff", password="pw", is_staff=True)
    t = Team.objects.create(name="T", slug="t")
    u = Team.objects.create(name="U", slug="u")
    Membership.objects.create(team=t, user=people.candidate)
    Membership.objects.create(team=t, user=people.teammate)
    Membership.objects.create(team=t, user=people.reviewer_t, role=Role.REVIEWER)
    Membership.objects.create(team=t, user=people.owner_t, role=Role.OWNER)
    Membership.objects.create(team=u, user=people.reviewer_u, role=Role.REVIEWER)
    Membership.objects.create(team=u, user=people.member_u)
    people.t, people.u = t, u
    return people


@pytest.fixture
def open_attempt(mini_exam, people):
    attempt, _ = Attempt.start(people.candidate, mini_exam, Attempt.Mode.PRACTICE)
    return attempt


@pytest.fixture
def finalized(open_attempt):
    open_attempt.finalize()
    return open_attempt


MAY_REVIEW_FINALIZED = {
    "candidate": False,  # nobody reviews their own attempt
    "teammate": False,
    "reviewer_t": True,
    "owner_t": True,  # a team's owner reviews too
    "reviewer_u": False,  # reviews a team the candidate is not in
    "member_u": False,
    "staff": True,
}
MAY_VIEW_SCORES_FINALIZED = {
    "candidate": True,
    "teammate": False,
    "reviewer_t": True,
    "owner_t": True,
    "reviewer_u": False,
    "member_u": False,
    "staff": True,
}
MAY_VIEW_SCORES_OPEN = {
    "candidate": True,
    "teammate": False,
    "reviewer_t": False,  # a team's reviewers see an attempt once it has ended
    "owner_t": False,
    "reviewer_u": False,
    "member_u": False,
    "staff": True,
}


def table(predicate, people, attempt) -> dict[str, bool]:
    return {name: predicate(getattr(people, name), attempt) for name in MAY_REVIEW_FINALIZED}


def in_queue(user, attempt) -> bool:
    return reviewable_attempts(user).filter(pk=attempt.pk).exists()


def test_who_may_review_a_finalized_attempt(people, finalized):
    assert table(may_review, people, finalized) == MAY_REVIEW_FINALIZED


def test_nobody_may_review_an_open_attempt(people, open_attempt):
    assert table(may_review, people, open_attempt) == dict.fromkeys(MAY_REVIEW_FINALIZED, False)


def test_who_may_see_the_scores_of_a_finalized_attempt(people, finalized):
    assert table(may_view_scores, people, finalized) == MAY_VIEW_SCORES_FINALIZED


def test_who_may_see_the_scores_of_an_open_attempt(people, open_attempt):
    assert table(may_view_scores, people, open_attempt) == MAY_VIEW_SCORES_OPEN


def test_the_review_queue_holds_what_each_persona_may_review(people, finalized):
    assert table(in_queue, people, finalized) == MAY_REVIEW_FINALIZED


def test_the_review_queue_holds_no_open_attempt(people, open_attempt):
    assert table(in_queue, people, open_attempt) == dict.fromkeys(MAY_REVIEW_FINALIZED, False)


def test_an_anonymous_visitor_may_do_nothing(finalized):
    anonymous = AnonymousUser()
    assert not may_review(anonymous, finalized)
    assert not may_view_scores(anonymous, finalized)
    assert not reviewable_attempts(anonymous).exists()
    assert not reviewable_user_ids(anonymous).exists()


def test_reviewable_users_are_every_member_of_the_teams_one_reviews(people):
    assert set(reviewable_user_ids(people.reviewer_t)) == {
        people.candidate.pk,
        people.teammate.pk,
        people.reviewer_t.pk,
        people.owner_t.pk,
    }
    assert set(reviewable_user_ids(people.teammate)) == set()


def test_a_user_in_two_teams_is_reviewed_by_both_and_listed_once(people, finalized):
    Membership.objects.create(team=people.u, user=people.candidate)
    assert may_review(people.reviewer_u, finalized)
    assert may_view_scores(people.reviewer_u, finalized)
    # A reviewer of both teams sees the attempt once, not once per team.
    Membership.objects.create(team=people.u, user=people.reviewer_t, role=Role.OWNER)
    assert list(reviewable_attempts(people.reviewer_t)) == [finalized]
    assert reviewable_attempts(people.reviewer_t).count() == 1


def test_a_reviewer_does_not_see_their_own_attempt_in_the_queue(people, mini_exam, finalized):
    own, _ = Attempt.start(people.reviewer_t, mini_exam, Attempt.Mode.PRACTICE)
    own.finalize()
    assert list(reviewable_attempts(people.reviewer_t)) == [finalized]
    assert not may_review(people.reviewer_t, own)
    assert may_view_scores(people.reviewer_t, own)  # as its owner


def test_staff_review_every_finalized_attempt_but_their_own(people, mini_exam, finalized):
    own, _ = Attempt.start(people.staff, mini_exam, Attempt.Mode.PRACTICE)
    own.finalize()
    other, _ = Attempt.start(people.member_u, mini_exam, Attempt.Mode.PRACTICE)
    other.finalize()
    assert set(reviewable_attempts(people.staff)) == {finalized, other}
    assert not may_review(people.staff, own)


def test_a_plain_member_reviews_nobody(people, mini_exam):
    attempt, _ = Attempt.start(people.teammate, mini_exam, Attempt.Mode.PRACTICE)
    attempt.finalize()
    assert not reviewable_attempts(people.candidate).exists()
    assert not may_review(people.candidate, attempt)


# The admin: staff manage teams there; reviews and scores are read-only.


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_staff_add_a_team_with_its_members_and_roles_in_the_admin(admin_client, people):
    response = admin_client.post(
        "/admin/grading/team/add/",
        {
            "name": "Serving",
            "slug": "serving",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": people.candidate.pk,
            "memberships-0-role": "member",
            "memberships-1-user": people.reviewer_u.pk,
            "memberships-1-role": "reviewer",
        },
    )
    assert response.status_code == 302
    team = Team.objects.get(slug="serving")
    assert dict(team.memberships.values_list("user__username", "role")) == {
        "candidate": "member",
        "reviewer_u": "reviewer",
    }


@pytest.mark.parametrize("model", ["review", "attemptscore", "itemscore"])
def test_reviews_and_scores_are_read_only_in_the_admin(admin_client, finalized, model):
    assert admin_client.get(f"/admin/grading/{model}/").status_code == 200
    assert admin_client.get(f"/admin/grading/{model}/add/").status_code == 403
