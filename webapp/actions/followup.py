"""Follow-up plans and check-ins (webapp/followup/resources.py has their FHIR shapes).

A plan is proposed (by the agent or a clinician) as a draft CarePlan; a clinician on the care team approves it
(optionally editing its schedule) or rejects it. Once it is active the agent schedules its check-ins itself, as
Tasks; outside an active plan it may only propose one. The beat (webapp/followup/tasks.py) sends each due check-in
into the patient's conversation, reminds once when it goes unanswered, then raises a Flag for the care team; the
patient's next message answers it. Times come from webapp.clock so tests move them instead of sleeping.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from agent.safety.rules import Level
from fhir.access import AGENT_WRITE_TYPES, SYSTEM, agent_requester, requester_for_user
from fhir.dates import date_range
from fhir.errors import FhirError, not_found
from fhir.persistence import instant, new_id
from fhir.store import Repository
from webapp import clock
from webapp.accounts.access import clinician_cares_for
from webapp.accounts.models import Role, User
from webapp.actions.events import send_event_on_commit
from webapp.actions.flags import notify_care_team, respond_within
from webapp.actions.handover import agent_paused
from webapp.chat.models import Author, Conversation, Message
from webapp.followup.local_time import due_in_days, local_text, patient_zone
from webapp.followup.models import CheckInDelivery
from webapp.followup.resources import (
    AGENT_DISPLAY,
    CHECK_IN,
    CHECK_IN_ID_SYSTEM,
    CHECK_IN_PROGRESS_SYSTEM,
    FOLLOW_UP,
    MISSED_CHECK_IN_SYSTEM,
    PLAN_CATEGORY_SYSTEM,
    CheckInKind,
    approval_provenance,
    care_plan,
    check_in_task,
    due_of,
    kinds_of,
    missed_flag,
    patient_of,
    progressed,
    with_kinds,
)

log = logging.getLogger(__name__)

SEARCH_PAGE = 500  # check-ins handled per search; a beat run goes on until none is left
CHECK_IN_TEXT = "Checking in, as planned with your care team: {question}"
REMINDER_TEXT = "A reminder, in case you missed it: {question}"


class PlanNotOpen(ValueError):
    """The plan is no longer waiting for a decision (approved, rejected or ended meanwhile)."""


# ---- who acts ---------------------------------------------------------------------------------------------

def _agent_repo(patient_id: str, plans: bool = False) -> Repository:
    """The agent in one patient's record. Proposing a follow-up plan writes a draft CarePlan, which the agent's
    usual write types (fhir/access.py) leave out: only these actions add it, and they write drafts (proposals a
    clinician must approve) or close plans that have run their course, never approve one."""
    writes = AGENT_WRITE_TYPES | {"CarePlan"} if plans else AGENT_WRITE_TYPES
    return Repository(agent_requester(patient_id, writes=writes), channel="agent")


def _clinician_repo(clinician: User) -> Repository:
    if clinician.role != Role.CLINICIAN:
        raise PermissionError("only clinicians decide follow-up plans")
    return Repository(requester_for_user(clinician), channel="app")


def _patient_user(patient_id: str) -> User:
    patient = User.objects.select_related("patient_profile").filter(fhir_id=patient_id, role=Role.PATIENT).first()
    if patient is None:
        raise LookupError(f"no patient account for Patient/{patient_id}")
    return patient


def zone_of(patient: User):
    return patient_zone(getattr(getattr(patient, "patient_profile", None), "time_zone", "") or "UTC")


def _etag(resource: dict) -> str:
    return f'W/"{resource["meta"]["versionId"]}"'


def _is_follow_up(plan: dict) -> bool:
    return any(c.get("system") == PLAN_CATEGORY_SYSTEM and c.get("code") == "follow-up"
               for cat in plan.get("category", []) for c in cat.get("coding", []))


def check_in_kind(patient: User, topic: str, question: str, in_days: int, every_days: int = 0, count: int = 1,
                  hour: int | None = None, now: datetime | None = None) -> CheckInKind:
    """A kind of check-in whose first one is `in_days` days away on the patient's calendar, at `hour` on their
    clock (settings.CHECKIN_LOCAL_HOUR by default; never at night)."""
    first = due_in_days(now or clock.now(), in_days, zone_of(patient),
                        settings.CHECKIN_LOCAL_HOUR if hour is None else hour)
    return CheckInKind(topic=topic.strip()[:200] or "check-in", question=question.strip()[:1000], first=first,
                       every_days=max(every_days, 0), count=max(count, 1) if every_days else 1)


# ---- plans ------------------------------------------------------------------------------------------------

def do_propose_plan(patient: User, kinds: list[CheckInKind], reason: str = "", clinician: User | None = None) -> dict:
    """A draft follow-up plan, by a care-team clinician or (clinician None) by the agent. Nothing is scheduled
    until a clinician approves it."""
    if not kinds or any(not k.question for k in kinds):
        raise ValueError("a follow-up plan needs at least one check-in with a question")
    now = clock.now()
    if clinician is None:
        repo, author = _agent_repo(patient.fhir_id, plans=True), {"display": AGENT_DISPLAY}
    else:
        repo = _clinician_repo(clinician)
        author = {"reference": f"Practitioner/{clinician.fhir_id}",
                  "display": clinician.get_full_name() or clinician.username}
    plan = care_plan(patient.fhir_id, kinds, author, reason, now, zone_of(patient))
    with transaction.atomic():
        written = repo.create(plan).resource
    return written


def _decided_plan(repo: Repository, plan_id: str) -> dict:
    plan = repo.read("CarePlan", plan_id)
    if not _is_follow_up(plan):
        raise not_found("CarePlan", plan_id)  # other care plans are not decided here
    return plan


def do_approve_plan(clinician: User, plan_id: str, kinds: list[CheckInKind] | None = None) -> dict:
    """The clinician approves a proposed plan (with the schedule they may have edited): it becomes active, names
    them as contributor with a Provenance, and the agent schedules its check-ins. FhirError 404 outside their
    care team; PlanNotOpen if it was decided meanwhile."""
    repo = _clinician_repo(clinician)
    now = clock.now()
    with transaction.atomic():
        plan = _decided_plan(repo, plan_id)
        if plan.get("status") != "draft":
            raise PlanNotOpen(f"the plan is {plan.get('status')}, not waiting for approval")
        patient = _patient_user(patient_of(plan))
        zone = zone_of(patient)
        kinds = kinds or kinds_of(plan)
        if not kinds:
            raise ValueError("the plan has no check-ins to schedule")
        approved = with_kinds(plan, kinds, now, zone, "active") | {"contributor": [
            {"reference": f"Practitioner/{clinician.fhir_id}", "display": clinician.get_full_name()
             or clinician.username}]}
        try:
            written = repo.update("CarePlan", plan_id, approved, if_match=_etag(plan)).resource
        except FhirError as error:
            if error.status == 412:  # another clinician decided it a moment ago
                raise PlanNotOpen("the plan was decided meanwhile") from None
            raise
        repo.create(approval_provenance(written, f"Practitioner/{clinician.fhir_id}",
                                        clinician.get_full_name() or clinician.username, now))
        if not _schedule_plan(written, patient, kinds, now):
            raise ValueError("every check-in of this plan is already in the past: move its first date")
    return written


def _schedule_plan(plan: dict, patient: User, kinds: list[CheckInKind], now: datetime) -> list[dict]:
    """Inside the approved plan the agent schedules its check-ins: one Task per future occurrence."""
    zone = zone_of(patient)
    tasks = [check_in_task(patient.fhir_id, plan["id"], kind, due, f"{plan['id']}-{a}-{i}", now,
                           {"display": AGENT_DISPLAY})
             for a, kind in enumerate(kinds) for i, due in enumerate(kind.due_times(zone)) if due > now]
    if not tasks:
        return []
    written = _agent_repo(patient.fhir_id).create_many([(task, new_id()) for task in tasks])
    return [w.resource for w in written]


def do_reject_plan(clinician: User, plan_id: str, reason: str = "") -> dict:
    """A draft is rejected, or an active plan stopped: the plan is revoked and its check-ins not yet sent are
    cancelled."""
    repo = _clinician_repo(clinician)
    with transaction.atomic():
        plan = _decided_plan(repo, plan_id)
        if plan.get("status") not in ("draft", "active"):
            raise PlanNotOpen(f"the plan is already {plan.get('status')}")
        revoked = {**plan, "status": "revoked"}
        if reason.strip():
            revoked["note"] = [*plan.get("note", []), {"text": f"Revoked: {reason.strip()[:1000]}",
                                                        "time": instant(clock.now())}]
        written = repo.update("CarePlan", plan_id, revoked, if_match=_etag(plan)).resource
        for task in repo.search("Task", [("based-on", f"CarePlan/{plan_id}"), ("code", CHECK_IN),
                                         ("status", "ready"), ("_count", "1000")]).matches:
            repo.update("Task", task["id"], {**task, "status": "cancelled", "lastModified": instant(clock.now())})
    return written


def do_create_plan(clinician: User, patient: User, kinds: list[CheckInKind], reason: str = "",
                   approve: bool = True) -> dict:
    """A clinician writes a plan for a patient of theirs, approved at once or left as a draft for a colleague."""
    if not clinician_cares_for(clinician, patient.pk):
        raise PermissionError("only the patient's care team writes their follow-up plans")
    with transaction.atomic():
        plan = do_propose_plan(patient, kinds, reason, clinician=clinician)
        return do_approve_plan(clinician, plan["id"]) if approve else plan


# ---- the agent's check-ins --------------------------------------------------------------------------------

@dataclass
class AgentCheckIn:
    outcome: str  # scheduled | proposed | already
    resource: dict  # the Task (scheduled) or the draft CarePlan (proposed)
    due: datetime
    zone_text: str


_WORD = re.compile(r"[a-z0-9]{3,}")
_COMMON = {"how", "the", "and", "your", "you", "are", "with", "check", "checkin", "after", "days", "today", "feel",
           "feeling", "any", "what", "about", "for", "was", "were", "this", "that", "have", "has", "does", "did",
           "now", "again", "week", "weeks", "morning", "evening", "tell", "there"}


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - _COMMON


def _covering_plan(plans: list[dict], due: datetime, topic: str, question: str) -> dict | None:
    """The active plan whose period holds the due time and whose activities are about this (shared words in
    topic or question): the agent schedules only what a clinician approved."""
    wanted = _words(topic) | _words(question)
    for plan in plans:
        period = plan.get("period", {})
        start, end = period.get("start"), period.get("end")
        if (start and due < _parse(start)) or (end and due > _parse(end)):
            continue
        if any(wanted & (_words(k.topic) | _words(k.question)) for k in kinds_of(plan)):
            return plan
    return None


def _parse(text: str) -> datetime:
    return date_range(text)[0]


def do_agent_check_in(repo: Repository, patient_id: str, topic: str, question: str, in_days: int) -> AgentCheckIn:
    """What the agent may do about a check-in: inside an active follow-up plan of this patient that covers it,
    schedule it (a Task); outside one, propose it (a draft plan for a clinician). `repo` is the agent's own."""
    patient = _patient_user(patient_id)
    zone = zone_of(patient)
    now = clock.now()
    kind = check_in_kind(patient, topic, question, in_days, now=now)
    shown = local_text(kind.first, zone)
    with transaction.atomic():
        plans = repo.search("CarePlan", [("patient", f"Patient/{patient_id}"), ("category", FOLLOW_UP),
                                         ("status", "active,draft"), ("_count", "100")]).matches
        plan = _covering_plan([p for p in plans if p.get("status") == "active"], kind.first, topic, question)
        if plan is None:
            for draft in (p for p in plans if p.get("status") == "draft"):
                if any(k.first == kind.first and k.topic.lower() == kind.topic.lower() for k in kinds_of(draft)):
                    return AgentCheckIn("already", draft, kind.first, shown)
            proposed = do_propose_plan(patient, [kind], reason=f"Proposed by the agent: {kind.question}")
            return AgentCheckIn("proposed", proposed, kind.first, shown)
        day = kind.first.astimezone(zone).date().isoformat()
        key = f"{plan['id']}-agent-{day}-{hashlib.sha1(kind.topic.lower().encode()).hexdigest()[:10]}"
        task = check_in_task(patient_id, plan["id"], kind, kind.first, key, now, {"display": AGENT_DISPLAY})
        result = repo.create(task, if_none_exist=f"identifier={CHECK_IN_ID_SYSTEM}|{key}")
        return AgentCheckIn("scheduled" if result.created else "already", result.resource, kind.first, shown)


