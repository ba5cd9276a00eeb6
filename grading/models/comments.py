"""Line comments: a reviewer's remark on one line of a drill's code.

A comment belongs to a review, like a mark: it is written while the review
is a draft, counts in its revision, and shows to others (and to the
candidate) by the same rules as the review's marks. The rules live in
`grading.line_comments`.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from exams.models import Item
from grading.models.reviews import Review


class LineComment(models.Model):
    MAX_BODY = 2_000

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="line_comments")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    # The code the line belongs to: the attempt's saved code of the drill,
    # which no longer changes once the attempt has ended. Its hash and the
    # line's text keep a comment meaningful should the code ever differ.
    code_sha256 = models.CharField(max_length=64)
    line = models.PositiveIntegerField()  # 1-based
    line_text = models.TextField(blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["item_id", "line", "created_at", "pk"]
        indexes = [models.Index(fields=["review", "item"], name="line_comment_review_item")]
        constraints = [models.CheckConstraint(condition=Q(line__gte=1), name="line_comment_line_from_1")]

    def __str__(self) -> str:
        return f"comment of review {self.review_id} on item {self.item_id}, line {self.line}"
