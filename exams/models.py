"""Exam content: exams and their immutable, content-hashed versions.

Everything below ExamVersion is written once by `import_exams` and never
edited: an attempt pins a version, so the questions it was asked, the cases it
was graded against and the rubric it is reviewed with stay what they were.
"""

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from exams.signals import attempt_finalized


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
    # Reviewing (pack keys `reviews`, `adjudication_threshold`, `anonymous_marking`).
    reviews_required = models.PositiveSmallIntegerField(
        default=1, help_text="Independent reviews each attempt takes: 1, or 2 for double marking."
    )
    adjudication_threshold = models.PositiveSmallIntegerField(
        default=15,
        help_text="With double marking: the percentage of the exam's points two totals may differ by "
        "before the attempt goes to adjudication.",
    )
    anonymous_marking = models.BooleanField(
        default=False, help_text="Reviewers see a pseudonym instead of the candidate's name until the review is final."
    )
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


# What defines an item's content for "seen before" (exams.taking.seen_before).
CONTENT_FIELDS = ("kind", "prompt_md", "written_prompt_md", "entry_point", "answer_md", "reference_solution")


def item_content_hash(item) -> str:
    """sha256 of what a candidate is asked (kind, prompt, written prompt,
    entry point) and what a reveal shows (model answer, reference solution).

    The same item in a later exam version has the same hash, so an answer
    seen in an attempt of one version counts as seen in the next. Title,
    points, rubric, starter code, limits and hidden cases are left out:
    changing them (a new version adds hidden cases) does not make an answer
    the candidate saw any less seen. `item` is anything with those
    attributes: a loaded `ItemData`, an `Item`, a migration's historical Item.
    """
    content = {name: getattr(item, name) for name in CONTENT_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


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
    # item_content_hash(): equal for the same item across versions. Never
    # shown: for a short model answer it could be guessed from the hash.
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)

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


class OrderedJSONField(models.TextField):
    """JSON stored as text, so it comes back exactly as written.

    PostgreSQL's jsonb reorders object keys, and a drill's inputs must reach
    the candidate's function as the author wrote them: the iteration order of
    a dictionary argument is part of the input (rollback_blockers returns
    slices in the order of `new`).
    """

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        return json.dumps(value)

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj))


class TestCase(models.Model):
    """One hidden (or visible sample) case of a drill."""

    __test__ = False  # not a pytest class

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="cases")
    position = models.PositiveIntegerField()
    category = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    args = OrderedJSONField(default=list)
    kwargs = OrderedJSONField(default=dict, blank=True)
    expected = OrderedJSONField(default=None)
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


