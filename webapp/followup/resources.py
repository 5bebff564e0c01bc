"""The FHIR shapes of follow-up (a contract others read: the panel, the EHR, the agent).

A follow-up plan is a CarePlan (intent plan, category follow-up): `draft` while proposed, `active` once a
clinician approved it (`contributor` and a Provenance name them), `revoked` if rejected or stopped, `completed` at
its end. Each `activity.detail` is one kind of check-in: what to ask (`description`), about what (`code.text`),
from when, how often and how many times (`scheduledTiming.repeat`).

A check-in is a Task (intent plan, code care-task|check-in) for the patient, based on its plan, with the question
as `description` and its due instant as `executionPeriod.start`; status `ready` (scheduled), `in-progress` (sent,
`businessStatus` sent or reminded), `completed` (answered, the reply in `output`), `failed` (missed and escalated)
or `cancelled`. Never `requested`: that is the panel's "waiting for a clinician".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fhir.dates import date_range
from fhir.persistence import instant
from webapp.followup.local_time import series

BASE = "https://continuum.health/fhir"
PLAN_CATEGORY_SYSTEM = f"{BASE}/CodeSystem/care-plan-category"
CARE_TASK_SYSTEM = f"{BASE}/CodeSystem/care-task"
CHECK_IN_PROGRESS_SYSTEM = f"{BASE}/CodeSystem/check-in-progress"  # Task.businessStatus: sent, reminded, ...
FOLLOW_UP_FLAG_SYSTEM = f"{BASE}/CodeSystem/follow-up-flag"
CHECK_IN_ID_SYSTEM = f"{BASE}/sid/check-in"  # one Task per (plan, activity, occurrence): scheduling twice is harmless
MISSED_CHECK_IN_SYSTEM = f"{BASE}/sid/missed-check-in"  # one Flag per missed Task
CHECK_IN = f"{CARE_TASK_SYSTEM}|check-in"
FOLLOW_UP = f"{PLAN_CATEGORY_SYSTEM}|follow-up"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
AGENT_DISPLAY = "Continuum agent"


@dataclass
class CheckInKind:
    """One activity of a plan: ask `question` about `topic` `count` times, `every_days` apart, from `first`."""

    topic: str
    question: str
    first: datetime  # UTC
    every_days: int = 0  # 0: once
    count: int = 1

    def due_times(self, zone: ZoneInfo) -> list[datetime]:
        return series(self.first, self.every_days, 1 if not self.every_days else self.count, zone)

    def describe(self) -> str:
        if not self.every_days or self.count <= 1:
            return f"{self.topic}: once"
        return f"{self.topic}: every {self.every_days} days, {self.count} times"


def activity(kind: CheckInKind, status: str) -> dict:
    repeat: dict = {"boundsPeriod": {"start": instant(kind.first)}, "count": kind.count if kind.every_days else 1}
    if kind.every_days:
        repeat |= {"frequency": 1, "period": kind.every_days, "periodUnit": "d"}
    return {"detail": {
        "kind": "Task", "status": status, "description": kind.question[:1000],
        "code": {"coding": [{"system": CARE_TASK_SYSTEM, "code": "check-in", "display": "Check-in"}],
                 "text": kind.topic[:200]},
        "scheduledTiming": {"repeat": repeat}}}


def kinds_of(plan: dict) -> list[CheckInKind]:
    """The plan's check-in activities, read back."""
    kinds = []
    for item in plan.get("activity", []):
        detail = item.get("detail", {})
        repeat = detail.get("scheduledTiming", {}).get("repeat", {})
        start = repeat.get("boundsPeriod", {}).get("start")
        if not start or detail.get("code", {}).get("coding", [{}])[0].get("code") != "check-in":
            continue
        kinds.append(CheckInKind(topic=detail.get("code", {}).get("text", "check-in"),
                                 question=detail.get("description", ""), first=date_range(start)[0],
                                 every_days=int(repeat.get("period", 0)) if repeat.get("frequency") else 0,
                                 count=int(repeat.get("count", 1))))
    return kinds


def plan_period(start: datetime, kinds: list[CheckInKind], zone: ZoneInfo) -> dict:
    """From now to a day after the last check-in (time for the last answer to come in)."""
    last = max((t for kind in kinds for t in kind.due_times(zone)), default=start)
    return {"start": instant(start), "end": instant(last + timedelta(days=1))}


