"""Who may review an attempt and who may see its scores.

Invariant 4: the owner, reviewers of a team the owner belongs to, staff;
nobody else. Every review page and every score page asks these functions,
so the answer is the same everywhere. Team membership is looked up through a
subquery of user ids, never a join, so a user in two teams sees an attempt
once.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, Subquery

from exams.models import Attempt
from grading.models import Membership, Team


def reviewable_user_ids(user) -> QuerySet:
    """The ids of the users `user` may review: every member (any role) of a
    team where `user` is an owner or a reviewer. Usable as `__in=` or in a
    Subquery; it may include `user` themself (callers exclude own attempts)."""
    if not user.is_authenticated:
        return Membership.objects.none().values_list("user_id", flat=True)
    teams = Membership.objects.filter(user_id=user.pk, role__in=Membership.REVIEWING_ROLES).values("team_id")
    return Membership.objects.filter(team_id__in=Subquery(teams)).values_list("user_id", flat=True).distinct()


def reviewer_teams(user) -> QuerySet:
    """The teams whose attempts `user` reviews: every team for staff, else
    those where they are an owner or a reviewer."""
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user, memberships__role__in=Membership.REVIEWING_ROLES)


def teams_reviewed(user) -> list[Team]:
    """The teams `user` reviews, by name, for the pages of the review flow;
    PermissionDenied (with what to do) for someone who reviews none (staff
    always may review)."""
    teams = list(reviewer_teams(user).order_by("name"))
    if not teams and not user.is_staff:
        raise PermissionDenied("You do not review any team's attempts. A team's owner can make you a reviewer.")
    return teams


def may_review(user, attempt: Attempt) -> bool:
    """True if `user` may mark `attempt`: it is finalized, it is not theirs
    (nobody reviews their own attempt, staff included), and they are staff
    or review a team its owner belongs to."""
    if not user.is_authenticated or attempt.is_open or attempt.user_id == user.pk:
        return False
    return user.is_staff or reviewable_user_ids(user).filter(user_id=attempt.user_id).exists()


def may_view_scores(user, attempt: Attempt) -> bool:
    """True if `user` may see the attempt's scores and reviews: its owner,
    staff, or (once the attempt is finalized) an owner or reviewer of a team
    the attempt's user belongs to."""
    if not user.is_authenticated:
        return False
    if attempt.user_id == user.pk or user.is_staff:
        return True
    return not attempt.is_open and reviewable_user_ids(user).filter(user_id=attempt.user_id).exists()


def reviewable_attempts(user) -> QuerySet:
    """The finalized attempts `user` may review, each once: for staff every
    finalized attempt but their own; for others those of the members of the
    teams they review, but their own."""
    if not user.is_authenticated:
        return Attempt.objects.none()
    finalized = Attempt.objects.exclude(status=Attempt.Status.IN_PROGRESS).exclude(user_id=user.pk)
    if user.is_staff:
        return finalized
    return finalized.filter(user_id__in=Subquery(reviewable_user_ids(user)))
