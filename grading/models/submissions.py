"""Submissions: a drill's code, stored before it is queued, and its grade.

A submission moves queued -> running -> graded (or error). Every move is a
conditional update, so a task delivered twice, a worker killed mid-run and a
sweep that re-queues all leave exactly one stored result (invariant 5).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from exams.models import Attempt, Item


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        GRADED = "graded", "Graded"
        ERROR = "error", "Could not be graded"

    class Source(models.TextChoices):
        RUN = "run", "Run tests"
        FINAL = "final", "Final code, at the end of the attempt"
        CUSTOM = "custom", "Run on your own input"  # never scored, never the run that counts

    PENDING = (Status.QUEUED, Status.RUNNING)  # a worker has yet to store its result
    SCORED = (Source.RUN, Source.FINAL)  # the sources whose latest run is the one that counts

    # Queue names; the worker consumes them in this order of priority.
    RUN_QUEUE = "grading"
    REGRADE_QUEUE = "regrade"

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="submissions")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    code = models.TextField()
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.RUN)
    # A custom run's arguments: {"args": [...], "kwargs": {...}, "text": what the candidate typed}
    custom_input = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.QUEUED)
    queue = models.CharField(max_length=20, default=RUN_QUEUE)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)  # last time a message was sent for it
    started_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)  # a running claim older than this is dead
    finished_at = models.DateTimeField(null=True, blank=True)
    claims = models.PositiveIntegerField(default=0)  # how many times a worker took it
    progress = models.PositiveSmallIntegerField(default=0)  # percent, for the candidate's progress bar
    passed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0.0)
    max_score = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)  # GradeResult.as_dict(): nothing hidden in it
    error = models.TextField(blank=True)
    earlier_results = models.JSONField(default=list, blank=True)  # kept by regrades, oldest first

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["attempt", "item", "-created_at"], name="submission_latest"),
            models.Index(
                fields=["status", "queued_at"], name="submission_sweep", condition=Q(status__in=["queued", "running"])
            ),
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} · {self.item.slug} · {self.status}"

    def get_absolute_url(self) -> str:
        return reverse("grading:submission", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING

    @property
    def is_custom(self) -> bool:
        return self.source == self.Source.CUSTOM

    @property
    def categories(self) -> list[dict]:
        return self.result.get("categories", [])

    @property
    def limits(self) -> dict:
        """The limits the run had (results graded before they were kept: none)."""
        return self.result.get("limits") or {}

    @property
    def custom_result(self) -> dict:
        return self.result.get("custom") or {}

    @property
    def visible_cases(self) -> list[dict]:
        return self.result.get("visible_cases", [])

    @classmethod
    def lease(cls) -> timedelta:
        """How long a claim holds: past the task's hard time limit a run is certainly over."""
        return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.GRADING_LEASE_MARGIN_SECONDS)

    @classmethod
    def claim(cls, pk: int, now: datetime | None = None) -> int | None:
        """Take the submission for grading; the claim number, or None if it is
        not queued (nor running under a claim that has expired)."""
        now = now or timezone.now()
        claimable = Q(status=cls.Status.QUEUED) | Q(status=cls.Status.RUNNING, lease_until__lt=now)
        updated = cls.objects.filter(claimable, pk=pk).update(
            status=cls.Status.RUNNING,
            started_at=now,
            lease_until=now + cls.lease(),
            claims=F("claims") + 1,
            progress=0,
        )
        if not updated:
            return None
        return cls.objects.values_list("claims", flat=True).get(pk=pk)

    def record(self, claim: int, grade: dict, now: datetime | None = None) -> bool:
        """Store a grade if `claim` still holds the submission; False if a later
        claim took over (then that claim's result is the one that counts)."""
        grade = storable(grade)
        status = self.Status.GRADED if grade["status"] == "graded" else self.Status.ERROR
        fields = {
            "status": status,
            "finished_at": now or timezone.now(),
            "lease_until": None,
            "progress": 100,
            "passed": grade["passed"],
            "total": grade["total"],
            "score": grade["score"],
            "max_score": grade["max_score"],
            "result": grade,
            "error": grade.get("error", ""),
        }
        updated = Submission.objects.filter(pk=self.pk, status=self.Status.RUNNING, claims=claim).update(**fields)
        if updated:
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(updated)

    def set_progress(self, claim: int, percent: int) -> None:
        Submission.objects.filter(pk=self.pk, status=self.Status.RUNNING, claims=claim).update(progress=percent)


def storable(value):
    """`value` with every NUL character replaced: PostgreSQL refuses NUL in
    text and jsonb, and a program's output or exception message may hold one."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value
