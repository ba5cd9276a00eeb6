"""What a Celery worker checks before it takes grading work.

A worker whose sandbox cannot run code (bubblewrap missing, the seccomp
filter not building...) would claim every run it is sent and store each as
an error: candidates would see failures that are the host's fault. Instead,
at start-up it stops listening to the grading queues, so the runs wait for a
worker that can grade them, and it says why: in its log, and to /readyz,
which asks every worker for `grading_status` (examsite.health). Fixing the
host takes a restart of the worker.
"""

import logging

from celery.signals import celeryd_after_setup
from celery.worker.control import inspect_command
from django.conf import settings

from grading.models import Submission
from grading.sandbox import runner

log = logging.getLogger(__name__)

GRADING_QUEUES = [Submission.RUN_QUEUE, Submission.REGRADE_QUEUE]
# Why this worker takes no grading work; "" while it takes it.
refusal = ""


def sandbox_problem() -> str:
    """Why the sandbox cannot run code on this host, or ""."""
    if settings.SANDBOX_UNSAFE_NO_ISOLATION_FOR_DEVELOPMENT:
        return ""  # runs without isolation, and warns at every run
    try:
        runner.check_available()
    except runner.SandboxUnavailable as exc:
        return str(exc)
    return ""


@celeryd_after_setup.connect(weak=False, dispatch_uid="grading.worker.refuse_without_sandbox")
def refuse_work_without_a_sandbox(sender, instance, **kwargs) -> None:
    """After -Q is applied, before the worker consumes anything."""
    global refusal
    problem = sandbox_problem()
    if not problem:
        return
    refusal = f"takes no grading work: {problem}"
    instance.app.amqp.queues.deselect(GRADING_QUEUES)
    log.critical("worker %s %s", sender, refusal)


@inspect_command()
def grading_status(state) -> dict:
    """Whether this worker takes grading work, and if not why."""
    return {"ok": not refusal, "detail": refusal or "takes grading work"}
