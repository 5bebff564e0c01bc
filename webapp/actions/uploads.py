"""A patient's upload: checked, stored in the record without its metadata, then read on the perception queue.

The file is stored (Binary + DocumentReference, one audited interaction) and its chat message written before
any reading starts, so a crashed or busy perception worker never loses it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from fhir.access import perception_requester
from fhir.persistence import new_id
from fhir.release import UNCONFIRMED, with_confirmation
from fhir.store import Repository
from perception.documents import with_text
from perception.intake import Intake, Refused, check_upload
from perception.models import Hint, Upload, UploadStatus
from webapp.accounts.models import User
from webapp.actions.events import send_event, send_event_on_commit
from webapp.chat.models import Author, Conversation, Message

log = logging.getLogger(__name__)

__all__ = ["Refused", "do_fail_upload", "do_finish_upload", "do_receive_upload", "do_reconcile_uploads",
           "do_set_upload_progress", "enqueue_upload"]

KIND_LABELS = {"image": "photo", "pdf": "PDF document", "dicom": "DICOM image"}


def document_resources(intake: Intake, patient_id: str, name: str, sent_by: str) -> tuple[dict, dict]:
    """The Binary holding the bytes and the DocumentReference describing them, as sent (unconfirmed)."""
    binary_id, document_id = new_id(), new_id()
    binary = {"resourceType": "Binary", "id": binary_id, "contentType": intake.content_type,
              "securityContext": {"reference": f"Patient/{patient_id}"},
              "data": base64.b64encode(intake.data).decode("ascii")}
    document = {
        "resourceType": "DocumentReference", "id": document_id, "status": "current", "docStatus": "preliminary",
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "author": [{"reference": f"Patient/{patient_id}", "display": sent_by}],
        "description": name or f"Uploaded {KIND_LABELS[intake.kind]}",
        "content": [{"attachment": {
            "contentType": intake.content_type, "url": f"Binary/{binary_id}", "size": len(intake.data),
            "hash": base64.b64encode(hashlib.sha1(intake.data).digest()).decode("ascii"),  # FHIR: SHA-1
            **({"title": name[:200]} if name else {})}}],
    }
    return binary, with_confirmation(document, UNCONFIRMED)


def do_receive_upload(patient: User, conversation: Conversation, name: str, data: bytes,
                      hint: str = Hint.AUTO, client_id: str = "") -> Upload:
    """Check and store the upload, write its chat message, and queue its reading. Raises Refused."""
    if conversation.patient_id != patient.pk:
        raise PermissionError("patients upload only into their own conversation")
    if hint not in Hint.values:
        raise Refused(f"Unknown kind of file {hint!r}.")
    client_id = client_id[:64]
    if client_id:
        existing = Upload.objects.filter(conversation=conversation, message__client_id=client_id).first()
        if existing:
            return existing
    intake = check_upload(data, name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1][:255]  # a name, never a path
    binary, document = document_resources(intake, patient.fhir_id, name, patient.get_full_name()
                                           or patient.get_username())
    repo = Repository(perception_requester(patient.fhir_id), channel="chat")
    with transaction.atomic():
        repo.create_many([(binary, binary["id"]), (document, document["id"])])
        message = Message.objects.create(conversation=conversation, author=Author.PATIENT, sender=patient,
                                         text=f"Sent a {KIND_LABELS[intake.kind]}: {name or 'unnamed file'}",
                                         client_id=client_id)
        upload = Upload.objects.create(
            patient_fhir_id=patient.fhir_id, conversation=conversation, message=message, uploaded_by=patient,
            name=name, kind=intake.kind, hint=hint, content_type=intake.content_type, size=len(intake.data),
            sha256=hashlib.sha256(intake.data).hexdigest(), pages=intake.pages, binary_id=binary["id"],
            document_reference_id=document["id"], progress="Waiting to be read", enqueued_at=timezone.now())
        send_event_on_commit(conversation.group_name, {**message.as_event(), "upload": upload.as_event()})
        transaction.on_commit(lambda: enqueue_upload(upload.id))
    return upload


def enqueue_upload(upload_id: int) -> bool:
    """Put an upload on the perception queue. False if the broker is unreachable (the reconciler retries)."""
    from webapp.celery import app

    try:
        app.send_task("perception.tasks.read_upload", args=[upload_id], queue="perception",
                      retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
    except Exception:
        log.warning("could not enqueue upload %s; the reconciler will", upload_id, exc_info=True)
        return False
    return True


def do_set_upload_progress(upload: Upload, progress: str, status: str | None = None) -> None:
    """Record how far the reading is (also the job's heartbeat) and tell the conversation's tabs."""
    upload.progress = progress[:200]
    upload.heartbeat_at = timezone.now()
    fields = ["progress", "heartbeat_at"]
    if status:
        upload.status = status
        fields.append("status")
        if status in (UploadStatus.DONE, UploadStatus.FAILED):
            upload.finished_at = upload.heartbeat_at
            fields.append("finished_at")
    upload.save(update_fields=fields)
    if upload.conversation_id:
        send_event(upload.conversation.group_name, upload.as_event())


def do_finish_upload(upload: Upload, repo: Repository, reading) -> None:
    """Write what was read, the document's text, the patient's summary and the upload's completion as one
    transaction: a worker killed half-way leaves nothing behind, and the retry starts clean."""
    with transaction.atomic():
        locked = Upload.objects.select_for_update().get(id=upload.id)
        if locked.status == UploadStatus.DONE:  # a duplicate delivery finished first
            return
        if reading.resources:
            repo.create_many(reading.resources)
        if reading.text.strip():
            document = repo.read("DocumentReference", upload.document_reference_id)
            repo.update("DocumentReference", upload.document_reference_id, with_text(document, reading.text))
        upload.result = reading.result
        upload.status, upload.progress, upload.error = UploadStatus.DONE, "Read", ""
        upload.finished_at = upload.heartbeat_at = timezone.now()
        upload.save(update_fields=["result", "status", "progress", "error", "finished_at", "heartbeat_at"])
        _tell_patient(upload, reading.summary)


def do_fail_upload(upload: Upload, error: str, patient_text: str) -> None:
    """The file stays stored (the care team can open it); the patient is told it could not be read."""
    with transaction.atomic():
        upload.status, upload.progress, upload.error = UploadStatus.FAILED, "Could not be read", error[:2000]
        upload.finished_at = upload.heartbeat_at = timezone.now()
        upload.save(update_fields=["status", "progress", "error", "finished_at", "heartbeat_at"])
        _tell_patient(upload, patient_text)


def _tell_patient(upload: Upload, text: str) -> None:
    """A system message in the patient's conversation (if they have one) and the upload's new status."""
    if not upload.conversation_id:
        return
    notice = Message.objects.create(conversation_id=upload.conversation_id, author=Author.SYSTEM, text=text)
    send_event_on_commit(upload.conversation.group_name, notice.as_event())
    send_event_on_commit(upload.conversation.group_name, upload.as_event())


def do_reconcile_uploads(stale_seconds: int) -> list[int]:
    """Re-enqueue uploads whose job was lost (broker restart) or whose worker died mid-read."""
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    stale = list(Upload.objects.filter(status__in=[UploadStatus.QUEUED, UploadStatus.READING])
                 .exclude(heartbeat_at__gte=cutoff).filter(enqueued_at__lt=cutoff).values_list("id", flat=True))
    for upload_id in stale:
        Upload.objects.filter(id=upload_id).update(enqueued_at=timezone.now())
        enqueue_upload(upload_id)
    return stale
