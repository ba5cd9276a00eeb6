"""Importing packs: idempotent, versioned, atomic; the shipped packs are complete."""

from io import StringIO

import pytest
from django.core.management import call_command

from exams.models import Exam, ExamVersion, Item, RubricCriterion, Section, TestCase
from tests.conftest import HIDDEN_MARKER, SHIPPED_SLUGS

pytestmark = pytest.mark.django_db


def run_import(*paths, check: bool = False) -> str:
    out = StringIO()
    args = [str(p) for p in paths] + (["--check"] if check else [])
    call_command("import_exams", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_stores_the_whole_pack(pack):
    run_import(pack.root)
    version = Exam.objects.get(slug="mini-exam").current_version
    assert version.number == 1
    assert version.duration_minutes == 30
    assert [s.slug for s in version.sections.all()] == ["basics", "coding"]
    question, drill = version.items.all()
    assert (question.slug, question.kind, question.points) == ("first", "question", 4)
    assert HIDDEN_MARKER in question.answer_md
    assert "<strong>reading</strong>" in version.sections.first().body_html
    assert drill.entry_point == "add"
    assert drill.starter_code.startswith("def add")
    assert "return a + b" in drill.reference_solution
    assert drill.written_prompt_md == "Which cases would you test?"
    assert drill.written_points == 2
    assert drill.max_points == 12
    exam_rubric = version.criteria.filter(item__isnull=True)
    assert [(c.signal, c.points) for c in exam_rubric] == [("strong", 2), ("weak", -1)]
    assert drill.criteria.get().text == "Tests negative numbers"
    assert (version.reviews_required, version.adjudication_threshold, version.anonymous_marking) == (1, 15, False)


def test_it_stores_the_review_settings(pack):
    text = (
        pack.path("exam.md")
        .read_text()
        .replace(
            "reveal_policy: on_demand",
            "reveal_policy: on_demand\nreviews: 2\nadjudication_threshold: 20\nanonymous_marking: true",
        )
    )
    pack.path("exam.md").write_text(text)
    run_import(pack.root)
    version = Exam.objects.get(slug="mini-exam").current_version
    assert (version.reviews_required, version.adjudication_threshold, version.anonymous_marking) == (2, 20, True)


def test_it_computes_missing_expected_values_from_the_reference_solution(pack):
    run_import(pack.root)
    cases = list(TestCase.objects.order_by("position"))
    assert [(c.category, c.args, c.expected, c.visible) for c in cases] == [
        ("basics", [1, 2], 3, True),
        ("basics", [-1, 1], 0, False),
        ("large", [1000000, 1], 1000001, False),
    ]


def test_importing_the_same_content_again_changes_nothing(pack):
    run_import(pack.root)
    before = ExamVersion.objects.get()
    out = run_import(pack.root)
    assert "unchanged (version 1)" in out
    assert ExamVersion.objects.get() == before
    assert Item.objects.count() == 2


def test_changed_content_makes_a_new_version_and_keeps_the_old(pack):
    run_import(pack.root)
    pack.write("01-basics/01-first.md", "---\ntitle: First, reworded\nkind: question\n---\nWhat is a p95?\n")
    out = run_import(pack.root)
    assert "imported as version 2" in out
    exam = Exam.objects.get()
    assert [v.number for v in exam.versions.order_by("number")] == [1, 2]
    assert exam.current_version.number == 2
    old = exam.versions.get(number=1)
    assert old.items.get(slug="first").title == "First question"
    assert exam.current_version.items.get(slug="first").title == "First, reworded"
    assert Section.objects.count() == 4


def test_reverting_content_makes_the_earlier_version_current_again(pack):
    original = pack.path("01-basics/01-first.md").read_text()
    run_import(pack.root)
    pack.path("01-basics/01-first.md").write_text(original.replace("p99", "p95"))
    run_import(pack.root)
    pack.path("01-basics/01-first.md").write_text(original)
    out = run_import(pack.root)
    assert "version 1 made current again" in out
    assert ExamVersion.objects.count() == 2
    assert Exam.objects.get().current_version.number == 1


def test_ignored_files_do_not_change_the_version(pack):
    run_import(pack.root)
    pack.write("_notes.md", "author scratch")
    assert "unchanged" in run_import(pack.root)


def test_check_writes_nothing(pack):
    out = run_import(pack.root, check=True)
    assert "mini-exam: ok (2 items)" in out
    assert ExamVersion.objects.count() == 0


def test_a_script_in_a_pack_does_not_survive_rendering(pack):
    pack.write(
        "01-basics/01-first.md",
        """
        ---
        title: First
        kind: question
        ---
        Hello <script>alert("x")</script> <img src=x onerror="alert(1)"> [link](javascript:alert(1))
        <a href="javascript:alert(2)" onclick="evil()">click</a>

        ## Model answer

        <iframe src="https://example.com"></iframe> fine
        """,
    )
    run_import(pack.root)
    item = Item.objects.get(slug="first")
    for html in (item.prompt_html, item.answer_html):
        assert "<script" not in html
        assert "onerror" not in html
        assert "onclick" not in html
        assert 'href="javascript' not in html
        assert "<iframe" not in html
    assert "Hello" in item.prompt_html


def test_code_blocks_are_highlighted_on_the_server(pack):
    pack.write(
        "01-basics/section.md",
        "---\ntitle: Basics\n---\n```python\ndef f(x):\n    return x\n```\n",
    )
    run_import(pack.root)
    html = Section.objects.get(slug="basics").body_html
    assert '<pre class="highlight">' in html
    assert '<span class="k">def</span>' in html


@pytest.mark.parametrize("slug", SHIPPED_SLUGS)
def test_each_shipped_pack_passes_its_own_check(slug):
    from django.conf import settings

    assert f"{slug}: ok" in run_import(settings.EXAM_PACKS_DIR / slug, check=True)


def test_the_shipped_packs_import_complete(shipped_packs):
    assert sorted(Exam.objects.values_list("slug", flat=True)) == SHIPPED_SLUGS
    for exam in Exam.objects.all():
        version = exam.current_version
        assert version.sections.count() >= 4
        drills = version.items.filter(kind=Item.Kind.DRILL)
        assert drills.exists()
        for drill in drills:
            cases = list(drill.cases.all())
            assert len([c for c in cases if not c.visible]) >= 8, drill.slug
            assert 1 <= len([c for c in cases if c.visible]) <= 2, drill.slug
            assert drill.reference_solution and drill.starter_code and drill.answer_md
        for item in version.items.exclude(kind=Item.Kind.TEXT):
            assert item.answer_md.strip(), f"{exam.slug}/{item.slug} has no model answer"
        assert RubricCriterion.objects.filter(version=version, item__isnull=True, signal="strong").exists()
        assert RubricCriterion.objects.filter(version=version, item__isnull=True, signal="weak").exists()


def test_the_shipped_drills_keep_the_specified_entry_points(shipped_packs):
    entry_points = set(Item.objects.filter(kind=Item.Kind.DRILL).values_list("entry_point", flat=True))
    assert entry_points == {
        "peak_concurrent_streams",
        "rollback_blockers",
        "burn_windows",
        "partial_churn_rate",
        "latency_by_duration",
    }


def test_the_shipped_drills_cover_the_source_test_categories(shipped_packs):
    named = {
        "peak_concurrent_streams": ["empty", "touching", "nested", "identical start", "long call"],
        "rollback_blockers": ["missing slice", "quality", "low-volume", "zero old cost"],
        "burn_windows": ["all-good", "all-bad", "zero traffic", "spike"],
        "partial_churn_rate": ["empty", "repeated identical"],
        "latency_by_duration": ["missing bucket"],
    }
    for entry_point, words in named.items():
        drill = Item.objects.get(entry_point=entry_point)
        categories = " | ".join(drill.cases.values_list("category", flat=True)).lower()
        for word in words:
            assert word in categories, f"{entry_point}: no category about {word!r} in {categories}"


def test_case_inputs_keep_their_key_order_through_the_database(pack):
    # PostgreSQL's jsonb would store {"k": 2, "longer-key": 1}; the drill must
    # receive the dictionary in the order the author wrote it.
    with (pack.drill / "cases.jsonl").open("a") as f:
        f.write('{"category": "order", "args": [1, 2], "kwargs": {}, "expected": 3, "name": "x"}\n')
    run_import(pack.root)
    case = TestCase.objects.get(category="order")
    case.args = [{"longer-key": 1, "k": 2}, {"zeta": 0, "a": 1}]
    case.save(update_fields=["args"])
    case.refresh_from_db()
    assert [list(d) for d in case.args] == [["longer-key", "k"], ["zeta", "a"]]
