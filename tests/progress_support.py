"""What the tests of My progress share: finished attempts with a stored
score written straight into the database (the page reads only stored
scores, so a test can set any percent, finality and signal it needs)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from exams.models import Attempt, Exam, RubricCriterion
from grading.models import AttemptScore, Review

SECTIONS = [("basics", "Basics", 4), ("coding", "Coding", 12)]


def scored_attempt(
    user,
    exam: Exam,
    percent: float | str,
    *,
    timed: bool = False,
    final: bool = False,
    reviewer=None,
    when: datetime | None = None,
    hits: tuple[str, ...] = (),
    strong: str = "0",
    weak: str = "0",
) -> Attempt:
    """A finished attempt scored `percent`. With a reviewer it has a final
    review whose exam-wide signals ticked are those whose text is in `hits`."""
    when = when or timezone.now()
    version = exam.current_version
    attempt = Attempt.objects.create(
        user=user,
        exam=exam,
        version=version,
        mode=Attempt.Mode.TIMED if timed else Attempt.Mode.PRACTICE,
        status=Attempt.Status.SUBMITTED,
        started_at=when - timedelta(minutes=20),
        deadline=when + timedelta(minutes=10) if timed else None,
        finalized_at=when,
    )
    review = None
    if reviewer is not None:
        review = Review.objects.create(
            attempt=attempt, reviewer=reviewer, status=Review.Status.FINAL, created_at=when, finalized_at=when
        )
    percent = Decimal(str(percent))
    max_points = sum(m for _, _, m in SECTIONS)
    total = (percent * max_points / 100).quantize(Decimal("0.01"))
    exam_wide = RubricCriterion.objects.filter(version=version, item__isnull=True).order_by("position")
    AttemptScore.objects.create(
        attempt=attempt,
        total=total,
        max_points=max_points,
        percent=percent,
        is_final=final,
        review=review,
        tests=0,
        tests_max=10,
        rubric=0,
        rubric_max=6,
        overall=0,
        overall_max=2,
        strong_points=Decimal(strong),
        weak_points=Decimal(weak),
        sections=[
            {"slug": slug, "title": title, "score": str((total * m / max_points).quantize(Decimal("0.01"))), "max": m}
            for slug, title, m in SECTIONS
        ],
        signals=[
            {"criterion": c.pk, "signal": c.signal, "text": c.text, "points": c.points, "hit": c.text in hits}
            for c in exam_wide
        ],
        computed_at=when,
    )
    return attempt
