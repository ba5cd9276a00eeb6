"""Settings come from the environment; the services CI requires are really used."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.conftest import REQUIRE_SERVICES, need_service


def run_settings(env: dict) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "examsite.settings", **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_starts_with_debug_off_and_a_secret_key():
    result = run_settings({"DEBUG": "0", "SECRET_KEY": "x" * 50})
    assert result.returncode == 0, result.stderr


def test_it_refuses_a_boolean_it_cannot_read():
    result = run_settings({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_no_database_url_means_sqlite_and_a_postgres_url_means_postgresql():
    assert "sqlite3" in run_settings({}).stdout
    assert "postgresql" in run_settings({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}).stdout


def test_without_a_broker_tasks_run_in_process():
    if settings.REDIS_URL:
        assert settings.CELERY_TASK_ALWAYS_EAGER is False
        assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    else:
        assert settings.CELERY_TASK_ALWAYS_EAGER is True


@pytest.mark.django_db
def test_ci_runs_against_postgresql():
    if not REQUIRE_SERVICES and connection.vendor != "postgresql":
        pytest.skip("running on the embedded SQLite default")
    assert connection.vendor == "postgresql"


def test_the_cache_round_trips_through_redis_when_configured():
    need_service("Redis", bool(settings.REDIS_URL), "REDIS_URL is not set")
    assert "RedisCache" in settings.CACHES["default"]["BACKEND"]
    cache.set("examsite-test-key", {"n": 1}, 30)
    assert cache.get("examsite-test-key") == {"n": 1}
    cache.delete("examsite-test-key")
