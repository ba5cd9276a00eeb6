"""Storing loaded exam packs as immutable exam versions."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from exams.loader import Criterion, ExamData
from exams.models import Exam, ExamVersion, Item, RubricCriterion, Section, TestCase, item_content_hash
from exams.rendering import render_markdown


@dataclass
class ImportOutcome:
    version: ExamVersion
    created: bool  # a new version was stored
    activated: bool  # the exam's current version changed


def store_exam(data: ExamData) -> ImportOutcome:
    """Store `data` as a new version unless a version with its content exists.

    The same content is a no-op; changed content becomes version n+1 and the
    exam's current version. Earlier versions are never touched.
    """
    with transaction.atomic():
        exam, _ = Exam.objects.select_for_update().get_or_create(slug=data.slug)
        existing = exam.versions.filter(content_hash=data.content_hash).first()
        if existing is not None:
            activated = exam.current_version_id != existing.pk
            if activated:
                exam.current_version = existing
                exam.save(update_fields=["current_version"])
            return ImportOutcome(existing, created=False, activated=activated)
        number = (exam.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ExamVersion.objects.create(
            exam=exam,
            number=number,
            content_hash=data.content_hash,
            title=data.title,
            summary=data.summary,
            intro_md=data.intro_md,
            intro_html=render_markdown(data.intro_md),
            duration_minutes=data.duration_minutes,
            reveal_policy=data.reveal_policy,
            tags=data.tags,
            reviews_required=data.reviews,
            adjudication_threshold=data.adjudication_threshold,
            anonymous_marking=data.anonymous_marking,
            source=data.source,
        )
        _store_content(version, data)
        exam.current_version = version
        exam.save(update_fields=["current_version"])
        return ImportOutcome(version, created=True, activated=True)


def _criteria(version: ExamVersion, item: Item | None, rubric: list[Criterion]) -> list[RubricCriterion]:
    return [
        RubricCriterion(version=version, item=item, position=i, signal=c.signal, text=c.text, points=c.points)
        for i, c in enumerate(rubric, start=1)
    ]


def _store_content(version: ExamVersion, data: ExamData) -> None:
    sections = Section.objects.bulk_create(
        Section(
            version=version,
            position=i,
            slug=s.slug,
            title=s.title,
            body_md=s.body_md,
            body_html=render_markdown(s.body_md),
        )
        for i, s in enumerate(data.sections, start=1)
    )
    pairs = [(section, item) for section, s in zip(sections, data.sections, strict=True) for item in s.items]
    items = Item.objects.bulk_create(
        Item(
            version=version,
            section=section,
            position=position,
            slug=d.slug,
            kind=d.kind,
            title=d.title,
            prompt_md=d.prompt_md,
            prompt_html=render_markdown(d.prompt_md),
            answer_md=d.answer_md,
            answer_html=render_markdown(d.answer_md),
            points=d.points,
            written_prompt_md=d.written_prompt_md,
            written_prompt_html=render_markdown(d.written_prompt_md),
            written_points=d.written_points,
            entry_point=d.entry_point,
            starter_code=d.starter_code,
            reference_solution=d.reference_solution,
            compare=d.compare,
            tolerance=d.tolerance,
            limits=d.limits,
            content_hash=item_content_hash(d),
        )
        for position, (section, d) in enumerate(pairs, start=1)
    )
    criteria = _criteria(version, None, data.rubric)
    cases = []
    for item, (_, d) in zip(items, pairs, strict=True):
        criteria.extend(_criteria(version, item, d.rubric))
        cases.extend(
            TestCase(
                item=item,
                position=i,
                category=c.category,
                name=c.name,
                args=c.args,
                kwargs=c.kwargs,
                expected=c.expected,
                visible=c.visible,
            )
            for i, c in enumerate(d.cases, start=1)
        )
    RubricCriterion.objects.bulk_create(criteria)
    TestCase.objects.bulk_create(cases)
