"""The site's settings for the fault tests' gunicorn and workers: production
ones (DEBUG off, from the environment) except static files, served from the
source folders so that no test has to run collectstatic into the checkout."""

from examsite.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
