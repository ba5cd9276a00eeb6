"""Tests of the hidden tests: each drill's set of wrong solutions.

Every file under `tests/wrong_solutions/<exam>/<drill>/` is a plausible
misreading of the drill's statement (a relative threshold read as absolute,
an inclusive bound, a floor in the wrong place...) or a right answer in the
wrong complexity. Each must score below full marks through the real grader,
failing the category its header names (`# caught by: <category>`), while the
drill's reference solution scores full marks.
"""

import re
from pathlib import Path

import pytest
from django.db.models import F

from exams.models import Item
from grading.grader import grade
from grading.sandbox import runner
from tests.sandbox_support import need_bubblewrap

pytestmark = pytest.mark.django_db

WRONG = Path(__file__).with_name("wrong_solutions")
DRILLS = sorted({(path.parent.parent.name, path.parent.name) for path in WRONG.glob("*/*/*.py")})
SCALE = "scale"


def shipped(exam: str, drill: str) -> Item:
    return Item.objects.get(version__exam__slug=exam, version=F("version__exam__current_version"), slug=drill)


def caught_by(path: Path) -> str:
    found = re.search(r"^# caught by: (.+)$", path.read_text(), re.MULTILINE)
    assert found, f"{path} does not say which category catches it"
    return found.group(1).strip()


def test_every_shipped_drill_has_wrong_solutions(shipped_packs):
    drills = Item.objects.filter(kind=Item.Kind.DRILL, version=F("version__exam__current_version"))
    assert {(item.version.exam.slug, item.slug) for item in drills} == set(DRILLS)


@pytest.mark.parametrize(("exam", "drill"), DRILLS, ids=[f"{exam}/{drill}" for exam, drill in DRILLS])
def test_each_wrong_solution_scores_below_full_marks_in_the_category_it_misreads(shipped_packs, exam, drill):
    need_bubblewrap()
    item = shipped(exam, drill)
    reference = grade(item, item.reference_solution)
    assert (reference.status, reference.passed) == ("graded", reference.total)
    categories = {category.name for category in reference.categories}
    escaped = []
    for path in sorted((WRONG / exam / drill).glob("*.py")):
        expected = caught_by(path)
        result = grade(item, path.read_text())
        assert result.status == "graded", path.name
        failing = {c.name: c.reasons for c in result.categories if c.passed < c.total}
        if expected not in categories:
            escaped.append(f"{path.name}: names {expected!r}, which {drill} has no case of")
        elif result.passed == result.total or expected not in failing:
            escaped.append(f"{path.name}: {result.passed}/{result.total}, failing {failing or 'nothing'}")
        elif expected == SCALE:
            # Right answers, too slow: only the scale cases fail, on the per-case timer.
            assert failing == {SCALE: {"time_limit": len(item.cases.filter(category=SCALE))}}, path.name
    assert not escaped, f"wrong solutions of {exam}/{drill} that the hidden tests let through: {escaped}"


def test_a_drill_whose_rubric_asks_for_a_complexity_has_scale_cases_and_says_so(shipped_packs):
    drills = Item.objects.filter(kind=Item.Kind.DRILL, version=F("version__exam__current_version"))
    asking = [item for item in drills if any("complexity" in c.text for c in item.criteria.all())]
    assert {item.slug for item in asking} == {"peak-streams", "burn-windows"}
    for item in asking:
        assert item.cases.filter(category=SCALE, visible=False).exists(), item.slug
        assert "<code>scale</code>" in item.prompt_html, item.slug
    for exam, drill in DRILLS:
        slow = [path for path in (WRONG / exam / drill).glob("*.py") if caught_by(path) == SCALE]
        assert bool(slow) == (drill in {item.slug for item in asking}), drill


def test_the_reference_passes_each_scale_case_with_a_wide_margin(shipped_packs):
    need_bubblewrap()
    for item in Item.objects.filter(cases__category=SCALE, version=F("version__exam__current_version")).distinct():
        limits = runner.Limits.for_drill(item.limits)
        inputs = [{"args": case.args, "kwargs": case.kwargs or {}} for case in item.cases.filter(category=SCALE)]
        run = runner.run(item.reference_solution, item.entry_point, inputs, limits)
        for outcome in run.harness.outcomes:
            assert outcome.ok, (item.slug, outcome)
            # A tenth of the per-case timer: far from the limit a quadratic solution hits.
            assert outcome.ms < limits.case_seconds * 1000 / 10, (item.slug, outcome.ms)