# ---- the beat: send, remind, escalate ---------------------------------------------------------------------

def _scheduler_repo() -> Repository:
    # The scheduler works for no user and in no one conversation: it finds every patient's due check-ins at once,
    # so it searches as the server itself (audited as such). Each check-in it then changes is written as the agent
    # in that one patient's record.
    return Repository(SYSTEM, channel="scheduler")


@dataclass
class BeatResult:
    sent: list[str]
    reminded: list[str]
    escalated: list[str]
    completed_plans: list[str]


def do_run_check_ins(now: datetime | None = None) -> BeatResult:
    """One beat: send what is due, remind and escalate what went unanswered, close plans that have ended."""
    now = now or clock.now()
    reminded, escalated = do_follow_up_missed_check_ins(now)
    return BeatResult(do_send_due_check_ins(now), reminded, escalated, do_complete_ended_plans(now))


def _pages(query: list[tuple[str, str]]):
    """Search check-in Tasks page by page until a page is not full or brings nothing new (what this beat could not
    handle, e.g. held by a takeover, is not tried twice in one run). No totals: the beat never needs them, and
    counting is a second pass over the matches."""
    seen: set[str] = set()
    while True:
        found = _scheduler_repo().search("Task", [*query, ("_count", str(SEARCH_PAGE)), ("_total", "none")]).matches
        page = [t for t in found if t["id"] not in seen]
        if page:
            seen.update(t["id"] for t in page)
            yield page
        if len(found) < SEARCH_PAGE or not page:
            return


