"""A perception worker killed mid-job loses nothing: the upload stays stored, the job is retried by another
worker, and what was read is written once."""

from __future__ import annotations

import time

import pytest

from fhir.models import StoredResource
from perception.models import Upload, UploadStatus
from tests.support.cast import PASSWORD, make_patient
from tests.support.chat_client import login
from tests.support.documents import lab_report, pdf_of

pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_perception_worker_is_replaced_and_the_upload_read(live_stack_factory, scripted_model, tmp_path):
    # Reading stalls for a few seconds before the reconciler presumes the job lost.
    stack = live_stack_factory(scripted_model.base_url, PERCEPTION_STALE_SECONDS="8")
    stack.start_perception_worker("p1")
    patient = make_patient()
    pages = [lab_report(tmp_path / str(n), seed=n)[0] for n in range(4)]
    http = login(stack.base_url, patient.username, PASSWORD)
    csrf = http.cookies.get("csrftoken") or ""
    response = http.post("/uploads/", files={"file": ("four-pages.pdf", pdf_of(pages), "application/pdf")},
                         data={"hint": "document"}, headers={"X-CSRFToken": csrf, "Referer": stack.base_url + "/"})
    assert response.status_code == 201, response.text
    upload = Upload.objects.get(conversation=patient.conversation)

    wait_for(lambda: Upload.objects.filter(id=upload.id, status=UploadStatus.READING).exists(), 120, "reading")
    stack.services["perception-p1"].kill()  # master and children, like a lost machine
    assert Upload.objects.get(id=upload.id).status == UploadStatus.READING
    stack.start_perception_worker("p2")

    done = wait_for(lambda: Upload.objects.filter(id=upload.id, status=UploadStatus.DONE).first(), 240, "done")
    assert done.attempts >= 2
    reports = StoredResource.objects.filter(resource_type="DiagnosticReport", patient_id=patient.fhir_id)
    assert reports.count() == 1
    assert StoredResource.objects.filter(resource_type="Binary", fhir_id=upload.binary_id).exists()
    assert done.result["pages"] == 4
