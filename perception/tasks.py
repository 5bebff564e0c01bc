"""Celery tasks on the `perception` queue: take an upload id, read it, record the outcome. Thin: the work is in
perception/pipeline.py, the state changes in webapp/actions/uploads.py.

Acknowledged late and requeued if the worker dies (settings); the Upload row, not the broker, records what
still needs reading, and reconcile_uploads re-enqueues anything the queue lost.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db.models import F

from perception.models import Upload, UploadStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
UNREADABLE_TEXT = ("I saved your file, but I could not read it ({reason}). Your care team can still open it. "
                   "If it is a photo of a document, a sharper, well-lit photo taken straight on helps.")
FAILED_TEXT = ("I saved your file, but reading it failed several times. Your care team can still open it, and "
               "the problem has been logged.")


@shared_task(bind=True, name="perception.tasks.read_upload", max_retries=None)
def read_upload(self, upload_id: int) -> str:
    from perception.pipeline import Unreadable, load_bytes, read
    from webapp.actions.uploads import do_fail_upload, do_finish_upload, do_set_upload_progress

    upload = Upload.objects.select_related("conversation").filter(id=upload_id).first()
    if upload is None or upload.status in (UploadStatus.DONE, UploadStatus.FAILED):
        return "nothing to do"
    Upload.objects.filter(id=upload_id).update(attempts=F("attempts") + 1)
    upload.refresh_from_db(fields=["attempts"])
    if upload.attempts > MAX_ATTEMPTS:  # it keeps killing workers or failing: stop and say so
        do_fail_upload(upload, f"gave up after {MAX_ATTEMPTS} attempts", FAILED_TEXT)
        return "gave up"
    do_set_upload_progress(upload, "Reading", UploadStatus.READING)
    try:
        repo, data, patient_id = load_bytes(upload)
        reading = read(upload, data, patient_id, lambda text: do_set_upload_progress(upload, text))
    except Unreadable as exc:
        do_fail_upload(upload, str(exc), UNREADABLE_TEXT.format(reason=exc))
        return "unreadable"
    except Exception:
        log.exception("reading upload %s failed (attempt %s)", upload_id, upload.attempts)
        if upload.attempts >= MAX_ATTEMPTS:
            do_fail_upload(upload, "reading failed", FAILED_TEXT)
            return "failed"
        raise self.retry(countdown=5) from None
    do_finish_upload(upload, repo, reading)
    return "done"


@shared_task(name="perception.tasks.reconcile_uploads")
def reconcile_uploads() -> list[int]:
    from webapp.actions.uploads import do_reconcile_uploads

    return do_reconcile_uploads(settings.PERCEPTION_STALE_SECONDS)
