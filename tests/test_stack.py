"""`make stack` runs the production shape: it starts on ports, a database and
a Redis db of its own, answers /readyz with a worker online, serves a page
and its static files, and Ctrl+C (SIGINT to its process group) stops every
process it started.

Needs PostgreSQL and Redis on this machine (CI has both)."""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from examsite import stack
from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[1]
# Never the shared examsite or examsite_me databases, never Redis db 12-15 (tests' own).
REDIS_DB = 10


def test_it_fills_in_the_production_shape_and_keeps_what_is_set(tmp_path, monkeypatch):
    monkeypatch.setattr(stack, "BASE_DIR", tmp_path)
    env = stack.stack_environment({"REDIS_URL": "redis://elsewhere:6379/3"}, "127.0.0.1", 8123, cpus=2)
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/examsite_stack"
    assert env["REDIS_URL"] == "redis://elsewhere:6379/3"
    assert env["DEBUG"] == "0"
    assert env["WEB_BIND"] == "127.0.0.1:8123"
    assert (env["WEB_WORKERS"], env["WEB_THREADS"], env["CELERY_CONCURRENCY"]) == ("2", "4", "1")
    assert env["WORKER_NICENESS"] == "10"
    assert len(env["SECRET_KEY"]) >= 50
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    again = stack.stack_environment({}, "127.0.0.1", 8123, cpus=8)
    assert again["SECRET_KEY"] == env["SECRET_KEY"]  # kept: sessions survive a restart
    assert again["CELERY_CONCURRENCY"] == "7"


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _descendants(root: int) -> dict[int, str]:
    """Every live process below `root` (honcho starts each in a session of its own,
    so they leave the process group), with its start time against pid reuse."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            started = _start_time(child)
            if started:
                found[child] = started
                todo.append(child)
    return found


def _get(url: str, timeout: float = 5) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URL of the test
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _services() -> tuple[str, str]:
    """The PostgreSQL server (as a URL without database) and Redis server the test may use."""
    db = settings.DATABASES["default"]
    if "postgresql" in db["ENGINE"]:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        server = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    else:
        server = "postgres://postgres@127.0.0.1:5432"
    redis_server = settings.REDIS_URL.rsplit("/", 1)[0] if settings.REDIS_URL else "redis://127.0.0.1:6379"
    return server, redis_server


def _reachable(pg_server: str, redis_server: str) -> str:
    try:
        psycopg.connect(f"{pg_server}/postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {pg_server}: {exc}"
    try:
        redis.Redis.from_url(f"{redis_server}/{REDIS_DB}", socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis at {redis_server}: {exc}"
    return ""


@pytest.fixture
def stack_database():
    pg_server, redis_server = _services()
    problem = _reachable(pg_server, redis_server)
    need_service("PostgreSQL and Redis", not problem, problem)
    name = f"examsite_stack_test_{os.getpid()}"
    yield f"{pg_server}/{name}", f"{redis_server}/{REDIS_DB}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_make_stack_serves_the_site_and_ctrl_c_stops_everything(stack_database, tmp_path):
    database_url, redis_url = stack_database
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "CELERY_BEAT_SCHEDULE_FILE": str(tmp_path / "celerybeat-schedule"),
        "CELERY_WORKER_NAME": f"stack-test-{port}@%h",
    }
    # Nothing of this run's own settings, nor of the make that runs the tests.
    test_only = ("DEBUG", "SQLITE_PATH", "ALLOWED_HOSTS", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE")
    for name in (*test_only, "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    log_path = tmp_path / "stack.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [shutil.which("make") or "/usr/bin/make", "-s", "stack", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started: dict[int, str] = {}
    base = f"http://127.0.0.1:{port}"
    try:
        ready, deadline = None, time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            started.update(_descendants(proc.pid))
            try:
                status, body, _ = _get(f"{base}/readyz")
            except OSError:
                status = None
            if status == 200:
                ready = body.decode()
                break
            time.sleep(1)
        log_text = log_path.read_text(errors="replace")
        assert ready, f"/readyz never answered 200:\n{log_text[-4000:]}"
        assert '"workers": {"ok": true' in ready
        started.update(_descendants(proc.pid))

        status, body, headers = _get(f"{base}/")
        page = body.decode()
        assert status == 200
        assert "Serving" in page  # the shipped exams were imported
        assert "X-Request-ID" in headers
        css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
        assert css, "DEBUG=0 serves hashed static file names"
        status, _, headers = _get(base + css.group(1))
        assert status == 200
        assert "max-age=315360000" in headers["Cache-Control"]  # whitenoise: hashed files cached for good
        status, body, _ = _get(f"{base}/metrics")
        assert status == 200
        assert re.search(rb"^examsite_workers_online 1\.0$", body, re.M)
        assert b'examsite_http_requests_total{method="GET",status="200",view="exams:catalogue"}' in body
        kinds = {Path(f"/proc/{pid}/cmdline").read_bytes(): _niceness(pid) for pid in started if _start_time(pid)}
        assert any(b"gunicorn" in cmd for cmd in kinds)
        assert any(b"worker" in cmd and b"celery" in cmd for cmd in kinds)
        assert any(b"beat" in cmd for cmd in kinds)
        # The worker (and so its sandboxes) yields the CPU to the web tier.
        # (nice adds to what the stack was started with, up to 19)
        web = {nice for cmd, nice in kinds.items() if b"gunicorn" in cmd}
        worker = {nice for cmd, nice in kinds.items() if b"worker" in cmd and b"celery" in cmd}
        assert len(web) == 1 and worker == {min(19, web.pop() + 10)}
    finally:
        started.update(_descendants(proc.pid))
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C in the terminal sends
        try:
            proc.wait(timeout=40)
        finally:
            survivors = {pid for pid, t in started.items() if _start_time(pid) == t}
            for pid in survivors:
                os.kill(pid, signal.SIGKILL)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert survivors == set(), f"still running after Ctrl+C: {survivors}"
    assert "web.1 stopped" in log_path.read_text(errors="replace")
