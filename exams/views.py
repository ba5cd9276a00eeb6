from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from exams.models import Accommodation, Attempt, Exam, Item, RubricCriterion, Section

# What the structure shows of an item: never its prompt, answer or solution.
STRUCTURE_FIELDS = ["version", "section", "position", "slug", "kind", "title", "points", "written_points"]


def catalogue(request: HttpRequest) -> HttpResponse:
    exams = list(
        Exam.objects.filter(current_version__isnull=False)
        .select_related("current_version")
        .only(
            "slug",
            "current_version__title",
            "current_version__summary",
            "current_version__duration_minutes",
            "current_version__number",
            "current_version__reveal_policy",
            "current_version__tags",
        )
        .order_by("current_version__title")
    )
    version_ids = [exam.current_version_id for exam in exams]
    counts: dict[int, dict[str, int]] = {pk: {} for pk in version_ids}
    for row in Item.objects.filter(version_id__in=version_ids).values("version_id", "kind").annotate(n=Count("pk")):
        counts[row["version_id"]][row["kind"]] = row["n"]
    sections = dict(
        Section.objects.filter(version_id__in=version_ids)
        .values("version_id")
        .annotate(n=Count("pk"))
        .values_list("version_id", "n")
    )
    for exam in exams:
        exam.kind_counts = [
            (label, counts[exam.current_version_id].get(kind, 0))
            for kind, label in Item.Kind.choices
            if kind != Item.Kind.TEXT and counts[exam.current_version_id].get(kind)
        ]
        exam.section_count = sections.get(exam.current_version_id, 0)
    return render(request, "exams/catalogue.html", {"exams": exams})


def exam_detail(request: HttpRequest, slug: str) -> HttpResponse:
    exam = get_object_or_404(Exam.objects.select_related("current_version"), slug=slug, current_version__isnull=False)
    version = exam.current_version
    sections = list(version.sections.only("version", "position", "slug", "title"))
    items = list(version.items.only(*STRUCTURE_FIELDS))
    by_section: dict[int, list[Item]] = {s.pk: [] for s in sections}
    for item in items:
        by_section[item.section_id].append(item)
    for section in sections:
        section.structure = by_section[section.pk]
        section.points = sum(item.max_points for item in section.structure)
    rubric = list(version.criteria.filter(item__isnull=True).only("version", "signal", "text", "points", "position"))
    open_attempt = multiplier = None
    if request.user.is_authenticated:
        open_attempt = Attempt.objects.filter(
            user=request.user, exam=exam, mode=Attempt.Mode.TIMED, status=Attempt.Status.IN_PROGRESS
        ).first()
        if open_attempt is not None and open_attempt.finalize_if_expired():
            open_attempt = None
        multiplier = Accommodation.objects.filter(user=request.user).values_list("time_multiplier", flat=True).first()
    context = {
        "exam": exam,
        "open_attempt": open_attempt,
        "multiplier": multiplier,
        "timed_minutes": round(version.duration_minutes * multiplier) if multiplier else version.duration_minutes,
        "version": version,
        "sections": sections,
        "item_points": sum(item.max_points for item in items),
        "overall_points": sum(c.points for c in rubric if c.points > 0),
        "total_points": sum(item.max_points for item in items) + sum(c.points for c in rubric if c.points > 0),
        "item_count": sum(1 for item in items if item.kind != Item.Kind.TEXT),
        "strong": [c for c in rubric if c.signal == RubricCriterion.Signal.STRONG],
        "weak": [c for c in rubric if c.signal == RubricCriterion.Signal.WEAK],
    }
    return render(request, "exams/exam_detail.html", context)
