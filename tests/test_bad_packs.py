"""Each kind of broken pack is refused with `file:line: message`, and nothing is written."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from exams.models import Exam, ExamVersion

pytestmark = pytest.mark.django_db


def refuse(*paths) -> list[str]:
    """Run import_exams expecting refusal; return the problem lines it printed."""
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_exams", *map(str, paths), stdout=StringIO(), stderr=err)
    assert Exam.objects.count() == 0
    assert ExamVersion.objects.count() == 0
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    assert lines, "a refusal must say why"
    for line in lines:
        assert re.match(r"^[^:]+:\d+: \S", line), f"not file:line: message: {line!r}"
    return lines


def only_problem(pack_root, relative_file: str) -> str:
    lines = refuse(pack_root)
    assert len(lines) == 1, lines
    file_part, line, message = lines[0].split(":", 2)
    assert file_part.endswith(relative_file)
    return f"{line}:{message}"


def test_the_minimal_pack_is_valid(pack):
    call_command("import_exams", str(pack.root), stdout=StringIO())
    assert ExamVersion.objects.count() == 1


def test_it_refuses_front_matter_that_is_not_yaml(pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: [question\n---\nBody\n")
    problem = only_problem(pack.root, "01-basics/01-first.md")
    assert "not valid YAML" in problem


def test_it_refuses_front_matter_that_is_not_closed(pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: question\nBody\n")
    assert "not closed" in only_problem(pack.root, "01-basics/01-first.md")


def test_it_refuses_a_file_without_front_matter(pack):
    pack.write("01-basics/section.md", "Just prose\n")
    assert "missing front matter" in only_problem(pack.root, "01-basics/section.md")


def test_it_refuses_an_unknown_item_kind_on_its_line(pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: essay\n---\nBody\n")
    problem = only_problem(pack.root, "01-basics/01-first.md")
    assert problem.startswith("3:")
    assert "unknown item kind 'essay'" in problem


def test_it_refuses_an_unknown_key_on_its_line(pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: question\npionts: 3\n---\nBody\n")
    problem = only_problem(pack.root, "01-basics/01-first.md")
    assert problem.startswith("4:")
    assert "unknown key 'pionts'" in problem


def test_it_refuses_a_missing_required_key(pack):
    pack.write("exam.md", "---\ntitle: Mini\nsummary: x\n---\nBody\n")
    assert "missing required key 'duration_minutes'" in only_problem(pack.root, "exam.md")


def test_it_refuses_a_bad_reveal_policy(pack):
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", "reveal_policy: sometimes")
    pack.path("exam.md").write_text(text)
    assert "reveal_policy" in only_problem(pack.root, "exam.md")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("reviews: 3", "reviews"),
        ("reviews: two", "reviews"),
        ("adjudication_threshold: 0", "adjudication_threshold"),
        ("anonymous_marking: sometimes", "anonymous_marking"),
    ],
)
def test_it_refuses_bad_review_settings(pack, line, key):
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", f"reveal_policy: on_demand\n{line}")
    pack.path("exam.md").write_text(text)
    assert repr(key) in only_problem(pack.root, "exam.md")


def test_it_refuses_a_pack_without_exam_md(pack):
    pack.path("exam.md").unlink()
    assert "missing file" in only_problem(pack.root, "exam.md")


def test_it_refuses_a_drill_missing_its_solution(pack):
    (pack.drill / "solution.py").unlink()
    assert "missing file" in only_problem(pack.root, "01-add/solution.py")


def test_it_refuses_a_section_without_section_md(pack):
    pack.path("01-basics/section.md").unlink()
    assert "section.md" in only_problem(pack.root, "01-basics/section.md")


def test_it_refuses_duplicate_item_slugs(pack):
    pack.write("01-basics/02-first.md", "---\ntitle: Again\nkind: question\n---\nBody\n")
    assert "duplicate item slug 'first'" in only_problem(pack.root, "01-basics/02-first.md")


def test_it_refuses_duplicate_exam_slugs_across_packs(tmp_path):
    from tests.conftest import PackBuilder

    first = PackBuilder(tmp_path / "a", slug="same")
    second = PackBuilder(tmp_path / "b", slug="same")
    lines = refuse(first.root, second.root)
    assert any("duplicate exam slug 'same'" in line for line in lines)


def test_it_refuses_a_bad_slug(pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: question\nslug: Not_A_Slug\n---\nBody\n")
    assert "slug 'Not_A_Slug'" in only_problem(pack.root, "01-basics/01-first.md")


def test_it_refuses_case_data_that_does_not_parse_on_its_line(pack):
    with (pack.drill / "cases.jsonl").open("a") as f:
        f.write('{"category": "broken", "args": [1, 2\n')
    problem = only_problem(pack.root, "01-add/cases.jsonl")
    assert problem.startswith("5:")
    assert "not valid JSON" in problem


def test_it_refuses_a_case_without_a_category(pack):
    (pack.drill / "cases.jsonl").write_text('{"args": [1, 2], "expected": 3}\n{"category": "x", "args": [1, 1]}\n')
    assert "'category'" in only_problem(pack.root, "01-add/cases.jsonl")


def test_it_refuses_a_reference_solution_that_fails_its_cases(pack):
    (pack.drill / "solution.py").write_text("def add(a, b):\n    return a - b\n")
    lines = refuse(pack.root)
    assert all("cases.jsonl" in line for line in lines)
    assert any(":2: reference solution returned -1, but the case expects 3" in line for line in lines)


def test_it_refuses_a_reference_solution_that_raises(pack):
    (pack.drill / "solution.py").write_text("def add(a, b):\n    raise ValueError('nope')\n")
    lines = refuse(pack.root)
    assert any("ValueError" in line for line in lines)


def test_it_refuses_a_reference_solution_with_a_syntax_error(pack):
    (pack.drill / "solution.py").write_text("def add(a, b):\n    return a +\n")
    assert only_problem(pack.root, "01-add/solution.py").startswith("2: Python syntax error")


def test_it_refuses_a_solution_without_the_entry_point(pack):
    (pack.drill / "solution.py").write_text("def plus(a, b):\n    return a + b\n")
    assert "entry point add()" in only_problem(pack.root, "01-add/solution.py")


def test_it_refuses_invalid_utf8_with_its_line(pack):
    pack.path("01-basics/01-first.md").write_bytes(b"---\ntitle: First\nkind: question\n---\nbad \xff byte\n")
    problem = only_problem(pack.root, "01-basics/01-first.md")
    assert problem.startswith("5:")
    assert "not valid UTF-8" in problem


def test_it_refuses_a_written_part_outside_a_drill(pack):
    pack.write("01-basics/02-more.md", "---\ntitle: More\nkind: prompt\n---\nDesign it.\n\n## Written part\n\nWhy?\n")
    assert "only drills" in only_problem(pack.root, "01-basics/02-more.md")


def test_it_refuses_a_drill_written_as_a_single_file(pack):
    pack.write("01-basics/02-code.md", "---\ntitle: Code\nkind: drill\nentry_point: f\n---\nWrite f.\n")
    assert "a drill is a folder" in only_problem(pack.root, "01-basics/02-code.md")


def test_it_refuses_a_weak_signal_with_positive_points(pack):
    text = pack.path("exam.md").read_text().replace("points: -1", "points: 1")
    pack.path("exam.md").write_text(text)
    assert "negative points" in only_problem(pack.root, "exam.md")


def test_it_refuses_stray_files(pack):
    pack.write("01-basics/notes.txt", "scratch\n")
    assert "unexpected file" in only_problem(pack.root, "01-basics/notes.txt")


def test_it_reports_every_problem_in_one_run(pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: essay\n---\nBody\n")
    (pack.drill / "starter.py").unlink()
    assert len(refuse(pack.root)) == 2


def test_a_bad_pack_stops_the_good_one_too(pack, tmp_path):
    from tests.conftest import PackBuilder

    good = PackBuilder(tmp_path / "other", slug="good-exam")
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: essay\n---\nBody\n")
    refuse(good.root, pack.root)


def test_check_reports_problems_and_exits_non_zero(pack):
    pack.write("01-basics/01-first.md", "---\ntitle: First\nkind: essay\n---\nBody\n")
    with pytest.raises(CommandError):
        call_command("import_exams", "--check", str(pack.root), stdout=StringIO(), stderr=StringIO())
