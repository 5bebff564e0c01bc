"""The Celery application. Workers run agent turns; see agent/tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("continuum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["agent", "perception", "fhir", "webapp.followup", "webapp.alerts"])
