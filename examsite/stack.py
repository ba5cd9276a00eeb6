"""`make stack`: the production shape on one machine (docs/operations.md).

Fills in the environment (PostgreSQL and Redis on this machine unless
DATABASE_URL and REDIS_URL say otherwise, DEBUG=0, a SECRET_KEY kept in
var/secret_key), creates the database if it is missing, migrates, collects
static files and imports the shipped exams, then becomes honcho running the
Procfile: gunicorn, a Celery worker and beat. Ctrl+C stops them all.

Runs before Django is set up (the settings depend on what it fills in), so it
imports nothing of the project.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/examsite_stack"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def secret_key(path: Path) -> str:
    """The key stored at `path`, made (readable by this user only) the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def stack_environment(environ: dict[str, str], host: str, port: int, cpus: int) -> dict[str, str]:
    """The environment of every process of the stack: what is set wins."""
    env = dict(environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    env.setdefault("DEBUG", "0")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
    # Served over plain HTTP on this machine: a Secure cookie would not come
    # back. Behind a TLS proxy set BEHIND_TLS_PROXY=1 (cookies are then Secure).
    env.setdefault("SECURE_COOKIES", "1" if env.get("BEHIND_TLS_PROXY") == "1" else "0")
    env.setdefault("LOG_FORMAT", "json")
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = secret_key(BASE_DIR / "var" / "secret_key")
    env["WEB_BIND"] = f"{host}:{port}"
    # Two gunicorn processes of four threads; the Celery worker takes one
    # process per core but one, so a core stays with the web tier.
    env.setdefault("WEB_WORKERS", "2")
    env.setdefault("WEB_THREADS", "4")
    env.setdefault("CELERY_CONCURRENCY", str(max(1, cpus - 1)))
    # The worker and the sandboxes it starts run at a lower priority than the
    # web tier: a burst of runs takes the CPU the site leaves, not the site's.
    env.setdefault("WORKER_NICENESS", "10")
    env.setdefault("CELERY_WORKER_NAME", f"stack-{port}@%h")
    env.setdefault("CELERY_BEAT_SCHEDULE_FILE", str(BASE_DIR / "var" / f"celerybeat-schedule-{port}"))
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(BASE_DIR / "var" / f"prometheus-{port}"))
    env["STACK_PYTHON"] = sys.executable
    return env


def create_database(url: str) -> bool:
    """Create the database of `url` on its server unless it exists; True if it was made."""
    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        return False
    params = {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        return True


def prepare(env: dict[str, str]) -> None:
    if create_database(env["DATABASE_URL"]):
        print(f"created the database of {env['DATABASE_URL']}", flush=True)
    # Request counters of earlier runs would be added to this one's.
    shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True)
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"], ["import_exams"]):
        subprocess.run([*manage, *command], env=env, cwd=BASE_DIR, check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    env = stack_environment(dict(os.environ), args.host, args.port, os.cpu_count() or 1)
    try:
        prepare(env)
    except (psycopg.Error, subprocess.CalledProcessError) as exc:
        sys.exit(f"make stack: could not prepare the stack: {exc}")
    print(f"the site is at http://{env['WEB_BIND']}/ (Ctrl+C stops everything)", flush=True)
    honcho = [sys.executable, "-m", "honcho", "start", "-f", str(BASE_DIR / "Procfile"), "-d", str(BASE_DIR)]
    os.execve(sys.executable, honcho, env)  # noqa: S606 - become honcho, so Ctrl+C reaches it


if __name__ == "__main__":
    main()
