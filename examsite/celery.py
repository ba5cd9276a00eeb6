import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examsite.settings")

app = Celery("examsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_site_logging(**kwargs) -> None:
    """Workers and beat log as the web tier does (settings.LOGGING: one JSON
    object per line under LOG_FORMAT=json), not in Celery's own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@task_prerun.connect
def name_the_task(task_id: str = "", **kwargs) -> None:
    """Every line a task logs carries its id where a request's line carries the request's."""
    from examsite.logs import request_id_var

    request_id_var.set(task_id or "")


@task_postrun.connect
def forget_the_task(**kwargs) -> None:
    from examsite.logs import request_id_var

    request_id_var.set("")
