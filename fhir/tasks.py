"""FHIR store upkeep on Celery beat (settings CELERY_BEAT_SCHEDULE "refresh-statistics")."""

from __future__ import annotations

from celery import shared_task

from fhir.maintenance import refresh_statistics


@shared_task(ignore_result=True)
def refresh_database_statistics() -> None:
    refresh_statistics()
