"""The rules of teams: creating, inviting, joining, leaving, roles.

A team always keeps at least one owner. Every change that could break that
(leaving, a new role, a removal) runs under a row lock on the team, so two
owners demoting each other at once cannot both succeed. Saving or deleting a
membership or a board's settings, here or in the admin, makes the team's
cached leaderboards stale (signals connected in grading.apps).
"""

import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from exams.models import Exam
from exams.taking import Refused
from grading import audit
from grading.models import BoardSettings, Invitation, Membership, Team

MAX_INVITATION_DAYS = 30
CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what secrets.token_urlsafe makes
LAST_OWNER = "A team keeps at least one owner: make another member an owner first."


def create_team(user, name: str) -> Team:
    name = " ".join(name.split())
    if not name:
        raise Refused("Give the team a name.", status=400)
    if len(name) > Team._meta.get_field("name").max_length:
        raise Refused("A team's name is at most 100 characters.", status=400)
    base = slugify(name)[:40] or "team"
    with transaction.atomic():
        slug, n = base, 1
        while Team.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        team = Team.objects.create(name=name, slug=slug)
        Membership.objects.create(team=team, user=user, role=Membership.Role.OWNER)
    return team


def _locked(team: Team) -> Team:
    return Team.objects.select_for_update().get(pk=team.pk)


def _owners(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Membership.Role.OWNER).count()


def invite(team: Team, owner, days: int = 7, now: datetime | None = None) -> Invitation:
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise Refused(f"An invitation lasts from 1 to {MAX_INVITATION_DAYS} days.", status=400)
    now = now or timezone.now()
    return Invitation.objects.create(team=team, created_by=owner, created_at=now, expires_at=now + timedelta(days=days))


def revoke(invitation: Invitation, now: datetime | None = None) -> None:
    Invitation.objects.filter(pk=invitation.pk, revoked_at=None).update(revoked_at=now or timezone.now())


def usable_invitation(code: str, now: datetime | None = None) -> Invitation:
    """The invitation of this code, or a refusal that says why it cannot be used."""
    valid = CODE_RE.fullmatch(code) is not None  # never send a NUL or the like to the database
    invitation = Invitation.objects.select_related("team").filter(code=code).first() if valid else None
    if invitation is None:
        raise Refused("This invitation link is not valid: check that it was copied whole.", status=404)
    if invitation.revoked_at is not None:
        raise Refused("This invitation was withdrawn by the team's owner; ask them for a new link.", status=410)
    if not invitation.is_usable(now):
        raise Refused("This invitation has expired; ask the team's owner for a new link.", status=410)
    return invitation


def join(code: str, user, now: datetime | None = None) -> Membership:
    invitation = usable_invitation(code, now)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=invitation.team, user=user)
            Invitation.objects.filter(pk=invitation.pk).update(uses=F("uses") + 1)
            audit.record(user, audit.Action.MEMBER_JOINED, membership, invitation=invitation.pk)
    except IntegrityError:
        raise Refused(f"You are already a member of {invitation.team.name}.", status=409) from None
    return membership


def set_role(membership: Membership, role: str, actor=None) -> None:
    if role not in Membership.Role.values:
        raise Refused("Choose owner, reviewer or member.", status=400)
    with transaction.atomic():
        _locked(membership.team)
        current = Membership.objects.get(pk=membership.pk)
        if current.role == Membership.Role.OWNER and role != Membership.Role.OWNER and _owners(membership.team) == 1:
            raise Refused(LAST_OWNER, status=409)
        before, current.role = current.role, role
        current.save(update_fields=["role"])
        if before != role:
            audit.record(actor, audit.Action.ROLE_CHANGED, current, user=current.user_id, before=before, after=role)


def remove(membership: Membership, actor=None) -> None:
    """Remove a member (their own choice: leaving, or an owner's)."""
    with transaction.atomic():
        _locked(membership.team)
        current = Membership.objects.filter(pk=membership.pk).first()
        if current is None:
            return
        if current.role == Membership.Role.OWNER and _owners(membership.team) == 1:
            raise Refused(LAST_OWNER, status=409)
        audit.record(actor, audit.Action.MEMBER_REMOVED, current, user=current.user_id, role=current.role)
        current.delete()


def set_hidden(membership: Membership, hidden: bool) -> None:
    membership.hide_name = hidden
    membership.save(update_fields=["hide_name"])


def publish(
    team: Team, exam: Exam, owner, *, freeze: bool | None = None, final_only: bool | None = None
) -> BoardSettings:
    """Freeze the board now (or unfreeze it), and/or show only final rows."""
    board, _ = BoardSettings.objects.get_or_create(team=team, exam=exam)
    if freeze is not None:
        board.frozen_at = timezone.now() if freeze else None
    if final_only is not None:
        board.final_only = final_only
    board.updated_by = owner
    board.save(update_fields=["frozen_at", "final_only", "updated_by", "updated_at"])
    return board
