"""Stored scores: what leaderboards and result pages read.

Only `grading.scoring.recompute` writes these rows; everything else reads
them. An attempt's score is one row (`AttemptScore`), so a leaderboard of N
attempts costs one query, not N times the arithmetic.
"""

from django.conf import settings
from django.db import models

from exams.models import Attempt, Item
from grading.models.reviews import Review

SCORE = {"max_digits": 8, "decimal_places": 2}


class ItemScore(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="item_scores")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    tests = models.DecimalField(**SCORE, null=True, blank=True)  # None: a run is still pending
    tests_max = models.PositiveIntegerField()
    rubric = models.DecimalField(**SCORE, null=True, blank=True)  # None: awaiting review
    rubric_max = models.PositiveIntegerField()
    score = models.DecimalField(**SCORE)
    max_points = models.PositiveIntegerField()
    # Set only where a reviewer scored the rubric part.
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.SET_NULL, related_name="item_scores")
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="one_score_per_item")]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} · item {self.item_id}: {self.score}/{self.max_points}"

    @property
    def awaiting_review(self) -> bool:
        return self.rubric is None


class AttemptScore(models.Model):
    attempt = models.OneToOneField(Attempt, primary_key=True, on_delete=models.CASCADE, related_name="score")
    total = models.DecimalField(**SCORE)
    max_points = models.PositiveIntegerField()
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    # Scored from a final review with every run graded: it will not move
    # unless a review is reopened or a run regraded.
    is_final = models.BooleanField(default=False)
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tests = models.DecimalField(**SCORE)
    tests_max = models.PositiveIntegerField()
    rubric = models.DecimalField(**SCORE)  # the items' rubric parts, Overall apart
    rubric_max = models.PositiveIntegerField()
    overall = models.DecimalField(**SCORE)  # the exam-wide signals
    overall_max = models.PositiveIntegerField()
    strong_points = models.DecimalField(**SCORE)  # ticked positive criteria, before clamping
    weak_points = models.DecimalField(**SCORE)  # ticked negative criteria, before clamping
    pending_runs = models.PositiveIntegerField(default=0)
    # What leaderboards rank: the total with every item the candidate saw the
    # model answer of before answering it counted as zero (`seen_items` of them).
    ranked_total = models.DecimalField(**SCORE, default=0)
    seen_items = models.PositiveIntegerField(default=0)
    sections = models.JSONField(default=list, blank=True)  # [{"slug", "title", "score", "max"}]
    signals = models.JSONField(default=list, blank=True)  # [{"criterion", "signal", "text", "points", "hit"}]
    # Double marking: "needed" while two final reviews disagree beyond the
    # version's threshold and nobody has adjudicated; "decided" once the
    # adjudication's decisions are the score.
    adjudication = models.CharField(
        max_length=7, blank=True, choices=[("", "-"), ("needed", "Needed"), ("decided", "Decided")], default=""
    )
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"attempt {self.attempt_id}: {self.total}/{self.max_points} ({self.percent}%)"


class BestAttempt(models.Model):
    """A user's best finished timed attempt of an exam (and, with `final_only`,
    their best one whose review is final), kept current by
    grading.scoring.recompute. Live leaderboards read these rows: one per
    member, so ranking a team never sorts every attempt of every member."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    exam = models.ForeignKey("exams.Exam", on_delete=models.CASCADE, related_name="+")
    final_only = models.BooleanField()
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="+")
    ranked_total = models.DecimalField(**SCORE)
    total = models.DecimalField(**SCORE)
    max_points = models.PositiveIntegerField()
    seen_items = models.PositiveIntegerField()
    is_final = models.BooleanField()
    time_multiplier = models.DecimalField(max_digits=3, decimal_places=2)
    time_used = models.DurationField()
    finished_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "exam", "final_only"], name="one_best_attempt_per_user_exam")
        ]
        indexes = [
            models.Index(
                fields=["exam", "final_only", "-ranked_total", "time_used", "finished_at"], name="best_attempt_rank"
            )
        ]

    def __str__(self) -> str:
        return f"best of {self.user_id} on {self.exam_id}{' (final)' if self.final_only else ''}: {self.ranked_total}"
