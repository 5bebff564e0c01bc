"""An upload and the job that reads it. The file itself lives in the record as a FHIR Binary, described by a
DocumentReference; this row tracks the reading (status, attempts, what was written) for the chat and operators."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class UploadStatus(models.TextChoices):
    QUEUED = "queued"
    READING = "reading"
    DONE = "done"
    FAILED = "failed"  # the file could be stored but not read (damaged pages, unsupported encoding)


class Hint(models.TextChoices):
    """What the sender says the file is; `auto` lets the content decide."""
    AUTO = "auto"
    DOCUMENT = "document"  # a lab report, letter or prescription
    SKIN = "skin"  # a photo of the skin
    XRAY = "xray"  # a photo or export of an X-ray


class Upload(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient_fhir_id = models.CharField(max_length=64, db_index=True)  # whose record the file belongs to
    # The patient's conversation, told how the reading goes; None for a patient with no account here (an EHR
    # posted the document through the FHIR API).
    conversation = models.ForeignKey("chat.Conversation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="uploads")
    # The chat message that carries the upload (chat uploads); FHIR API uploads have none.
    message = models.OneToOneField("chat.Message", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="upload")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    name = models.CharField(max_length=255, blank=True, default="")  # as sent; shown, never trusted
    kind = models.CharField(max_length=16)  # perception.intake: image, pdf, dicom
    hint = models.CharField(max_length=16, choices=Hint.choices, default=Hint.AUTO)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveIntegerField(default=1)
    binary_id = models.CharField(max_length=64)
    document_reference_id = models.CharField(max_length=64)

    status = models.CharField(max_length=16, choices=UploadStatus.choices, default=UploadStatus.QUEUED)
    progress = models.CharField(max_length=200, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # What the reading wrote: {"report": id, "observations": [ids], "study": id, "text_chars": n, ...}
    result = models.JSONField(blank=True, default=dict)

    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def as_event(self) -> dict:
        """What the conversation's tabs are told while the upload is read."""
        return {"type": "upload", "upload": str(self.public_id), "message": self.message_id, "name": self.name,
                "kind": self.kind, "status": self.status, "progress": self.progress}

    def __str__(self) -> str:
        return f"upload {self.public_id} ({self.kind}, {self.status})"
