"""Exam content: exams and their immutable, content-hashed versions.

Everything below ExamVersion is written once by `import_exams` and never
edited: an attempt pins a version, so the questions it was asked, the cases it
was graded against and the rubric it is reviewed with stay what they were.
"""

from django.db import models
from django.db.models import Count, Q
from django.urls import reverse


class Exam(models.Model):
    slug = models.SlugField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The newest imported version; the catalogue and new attempts use it.
    current_version = models.ForeignKey(
        "ExamVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("exams:detail", args=[self.slug])


class ExamVersion(models.Model):
    class RevealPolicy(models.TextChoices):
        ON_DEMAND = "on_demand", "On demand"
        AFTER_SUBMIT = "after_submit", "After submit"
        NEVER = "never", "Never"

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    intro_md = models.TextField(blank=True)
    intro_html = models.TextField(blank=True)
    duration_minutes = models.PositiveIntegerField()
    reveal_policy = models.CharField(max_length=20, choices=RevealPolicy.choices)
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=500, blank=True, help_text="Pack folder it was imported from.")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["exam", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "number"], name="unique_version_number"),
            models.UniqueConstraint(fields=["exam", "content_hash"], name="unique_version_content"),
        ]

    def __str__(self) -> str:
        return f"{self.exam.slug} v{self.number}"

    def item_counts(self) -> dict[str, int]:
        """Number of items of each answerable kind, in one query."""
        kinds = [k for k in Item.Kind.values if k != Item.Kind.TEXT]
        return self.items.aggregate(**{k: Count("pk", filter=Q(kind=k)) for k in kinds})

    def total_points(self) -> int:
        return sum(item.max_points for item in self.items.all())


class Section(models.Model):
    version = models.ForeignKey(ExamVersion, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    body_md = models.TextField(blank=True)
    body_html = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="unique_section_slug"),
        ]

    def __str__(self) -> str:
        return self.title


class Item(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Reading"
        QUESTION = "question", "Question"
        PROMPT = "prompt", "Prompt"
        DRILL = "drill", "Coding drill"

    class Compare(models.TextChoices):
        EXACT = "exact", "Exact"
        FLOAT = "float", "Float tolerance"
        UNORDERED = "unordered", "Unordered collection"

    version = models.ForeignKey(ExamVersion, on_delete=models.CASCADE, related_name="items")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(help_text="Order within the whole exam.")
    slug = models.SlugField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    prompt_md = models.TextField(blank=True)
    prompt_html = models.TextField(blank=True)
    # Hidden until the exam's reveal policy allows (invariant 1).
    answer_md = models.TextField(blank=True)
    answer_html = models.TextField(blank=True)
    points = models.PositiveIntegerField(default=0)
    # Drills only.
    written_prompt_md = models.TextField(blank=True)
    written_prompt_html = models.TextField(blank=True)
    written_points = models.PositiveIntegerField(default=0)
    entry_point = models.CharField(max_length=100, blank=True)
    starter_code = models.TextField(blank=True)
    reference_solution = models.TextField(blank=True)  # hidden, like answer_md
    compare = models.CharField(max_length=10, choices=Compare.choices, blank=True)
    tolerance = models.FloatField(null=True, blank=True)
    limits = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="unique_item_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def max_points(self) -> int:
        return self.points + self.written_points

    @property
    def is_drill(self) -> bool:
        return self.kind == self.Kind.DRILL


class TestCase(models.Model):
    """One hidden (or visible sample) case of a drill."""

    __test__ = False  # not a pytest class

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="cases")
    position = models.PositiveIntegerField()
    category = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(null=True)
    visible = models.BooleanField(default=False)

    class Meta:
        ordering = ["item", "position"]

    def __str__(self) -> str:
        return f"{self.item.slug} #{self.position} ({self.category})"


class RubricCriterion(models.Model):
    """A strong (positive points) or weak (negative points) signal.

    With no item it belongs to the exam as a whole.
    """

    class Signal(models.TextChoices):
        STRONG = "strong", "Strong signal"
        WEAK = "weak", "Weak signal"

    version = models.ForeignKey(ExamVersion, on_delete=models.CASCADE, related_name="criteria")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveIntegerField()
    signal = models.CharField(max_length=10, choices=Signal.choices)
    text = models.TextField()
    points = models.IntegerField()

    class Meta:
        ordering = ["version", "item", "position"]
        verbose_name_plural = "rubric criteria"

    def __str__(self) -> str:
        return f"{self.get_signal_display()}: {self.text[:60]} ({self.points:+d})"