class Accommodation(models.Model):
    """Extra time a user gets on every timed attempt they start (set by staff)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accommodation")
    time_multiplier = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("4.00"))],
        help_text="For example 1.50 for time and a half.",
    )
    reason = models.CharField(max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} x{self.time_multiplier}"


class Attempt(models.Model):
    class Mode(models.TextChoices):
        PRACTICE = "practice", "Practice (untimed)"
        TIMED = "timed", "Timed"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Ended at the deadline"

    # Saves are accepted this long after the deadline: the request that left
    # the browser in the last second must not be refused for network latency.
    GRACE = timedelta(seconds=5)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts")
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts")
    version = models.ForeignKey(ExamVersion, on_delete=models.PROTECT, related_name="attempts")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    time_multiplier = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("1.00"))
    finalized_at = models.DateTimeField(null=True, blank=True)
    # When the candidate's results page first showed model answers by the
    # exam's policy: from then on they count as seen (exams.taking.seen_before).
    answers_shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # One timed attempt in progress per user and exam, even under a
            # double click that sends two starts at once.
            models.UniqueConstraint(
                fields=["user", "exam"],
                condition=Q(status="in_progress", mode="timed"),
                name="one_open_timed_attempt_per_exam",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.version} · {self.get_mode_display()}"

    def get_absolute_url(self) -> str:
        return reverse("exams:attempt", args=[self.pk])

    def get_results_url(self) -> str:
        # The results page shows scores, so scoring serves it; the project's
        # URLconf names it, and this app needs only the name.
        return reverse("attempt_results", args=[self.pk])

    @property
    def is_timed(self) -> bool:
        return self.mode == self.Mode.TIMED

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    def deadline_passed(self, now: datetime | None = None, grace: timedelta = timedelta(0)) -> bool:
        if self.deadline is None:
            return False
        return (now or timezone.now()) > self.deadline + grace

    def accepts_writes(self, now: datetime | None = None) -> bool:
        return self.is_open and not self.deadline_passed(now, grace=self.GRACE)

    def seconds_left(self, now: datetime | None = None) -> int | None:
        if self.deadline is None:
            return None
        return max(0, int((self.deadline - (now or timezone.now())).total_seconds()))

    def finalize(self, status: str = Status.SUBMITTED, now: datetime | None = None) -> bool:
        """End the attempt; True if this call ended it (a second call is a no-op)."""
        now = now or timezone.now()
        updated = Attempt.objects.filter(pk=self.pk, status=self.Status.IN_PROGRESS).update(
            status=status, finalized_at=now
        )
        if updated:
            self.status, self.finalized_at = status, now
            attempt_finalized.send(sender=Attempt, attempt=self)
        else:
            self.refresh_from_db(fields=["status", "finalized_at"])
        return bool(updated)

    def finalize_if_expired(self, now: datetime | None = None) -> bool:
        if self.is_open and self.deadline_passed(now, grace=self.GRACE):
            return self.finalize(self.Status.EXPIRED, now=now)
        return False

    def reveal_allowed(self) -> bool:
        policy = self.version.reveal_policy
        if policy == ExamVersion.RevealPolicy.ON_DEMAND:
            return True
        if policy == ExamVersion.RevealPolicy.AFTER_SUBMIT:
            return not self.is_open
        return False

    def reveal_locks(self) -> bool:
        """In a timed attempt, revealing an answer locks that item's answer."""
        return self.reveal_locks_in(self.mode, self.version.reveal_policy)

    @classmethod
    def reveal_locks_in(cls, mode: str, reveal_policy: str) -> bool:
        """`reveal_locks` from the two columns it depends on."""
        return mode == cls.Mode.TIMED and reveal_policy == ExamVersion.RevealPolicy.ON_DEMAND

    def can_edit(self, user) -> bool:
        return user.is_authenticated and user.pk == self.user_id

    @classmethod
    def start(cls, user, exam: Exam, mode: str, now: datetime | None = None) -> tuple["Attempt", bool]:
        """A new attempt on the exam's current version, or the user's open timed
        attempt if there is one (then created is False)."""
        now = now or timezone.now()
        if mode == cls.Mode.TIMED:
            existing = cls.objects.filter(user=user, exam=exam, mode=mode, status=cls.Status.IN_PROGRESS).first()
            if existing is not None and not existing.finalize_if_expired(now):
                return existing, False
        version = exam.current_version
        multiplier = Decimal("1.00")
        deadline = None
        if mode == cls.Mode.TIMED:
            accommodation = Accommodation.objects.filter(user=user).first()
            if accommodation is not None:
                multiplier = accommodation.time_multiplier
            deadline = now + timedelta(minutes=float(version.duration_minutes * multiplier))
        try:
            with transaction.atomic():
                attempt = cls.objects.create(
                    user=user,
                    exam=exam,
                    version=version,
                    mode=mode,
                    started_at=now,
                    deadline=deadline,
                    time_multiplier=multiplier,
                )
        except IntegrityError:
            # A concurrent start won the race: take the attempt it created.
            return cls.objects.get(user=user, exam=exam, mode=mode, status=cls.Status.IN_PROGRESS), False
        return attempt, True


class DeadlineExtension(models.Model):
    """Staff gave one attempt more time; the attempt's deadline moves by `minutes`."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="extensions")
    minutes = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(1440)])
    reason = models.CharField(max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"+{self.minutes} min for attempt {self.attempt_id}"

    def apply(self) -> None:
        """Record the extension and move the deadline, in one transaction."""
        with transaction.atomic():
            attempt = Attempt.objects.select_for_update().get(pk=self.attempt_id)
            if attempt.deadline is None:
                raise ValueError("a practice attempt has no deadline to extend")
            self.save()
            attempt.deadline += timedelta(minutes=self.minutes)
            attempt.save(update_fields=["deadline"])
            self.attempt = attempt


class Answer(models.Model):
    """The candidate's text for one part of one item; `revision` counts accepted saves."""

    class Part(models.TextChoices):
        TEXT = "text", "Written answer"
        CODE = "code", "Code"

    # In bytes of UTF-8, checked at every save (`taking.check_length`): the
    # grader runs code up to this size too, so a saved answer always runs.
    MAX_BYTES = 65_536

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    part = models.CharField(max_length=4, choices=Part.choices, default=Part.TEXT)
    content = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0)
    saved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "item", "part"], name="one_answer_per_part"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.item.slug}/{self.part} r{self.revision}"


class Reveal(models.Model):
    """Who revealed which model answer, when, and whether they had answered yet."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="reveals")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    revealed_at = models.DateTimeField()
    had_answer = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="one_reveal_per_item")]

    def __str__(self) -> str:
        return f"{self.user} revealed {self.item.slug} in attempt {self.attempt_id}"


class AnswerOpening(models.Model):
    """The candidate opened an item's model answer on the results page of an
    ended attempt. Only answers actually opened count as seen in later timed
    attempts (exams.taking.seen_before), so a results page shows each model
    answer behind its own control instead of all of them at once."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="openings")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="one_opening_per_item")]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} opened the answer of {self.item_id}"
