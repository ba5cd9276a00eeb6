"""The audit log: who did what, when, on what.

Rows are written by `grading.audit.record` only, never changed and never
deleted (the admin reads them and refuses the rest). The actor's username
and the target's description are copied into the row, so an entry still
says who and what after the user, the team or the attempt is gone.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from exams.models import Attempt
from grading.models.teams import Team


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        REVEAL = "reveal", "Model answer revealed"
        ANSWER_OPENED = "answer_opened", "Model answer opened after the attempt"
        REVIEW_FINALIZED = "review_finalized", "Review finalized"
        REVIEW_REOPENED = "review_reopened", "Review reopened"
        ADJUSTMENT = "adjustment", "Adjustment changed"
        ADJUDICATION = "adjudication", "Adjudication"
        ROLE_CHANGED = "role_changed", "Role changed"
        MEMBER_JOINED = "member_joined", "Member joined"
        MEMBER_REMOVED = "member_removed", "Member removed or left"
        EXPORT = "export", "Scores exported"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # None: the system acted (a signal with nobody behind it).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    target_type = models.CharField(max_length=100, blank=True)  # an app label and model: "exams.reveal"
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField("target", max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # SET_NULL: the record outlives what it is about.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attempt = models.ForeignKey(Attempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["action", "-at"], name="audit_action_at")]

    def __str__(self) -> str:
        who = self.actor_name or "system"
        return f"{self.get_action_display()} by {who} at {self.at:%Y-%m-%d %H:%M}: {self.target_repr}"
