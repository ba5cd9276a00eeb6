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

    # How many reviewers an attempt takes is its version's `reviews_required`
    # (1, or 2 for double marking): one row per (attempt, reviewer).

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


class Adjudication(models.Model):
    """A third person's decision between two final reviews that disagree too
    much (see `grading.scoring.disagreement`): per part, the first review's
    mark, the second's, or points they set with a reason. Its decisions are
    the attempt's rubric score. Written by `grading.adjudicating` only."""

    class Status(models.TextChoices):
        FINAL = "final", "Decided"
        # A review it decided between was reopened: its decisions no longer count.
        REOPENED = "reopened", "Reopened"

    attempt = models.OneToOneField(Attempt, on_delete=models.PROTECT, related_name="adjudication")
    adjudicator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FINAL)
    # The two reviews as the adjudicator saw them: a decision stands only
    # for these revisions.
    first_review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="+")
    second_review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="+")
    first_revision = models.PositiveIntegerField()
    second_revision = models.PositiveIntegerField()
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"adjudication of attempt {self.attempt_id} by {self.adjudicator} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class AdjudicationDecision(models.Model):
    """The decision on one part: an item, or (item None) Overall."""

    class Choice(models.TextChoices):
        FIRST = "first", "First review's mark"
        SECOND = "second", "Second review's mark"
        POINTS = "points", "Points set by the adjudicator"

    adjudication = models.ForeignKey(Adjudication, on_delete=models.CASCADE, related_name="decisions")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=6, choices=Choice.choices)
    rubric = models.DecimalField(max_digits=6, decimal_places=2)  # the rubric points decided
    reason = models.CharField(max_length=Mark.MAX_REASON, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["adjudication", "item"], name="one_decision_per_item"),
            models.UniqueConstraint(
                fields=["adjudication"], condition=Q(item__isnull=True), name="one_overall_decision"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id or 'Overall'}: {self.get_choice_display()} ({self.rubric})"
