"""Follow-up pages: the clinician decides proposed plans and writes new ones; the patient sees their check-ins.

Thin views: parse with a form, check who is asking (care team only, 404 for anyone else), call one do_*, respond.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fhir.errors import FhirError
from webapp.accounts.access import get_conversation_for_user
from webapp.accounts.models import Role, User
from webapp.actions.followup import PlanNotOpen, do_approve_plan, do_create_plan, do_reject_plan
from webapp.followup.forms import CheckInForm, kinds_from_forms, schedule_forms
from webapp.followup.pages import clinician_plans, patient_check_ins, plan_page


def _clinician(request: HttpRequest) -> User:
    if request.user.role != Role.CLINICIAN:
        raise PermissionDenied("Only clinicians decide follow-up plans.")
    return request.user


def _outsider_is_404(error: FhirError) -> None:
    """A plan outside the clinician's care team does not exist for them."""
    if error.status in (403, 404, 410):
        raise Http404("No such plan") from None
    raise error


@require_GET
@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """Plans waiting for a decision, then the active ones, of this clinician's patients."""
    return render(request, "followup/plans.html", {"plans": clinician_plans(_clinician(request))})


@require_GET
@login_required
def plan_detail(request: HttpRequest, plan_id: str) -> HttpResponse:
    clinician = _clinician(request)
    try:
        page = plan_page(clinician, plan_id)
    except FhirError as error:
        _outsider_is_404(error)
    return render(request, "followup/plan.html", {"page": page, "forms": schedule_forms(page.kinds, page.zone)})


@require_POST
@login_required
def approve(request: HttpRequest, plan_id: str) -> HttpResponse:
    """Approve the plan with the schedule as shown on its page (the clinician may have edited it)."""
    clinician = _clinician(request)
    try:
        page = plan_page(clinician, plan_id)
        forms = schedule_forms(page.kinds, page.zone, request.POST)
        if not all(form.is_valid() for form in forms):
            return render(request, "followup/plan.html", {"page": page, "forms": forms}, status=400)
        do_approve_plan(clinician, plan_id, kinds_from_forms(forms, page.zone))
    except FhirError as error:
        _outsider_is_404(error)
    except (PlanNotOpen, ValueError) as error:
        messages.error(request, str(error))
    return redirect("follow_up_plan", plan_id=plan_id)


@require_POST
@login_required
def reject(request: HttpRequest, plan_id: str) -> HttpResponse:
    """Reject a proposed plan, or stop an active one (its unsent check-ins are cancelled)."""
    clinician = _clinician(request)
    try:
        do_reject_plan(clinician, plan_id, request.POST.get("reason", "")[:1000])
    except FhirError as error:
        _outsider_is_404(error)
    except PlanNotOpen as error:
        messages.error(request, str(error))
    return redirect("follow_up_plan", plan_id=plan_id)


@require_http_methods(["GET", "POST"])
@login_required
def new_plan(request: HttpRequest, conversation_id) -> HttpResponse:
    """A clinician writes a follow-up plan for a patient on their care team ("blood pressure every 3 days for
    2 weeks"), approved at once or left for a colleague to approve."""
    clinician = _clinician(request)
    conversation = get_conversation_for_user(clinician, conversation_id)
    patient = conversation.patient
    form = CheckInForm(request.POST or None, initial={"in_days": 1, "every_days": 3, "times": 5, "approve": True})
    if request.method == "POST" and form.is_valid():
        try:
            plan = do_create_plan(clinician, patient, [form.kind(patient)], form.cleaned_data["reason"],
                                  approve=form.cleaned_data["approve"])
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            return redirect("follow_up_plan", plan_id=plan["id"])
    return render(request, "followup/new_plan.html", {"form": form, "patient": patient,
                                                      "conversation": conversation},
                  status=400 if form.errors else 200)


@require_GET
@login_required
def my_check_ins(request: HttpRequest) -> HttpResponse:
    """The patient's own check-ins: what their care team will ask, and when (on their clock)."""
    if request.user.role != Role.PATIENT:
        raise PermissionDenied("Only patients have check-ins of their own.")
    return render(request, "followup/my_check_ins.html", patient_check_ins(request.user))
