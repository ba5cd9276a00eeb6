import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from exams.models import Exam, Item
from grading.grader import MAX_CODE_BYTES, GradeResult, grade


class Command(BaseCommand):
    help = (
        "Grade a Python file against a drill of an exam's current version, in the sandbox. "
        "Exits 0 when it graded (whatever the score), non-zero when it could not."
    )

    def add_arguments(self, parser):
        parser.add_argument("exam", help="exam slug")
        parser.add_argument("drill", help="drill slug")
        parser.add_argument("file", help="the Python file to grade")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    def handle(self, *args, exam: str, drill: str, file: str, json: bool, **options):
        _check_database()
        item = _drill(exam, drill)
        code = _read_code(Path(file))
        result = grade(item, code)
        if result.status != "graded":
            raise CommandError(f"could not grade {file}: {result.error}")
        if json:
            self.stdout.write(_json(result))
        else:
            self.stdout.write(_table(item, result))


SET_UP = "run `manage.py migrate`, then `manage.py import_exams`, first"


def _check_database() -> None:
    """A fresh checkout has no tables yet: say what to run instead of a traceback."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"cannot use the database ({exc}); check DATABASE_URL, then {SET_UP}") from None
    if unapplied:
        raise CommandError(f"the database is not set up ({len(unapplied)} migrations not applied): {SET_UP}")


def _drill(exam_slug: str, drill_slug: str) -> Item:
    exam = Exam.objects.filter(slug=exam_slug).select_related("current_version").first()
    if exam is None or exam.current_version is None:
        known = ", ".join(Exam.objects.values_list("slug", flat=True)) or "none (run `manage.py import_exams` first)"
        raise CommandError(f"unknown exam {exam_slug!r} (known: {known})")
    drills = exam.current_version.items.filter(kind=Item.Kind.DRILL)
    item = drills.filter(slug=drill_slug).first()
    if item is None:
        known = ", ".join(drills.values_list("slug", flat=True)) or "none"
        raise CommandError(f"exam {exam_slug!r} has no drill {drill_slug!r} (drills: {known})")
    return item


def _read_code(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CODE_BYTES:
        raise CommandError(f"{path} is {len(raw)} bytes; submissions are limited to {MAX_CODE_BYTES // 1024} KB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not valid UTF-8 (byte {exc.start})") from None


def _json(result: GradeResult) -> str:
    return json.dumps(
        {
            "status": result.status,
            "passed": result.passed,
            "total": result.total,
            "score": result.score,
            "categories": [
                {"name": c.name, "passed": c.passed, "total": c.total, "reasons": c.reasons} for c in result.categories
            ],
            "cpu_ms": result.cpu_ms,
            "wall_ms": result.wall_ms,
            "peak_rss_kb": result.peak_rss_kb,
        }
    )


def _table(item: Item, result: GradeResult) -> str:
    width = max([len("category"), *(len(c.name) for c in result.categories)])
    lines = [f"{item.title}: {result.passed}/{result.total} cases, score {result.score:g}/{result.max_score}"]
    if result.load_error:
        lines.append(f"the code did not load: {result.load_error} {result.load_message}".rstrip())
    lines.append(f"{'category':<{width}}  passed  failures")
    for category in result.categories:
        reasons = ", ".join(f"{reason} x{count}" for reason, count in category.reasons.items())
        lines.append(f"{category.name:<{width}}  {category.passed:>2}/{category.total:<3}  {reasons or '-'}")
    peak = f"{result.peak_rss_kb} KB" if result.peak_rss_kb is not None else "unknown"
    lines.append(f"cpu {result.cpu_ms} ms, wall {result.wall_ms} ms, peak RSS {peak}")
    return "\n".join(lines)
