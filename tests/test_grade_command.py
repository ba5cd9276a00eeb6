"""`manage.py grade EXAM DRILL FILE [--json]`."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from exams.models import Item
from grading.grader import MAX_CODE_BYTES
from tests.sandbox_support import need_bubblewrap

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
EXAM = "serving-reliability"
DRILL = "peak-streams"


def grade_command(*args: str) -> str:
    out = StringIO()
    call_command("grade", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def solution(tmp_path, shipped_packs):
    item = Item.objects.get(slug=DRILL, version__exam__slug=EXAM)
    path = tmp_path / "solution.py"
    path.write_text(item.reference_solution, encoding="utf-8")
    return path


def test_it_prints_a_table_by_category(solution):
    need_bubblewrap()
    out = grade_command(EXAM, DRILL, str(solution))
    assert "Peak concurrent streams: 18/18 cases, score 10/10" in out
    assert "touching intervals" in out
    assert "cpu " in out and "wall " in out and "peak RSS" in out


def test_it_prints_one_json_object_with_the_agreed_keys(solution):
    need_bubblewrap()
    data = json.loads(grade_command(EXAM, DRILL, str(solution), "--json"))
    assert set(data) == {"status", "passed", "total", "score", "categories", "cpu_ms", "wall_ms", "peak_rss_kb"}
    assert (data["status"], data["passed"], data["total"], data["score"]) == ("graded", 18, 18, 10)
    assert data["categories"][0] == {"name": "empty input", "passed": 1, "total": 1, "reasons": {}}


def test_a_wrong_answer_still_grades_and_exits_zero(tmp_path, shipped_packs):
    need_bubblewrap()
    path = tmp_path / "wrong.py"
    path.write_text("def peak_concurrent_streams(intervals):\n    return len(intervals)\n")
    data = json.loads(grade_command(EXAM, DRILL, str(path), "--json"))
    assert data["status"] == "graded"
    assert 0 < data["score"] < 10
    touching = next(c for c in data["categories"] if c["name"] == "touching intervals")
    assert touching["reasons"] == {"wrong_answer": 3}


def test_an_unknown_exam_is_a_clear_error(solution):
    with pytest.raises(CommandError, match="unknown exam 'nope'"):
        grade_command("nope", DRILL, str(solution))


def test_an_unknown_drill_lists_the_drills(solution):
    with pytest.raises(CommandError, match=r"has no drill 'nope' .*peak-streams"):
        grade_command(EXAM, "nope", str(solution))


def test_a_question_is_not_a_drill(solution):
    question = Item.objects.filter(version__exam__slug=EXAM, kind=Item.Kind.QUESTION).first()
    assert question is not None
    with pytest.raises(CommandError, match="has no drill"):
        grade_command(EXAM, question.slug, str(solution))


def test_an_unreadable_file_is_a_clear_error(tmp_path, shipped_packs):
    with pytest.raises(CommandError, match=r"cannot read .*missing\.py"):
        grade_command(EXAM, DRILL, str(tmp_path / "missing.py"))


def test_invalid_utf8_is_a_clear_error(tmp_path, shipped_packs):
    path = tmp_path / "latin1.py"
    path.write_bytes(b"# caf\xe9\ndef peak_concurrent_streams(x):\n    return 0\n")
    with pytest.raises(CommandError, match="not valid UTF-8"):
        grade_command(EXAM, DRILL, str(path))


def test_a_file_over_64_kb_is_refused(tmp_path, shipped_packs):
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (MAX_CODE_BYTES + 1))
    with pytest.raises(CommandError, match="limited to 64 KB"):
        grade_command(EXAM, DRILL, str(path))


def test_it_fails_clearly_when_the_sandbox_is_unavailable(solution, settings):
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    with pytest.raises(CommandError, match="bubblewrap was not found"):
        grade_command(EXAM, DRILL, str(solution))


def fresh_checkout_grade(tmp_path, *args: str, database: str = "fresh.sqlite3") -> subprocess.CompletedProcess:
    """`manage.py grade` as on a fresh checkout: its own empty SQLite file, no server."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SQLITE_PATH"] = str(tmp_path / database)
    return subprocess.run(
        [sys.executable, "manage.py", "grade", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_on_a_fresh_checkout_it_says_what_to_run_first(tmp_path):
    code = tmp_path / "solution.py"
    code.write_text("def peak_concurrent_streams(intervals):\n    return 0\n")
    done = fresh_checkout_grade(tmp_path, EXAM, DRILL, str(code))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "no such table" not in done.stderr
    assert "manage.py migrate" in done.stderr
    assert "manage.py import_exams" in done.stderr


def test_after_migrate_without_an_import_it_says_to_import(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SQLITE_PATH"] = str(tmp_path / "migrated.sqlite3")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    code = tmp_path / "solution.py"
    code.write_text("def peak_concurrent_streams(intervals):\n    return 0\n")
    done = fresh_checkout_grade(tmp_path, EXAM, DRILL, str(code), database="migrated.sqlite3")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "manage.py import_exams" in done.stderr
