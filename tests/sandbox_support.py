"""Shared by the sandbox, grader and grade-command tests: a drill built in the
database, and a check that bubblewrap really works here."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from exams.models import Exam, ExamVersion, Item, Section, TestCase
from tests.conftest import need_service

HOSTILE_DIR = Path(__file__).with_name("hostile")
CORRECT_ADD = "def add(a, b):\n    return a + b\n"
# Small limits keep the hostile suite fast: a spin or a sleep costs about 1-2 s.
TIGHT_LIMITS = {"cpu_seconds": 1, "wall_seconds": 2, "memory_mb": 128, "output_kb": 16}


@lru_cache(maxsize=1)
def _sandbox_problem() -> str:
    """Why the sandbox cannot run here, or "" when a trivial run works."""
    from grading.sandbox import runner

    try:
        result = runner.run(CORRECT_ADD, "add", [{"args": [1, 2]}], runner.Limits.for_drill({}))
    except (runner.SandboxUnavailable, runner.SandboxError) as exc:
        return str(exc)
    if result.harness.outcomes[0].value != 3:
        return f"a trivial run returned {result.harness.outcomes[0]}"
    return ""


def need_bubblewrap() -> None:
    if settings.SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT:
        need_service("bubblewrap", False, "SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT is on")
    problem = _sandbox_problem()
    need_service("bubblewrap", not problem, problem)


def make_drill(
    cases: list[dict],
    *,
    entry_point: str = "add",
    limits: dict | None = None,
    compare: str = "exact",
    points: int = 10,
    slug: str = "add",
) -> Item:
    exam, _ = Exam.objects.get_or_create(slug="sandbox-tests")
    version = ExamVersion.objects.create(
        exam=exam,
        number=exam.versions.count() + 1,
        content_hash=f"hash-{exam.versions.count() + 1}",
        title="Sandbox tests",
        summary="Built by the tests.",
        duration_minutes=30,
        reveal_policy=ExamVersion.RevealPolicy.ON_DEMAND,
    )
    exam.current_version = version
    exam.save(update_fields=["current_version"])
    section = Section.objects.create(version=version, position=1, slug="coding", title="Coding")
    item = Item.objects.create(
        version=version,
        section=section,
        position=1,
        slug=slug,
        kind=Item.Kind.DRILL,
        title="Add two numbers",
        entry_point=entry_point,
        compare=compare,
        points=points,
        limits=limits or {},
    )
    for position, case in enumerate(cases, start=1):
        TestCase.objects.create(
            item=item,
            position=position,
            category=case.get("category", "basics"),
            name=case.get("name", f"case {position}"),
            args=case.get("args", []),
            kwargs=case.get("kwargs", {}),
            expected=case.get("expected"),
            visible=case.get("visible", False),
        )
    return item


ADD_CASES = [
    {"category": "basics", "name": "small", "args": [1, 2], "expected": 3, "visible": True},
    {"category": "basics", "name": "negative", "args": [-7, 1], "expected": -6},
    {"category": "large", "name": "million", "args": [1000000, 1], "expected": 1000001},
]
# Hidden cases only: a hostile program then runs in one sandbox, not two.
HIDDEN_ADD_CASES = [
    {"category": "basics", "name": "negative", "args": [-7, 1], "expected": -6},
    {"category": "large", "name": "million", "args": [1000000, 1], "expected": 1000001},
]
