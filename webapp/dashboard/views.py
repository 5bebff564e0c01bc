"""The clinician's dashboard pages. Views check who is asking and hand state changes to webapp/actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from agent.models import AgentSwitch
from fhir.errors import FhirError
from webapp.accounts.access import get_conversation_for_user
from webapp.accounts.models import Role, User
from webapp.actions.dashboard import do_close_flag, do_review_fact
from webapp.actions.feedback import do_resolve_reports
from webapp.actions.handover import do_hand_back, do_send_clinician_message, do_set_agent_paused, do_take_over
from webapp.dashboard.panel import panel_rows
from webapp.dashboard.record import SECTIONS

# Rows rendered per page: the most urgent come first, and a page of a thousand rows helps nobody triage.
PANEL_PAGE_SIZE = 100


def _clinician(request: HttpRequest) -> User:
    if request.user.role != Role.CLINICIAN:
        raise PermissionDenied("Only clinicians have a patient panel.")
    return request.user


@require_GET
@login_required
def panel(request: HttpRequest) -> HttpResponse:
    """The panel, most urgent first; ?fragment=1 is just its table, which the page re-reads when an alert comes."""
    rows = panel_rows(_clinician(request))
    pages = max(1, -(-len(rows) // PANEL_PAGE_SIZE))
    page = min(max(1, int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1), pages)
    template = "dashboard/panel_table.html" if request.GET.get("fragment") else "dashboard/panel.html"
    return render(request, template, {
        "rows": rows[(page - 1) * PANEL_PAGE_SIZE:page * PANEL_PAGE_SIZE], "total": len(rows), "page": page,
        "pages": pages, "switch": AgentSwitch.current()})


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


@require_POST
@login_required
def conversation_action(request: HttpRequest, conversation_id, action: str) -> HttpResponse:
    """Reply in, take over, or hand back a patient's conversation (care team only; 404 for anyone else)."""
    clinician = _clinician(request)
    conversation = get_conversation_for_user(clinician, conversation_id)
    if action == "reply":
        text = request.POST.get("text", "")
        if text.strip():
            do_send_clinician_message(clinician, conversation, text[:4000])
    elif action == "take-over":
        do_take_over(clinician, conversation)
    elif action == "hand-back":
        do_hand_back(clinician, conversation)
    elif action == "resolve-report":
        message = conversation.messages.filter(id=request.POST.get("message", "0") or 0).first()
        if message is None:
            raise Http404("No such message")
        do_resolve_reports(clinician, message)
    else:
        raise Http404("No such action")
    return redirect("conversation", conversation_id=conversation.public_id)


@login_required
def agent_switch(request: HttpRequest) -> HttpResponse:
    """The admin's kill switch: pause the agent for everyone, or resume it."""
    if request.user.role != Role.ADMIN:
        raise PermissionDenied("Only admins pause the agent.")
    if request.method == "POST":
        do_set_agent_paused(request.user, request.POST.get("paused") == "1", request.POST.get("reason", ""))
        return redirect("agent_switch")
    return render(request, "dashboard/agent_switch.html", {"switch": AgentSwitch.current()})
