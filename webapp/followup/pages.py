"""What the follow-up pages show, read through the viewer's own Repository (care team or the patient themselves,
audited as them). Times are shown on the patient's clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from fhir.access import requester_for_user
from fhir.dates import date_range
from fhir.errors import not_found
from fhir.store import Repository
from webapp.accounts.models import Role, User
from webapp.actions.followup import zone_of
from webapp.chat.models import Conversation
from webapp.followup.local_time import local_text
from webapp.followup.resources import CHECK_IN, FOLLOW_UP, CheckInKind, due_of, kinds_of, patient_of

PAGE = 200


@dataclass
class CheckInRow:
    id: str
    topic: str
    question: str
    due: str  # on the patient's clock
    status: str  # ready | in-progress | completed | failed | cancelled
    step: str  # sent | reminded | answered | escalated (businessStatus)
    answer: str = ""

    @property
    def label(self) -> str:
        return {"ready": "scheduled", "in-progress": "waiting for a reply" if self.step != "reminded" else
                "reminded, waiting for a reply", "completed": "answered", "failed": "missed: care team alerted",
                "cancelled": "cancelled"}.get(self.status, self.status)


@dataclass
class PlanRow:
    id: str
    status: str
    title: str
    description: str
    patient: User | None
    conversation: Conversation | None
    author: str
    approver: str
    period: str
    kinds: list[CheckInKind]
    zone: ZoneInfo
    check_ins: list[CheckInRow] = field(default_factory=list)

    @property
    def schedule(self) -> list[str]:
        return [f"{k.describe()}, first {local_text(k.first, self.zone)}" for k in self.kinds]


def _check_in_row(task: dict, zone: ZoneInfo) -> CheckInRow:
    due = due_of(task)
    output = next((o.get("valueString", "") for o in task.get("output", [])), "")
    return CheckInRow(id=task["id"], topic=task.get("code", {}).get("text", ""),
                      question=task.get("description", ""), due=local_text(due, zone) if due else "",
                      status=task.get("status", ""), step=task.get("businessStatus", {}).get("text", ""),
                      answer=output)


def _plan_row(plan: dict, patients: dict[str, User]) -> PlanRow:
    patient = patients.get(patient_of(plan))
    zone = zone_of(patient) if patient else ZoneInfo("UTC")
    period = plan.get("period", {})
    return PlanRow(id=plan["id"], status=plan.get("status", ""), title=plan.get("title", "Follow-up"),
                   description=plan.get("description", ""), patient=patient,
                   conversation=getattr(patient, "conversation", None) if patient else None,
                   author=plan.get("author", {}).get("display", ""),
                   approver=", ".join(c.get("display", "") for c in plan.get("contributor", [])),
                   period=" to ".join(local_text(t, zone) for t in map(_instant, (period.get("start"),
                                                                                  period.get("end"))) if t),
                   kinds=kinds_of(plan), zone=zone)


def _instant(text: str | None):
    return date_range(text)[0] if text else None


def _patients(ids: set[str]) -> dict[str, User]:
    users = User.objects.filter(fhir_id__in=ids, role=Role.PATIENT).select_related("patient_profile", "conversation")
    return {u.fhir_id: u for u in users}


def clinician_plans(clinician: User) -> list[PlanRow]:
    """Proposed plans first (they wait for a decision), then active ones; care team only."""
    repo = Repository(requester_for_user(clinician), channel="app")
    plans = repo.search("CarePlan", [("category", FOLLOW_UP), ("status", "draft,active"),
                                     ("_sort", "-_lastUpdated"), ("_count", str(PAGE))]).matches
    patients = _patients({patient_of(p) for p in plans})
    rows = [_plan_row(p, patients) for p in plans]
    return sorted(rows, key=lambda r: r.status != "draft")


def plan_page(clinician: User, plan_id: str) -> PlanRow:
    """One plan with its check-ins (FhirError 404 outside the clinician's care team)."""
    repo = Repository(requester_for_user(clinician), channel="app")
    plan = repo.read("CarePlan", plan_id)
    if not any(c.get("code") == "follow-up" for cat in plan.get("category", []) for c in cat.get("coding", [])):
        raise not_found("CarePlan", plan_id)
    row = _plan_row(plan, _patients({patient_of(plan)}))
    tasks = repo.search("Task", [("based-on", f"CarePlan/{plan_id}"), ("code", CHECK_IN), ("_sort", "period"),
                                 ("_count", str(PAGE))]).matches
    row.check_ins = [_check_in_row(t, row.zone) for t in tasks]
    return row


@dataclass
class FollowUpSection:
    plans: list[PlanRow]
    upcoming: list[CheckInRow]
    waiting: list[CheckInRow]
    missed: list[CheckInRow]
    answered: list[CheckInRow]


def conversation_section(clinician: User, patient: User) -> FollowUpSection:
    """For the patient's conversation page: their follow-up plans and check-ins (one audited batch)."""
    repo = Repository(requester_for_user(clinician), channel="app")
    plans, tasks = repo.search_many([
        ("CarePlan", [("patient", f"Patient/{patient.fhir_id}"), ("category", FOLLOW_UP),
                      ("status", "draft,active"), ("_count", str(PAGE))]),
        ("Task", [("patient", f"Patient/{patient.fhir_id}"), ("code", CHECK_IN), ("_sort", "period"),
                  ("_count", str(PAGE))])])
    zone = zone_of(patient)
    rows = [_check_in_row(t, zone) for t in tasks.matches]
    return FollowUpSection(plans=[_plan_row(p, {patient.fhir_id: patient}) for p in plans.matches],
                           upcoming=[r for r in rows if r.status == "ready"],
                           waiting=[r for r in rows if r.status == "in-progress"],
                           missed=[r for r in rows if r.status == "failed"],
                           answered=[r for r in rows if r.status == "completed"][-5:])


def patient_check_ins(patient: User) -> dict:
    """The patient's own upcoming and open check-ins and active plans (their released record)."""
    repo = Repository(requester_for_user(patient), channel="app")
    plans, tasks = repo.search_many([
        ("CarePlan", [("patient", f"Patient/{patient.fhir_id}"), ("category", FOLLOW_UP), ("status", "active"),
                      ("_count", str(PAGE))]),
        ("Task", [("patient", f"Patient/{patient.fhir_id}"), ("code", CHECK_IN), ("status", "ready,in-progress"),
                  ("_sort", "period"), ("_count", str(PAGE))])])
    zone = zone_of(patient)
    rows = [_check_in_row(t, zone) for t in tasks.matches]
    return {"plans": [_plan_row(p, {patient.fhir_id: patient}) for p in plans.matches],
            "upcoming": [r for r in rows if r.status == "ready"],
            "waiting": [r for r in rows if r.status == "in-progress"], "zone": str(zone)}
