"""The clinician's panel: their patients (care team only), most urgent first.

Order: open red flags (emergency before urgent), then abnormal trends (Flags of agent/safety/trend_rules.py), then
overdue check-ins (the missed-check-in Flags of webapp/actions/followup.py), each by the earliest respond-by
deadline; then what waits for the clinician (agent proposals and review tasks, follow-up plans to approve, summaries
to sign, unconfirmed facts, agent messages the patient marked wrong), then unread patient messages, then everyone
else by name.
The record is read through the clinician's own Repository (care team only, audited): active Flags in full (there
are few), and per-patient counts for the rest (one query per kind, whatever the panel's size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from agent.safety.escalation import DEADLINE_EXTENSION, TRIAGE_LEVEL_SYSTEM
from agent.safety.trend_rules import TREND_RULE_SYSTEM
from fhir.access import requester_for_user
from fhir.release import CONFIRMATION_SYSTEM, UNCONFIRMED
from fhir.store import Repository
from webapp.accounts.models import User
from webapp.alerts.record import acknowledgement_of
from webapp.chat.models import Author, Conversation, Message, MessageReport
from webapp.followup.resources import FOLLOW_UP_FLAG_SYSTEM

# Kinds of recorded fact that wait for a clinician to confirm or reject them.
FACT_TYPES = ("Condition", "AllergyIntolerance", "MedicationStatement", "Observation", "DiagnosticReport",
              "DocumentReference")
# A Flag's place in the order, by the code system that raised it: red-flag triage (its level), trend rules, missed
# check-ins; any other active Flag (one an EHR wrote, say) after those.
LEVELS = {"emergency": 0, "urgent": 1, "trend": 2, "overdue": 3, "other": 4}
KIND_OF_SYSTEM = {TREND_RULE_SYSTEM: "trend", FOLLOW_UP_FLAG_SYSTEM: "overdue"}
MAX_FLAGS = 1000  # active flags read in full; more than this on one panel is itself the emergency


@dataclass
class PanelRow:
    patient: User
    conversation: Conversation
    # {"id", "level", "text", "since", "respond_by", "acknowledged_by", "acknowledged_at"}
    flags: list[dict] = field(default_factory=list)
    tasks: int = 0  # agent proposals and review tasks waiting
    plans: int = 0  # follow-up plans proposed, waiting for approval
    summaries: int = 0  # drafted summaries waiting to be signed
    reports: int = 0  # agent messages the patient marked wrong, not yet reviewed
    unconfirmed: int = 0
    unread: int = 0

    @property
    def name(self) -> str:
        return self.patient.get_full_name() or self.patient.username

    @property
    def top_level(self) -> str | None:
        levels = sorted((f["level"] for f in self.flags), key=lambda level: LEVELS.get(level, 9))
        return levels[0] if levels else None

    def sort_key(self) -> tuple:
        deadline = min((f["respond_by"] or "9999" for f in self.flags), default="9999")
        waiting = self.tasks + self.plans + self.summaries + self.unconfirmed + self.reports
        return (LEVELS.get(self.top_level, 9) if self.flags else 9, deadline, -waiting, -self.unread, self.name.lower())


def flag_summary(flag: dict) -> dict:
    coding = (flag.get("code", {}).get("coding") or [{}])[0]
    system = coding.get("system", "")
    level = coding.get("code", "") if system == TRIAGE_LEVEL_SYSTEM else KIND_OF_SYSTEM.get(system, "other")
    deadline = next((e.get("valueDateTime") for e in flag.get("extension", []) if e.get("url") == DEADLINE_EXTENSION),
                    None)
    acknowledged = acknowledgement_of(flag)  # webapp/alerts: who acknowledged its alert, and when
    return {"id": flag["id"], "level": level, "text": flag.get("code", {}).get("text", ""),
            "since": flag.get("period", {}).get("start"), "respond_by": deadline,
            "acknowledged_by": acknowledged[0] if acknowledged else None,
            "acknowledged_at": acknowledged[1] if acknowledged else None}


def panel_rows(clinician: User) -> list[PanelRow]:
    """The clinician's patients, most urgent first."""
    conversations = list(Conversation.objects.filter(patient__care_team__clinician=clinician, simulated=False)
                         .select_related("patient", "taken_over_by"))
    ids = [c.id for c in conversations]
    unread = unread_counts(clinician, ids)
    reports = dict(MessageReport.objects.filter(message__conversation_id__in=ids, resolved_at__isnull=True)
                   .values_list("message__conversation_id").annotate(n=Count("id")).order_by())
    rows = {c.patient.fhir_id or f"user-{c.patient_id}": PanelRow(c.patient, c, unread=unread.get(c.id, 0),
                                                                   reports=reports.get(c.id, 0))
            for c in conversations}
    repo = Repository(requester_for_user(clinician), channel="app")
    flags = repo.search("Flag", [("status", "active"), ("_count", str(MAX_FLAGS))]).matches
    for flag in flags:
        patient_id = flag.get("subject", {}).get("reference", "").removeprefix("Patient/")
        if patient_id in rows:
            rows[patient_id].flags.append(flag_summary(flag))
    tag = f"{CONFIRMATION_SYSTEM}|{UNCONFIRMED}"
    tasks, plans, summaries, *facts = repo.count_by_patient([
        ("Task", [("status", "requested")]), ("CarePlan", [("status", "draft")]),
        ("Composition", [("status", "preliminary")]), *[(t, [("_tag", tag)]) for t in FACT_TYPES]])
    for patient_id, row in rows.items():
        row.tasks = tasks.get(patient_id, 0)
        row.plans = plans.get(patient_id, 0)
        row.summaries = summaries.get(patient_id, 0)
        row.unconfirmed = sum(counts.get(patient_id, 0) for counts in facts)
    return sorted(rows.values(), key=PanelRow.sort_key)


def unread_counts(clinician: User, conversation_ids: list[int]) -> dict[int, int]:
    """Patient messages newer than what the clinician has seen, per conversation (one query)."""
    from webapp.dashboard.models import ConversationRead

    mark = ConversationRead.objects.filter(clinician=clinician, conversation_id=OuterRef("conversation_id")).values(
        "last_message_id")[:1]
    rows = (Message.objects.filter(conversation_id__in=conversation_ids, author=Author.PATIENT)
            .filter(id__gt=Coalesce(Subquery(mark), Value(0)))
            .values("conversation_id").annotate(n=Count("id")).order_by())
    return {row["conversation_id"]: row["n"] for row in rows}