def do_send_due_check_ins(now: datetime | None = None) -> list[str]:
    """Send every check-in due by `now` into its patient's conversation once, oldest first. Safe to run twice at
    once: each is claimed by a versioned update (If-Match) in the transaction that stores its message, and a
    check-in has at most one delivery row."""
    now = now or clock.now()
    if agent_paused():
        return []  # the kill switch holds the agent's check-ins too; they go out once it is resumed
    sent = []
    # The most selective criterion first: SQLite tests them in order, and "due by now" rules out nearly every
    # scheduled check-in (800 ms -> 6 ms with 5,000 scheduled, bench/checkins.py).
    query = [("period", f"le{instant(now)}"), ("status", "ready"), ("code", CHECK_IN), ("_sort", "period")]
    for page in _pages(query):
        sent += [task["id"] for task in page if _send(task, now)]
    return sent


def _conversation_of(patient_id: str) -> Conversation | None:
    return Conversation.objects.filter(patient__fhir_id=patient_id, patient__role=Role.PATIENT).first()


def _send(task: dict, now: datetime) -> bool:
    patient_id = patient_of(task)
    conversation = _conversation_of(patient_id)
    if conversation is None:
        log.error("check-in Task/%s: Patient/%s has no conversation", task["id"], patient_id)
        return False
    if conversation.taken_over_by_id:
        return False  # a clinician has the conversation: the agent stays silent there until it is handed back
    try:
        with transaction.atomic():
            _agent_repo(patient_id).update("Task", task["id"], progressed(task, "in-progress", "sent", now),
                                           if_match=_etag(task))
            message = Message.objects.create(conversation=conversation, author=Author.AGENT,
                                             text=CHECK_IN_TEXT.format(question=task.get("description", "")))
            CheckInDelivery.objects.create(task_id=task["id"], conversation=conversation, message=message,
                                           sent_at=now)
            send_event_on_commit(conversation.group_name, message.as_event())
    except FhirError as error:
        if error.status == 412:
            return False  # another beat sent it a moment ago
        raise
    except IntegrityError:
        return False  # a delivery row exists already: sent once, not twice
    return True


