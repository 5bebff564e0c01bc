"""The proposal queue page: the agent's proposals waiting in the clinician's patients' records, oldest first, each
approved or rejected with a note. Clinicians only (patients 403); another care team's proposal is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fhir.errors import FhirError
from webapp.accounts.models import Role, User
from webapp.actions.proposals import NotAProposal, do_approve_proposal, do_reject_proposal, waiting_proposals
from webapp.chat.models import Conversation

MAX_NOTE_CHARS = 1000


def _clinician(request: HttpRequest) -> User:
    if request.user.role != Role.CLINICIAN:
        raise PermissionDenied("Only clinicians review the agent's proposals.")
    return request.user


@require_GET
@login_required
def proposal_queue(request: HttpRequest) -> HttpResponse:
    proposals = waiting_proposals(_clinician(request))
    conversations = {c.patient.fhir_id: c for c in Conversation.objects.select_related("patient").filter(
        patient__fhir_id__in={p.patient_id for p in proposals}, simulated=False)}
    rows = [(p, conversations[p.patient_id]) for p in proposals if p.patient_id in conversations]
    return render(request, "dashboard/proposals.html", {"rows": rows})


@require_POST
@login_required
def decide_proposal(request: HttpRequest, task_id: str, decision: str) -> HttpResponse:
    clinician = _clinician(request)
    if decision not in ("approve", "reject"):
        raise Http404("No such decision")
    decide = do_approve_proposal if decision == "approve" else do_reject_proposal
    try:
        decide(clinician, task_id, request.POST.get("note", "")[:MAX_NOTE_CHARS])
    except FhirError as error:
        if error.status in (403, 404, 410):
            raise Http404("No such proposal") from None
        if error.status != 412:
            raise
        messages.warning(request, "That proposal was decided by someone else a moment ago.")
    except NotAProposal:
        messages.warning(request, "That is not a proposal waiting for a decision (it may have been decided already).")
    else:
        messages.success(request, f"Proposal {'approved' if decision == 'approve' else 'rejected'}; the patient "
                                  "has been told.")
    return redirect("proposals")
