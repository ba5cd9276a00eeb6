"""Services the fault tests start, break and bring back themselves: a
PostgreSQL cluster and a Redis server of their own on free ports (never the
machine's shared ones), the site under gunicorn and Celery workers pointed at
them, and a small browser that keeps its cookies.

Every process here is started by these helpers and stopped by them, by the
pid they started, never by name.
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import kombu.exceptions
import psycopg
import redis
from celery import Celery

ROOT = Path(__file__).resolve().parents[1]
PG_BIN_DIRS = [Path("/usr/local/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, log: "Path | None" = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = ""
    if log is not None and log.exists():
        tail = "\nlog:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:])
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{tail}")


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Stop a process this module started (its own process group), by its pid."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def pg_binary(name: str) -> str | None:
    for folder in PG_BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    return shutil.which(name)


def missing_binaries() -> str:
    """Why the fault tests cannot start their services here, or ""."""
    missing = [name for name in ("initdb", "postgres") if not pg_binary(name)]
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if missing:
        return f"{', '.join(missing)} not found (install PostgreSQL's server and redis-server)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no `postgres` user to run PostgreSQL as"
    return ""


class PrivatePostgres:
    """A throwaway cluster: initdb into a temporary folder, trust on loopback
    (and on the `trusted` subnet, for hosts on a virtual network), fsync off,
    its socket in that folder. Runs as `postgres` when we are root (PostgreSQL
    refuses root)."""

    def __init__(self, listen: tuple[str, ...] = ("127.0.0.1",), trusted: str = ""):
        # Not under pytest's temporary folders: those are private to root.
        self.dir = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.listen = listen
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        subprocess.run(
            [*self.as_user, pg_binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        if trusted:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {trusted} trust\n")

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        options = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        options += ["-c", f"listen_addresses={','.join(self.listen)}", "-c", f"unix_socket_directories={self.dir}"]
        options += ["-c", "log_connections=on"]  # each with the client's address: who reached it, from where
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*self.as_user, pg_binary("postgres"), "-D", str(self.data), "-p", str(self.port), *options],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self._accepts, 30, "PostgreSQL to accept connections", self.log)

    def _accepts(self) -> bool:
        assert self.proc.poll() is None, f"postgres exited: {self.log.read_text(errors='replace')[-2000:]}"
        try:
            psycopg.connect(self.url(), connect_timeout=1).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """A fast shutdown (SIGINT): open connections are cut, as in a restart."""
        _stop(self.proc, signal.SIGINT, timeout=30)

    def query(self, sql: str, params=(), db: str = "examsite") -> list[tuple]:
        with psycopg.connect(self.url(db), connect_timeout=5, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port, nothing persisted: a restart loses every
    message, as a Redis without persistence does."""

    def __init__(self, base: Path, bind: tuple[str, ...] = ("127.0.0.1",)):
        self.dir = Path(tempfile.mkdtemp(prefix="faults-redis-", dir=base))
        self.port = free_port()
        self.log = self.dir / "redis.log"
        self.proc: subprocess.Popen | None = None
        self.paused = False
        self.bind = bind

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = [shutil.which("redis-server"), "--port", str(self.port), "--bind", *self.bind, "--save", ""]
        # Protected mode answers only loopback clients when there is no password.
        argv += ["--protected-mode", "yes" if self.bind == ("127.0.0.1",) else "no"]
        argv += ["--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._pongs, 15, "Redis to answer", self.log)

    def _pongs(self) -> bool:
        assert self.proc.poll() is None, f"redis-server exited: {self.log.read_text(errors='replace')[-2000:]}"
        try:
            return redis.Redis.from_url(self.url(), socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self.resume()
        _stop(self.proc, signal.SIGKILL)  # gone at once, as a crash or a lost host

    def pause(self) -> None:
        """Hung, not gone: connections open and commands sent, no answer ever
        comes back (a stuck server, a network cut without a reset)."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused and self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# Scaled-down production timings for the workers (as in tests/test_worker.py):
# a claim lapses a second after the task's 8 s limit; the sweep re-sends a
# run queued for more than 2 s.
WORKER_ENV = {
    "SANDBOX_WALL_SECONDS": "3",
    "SANDBOX_CPU_SECONDS": "2",
    "CELERY_TASK_TIME_LIMIT": "8",
    "CELERY_TASK_SOFT_TIME_LIMIT": "7",
    "GRADING_LEASE_MARGIN_SECONDS": "1",
    "GRADING_REQUEUE_AFTER_SECONDS": "2",
    "CELERY_VISIBILITY_TIMEOUT": "10",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
    "CELERY_UNACKED_MUTEX_EXPIRE": "2",
}
# What the tests' own process may carry that must not reach the site.
NOT_PASSED_ON = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SQLITE_PATH", "ALLOWED_HOSTS", "PYTEST_CURRENT_TEST")


class Site:
    """The site's environment on the private services, and the processes
    (gunicorn, Celery workers) started on it."""

    def __init__(self, pg: PrivatePostgres, redis_server: PrivateRedis, base: Path):
        self.pg, self.redis, self.base = pg, redis_server, base
        self.logs = base / "logs"
        self.logs.mkdir(exist_ok=True)
        slots = 4
        env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED_ON}
        env.update(
            DATABASE_URL=pg.url("examsite"),
            REDIS_URL=redis_server.url(0),
            DJANGO_SETTINGS_MODULE="tests.fault_settings",
            DEBUG="0",
            SECRET_KEY="fault-tests-" + "x" * 50,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_COOKIES="0",
            LOG_FORMAT="text",
            # Sandbox uids and slot locks of their own: never counted among
            # (nor blocking) other checkouts' runs on this machine.
            SANDBOX_UID_BASE=str(2_000_000 + os.getpid() * slots),
            SANDBOX_SLOTS=str(slots),
            SANDBOX_LOCK_DIR=str(base / "sandbox-locks"),
            **WORKER_ENV,
        )
        self.env = env
        self.web: subprocess.Popen | None = None
        self.web_host = "127.0.0.1"
        self.web_port = free_port()
        self.workers: list[tuple[str, subprocess.Popen]] = []
        self.control = Celery("faults", broker=redis_server.url(0))
        self.control.conf.broker_connection_retry_on_startup = False

    @property
    def base_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"

    def manage(self, *args: str, timeout: float = 120, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def shell(self, code: str, **env: str):
        """Run Python in a Django shell of the site; returns what it printed last, as JSON."""
        return json.loads(self.manage("shell", "-c", code, **env).strip().splitlines()[-1])

    def start_web(self, wrap: Sequence[str] = (), **overrides: str) -> None:
        """gunicorn on web_host; `wrap` is a command prefix that puts it on
        another host (`ip netns exec NAME`), `overrides` its environment there."""
        log = open(self.logs / "web.log", "ab")  # noqa: SIM115 - the child holds it
        env = {**self.env, "WEB_BIND": f"{self.web_host}:{self.web_port}", "WEB_WORKERS": "1", "WEB_THREADS": "2"}
        self.web = subprocess.Popen(
            [*wrap, sys.executable, "-m", "gunicorn", "examsite.wsgi", "--config", "python:examsite.gunicorn_conf"],
            cwd=ROOT,
            env={**env, **overrides},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(self._web_answers, 60, "gunicorn to answer /healthz", self.logs / "web.log")

    def _web_answers(self) -> bool:
        assert self.web.poll() is None, "gunicorn exited:\n" + self.log_tail("web.log")
        try:
            return get(f"{self.base_url}/healthz", timeout=1)[0] == 200
        except OSError:
            return False

    def start_worker(
        self, name: str, wait: bool = True, wrap: Sequence[str] = (), host: str = "faults", **overrides: str
    ) -> subprocess.Popen:
        """A Celery worker `name@host`; `wrap` and `overrides` as for start_web."""
        log = open(self.logs / "worker.log", "ab")  # noqa: SIM115 - the child holds it
        node = f"{name}@{host}"
        options = ["-c", "1", "--pool", "prefork", "-l", "info", "--without-gossip", "--without-mingle", "-n", node]
        proc = subprocess.Popen(
            [*wrap, sys.executable, "-m", "celery", "-A", "examsite", "worker", "-Q", "grading,regrade", *options],
            cwd=ROOT,
            env={**self.env, **overrides},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.workers.append((node, proc))
        if wait:
            self.wait_worker(node, proc)
        return proc

    def wait_worker(self, node: str, proc: subprocess.Popen, timeout: float = 40) -> None:
        def answers() -> bool:
            assert proc.poll() is None, f"worker exited with {proc.returncode}:\n" + self.log_tail("worker.log")
            try:
                return any(node in reply for reply in self.control.control.ping(destination=[node], timeout=0.5))
            except (OSError, redis.RedisError, kombu.exceptions.OperationalError):
                self.control.close()  # a connection Redis cut when it stopped: the next try makes new ones
                return False

        wait_until(answers, timeout, f"worker {node} to answer a ping", self.logs / "worker.log")

    def stop_workers(self) -> None:
        for _, proc in self.workers:
            _stop(proc, signal.SIGTERM, timeout=20)
        self.workers.clear()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / name
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"

    def stop(self) -> None:
        self.stop_workers()
        _stop(self.web, signal.SIGTERM, timeout=20)


@contextmanager
def private_site(base: Path, setup: str, listen: tuple[str, ...] = ("127.0.0.1",), trusted: str = "") -> Iterator[Site]:
    """PostgreSQL and Redis of the test's own (listening on `listen`), the
    site's database migrated with the test pack imported, and `setup` run in
    its shell (its printed JSON is `site.people`); every process stopped and
    the services' folders removed at the end. Skips without the binaries or
    bubblewrap."""
    from tests.conftest import PackBuilder, need_service
    from tests.sandbox_support import need_bubblewrap

    problem = missing_binaries()
    need_service("PostgreSQL and Redis binaries", not problem, problem)
    need_bubblewrap()
    pg, redis_server = PrivatePostgres(listen, trusted=trusted), PrivateRedis(base, listen)
    site = None
    try:
        pg.start()
        redis_server.start()
        pg.query("CREATE DATABASE examsite", db="postgres")
        site = Site(pg, redis_server, base)
        site.manage("migrate", "--noinput", "-v", "0")
        site.manage("import_exams", str(PackBuilder(base).root))
        site.people = site.shell(setup)
        yield site
    finally:
        if site is not None:
            site.stop()
        redis_server.cleanup()
        pg.cleanup()


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the test's loopback URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A candidate's browser: cookies kept, CSRF token sent with each POST,
    redirects not followed (the test looks at them)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect)

    def request(self, path: str, data: dict | None = None, htmx: bool = False, timeout: float = 15):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body)  # noqa: S310 - the test's loopback URL
        if data is not None:
            request.add_header("X-CSRFToken", self.cookie("csrftoken") or "")
            request.add_header("Referer", self.base_url + "/")
        if htmx:
            request.add_header("HX-Request", "true")
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    def get(self, path: str, **kwargs):
        return self.request(path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.request(path, data=data, **kwargs)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def log_in(self, username: str, password: str) -> None:
        self.get("/accounts/login/")
        status, body, _ = self.post("/accounts/login/", {"username": username, "password": password})
        assert status == 302, f"log-in failed ({status}): {body[:500]}"