def _step_query(step: str, before: datetime) -> list[tuple[str, str]]:
    return [("business-status", f"{CHECK_IN_PROGRESS_SYSTEM}|{step}"), ("modified", f"le{instant(before)}"),
            ("status", "in-progress"), ("code", CHECK_IN), ("_sort", "modified")]


def do_follow_up_missed_check_ins(now: datetime | None = None) -> tuple[list[str], list[str]]:
    """A check-in unanswered CHECKIN_REMINDER_HOURS after it was sent gets one reminder; unanswered
    CHECKIN_ESCALATE_HOURS after the reminder it fails and the care team gets a Flag."""
    now = now or clock.now()
    escalated = []
    for page in _pages(_step_query("reminded", now - timedelta(hours=settings.CHECKIN_ESCALATE_HOURS))):
        escalated += [task["id"] for task in page if _escalate(task, now)]
    reminded = []
    if not agent_paused():
        for page in _pages(_step_query("sent", now - timedelta(hours=settings.CHECKIN_REMINDER_HOURS))):
            reminded += [task["id"] for task in page if _remind(task, now)]
    return reminded, escalated


def _remind(task: dict, now: datetime) -> bool:
    delivery = CheckInDelivery.objects.filter(task_id=task["id"]).select_related("conversation").first()
    if delivery is None or delivery.closed_at or delivery.conversation.taken_over_by_id:
        return False
    try:
        with transaction.atomic():
            _agent_repo(patient_of(task)).update("Task", task["id"], progressed(task, "in-progress", "reminded", now),
                                                 if_match=_etag(task))
            message = Message.objects.create(conversation=delivery.conversation, author=Author.AGENT,
                                             text=REMINDER_TEXT.format(question=task.get("description", "")))
            if CheckInDelivery.objects.filter(pk=delivery.pk, reminder__isnull=True).update(reminder=message) != 1:
                raise IntegrityError("reminded already")
            send_event_on_commit(delivery.conversation.group_name, message.as_event())
    except FhirError as error:
        if error.status == 412:
            return False
        raise
    except IntegrityError:
        return False
    return True


