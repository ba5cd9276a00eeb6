"""Teams: who may review whom, and who ranks against whom. A team's owners
and reviewers review the finalized attempts of every member of the team;
every member appears on the team's leaderboards."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from exams.models import Exam


class Team(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("grading:team", args=[self.slug])


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        REVIEWER = "reviewer", "Reviewer"
        MEMBER = "member", "Member"

    # A team's owner reviews too: owning a team is reviewing plus managing it.
    REVIEWING_ROLES = (Role.OWNER, Role.REVIEWER)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    # Shown to other members as "anonymous member" on leaderboards.
    hide_name = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} · {self.team} · {self.get_role_display()}"

    @property
    def reviews(self) -> bool:
        return self.role in self.REVIEWING_ROLES


def new_code() -> str:
    return secrets.token_urlsafe(18)


class Invitation(models.Model):
    """A link that lets whoever holds it join a team as a member, until it
    expires or its owner revokes it."""

    LIFETIME = timedelta(days=7)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    code = models.CharField(max_length=32, unique=True, default=new_code)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"invitation to {self.team} ({self.code[:6]}...)"

    def get_absolute_url(self) -> str:
        return reverse("grading:join", args=[self.code])

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and (now or timezone.now()) < self.expires_at


class BoardSettings(models.Model):
    """How a team's leaderboard of one exam is published: frozen at a moment
    (finishes after it are hidden from members until unfrozen), and/or only
    rows whose review is final."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="boards")
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="+")
    frozen_at = models.DateTimeField(null=True, blank=True)
    final_only = models.BooleanField(default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "board settings"
        constraints = [models.UniqueConstraint(fields=["team", "exam"], name="one_board_per_team_exam")]

    def __str__(self) -> str:
        return f"{self.team} · {self.exam}"
