"""Settings for examsite, read from the environment.

With no environment at all this is the embedded development default: DEBUG on,
SQLite under var/, a local-memory cache, Celery tasks run in-process. The
production shape (PostgreSQL, Redis, Celery workers) is chosen by
DATABASE_URL and REDIS_URL, never by editing this file.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the site refuses to start without one: "
            "set SECRET_KEY to a long random string (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    SECRET_KEY = "development-only-insecure-key-never-use-in-production"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "exams",
    "grading",
]

MIDDLEWARE = [
    # First, so that their duration covers everything below (docs/operations.md).
    "examsite.logs.RequestLogMiddleware",
    "examsite.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "examsite.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "examsite.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "examsite.middleware.KeepMultipartBodyMiddleware",
    # A view that cannot reach PostgreSQL answers 503 with a page saying so.
    "examsite.errors.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "examsite.urls"
WSGI_APPLICATION = "examsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "grading.context_processors.reviewing",
            ],
        },
    },
]

# No DATABASE_URL: a SQLite file under var/, so `make run` needs no server.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Each web thread and worker process keeps its connection for a minute
    # instead of opening one per request (about 3 ms and a backend fork on
    # PostgreSQL's side); the health check at the start of a request drops a
    # connection the server closed meanwhile (a restart), so the request gets
    # a fresh one instead of an error (docs/operations.md).
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("CONN_MAX_AGE", 60),
            conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A database host that does not answer fails a request after this
        # long instead of holding its thread (libpq's default is to wait forever).
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5)
        )
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "var" / "db.sqlite3")),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
            # A file, not the default shared-cache memory database: there, two
            # requests of the threaded live server fail at once with "database
            # table is locked" instead of waiting as they do on the real file.
            # SQLITE_TEST_PATH lets two test runs in one checkout keep apart.
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / "var" / "test.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# A Redis that hangs (a network cut without a reset, a stuck server) must not
# hang requests: every wait on it, cache and broker, gives up after this long
# (docs/operations.md, Faults). A Redis command takes well under a millisecond.
REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_SECONDS", 1)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions are read on every request of a logged-in user: with Redis, from the
# cache (written through to the database, so a Redis restart logs nobody out,
# and while Redis is down sessions are read from the database: examsite.sessions).
# Without Redis the cache is each process's own memory, where a session changed
# by one process (a log-out) would stay stale in another: the database alone.
SESSION_ENGINE = "examsite.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"

# Celery: with REDIS_URL tasks go to workers; without it they run in-process
# (eagerly), through the same code.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# The worker's values hold (grading.tasks.GradingTask sends messages without
# limits, since a message's limits, the sender's, would override these). Past
# the soft limit a grading is stored as an error; past the hard one the pool
# process is killed and the worker's main process stores the error.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 100)
# Candidates' runs and the periodic tasks go to "grading"; bulk regrades to
# "regrade". A worker started with `-Q grading,regrade` takes from them in that
# order ("priority"), so a regrade of a whole exam never delays a candidate.
CELERY_TASK_DEFAULT_QUEUE = "grading"
CELERY_TASK_QUEUES = (Queue("grading"), Queue("regrade"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "queue_order_strategy": "priority",
    # A task taken by a worker that died (SIGKILL, lost machine) goes back to
    # the queue this long after it was taken. Longer than any task runs.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    # Workers take turns at that restore under a Redis lock. A worker killed
    # while holding it blocks every other worker's restore until it expires.
    "unacked_mutex_expire": env_int("CELERY_UNACKED_MUTEX_EXPIRE", 300),
    # Without these a publish to a Redis that hangs waits forever (kombu's
    # default); the worker's BRPOP waits 1 s at a time, within them.
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_TIMEOUT_SECONDS + 1,
}
CELERY_BEAT_SCHEDULE = {
    "finalize-expired-attempts": {"task": "exams.finalize_expired_attempts", "schedule": 60.0},
    "sweep-submissions": {"task": "grading.sweep_submissions", "schedule": 60.0},
}

# Grading runs. A candidate may start this many runs a minute (across drills).
GRADING_RUNS_PER_MINUTE = env_int("GRADING_RUNS_PER_MINUTE", 10)
# The sweep sends a queued submission again when no worker took it for this long.
GRADING_REQUEUE_AFTER_SECONDS = env_int("GRADING_REQUEUE_AFTER_SECONDS", 300)
# A running claim lapses this long after the task's hard time limit: by then
# the worker that held it is certainly dead, and another may take over.
GRADING_LEASE_MARGIN_SECONDS = env_int("GRADING_LEASE_MARGIN_SECONDS", 30)
# A submission taken this many times without a stored result is given up on
# (marked as an error) instead of being retried forever.
GRADING_MAX_CLAIMS = env_int("GRADING_MAX_CLAIMS", 3)

# Argon2id at OWASP's parameters; older hashes verify and are upgraded (examsite/hashers.py).
# The first hashes new passwords; the others verify older hashes (Django's
# PBKDF2 default of earlier deployments), which are stored again at the next log-in.
PASSWORD_HASHERS = [
    "examsite.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Anyone may create an account unless this is off.
ALLOW_SIGNUP = env_bool("ALLOW_SIGNUP", True)
# Throttling (exams/throttle.py), counted in the cache (Redis with REDIS_URL).
# This many failed log-ins for one account, or from one address (an IPv6 /64),
# within LOGIN_LOCKOUT_SECONDS lock it out for LOGIN_LOCKOUT_SECONDS, even with
# the right password; SIGNUPS_PER_ADDRESS sign-up attempts per address lock it
# out of sign-up for SIGNUP_WINDOW_SECONDS.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
SIGNUPS_PER_ADDRESS = env_int("SIGNUPS_PER_ADDRESS", 10)
SIGNUP_WINDOW_SECONDS = env_int("SIGNUP_WINDOW_SECONDS", 3600)
# How many proxies in front of the site append the client's address to
# X-Forwarded-For (0: the address is REMOTE_ADDR). Set it behind a proxy, or
# every visitor shares the proxy's address for throttling.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
# A form body may be this large so that an over-long answer gets a clear
# message from the view instead of Django's bare 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "exams:catalogue"
LOGOUT_REDIRECT_URL = "exams:catalogue"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
# In development WhiteNoise serves straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security headers. The CSP allows only this origin: no inline script or
# style, no CDN (vendored files are served by the site).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Pages carry the CSRF token themselves (<body hx-headers>); no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# Behind TLS: plain HTTP is redirected to HTTPS and browsers are told to use
# HTTPS only (HSTS) for a year. The probes stay answerable over plain HTTP, as
# a load balancer asks them. Preloading is a commitment for the whole domain,
# so it is the operator's choice (SECURE_HSTS_PRELOAD=1); `check --deploy`
# is told not to insist on it.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", BEHIND_TLS_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Exam packs shipped with the product; `import_exams` with no path imports these.
EXAM_PACKS_DIR = BASE_DIR / "exams" / "packs"
# Interpreter that runs drill code (reference solutions at import; candidates'
# code inside the sandbox). The distribution's python is readable by the
# sandbox's unprivileged uid, unlike a pyenv build under a 0700 home.
SANDBOX_PYTHON = os.environ.get("SANDBOX_PYTHON", "/usr/bin/python3")

# Logs go to stderr, one JSON object a line in production (LOG_FORMAT=json,
# the default with DEBUG off), plain text in development. Each request logs
# one line with its id, user id, view, status and duration (examsite.logs).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is neither json nor text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "examsite.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "examsite.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # The request line of examsite.logs replaces runserver's own.
        "django.server": {"level": "WARNING"},
        "examsite.request": {"level": os.environ.get("REQUEST_LOG_LEVEL", "INFO")},
    },
}
# /metrics answers requests from this machine, or with this bearer token.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# ---------------------------------------------------------------------------
# Grading sandbox (grading/sandbox/runner.py, docs/sandbox.md).
# ---------------------------------------------------------------------------
# bubblewrap from the distribution; without it the runner refuses to run code.
SANDBOX_BWRAP = os.environ.get("SANDBOX_BWRAP", "/usr/bin/bwrap")
# Development only, never in production: run candidates' code with rlimits but
# WITHOUT namespaces, seccomp or a separate uid, i.e. with the rights of this
# process. Off unless set explicitly; every run logs a warning while it is on.
SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT = env_bool("SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT", False)
# When the worker runs as root, each concurrent run gets its own unprivileged
# uid (and gid) from this pool, so what one run leaves behind cannot use up the
# process limit of the next. Slots are claimed with lock files in SANDBOX_LOCK_DIR,
# which is machine-wide: every checkout and worker on a machine shares the pool.
SANDBOX_UID_BASE = env_int("SANDBOX_UID_BASE", 64000)
SANDBOX_SLOTS = env_int("SANDBOX_SLOTS", 16)
SANDBOX_LOCK_DIR = Path(os.environ.get("SANDBOX_LOCK_DIR", "/run/lock/examsite-sandbox"))
# Defaults for a drill's `limits:` (docs/authoring.md); a drill may override each.
SANDBOX_LIMITS = {
    "cpu_seconds": env_int("SANDBOX_CPU_SECONDS", 5),
    "wall_seconds": env_int("SANDBOX_WALL_SECONDS", 10),
    "memory_mb": env_int("SANDBOX_MEMORY_MB", 256),
    "output_kb": env_int("SANDBOX_OUTPUT_KB", 64),
}
# One call of the entry point may take at most this long (and never more than
# half the drill's cpu or wall limit), so one slow case does not sink the others.
SANDBOX_CASE_SECONDS = env_int("SANDBOX_CASE_SECONDS", 2)
SANDBOX_MAX_PROCESSES = env_int("SANDBOX_MAX_PROCESSES", 16)  # RLIMIT_NPROC, threads included
SANDBOX_MAX_OPEN_FILES = env_int("SANDBOX_MAX_OPEN_FILES", 64)  # RLIMIT_NOFILE
SANDBOX_MAX_FILE_KB = env_int("SANDBOX_MAX_FILE_KB", 1024)  # RLIMIT_FSIZE
SANDBOX_TMPFS_MB = env_int("SANDBOX_TMPFS_MB", 16)  # size of the sandbox's only writable place, /tmp

# ---------------------------------------------------------------------------
# Email: password reset links (exams/account_views.py).
# ---------------------------------------------------------------------------
# Development prints each mail on the console; with DEBUG off mail goes out by
# SMTP to EMAIL_HOST. EMAIL_BACKEND names another backend explicitly.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are both on: set one (TLS for 587, SSL for 465)")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Serving Prep <noreply@localhost>")
# Password reset requests per network address within the window, then refused until it ends.
PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 5)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 3600)