def _escalate(task: dict, now: datetime) -> bool:
    patient_id = patient_of(task)
    patient = _patient_user(patient_id)
    repo = _agent_repo(patient_id)
    deadline = respond_within(Level.URGENT)
    try:
        with transaction.atomic():
            repo.update("Task", task["id"], progressed(
                task, "failed", "escalated", now,
                statusReason={"text": "no reply to the check-in or its reminder"}), if_match=_etag(task))
            flag = repo.create(missed_flag(patient_id, task, now, now + deadline),
                               if_none_exist=f"identifier={MISSED_CHECK_IN_SYSTEM}|{task['id']}").resource
            CheckInDelivery.objects.filter(task_id=task["id"], closed_at__isnull=True).update(closed_at=now)
            conversation = _conversation_of(patient_id)
            notify_care_team(patient, flag, {
                "type": "alert.missed_check_in", "flag_id": flag["id"], "patient_id": patient_id,
                "patient": patient.get_full_name() or patient.username, "text": flag["code"]["text"],
                "conversation": str(conversation.public_id) if conversation else "", "task_id": task["id"],
                "respond_by": flag["extension"][0]["valueDateTime"]})
    except FhirError as error:
        if error.status == 412:
            return False
        raise
    return True


def do_complete_ended_plans(now: datetime | None = None) -> list[str]:
    """Active follow-up plans whose period has ended and that have no check-in still open become completed."""
    now = now or clock.now()
    repo = _scheduler_repo()
    plans = repo.search("CarePlan", [("date", f"eb{instant(now)}"), ("status", "active"), ("category", FOLLOW_UP),
                                     ("_count", str(SEARCH_PAGE)), ("_total", "none")]).matches
    done = []
    for plan in plans:
        open_tasks = repo.search("Task", [("based-on", f"CarePlan/{plan['id']}"), ("status", "ready,in-progress"),
                                          ("_summary", "count")]).total
        if open_tasks:
            continue
        try:
            with transaction.atomic():
                _agent_repo(patient_of(plan), plans=True).update("CarePlan", plan["id"],
                                                                 {**plan, "status": "completed"},
                                                                 if_match=_etag(plan))
        except FhirError as error:
            if error.status == 412:
                continue
            raise
        done.append(plan["id"])
    return done


# ---- the patient answers ----------------------------------------------------------------------------------

def do_mark_check_ins_answered(conversation: Conversation, message: Message) -> list[str]:
    """The patient wrote after a check-in was sent: it is answered, with their words as its output. Runs on every
    patient message, so when nothing is open it costs one indexed query and nothing else."""
    open_ids = list(CheckInDelivery.objects.filter(conversation=conversation, closed_at__isnull=True)
                    .values_list("pk", flat=True))
    if not open_ids:
        return []
    now = clock.now()
    # The answer is recorded by the agent that asked: patients write nothing into the record themselves
    # (fhir/access.py), and the check-in Task is the agent's.
    repo = _agent_repo(conversation.patient.fhir_id)
    answered = []
    for pk in open_ids:
        with transaction.atomic():
            delivery = CheckInDelivery.objects.select_for_update().filter(pk=pk, closed_at__isnull=True).first()
            if delivery is None:
                continue
            task = repo.read("Task", delivery.task_id)
            if task.get("status") == "in-progress":
                repo.update("Task", task["id"], progressed(task, "completed", "answered", now, output=[
                    {"type": {"text": "patient reply"}, "valueString": message.text[:1000]}]))
            delivery.closed_at, delivery.answer = now, message
            delivery.save(update_fields=["closed_at", "answer"])
            answered.append(delivery.task_id)
    return answered


def due_text(task: dict, patient: User) -> str:
    due = due_of(task)
    return local_text(due, zone_of(patient)) if due else ""
