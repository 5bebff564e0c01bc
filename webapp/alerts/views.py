"""Acknowledging an alert: the button on the panel, and the signed link in the alert's email (login required)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fhir.errors import FhirError
from webapp.accounts.models import Role, User
from webapp.actions.alerts import do_acknowledge_alert
from webapp.alerts.links import LinkExpired, alert_from_token
from webapp.alerts.models import Alert


def _clinician(request: HttpRequest) -> User:
    if request.user.role != Role.CLINICIAN:
        raise PermissionDenied("Only clinicians acknowledge alerts.")
    return request.user


def _acknowledge(clinician: User, flag_id: str) -> Alert:
    try:
        return do_acknowledge_alert(clinician, flag_id)
    except FhirError as error:
        if error.status in (403, 404, 410):  # not one of their patients' flags: no existence leak
            raise Http404("No such alert") from None
        raise


@require_POST
@login_required
def acknowledge(request: HttpRequest, flag_id: str) -> HttpResponse:
    _acknowledge(_clinician(request), flag_id)
    return redirect("patients")


@require_GET
@login_required
def acknowledge_link(request: HttpRequest, token: str) -> HttpResponse:
    """One click from the email. A GET that changes state, deliberately: the token is unguessable, bound to one
    alert, expiring, and only acts for a logged-in clinician on the patient's care team (a mail scanner that
    fetches the link lands on the login page and acknowledges nothing)."""
    clinician = _clinician(request)
    try:
        alert_id = alert_from_token(token)
    except LinkExpired:
        return render(request, "alerts/link_expired.html", status=410)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Http404("No such alert") from None
    flag_id = Alert.objects.filter(pk=alert_id).values_list("flag_id", flat=True).first()
    if flag_id is None:
        raise Http404("No such alert")
    alert = _acknowledge(clinician, flag_id)
    return render(request, "alerts/acknowledged.html", {"alert": alert})
