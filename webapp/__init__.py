"""The Django project: settings, ASGI and Celery entry points, web-facing apps."""

from webapp.celery import app as celery_app

__all__ = ["celery_app"]
