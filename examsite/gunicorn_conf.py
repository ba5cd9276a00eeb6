"""gunicorn's settings for `make stack` (the Procfile's web process); the
choices are explained in docs/operations.md."""

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
# Threads, not more processes: a request spends much of its time waiting on
# PostgreSQL, and a thread waiting costs a few MB where a process costs ~80.
# gthread also keeps idle keep-alive connections in a poller, not in a thread.
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
# Longer than a candidate's autosave interval (about 5 s), so a browser's
# connection is reused rather than closed by the server just as the browser
# sends on it (the resets seen with the 2 s default).
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
timeout = 30
graceful_timeout = 10
# Never restarted for a request count unless WEB_MAX_REQUESTS says so: a
# restart closes the process's keep-alive connections, and a request already
# on its way over one fails (seen in bench/load.py with 5,000).
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# One JSON line per request comes from examsite.logs; gunicorn's own access
# log would say it twice.
accesslog = None
errorlog = "-"
loglevel = "info"


def child_exit(server, worker) -> None:
    """Drop a dead worker's live gauges from the shared metrics (its counters stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
