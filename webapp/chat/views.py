"""Chat pages. The page renders the history; chat.js streams the rest over the websocket."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.access import get_conversation_for_user
from webapp.accounts.models import Role, User, language_and_emergency_number
from webapp.actions.dashboard import do_mark_conversation_read
from webapp.actions.feedback import do_report_message
from webapp.chat.models import Conversation, MessageReport
from webapp.dashboard.record import patient_record
from webapp.dashboard.timeline import patient_timeline
from webapp.dashboard.trends import newest_observations, patient_trends
from webapp.followup.pages import conversation_section

HISTORY_LIMIT = 200


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    if user.role == Role.PATIENT:
        return redirect("chat")
    if user.role == Role.CLINICIAN:
        return redirect("patients")
    if user.role == Role.ADMIN:
        return redirect("admin:index")
    return render(request, "chat/no_pages.html")


@require_GET
@login_required
def chat(request: HttpRequest) -> HttpResponse:
    """The patient's own conversation."""
    if request.user.role != Role.PATIENT:
        raise PermissionDenied("Only patients have a conversation of their own.")
    conversation = Conversation.objects.get(patient=request.user)
    return _render_conversation(request, conversation, can_write=True)


@require_GET
@login_required
def conversation(request: HttpRequest, conversation_id) -> HttpResponse:
    """A conversation seen by its patient or by a clinician on their care team (404 for anyone else)."""
    convo = get_conversation_for_user(request.user, conversation_id)
    if convo.patient_id == request.user.pk:
        return redirect("chat")
    extra = {"inquiry": inquiry_panel(convo)}
    if request.user.role == Role.CLINICIAN:
        do_mark_conversation_read(request.user, convo)
        observations = newest_observations(request.user, convo.patient)  # one read for the three below
        extra["record"] = patient_record(request.user, convo.patient, observations)
        extra["timeline"] = patient_timeline(request.user, convo.patient, observations=observations)
        extra["reports"] = list(MessageReport.objects.filter(message__conversation=convo, resolved_at__isnull=True)
                                .select_related("message").order_by("id"))
        trends = patient_trends(request.user, convo.patient, observations=observations)
        extra["trends"] = [(f"series-{i}", s.as_json()) for i, s in enumerate(trends)]
        extra["followup"] = conversation_section(request.user, convo.patient)
    return _render_conversation(request, convo, can_write=False, extra=extra)


def inquiry_panel(convo: Conversation) -> dict | None:
    """The agent's history-taking state for the care team (agent/inquiry): what is known, from where, what
    is missing and what was just asked. Patients do not see it."""
    from agent.inquiry.complaints import BY_NAME
    from agent.inquiry.slots import SLOTS
    from agent.models import InquiryState

    state = InquiryState.objects.filter(conversation=convo).order_by("-turn_id").first()
    if state is None:
        return None
    complaint = BY_NAME.get(state.complaint)
    return {
        "state": state,
        "complaint": complaint.label if complaint else "No symptom under discussion",
        "known": [(slot.label, state.slots[name]["value"], state.slots[name]["source"])
                  for name, slot in SLOTS.items() if name in state.slots],
        "missing": [SLOTS[name].label for name in state.missing if name in SLOTS],
        "asked": [SLOTS[name].label for name in state.asked if name in SLOTS],
    }


def _render_conversation(request: HttpRequest, convo: Conversation, can_write: bool,
                         extra: dict | None = None) -> HttpResponse:
    """The newest HISTORY_LIMIT messages, or with ?before=ID the ones before that message."""
    rows = convo.messages.select_related("upload").order_by("-id")
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    recent = list(rows[:HISTORY_LIMIT + 1])
    has_earlier = len(recent) > HISTORY_LIMIT
    recent = recent[:HISTORY_LIMIT]
    recent.reverse()
    newest = convo.messages.order_by("-id").values_list("id", flat=True).first() or 0
    return render(request, "chat/chat.html", {
        "conversation": convo,
        "history": recent,
        "earlier_before": recent[0].id if has_earlier and recent else None,
        "archive": before.isdigit(),
        # The socket resumes after the newest message in the conversation, so a
        # page of older messages gets only what is new, not everything after it.
        "last_id": newest,
        "can_write": can_write,
        "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
        "max_upload_bytes": settings.UPLOAD_MAX_BYTES,
        "emergency_number": language_and_emergency_number(convo.patient_id)[1],
        **(extra or {}),
    })


@require_POST
@login_required
def report_message(request: HttpRequest, message_id: int) -> JsonResponse:
    """The patient marks one of the agent's messages as wrong (JSON: {"reason"} or a form field)."""
    if request.user.role != Role.PATIENT:
        raise PermissionDenied("Only the patient reports a message in their conversation.")
    reason = request.POST.get("reason", "")
    if not reason and request.body and request.content_type == "application/json":
        try:
            reason = str(json.loads(request.body).get("reason", ""))
        except (ValueError, AttributeError):
            return JsonResponse({"error": "The body must be JSON with a reason."}, status=400)
    try:
        report = do_report_message(request.user, message_id, reason)
    except LookupError:
        return JsonResponse({"error": "No such message."}, status=404)
    return JsonResponse({"reported": report.message_id})