def care_plan(patient_id: str, kinds: list[CheckInKind], author: dict, reason: str, now: datetime,
              zone: ZoneInfo) -> dict:
    return {
        "resourceType": "CarePlan", "status": "draft", "intent": "plan",
        "category": [{"coding": [{"system": PLAN_CATEGORY_SYSTEM, "code": "follow-up",
                                  "display": "Follow-up plan"}]}],
        "title": ("Follow-up: " + ", ".join(k.topic for k in kinds))[:200],
        "description": reason[:1000] or "Follow-up check-ins",
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": plan_period(now, kinds, zone),
        "created": instant(now),
        "author": author,
        "activity": [activity(kind, "not-started") for kind in kinds],
    }


def with_kinds(plan: dict, kinds: list[CheckInKind], now: datetime, zone: ZoneInfo, status: str) -> dict:
    """The plan with its activities replaced (a clinician edited the schedule) and set to `status`."""
    start = date_range(plan["period"]["start"])[0] if plan.get("period", {}).get("start") else now
    return {**plan, "status": status, "period": plan_period(min(start, now), kinds, zone),
            "title": ("Follow-up: " + ", ".join(k.topic for k in kinds))[:200],
            "activity": [activity(kind, "scheduled" if status == "active" else "not-started") for kind in kinds]}


def check_in_task(patient_id: str, plan_id: str, kind: CheckInKind, due: datetime, key: str, now: datetime,
                  requester: dict) -> dict:
    return {
        "resourceType": "Task", "status": "ready", "intent": "plan",
        "identifier": [{"system": CHECK_IN_ID_SYSTEM, "value": key}],
        "code": {"coding": [{"system": CARE_TASK_SYSTEM, "code": "check-in", "display": "Check-in"}],
                 "text": kind.topic[:200]},
        "description": kind.question[:1000],
        "for": {"reference": f"Patient/{patient_id}"},
        "basedOn": [{"reference": f"CarePlan/{plan_id}"}],
        "executionPeriod": {"start": instant(due)},
        "authoredOn": instant(now),
        "requester": requester,
    }


def progressed(task: dict, status: str, step: str, now: datetime, **extra) -> dict:
    """The Task at a new step of its life (sent, reminded, answered, escalated), lastModified now."""
    return {**task, "status": status, "lastModified": instant(now), **extra,
            "businessStatus": {"coding": [{"system": CHECK_IN_PROGRESS_SYSTEM, "code": step}], "text": step}}


def approval_provenance(plan: dict, clinician_reference: str, clinician_display: str, now: datetime) -> dict:
    version = f"CarePlan/{plan['id']}/_history/{plan['meta']['versionId']}"
    return {
        "resourceType": "Provenance", "target": [{"reference": version}], "recorded": instant(now),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "UPDATE"}], "text": "follow-up plan approved"},
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "verifier"}]},
                   "who": {"reference": clinician_reference, "display": clinician_display}}],
    }


def missed_flag(patient_id: str, task: dict, now: datetime, respond_by: datetime) -> dict:
    from agent.safety.escalation import DEADLINE_EXTENSION

    return {
        "resourceType": "Flag", "status": "active",
        "identifier": [{"system": MISSED_CHECK_IN_SYSTEM, "value": task["id"]}],
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                                  "code": "clinical", "display": "Clinical"}]}],
        "code": {"coding": [{"system": FOLLOW_UP_FLAG_SYSTEM, "code": "missed-check-in",
                             "display": "Missed check-in"}],
                 "text": f"Missed check-in: {task.get('description', '')}"[:1000]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": instant(now)},
        "author": {"display": "Continuum follow-up"},
        "extension": [{"url": DEADLINE_EXTENSION, "valueDateTime": instant(respond_by)}],
    }


def due_of(task: dict) -> datetime | None:
    start = task.get("executionPeriod", {}).get("start")
    return date_range(start)[0] if start else None


def patient_of(resource: dict) -> str:
    ref = (resource.get("for") or resource.get("subject") or {}).get("reference", "")
    return ref.removeprefix("Patient/")
