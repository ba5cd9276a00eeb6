"""A team leaderboard at scale: the page cold (ranked from the database) and warm (from the cache).

    .venv/bin/python bench/leaderboard.py [--members 10000] [--attempts 5] [--rounds 7] [--redis]

Bulk-creates one team of `--members` users with `--attempts` finished timed
attempts each (and their stored scores) in its own PostgreSQL database,
examsite_bench_board (created when missing; this benchmark's rows are
replaced on every run), then requests the leaderboard page through Django's
test client as a member, the way a browser would, and prints the server time
of the whole response:

- cold: the team's cache version bumped before each request, so the ranking
  query runs (one query over every stored score of the team's members);
- warm: the same page again, from the cache.

The cache is local memory, or Redis db 12 with --redis (flushed at the start).
It prints figures and their ratio; it passes or fails nothing.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "examsite_bench_board"
PREFIX = "bench-board-"


def configure(redis: bool) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    if redis:
        os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/12"
    else:
        os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "examsite.settings"
    import django

    django.setup()


def build(members: int, attempts: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from exams.models import Attempt, Exam
    from grading.models import AttemptScore, BestAttempt, Membership, Team

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG=0 serves hashed names, as in production
    exam = Exam.objects.filter(slug="serving-reliability", current_version__isnull=False).first()
    if exam is None:
        import io

        call_command("import_exams", stdout=io.StringIO())
        exam = Exam.objects.get(slug="serving-reliability")
    version = exam.current_version
    User = get_user_model()
    started = time.perf_counter()
    with transaction.atomic():
        old = Attempt.objects.filter(user__username__startswith=PREFIX)
        AttemptScore.objects.filter(attempt__in=old).delete()
        old.delete()
        Team.objects.filter(slug=f"{PREFIX}team").delete()
        User.objects.filter(username__startswith=PREFIX).delete()
        password = make_password(None)
        users = User.objects.bulk_create(
            [User(username=f"{PREFIX}{n:05d}", password=password) for n in range(members)], batch_size=2000
        )
        team = Team.objects.create(name="Bench board", slug=f"{PREFIX}team")
        Membership.objects.bulk_create([Membership(team=team, user=user) for user in users], batch_size=2000)
        now = timezone.now()
        rows = []
        for n, user in enumerate(users):
            for k in range(attempts):
                begin = now - timedelta(days=k + 1, minutes=n % 600)
                rows.append(
                    Attempt(
                        user=user,
                        exam=exam,
                        version=version,
                        mode=Attempt.Mode.TIMED,
                        status=Attempt.Status.SUBMITTED,
                        started_at=begin,
                        deadline=begin + timedelta(minutes=120),
                        finalized_at=begin + timedelta(minutes=40 + (n * 7 + k * 13) % 80),
                    )
                )
        made = Attempt.objects.bulk_create(rows, batch_size=5000)
        scores = []
        for m, attempt in enumerate(made):
            total = Decimal((m * 37) % 14900) / 100
            scores.append(
                AttemptScore(
                    attempt=attempt,
                    total=total,
                    ranked_total=total,
                    max_points=149,
                    percent=(total * 100 / 149).quantize(Decimal("0.01")),
                    is_final=m % 3 != 0,
                    tests=0,
                    tests_max=30,
                    rubric=total,
                    rubric_max=103,
                    overall=0,
                    overall_max=16,
                    strong_points=0,
                    weak_points=0,
                    computed_at=now,
                )
            )
        AttemptScore.objects.bulk_create(scores, batch_size=5000)
        # What scoring.recompute keeps beside the scores: each member's best attempt, overall and among final ones.
        best: dict = {}
        for attempt, score in zip(made, scores, strict=True):
            used = attempt.finalized_at - attempt.started_at
            rank = (-score.ranked_total, used, attempt.finalized_at, attempt.pk)
            for final_only in (False, True):
                if final_only and not score.is_final:
                    continue
                key = (attempt.user_id, final_only)
                if key not in best or rank < best[key][0]:
                    best[key] = (rank, attempt, score, used)
        BestAttempt.objects.bulk_create(
            [
                BestAttempt(
                    user_id=user_id, exam=exam, final_only=final_only, attempt=attempt,
                    ranked_total=score.ranked_total, total=score.total, max_points=score.max_points,
                    seen_items=0, is_final=score.is_final, time_multiplier=attempt.time_multiplier,
                    time_used=used, finished_at=attempt.finalized_at,
                )
                for (user_id, final_only), (_, attempt, score, used) in best.items()
            ],
            batch_size=5000,
        )  # fmt: skip
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a live database
        cursor.execute("ANALYZE")
    print(f"built {members:,} members x {attempts} attempts in {time.perf_counter() - started:.1f} s")
    return team, exam, users[members // 2]


def measure(team, exam, viewer, rounds: int) -> None:
    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from grading import leaderboard

    cache.clear()
    client = Client()
    client.force_login(viewer)
    url = f"/teams/{team.slug}/leaderboards/{exam.slug}/"
    cold, warm = [], []
    cold_queries = warm_queries = 0
    for _ in range(rounds):
        leaderboard.invalidate_team(team.pk)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            cold.append(time.perf_counter() - started)
        cold_queries = len(queries)
        assert response.status_code == 200, response.status_code
        members = team.memberships.count()
        assert f"{members} of {members} members ranked" in response.content.decode(), "the board is not complete"
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            warm.append(time.perf_counter() - started)
        warm_queries = len(queries)
        assert response.status_code == 200, response.status_code
        reset_queries()
    cold_ms, warm_ms = statistics.median(cold) * 1000, statistics.median(warm) * 1000
    print(f"{'leaderboard page':<18}{'median ms':>11}{'min ms':>9}{'max ms':>9}{'queries':>9}")
    print(f"{'cold':<18}{cold_ms:>11.1f}{min(cold) * 1000:>9.1f}{max(cold) * 1000:>9.1f}{cold_queries:>9}")
    print(f"{'warm (cache)':<18}{warm_ms:>11.1f}{min(warm) * 1000:>9.1f}{max(warm) * 1000:>9.1f}{warm_queries:>9}")
    print(f"cold / warm: {cold_ms / warm_ms:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--redis", action="store_true", help="Redis db 12 as the cache instead of local memory")
    args = parser.parse_args()
    configure(args.redis)
    from django.conf import settings

    print(f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}")
    team, exam, viewer = build(args.members, args.attempts)
    measure(team, exam, viewer, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
