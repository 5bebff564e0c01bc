"""The clinician's dashboard pages. Views check who is asking and hand state changes to webapp/actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fhir.errors import FhirError
from webapp.accounts.models import Role, User
from webapp.actions.dashboard import do_close_flag, do_review_fact
from webapp.dashboard.panel import panel_rows
from webapp.dashboard.record import SECTIONS


def _clinician(request: HttpRequest) -> User:
    if request.user.role != Role.CLINICIAN:
        raise PermissionDenied("Only clinicians have a patient panel.")
    return request.user


@require_GET
@login_required
def panel(request: HttpRequest) -> HttpResponse:
    """The panel, most urgent first; ?fragment=1 is just its table, which the page re-reads when an alert comes."""
    rows = panel_rows(_clinician(request))
    template = "dashboard/panel_table.html" if request.GET.get("fragment") else "dashboard/panel.html"
    return render(request, template, {"rows": rows})


@require_POST
@login_required
def close_flag(request: HttpRequest, flag_id: str) -> HttpResponse:
    clinician = _clinician(request)
    try:
        do_close_flag(clinician, flag_id)
    except FhirError as error:
        if error.status in (403, 404, 410):
            raise Http404("No such flag") from None
        raise
    return redirect("patients")


@require_POST
@login_required
def review_fact(request: HttpRequest, resource_type: str, fhir_id: str, decision: str) -> HttpResponse:
    """Verify or reject one recorded fact, then back to the page it was clicked on."""
    clinician = _clinician(request)
    if resource_type not in dict(SECTIONS) or decision not in ("verify", "reject"):
        raise Http404("No such fact")
    try:
        do_review_fact(clinician, resource_type, fhir_id, verify=decision == "verify")
    except FhirError as error:
        if error.status in (403, 404, 410):
            raise Http404("No such fact") from None
        raise
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/chat/") else "patients")
