"""Files through the FHIR API: a Binary gets the chat upload's checks (type by content, limits, metadata
stripped; refusals as OperationOutcome 4xx), and a DocumentReference pointing at one is read on the perception
queue into preliminary resources, like a chat upload."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from fhir.models import StoredResource
from fhir.release import confirmation_of
from perception.models import Upload, UploadStatus
from perception.tasks import read_upload
from tests.support.documents import lab_report, phone_photo
from tests.support.fhir import FhirClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def ehr(ehr_token) -> FhirClient:
    return FhirClient(token=ehr_token)


def binary(patient, data: bytes, content_type: str) -> dict:
    return {"resourceType": "Binary", "contentType": content_type,
            "securityContext": {"reference": f"Patient/{patient.fhir_id}"},
            "data": base64.b64encode(data).decode()}


def test_a_posted_photo_is_stored_without_its_exif(ehr, cast, tmp_path):
    image, _ = lab_report(tmp_path)
    response = ehr.post("Binary", binary(cast["alice"], phone_photo(image), "application/octet-stream"))
    assert response.status_code == 201, response.content
    stored = response.json()
    assert stored["contentType"] == "image/jpeg"  # decided by the content
    exif = Image.open(io.BytesIO(base64.b64decode(stored["data"]))).getexif()
    assert 0x8825 not in exif and 0x010F not in exif


def test_a_binary_whose_content_is_not_what_it_claims_is_refused(ehr, cast):
    response = ehr.post("Binary", binary(cast["alice"], b"PK\x03\x04" + b"\0" * 100, "image/png"))
    assert response.status_code == 415
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and "JPEG or PNG" in outcome["issue"][0]["diagnostics"]
    assert not StoredResource.objects.filter(resource_type="Binary").exists()


def test_an_oversized_binary_is_refused(ehr, cast, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = ehr.post("Binary", binary(cast["alice"], b"plain text " * 200, "text/plain"))
    assert response.status_code == 413 and response.json()["resourceType"] == "OperationOutcome"


def test_a_binary_perception_does_not_read_is_stored_as_sent(ehr, cast):
    data = b"<ClinicalDocument>...</ClinicalDocument>"
    response = ehr.post("Binary", binary(cast["alice"], data, "application/xml"))
    assert response.status_code == 201 and base64.b64decode(response.json()["data"]) == data


def test_a_posted_lab_report_document_is_read_into_preliminary_results(ehr, cast, tmp_path,
                                                                        django_capture_on_commit_callbacks):
    alice = cast["alice"]
    image, truth = lab_report(tmp_path, seed=5)
    stored = ehr.post("Binary", binary(alice, phone_photo(image), "image/jpeg")).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = ehr.post("DocumentReference", {
            "resourceType": "DocumentReference", "status": "current",
            "subject": {"reference": f"Patient/{alice.fhir_id}"},
            "content": [{"attachment": {"contentType": "image/jpeg", "url": f"Binary/{stored['id']}",
                                        "title": "Bloods from the GP"}}]})
    assert response.status_code == 201, response.content
    upload = Upload.objects.get(document_reference_id=response.json()["id"])
    assert upload.conversation is None and upload.patient_fhir_id == alice.fhir_id
    assert read_upload(upload.id) == "done"  # what the perception worker runs
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE and len(upload.result["observations"]) >= 0.7 * len(truth["fields"])
    report = StoredResource.objects.get(resource_type="DiagnosticReport", fhir_id=upload.result["report"]).content
    assert report["status"] == "preliminary" and confirmation_of(report) == "unconfirmed"
