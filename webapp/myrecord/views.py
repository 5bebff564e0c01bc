"""The patient's own record: what their care team released to them, their trends, and a download of all of it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fhir.access import requester_for_user
from fhir.jsonnum import dumps
from fhir.store import Repository
from webapp.accounts.models import Role, User
from webapp.clock import now
from webapp.dashboard.record import patient_record
from webapp.dashboard.trends import newest_observations, patient_trends
from webapp.myrecord.export import record_bundle


def _patient(request: HttpRequest) -> User:
    if request.user.role != Role.PATIENT:
        raise PermissionDenied("Only a patient has a record of their own here.")
    return request.user


@require_GET
@login_required
def record(request: HttpRequest) -> HttpResponse:
    """Their released record by section, with its confirmation levels, and the trends of their measurements (read
    through the patient's own Repository: the release rules of fhir/release.py apply, and the read is audited)."""
    patient = _patient(request)
    observations = newest_observations(patient, patient)  # one read for both
    trends = [(f"series-{i}", s.as_json()) for i, s in enumerate(patient_trends(patient, patient,
                                                                                observations=observations))]
    return render(request, "myrecord/record.html", {"record": patient_record(patient, patient, observations),
                                                    "trends": trends})


@require_GET
@login_required
def download(request: HttpRequest) -> HttpResponse:
    """The whole record the patient may see, as one FHIR Bundle file."""
    patient = _patient(request)
    if not patient.fhir_id:
        bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": now().isoformat(), "entry": []}
    else:
        repo = Repository(requester_for_user(patient), channel="app")
        bundle = record_bundle(repo, patient.fhir_id, request.build_absolute_uri("/fhir/"))
    response = HttpResponse(dumps(bundle), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="continuum-record-{now().date().isoformat()}.json"'
    return response
