"""Reading stored scores vs. scoring on every read, for a leaderboard's worth of attempts.

    .venv/bin/python bench/scores.py [--n 200] [--postgres]

Builds `--n` finished attempts of the shipped `serving-reliability` exam,
each with a final review that ticks criteria on every item (through
grading.reviewing, as the review page does), then reads all their scores
two ways, several times each:

1. stored: one query over AttemptScore rows (what leaderboards read);
2. recomputed: scoring.result_for() per attempt from its final review (what
   a page would cost without stored scores).

It prints the time and the queries of each, per attempt, and their ratio,
plus what one finalize costs (it recomputes and stores the score). It uses
its own database: a temporary SQLite file, or with --postgres the
PostgreSQL database examsite_bench_scores (created when missing, emptied of
this benchmark's users first). It prints figures; it passes or fails nothing.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "examsite_bench_scores"
PREFIX = "bench-scores-"


def configure(postgres: bool) -> None:
    os.environ.pop("REDIS_URL", None)  # tasks in-process; nothing here grades code
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    if postgres:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
                conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp(prefix="bench-scores-")) / "db.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "examsite.settings"
    import django

    django.setup()


def build(n: int) -> tuple[list, list[float]]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from exams.models import Attempt, Exam, Item, RubricCriterion
    from grading import reviewing
    from grading.models import AttemptScore, Membership, Review, Team

    call_command("migrate", verbosity=0)
    call_command("import_exams", stdout=io.StringIO())
    User = get_user_model()
    stale = Attempt.objects.filter(user__username__startswith=PREFIX)
    AttemptScore.objects.filter(attempt__in=stale).delete()
    Review.objects.filter(attempt__in=stale).delete()
    stale.delete()
    User.objects.filter(username__startswith=PREFIX).delete()
    exam = Exam.objects.select_related("current_version").get(slug="serving-reliability")
    team = Team.objects.create(name=f"{PREFIX}team", slug=f"{PREFIX}team-{time.time_ns()}")
    reviewer = User.objects.create_user(f"{PREFIX}reviewer")
    Membership.objects.create(team=team, user=reviewer, role=Membership.Role.REVIEWER)
    items = list(Item.objects.filter(version=exam.current_version).exclude(kind=Item.Kind.TEXT))
    criteria: dict = {}
    for criterion in RubricCriterion.objects.filter(version=exam.current_version):
        criteria.setdefault(criterion.item_id, []).append(criterion.pk)
    attempts, finalize_seconds = [], []
    for i in range(n):
        user = User.objects.create_user(f"{PREFIX}{i:04d}")
        Membership.objects.create(team=team, user=user)
        attempt, _ = Attempt.start(user, exam, Attempt.Mode.PRACTICE)
        attempt.finalize()
        revision = 0
        for position, item in enumerate([*items, None]):
            ticks = criteria.get(item.pk if item else None, [])
            chosen = ticks[: 1 + (i + position) % max(1, len(ticks))]
            review = reviewing.mark(
                attempt,
                reviewer,
                item,
                criteria_ids=chosen,
                adjustment=Decimal(0),
                reason="",
                comment="",
                revision=revision,
            )
            revision = review.revision
        started = time.perf_counter()
        reviewing.finalize(attempt, reviewer, revision)
        finalize_seconds.append(time.perf_counter() - started)
        attempts.append(attempt)
    return attempts, finalize_seconds


def measure(attempts: list, rounds: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grading import scoring
    from grading.models import AttemptScore

    ids = [a.pk for a in attempts]
    stored_times, recomputed_times = [], []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as stored_queries:
            started = time.perf_counter()
            rows = list(AttemptScore.objects.filter(attempt_id__in=ids).order_by("-total", "attempt_id"))
            stored_times.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as recomputed_queries:
            started = time.perf_counter()
            results = [scoring.result_for(a, scoring.final_review(a)) for a in attempts]
            recomputed_times.append(time.perf_counter() - started)
    assert len(rows) == len(results) == len(ids)
    assert {r.attempt_id: r.total for r in rows} == {a.pk: res.total for a, res in zip(attempts, results, strict=True)}
    stored, recomputed = statistics.median(stored_times), statistics.median(recomputed_times)
    n = len(ids)
    print(f"{'read of ' + str(n) + ' scores':<34}{'median ms':>12}{'ms/attempt':>12}{'queries':>10}")
    print(f"{'stored (AttemptScore)':<34}{stored * 1000:>12.2f}{stored * 1000 / n:>12.4f}{len(stored_queries):>10}")
    print(
        f"{'recomputed (result_for)':<34}{recomputed * 1000:>12.2f}{recomputed * 1000 / n:>12.4f}"
        f"{len(recomputed_queries):>10}"
    )
    print(f"recomputed / stored: {recomputed / stored:.0f}x the time, {len(recomputed_queries)}x the queries")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="attempts (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="reads of each kind (default 5)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of a temporary SQLite file")
    args = parser.parse_args()
    configure(args.postgres)
    from django.db import connection

    print(f"database: {connection.vendor}; building {args.n} reviewed attempts of serving-reliability...")
    attempts, finalize_seconds = build(args.n)
    print(
        f"finalize (recompute and store): median {statistics.median(finalize_seconds) * 1000:.1f} ms, "
        f"p95 {sorted(finalize_seconds)[int(0.95 * (len(finalize_seconds) - 1))] * 1000:.1f} ms"
    )
    measure(attempts, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
