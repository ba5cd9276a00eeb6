"""Reviews: an interviewer's marks on a finalized attempt, against the rubric
of the version the attempt pinned.

The rules (who may mark, revisions, finalize, reopen) live in
`grading.reviewing`; these models only hold what was decided.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from exams.models import Attempt, Item, RubricCriterion


class Review(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "In review"
        FINAL = "final", "Final"

    # How many reviewers an attempt takes. One for now; the unique
    # (attempt, reviewer) row already allows a second without changing meaning.
    REQUIRED_REVIEWS = 1

    # PROTECT: a review is a record of someone's judgement; removing the
    # attempt under it must be a deliberate act, not a cascade.
    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_given")
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.DRAFT)
    # Counts accepted changes; every write is conditional on the revision the
    # reviewer's page was based on, so a stale tab is refused, not obeyed.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["attempt", "reviewer"], name="one_review_per_reviewer")]
        indexes = [models.Index(fields=["attempt", "status"], name="review_attempt_status")]

    def __str__(self) -> str:
        return f"review of attempt {self.attempt_id} by {self.reviewer} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class Mark(models.Model):
    """A reviewer's decision on one part: an item, or (item None) the exam-wide signals."""

    MAX_REASON = 300
    MAX_COMMENT = 10_000

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="marks")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    criteria = models.ManyToManyField(RubricCriterion, blank=True, related_name="+")  # the ticked ones
    adjustment = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    reason = models.CharField(max_length=MAX_REASON, blank=True)  # why the adjustment
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="one_mark_per_item"),
            # NULLs are distinct in the constraint above, so it alone would let
            # a review hold two Overall marks.
            models.UniqueConstraint(fields=["review"], condition=Q(item__isnull=True), name="one_overall_mark"),
        ]

    def __str__(self) -> str:
        return f"mark of review {self.review_id} on {self.item_id or 'Overall'}"


class ReviewEvent(models.Model):
    """The history of a review: started, finalized, reopened (with why)."""

    class Action(models.TextChoices):
        STARTED = "started", "Started"
        FINALIZED = "finalized", "Finalized"
        REOPENED = "reopened", "Reopened"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"
