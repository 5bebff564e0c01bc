"""Uploads in the chat: sending a file, seeing what was read from it, confirming (patient) or verifying
(clinician) the values. Every read and write of the record goes through the caller's own Repository, so it is
authorised and audited like any other access."""

from __future__ import annotations

import base64
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fhir.access import requester_for_user
from fhir.errors import FhirError
from fhir.release import confirmation_of
from fhir.store import Repository
from perception.documents import read_text
from perception.models import Upload
from webapp.accounts.models import Role
from webapp.actions.uploads import Refused, do_receive_upload
from webapp.chat.models import Conversation
from webapp.uploads.forms import ConfirmForm, UploadForm

# Room for the multipart envelope around a file at the size limit.
ENVELOPE_BYTES = 64 * 1024


@require_POST
@login_required
def upload(request: HttpRequest) -> JsonResponse:
    """A patient sends a file into their conversation. JSON in the chat; errors say why in plain words."""
    if request.user.role != Role.PATIENT:
        return JsonResponse({"error": "Only patients send files into their conversation."}, status=403)
    declared = int(request.headers.get("Content-Length") or 0)
    if declared > settings.UPLOAD_MAX_BYTES + ENVELOPE_BYTES:  # refused before the body is read
        limit = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
        return JsonResponse({"error": f"The file is too large; the largest file I can take is {limit:.1f} MB."},
                            status=413)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"error": "Choose a file to send."}, status=400)
    sent = form.cleaned_data["file"]
    if sent.size > settings.UPLOAD_MAX_BYTES:
        limit = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
        return JsonResponse({"error": f"The file is too large; the largest file I can take is {limit:.1f} MB."},
                            status=413)
    conversation = Conversation.objects.get(patient=request.user)
    try:
        created = do_receive_upload(request.user, conversation, sent.name or "", sent.read(),
                                    form.cleaned_data["hint"] or "auto", form.cleaned_data["client_id"])
    except Refused as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    return JsonResponse({"upload": created.as_event()}, status=201)


def _get_upload_for_user(user, upload_id) -> tuple[Upload, Repository, dict]:
    """The upload, the user's repository and the upload's DocumentReference, if the record lets ``user`` read
    it (the patient, their care team; the read is audited); 404 for anyone else (no existence leak)."""
    found = Upload.objects.filter(public_id=upload_id).first()
    if found is None:
        raise Http404("No such upload")
    repo = Repository(requester_for_user(user), channel="web")
    try:
        document = repo.read("DocumentReference", found.document_reference_id)
    except FhirError:
        raise Http404("No such upload") from None
    return found, repo, document


def _results(repo: Repository, found: Upload) -> tuple[list[dict], dict | None]:
    ids = list(found.result.get("observations") or [])
    observations = repo.search("Observation", [("_id", ",".join(ids)), ("_count", "200")]).matches if ids else []
    order = {fhir_id: n for n, fhir_id in enumerate(ids)}
    observations.sort(key=lambda o: order.get(o["id"], 0))
    report_id = found.result.get("report")
    report = repo.search("DiagnosticReport", [("_id", report_id)]).matches if report_id else []
    return observations, (report[0] if report else None)


def _row(observation: dict) -> dict:
    quantity = observation.get("valueQuantity") or {}
    ranges = observation.get("referenceRange") or [{}]
    low, high = ranges[0].get("low", {}).get("value"), ranges[0].get("high", {}).get("value")
    flags = [c.get("code") for i in observation.get("interpretation", []) for c in i.get("coding", [])]
    return {
        "id": observation["id"],
        "name": observation["code"].get("text") or observation["code"].get("coding", [{}])[0].get("display"),
        "loinc": next((c["code"] for c in observation["code"].get("coding", [])
                       if c.get("system") == "http://loinc.org"), ""),
        "value": quantity.get("value", observation.get("valueString", "")),
        "unit": quantity.get("unit", ""),
        "range": ranges[0].get("text") or (f"{low:g}–{high:g}" if low is not None and high is not None else ""),
        "flag": ",".join(f for f in flags if f),
        "note": "; ".join(n.get("text", "") for n in observation.get("note", [])),
        "confirmation": confirmation_of(observation) or "",
    }


@require_GET
@login_required
def upload_page(request: HttpRequest, upload_id) -> HttpResponse:
    found, repo, document = _get_upload_for_user(request.user, upload_id)
    try:
        observations, report = _results(repo, found)
    except FhirError as error:
        raise Http404(error.diagnostics) from None
    rows = [_row(o) for o in observations]
    is_patient = request.user.role == Role.PATIENT
    return render(request, "uploads/upload.html", {
        "upload": found, "rows": rows, "report": report, "text": read_text(document), "is_patient": is_patient,
        "awaiting_patient": [r for r in rows if r["confirmation"] == "unconfirmed"],
        "is_image": found.content_type.startswith("image/") or found.kind == "dicom",
        "back": "chat" if is_patient else None,
    })


@require_GET
@login_required
def upload_file(request: HttpRequest, upload_id) -> HttpResponse:
    """The stored file (without its metadata); a DICOM file is shown as a windowed PNG preview."""
    found, repo, _ = _get_upload_for_user(request.user, upload_id)
    try:
        data = base64.b64decode(repo.read("Binary", found.binary_id).get("data", ""))
    except FhirError as error:
        raise Http404(error.diagnostics) from None
    content_type = found.content_type
    if found.kind == "dicom":
        from perception.dicom.preview import preview_png
        from perception.dicom.read import DicomError, read_dicom

        try:
            data, content_type = preview_png(read_dicom(data)), "image/png"
        except DicomError:
            return HttpResponse("This DICOM file has no image that can be previewed.", status=422,
                                content_type="text/plain")
    response = HttpResponse(data, content_type=content_type)
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", found.name)[:100] or "upload"
    response["Content-Disposition"] = f'inline; filename="{safe_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def confirm(request: HttpRequest, upload_id) -> HttpResponse:
    """A patient confirms what was read (all of it); a clinician verifies or rejects the ticked results."""
    found, repo, _ = _get_upload_for_user(request.user, upload_id)
    candidates = list(found.result.get("observations") or [])
    form = ConfirmForm(request.POST, resources=candidates)
    if not form.is_valid():
        messages.error(request, "Choose what to confirm.")
        return redirect("upload_page", upload_id=found.public_id)
    level = form.cleaned_data["level"]
    chosen = form.cleaned_data["resource"] or candidates
    targets = [("Observation", fhir_id) for fhir_id in chosen]
    if found.result.get("report") and set(chosen) == set(candidates):
        targets.append(("DiagnosticReport", found.result["report"]))
    done, refused = 0, []
    for resource_type, fhir_id in targets:
        try:
            repo.set_confirmation(resource_type, fhir_id, level)
            done += 1
        except FhirError as error:
            refused.append(error.diagnostics)
    if done:
        messages.success(request, f"{done} result{'s' if done != 1 else ''} marked {level.replace('-', ' ')}.")
    for reason in sorted(set(refused)):
        messages.error(request, reason)
    return redirect("upload_page", upload_id=found.public_id)
