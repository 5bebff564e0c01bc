"""Files that arrive through the FHIR API: a Binary gets the same checks as a chat upload (type by content,
limits, metadata stripped before storage), and a new DocumentReference that points at such a Binary is read on
the perception queue like a chat upload. Registered with fhir/hooks.py by PerceptionConfig.ready."""

from __future__ import annotations

import base64
import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fhir.access import Requester, perception_requester
from fhir.errors import FhirError
from fhir.hooks import after_create, before_write
from fhir.indexing import split_reference
from fhir.store import Repository
from perception.intake import Refused, check_upload, content_type_of

log = logging.getLogger(__name__)

PERCEPTION = "Device/continuum-perception"
READABLE = ("image/jpeg", "image/png", "application/pdf", "application/dicom")
# A Binary declared as one of these is held to it: its bytes must really be a file perception reads.
DECLARED_READABLE = ("image/", "application/pdf", "application/dicom")


def _refusal(refused: Refused) -> FhirError:
    code = {413: "too-costly", 415: "not-supported"}.get(refused.status, "invalid")
    return FhirError(code, str(refused), status=refused.status if refused.status in (413, 415) else 400)


@before_write("Binary")
def check_binary(resource: dict, requester: Requester) -> dict:
    if requester.reference == PERCEPTION or not resource.get("data"):
        return resource  # perception checked it already (chat uploads); a Binary without data holds no file
    try:
        data = base64.b64decode(resource["data"], validate=True)
    except ValueError:
        raise FhirError("invalid", "Binary.data is not valid base64") from None
    declared = resource.get("contentType", "")
    if content_type_of(data) not in READABLE and not declared.startswith(DECLARED_READABLE):
        if len(data) > settings.UPLOAD_MAX_BYTES:  # a CDA, a text: stored as sent, within the size limit
            raise FhirError("too-costly", f"Binary.data is larger than {settings.UPLOAD_MAX_BYTES} bytes", status=413)
        return resource
    try:
        intake = check_upload(data)
    except Refused as refused:
        raise _refusal(refused) from None
    return {**resource, "contentType": intake.content_type, "data": base64.b64encode(intake.data).decode("ascii")}


def _binary_id(url: str) -> str | None:
    """The id of a Binary on this server named by an attachment url ("Binary/x" or ".../fhir/Binary/x")."""
    parts = url.rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "Binary" and parts[-1] else None


@after_create("DocumentReference")
def read_new_document(resource: dict, requester: Requester) -> None:
    """Queue the reading of a document an EHR or clinician posted (chat uploads queue their own)."""
    from perception.models import Upload
    from webapp.actions.uploads import enqueue_upload

    if requester.reference == PERCEPTION:
        return
    ref_type, patient_id = split_reference(resource.get("subject", {}).get("reference", ""))
    if ref_type != "Patient" or not patient_id:
        return
    repo = Repository(perception_requester(patient_id), channel="perception")
    for content in resource.get("content", []):
        attachment = content.get("attachment", {})
        binary_id = _binary_id(attachment.get("url", ""))
        if not binary_id:
            continue
        try:
            binary = repo.read("Binary", binary_id)
        except FhirError:
            log.info("DocumentReference/%s points at Binary/%s outside its patient's record; not read",
                     resource["id"], binary_id)
            continue
        if binary.get("contentType") not in READABLE or not binary.get("data"):
            continue
        data = base64.b64decode(binary["data"])
        try:
            intake = check_upload(data)
        except Refused:
            continue  # checked when the Binary was stored; a Binary from before the checks is left alone
        with transaction.atomic():
            upload = Upload.objects.create(
                patient_fhir_id=patient_id, uploaded_by_id=requester.user_id,
                name=(attachment.get("title") or resource.get("description") or "")[:255], kind=intake.kind,
                content_type=intake.content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                pages=intake.pages, binary_id=binary_id, document_reference_id=resource["id"],
                progress="Waiting to be read", enqueued_at=timezone.now())
        enqueue_upload(upload.id)
        return  # one reading per document: its first readable attachment
