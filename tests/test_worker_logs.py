"""Celery workers and beat log like the web tier: the site's LOGGING, and a
task's id on every line it logs."""

import io
import json
import logging

from examsite import celery
from examsite.logs import JsonFormatter, RequestIdFilter, request_id_var


def test_a_worker_takes_the_sites_logging_configuration(settings):
    settings.LOGGING = {**settings.LOGGING, "root": {**settings.LOGGING["root"], "level": "WARNING"}}
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    try:
        celery.use_site_logging()
        assert root.level == logging.WARNING
        [handler] = root.handlers
        assert any(isinstance(f, RequestIdFilter) for f in handler.filters)
    finally:
        root.setLevel(before[0])
        root.handlers[:] = before[1]


def test_a_tasks_lines_carry_its_id_and_later_lines_do_not():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    log = logging.getLogger("tests.worker_logs")
    log.addHandler(handler)
    log.propagate = False
    try:
        celery.name_the_task(task_id="5f0c-task")
        log.warning("grading")
        celery.forget_the_task()
        log.warning("idle")
    finally:
        log.removeHandler(handler)
        request_id_var.set("")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["message"], first["request_id"]) == ("grading", "5f0c-task")
    assert second["message"] == "idle" and not second.get("request_id")
