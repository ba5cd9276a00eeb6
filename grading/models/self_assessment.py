"""A candidate's own marks on their answers: the rubric criteria they
believe they met, per item (or, item None, the exam-wide signals).

Kept apart from reviews and stored scores on purpose: a self-assessment is
shown beside a reviewer's score and compared with it (calibration), never
counted in any score, leaderboard or export. The rules (who, when, which
criteria, until when) live in `grading.self_assessment`.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from exams.models import Attempt, Item, RubricCriterion


class SelfAssessment(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="self_assessments")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    criteria = models.ManyToManyField(RubricCriterion, blank=True, related_name="+")  # the ticked ones
    # The rubric score the ticks give (scoring.rubric_score, no adjustment),
    # stored with the ticks in one transaction. The rubric of a version never
    # changes, and a self-assessment is locked once a review is final, so it
    # never goes stale; My progress reads it without the rubric.
    score = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    max_points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "item"], name="one_self_assessment_per_item"),
            # NULLs are distinct in the constraint above: without this one an
            # attempt could hold two exam-wide self-assessments.
            models.UniqueConstraint(
                fields=["attempt"], condition=Q(item__isnull=True), name="one_overall_self_assessment"
            ),
        ]

    def __str__(self) -> str:
        return f"self-assessment of attempt {self.attempt_id} on {self.item_id or 'Overall'}"
