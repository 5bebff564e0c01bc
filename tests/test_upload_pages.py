"""Sending a file in the chat: refusals say why, nothing refused is stored, and only the patient and their care
team can open an upload (404 for anyone else). Every access to the file is audited."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fhir.models import StoredResource
from perception.models import Upload, UploadStatus
from tests.support.cast import PASSWORD
from webapp.chat.models import Author, Message

pytestmark = pytest.mark.django_db


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (250, 250, 250)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """POST a file; returns the response and the callbacks queued for after commit (not run: no worker here,
    so nothing is put on a queue; tests/e2e/test_lab_report_upload_in_browser.py runs the whole path)."""
    def post(data: bytes, name: str = "report.png", **fields):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post("/uploads/", {"file": SimpleUploadedFile(name, data), **fields})
        return response, callbacks
    return post


@pytest.fixture
def alice(client, cast):
    client.login(username="alice", password=PASSWORD)
    return cast["alice"]


def test_a_patient_sends_a_file_and_it_is_stored_before_it_is_read(client, send, alice):
    response, callbacks = send(png(), client_id="c-1")
    assert response.status_code == 201, response.content
    upload = Upload.objects.get()
    assert upload.status == UploadStatus.QUEUED and upload.kind == "image" and upload.uploaded_by == alice
    assert response.json()["upload"]["upload"] == str(upload.public_id)
    message = upload.message
    assert message.author == Author.PATIENT and "report.png" in message.text
    binary = StoredResource.objects.get(resource_type="Binary", fhir_id=upload.binary_id)
    assert binary.patient_id == alice.fhir_id
    document = StoredResource.objects.get(resource_type="DocumentReference", fhir_id=upload.document_reference_id)
    assert document.content["content"][0]["attachment"]["url"] == f"Binary/{upload.binary_id}"
    assert len(callbacks) >= 2  # at least the message event to open tabs and the job on the perception queue


def test_the_same_upload_sent_twice_is_stored_once(client, send, alice):
    send(png(), client_id="same")
    send(png(), client_id="same")
    assert Upload.objects.count() == 1


def test_a_file_of_the_wrong_type_is_refused_with_a_reason_and_nothing_stored(client, send, alice):
    response, callbacks = send(b"MZ\x90\x00" + b"\0" * 200, name="lab.jpg")
    assert response.status_code == 415
    assert "JPEG or PNG" in response.json()["error"]
    assert not Upload.objects.exists() and not StoredResource.objects.filter(resource_type="Binary").exists()
    assert not Message.objects.filter(author=Author.PATIENT).exists()
    assert callbacks == []


def test_an_oversized_file_is_refused(client, send, alice, settings):
    settings.UPLOAD_MAX_BYTES = 100
    response, _ = send(png() + b"\0" * 200)
    assert response.status_code == 413 and "largest file" in response.json()["error"]
    assert not Upload.objects.exists()


def test_only_patients_send_files(client, send, cast):
    client.login(username="carol", password=PASSWORD)
    response, _ = send(png())
    assert response.status_code == 403


def test_the_patient_and_their_care_team_open_the_upload_and_others_get_404(client, send, alice, cast):
    send(png())
    upload = Upload.objects.get()
    assert client.get(f"/uploads/{upload.public_id}/").status_code == 200
    file = client.get(f"/uploads/{upload.public_id}/file")
    assert file.status_code == 200 and file["Content-Type"] == "image/png"
    assert file["X-Content-Type-Options"] == "nosniff"
    assert file.content == png()
    for name, expected in (("carol", 200), ("dave", 404), ("bob", 404), ("root", 404)):
        client.logout()
        client.login(username=name, password=PASSWORD)
        assert client.get(f"/uploads/{upload.public_id}/").status_code == expected, name
        assert client.get(f"/uploads/{upload.public_id}/file").status_code == expected, name


def test_opening_the_file_is_audited(client, send, alice):
    send(png())
    upload = Upload.objects.get()
    before = StoredResource.objects.filter(resource_type="AuditEvent").count()
    client.get(f"/uploads/{upload.public_id}/file")
    events = StoredResource.objects.filter(resource_type="AuditEvent").order_by("-pk")
    assert events.count() == before + 2  # the access check reads the DocumentReference, then the Binary
    assert any(f"Binary/{upload.binary_id}" in str(e.content) for e in events[:2])
