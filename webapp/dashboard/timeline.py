"""A patient's timeline for the care team: conversations (day by day), reported symptoms and problems, allergies,
medications, observations, documents, flags, summaries and check-ins, newest first, in one list.

Read in one audited batch through the reader's Repository (the newest of each kind by its clinical date), merged by
time. A day of conversation is one entry (how many messages, the first words, any red-flag decision) rather than
every message: the conversation itself is on the same page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate

from agent.memory.recall import concept_text
from fhir.access import requester_for_user
from fhir.release import confirmation_of
from fhir.store import Repository
from webapp.accounts.access import can_view_patient
from webapp.accounts.models import User
from webapp.chat.models import Author, Message
from webapp.dashboard.record import LEVEL_LABELS, describe

PER_KIND = 50  # the newest of each kind; the merged list keeps LIMIT of them
LIMIT = 150
# Each kind, the search that returns its newest first, and how an entry is labelled.
SEARCHES = (
    ("Condition", "recorded-date", "symptom or problem"),
    ("AllergyIntolerance", "date", "allergy"),
    ("MedicationStatement", "effective", "medication"),
    ("Observation", "date", "observation"),
    ("DocumentReference", "date", "document"),
    ("Flag", "date", "flag"),
    ("Composition", "date", "summary"),
    ("Task", "period", "check-in or task"),
)
LABELS = {kind: label for kind, _, label in SEARCHES}


@dataclass(frozen=True)
class TimelineEntry:
    when: str  # ISO date or date-time, as recorded
    kind: str  # a resource type, or "conversation"
    label: str
    text: str
    level: str = ""  # confirmation level of a recorded fact
    fhir_id: str = ""

    @property
    def shown(self) -> str:
        return self.when[:16].replace("T", " ")

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, "")


def _when(resource: dict) -> str:
    kind = resource["resourceType"]
    if kind == "Composition":
        return resource.get("date", "")
    if kind == "Task":
        return resource.get("executionPeriod", {}).get("start") or resource.get("authoredOn") or ""
    if kind == "AllergyIntolerance":
        return resource.get("recordedDate") or resource.get("onsetDateTime") or ""
    if kind == "MedicationStatement":
        return resource.get("effectiveDateTime") or resource.get("dateAsserted") or ""
    return describe(resource)[1]


def _text(resource: dict) -> str:
    kind = resource["resourceType"]
    if kind == "Composition":
        return f"{resource.get('title') or 'Summary'} ({resource.get('status')})"
    if kind == "Task":
        return f"{resource.get('description') or concept_text(resource.get('code'))} ({resource.get('status')})"
    return describe(resource)[0]


def record_entries(reader: User, patient: User, observations: list[dict] | None = None) -> list[TimelineEntry]:
    """observations: the newest, already read through the reader's Repository (the page shares one read)."""
    if not patient.fhir_id:
        return []
    repo = Repository(requester_for_user(reader), channel="app")
    subject = ("patient", f"Patient/{patient.fhir_id}")
    wanted = [(kind, [subject, ("_sort", f"-{date}"), ("_count", str(PER_KIND)), ("_total", "none")])
              for kind, date, _ in SEARCHES if repo.requester.may_read_type(kind)
              and not (kind == "Observation" and observations is not None)]
    found = [(kind, result.matches) for (kind, _), result in zip(wanted, repo.search_many(wanted), strict=True)]
    if observations is not None:
        found.append(("Observation", observations[:PER_KIND]))
    entries = []
    for kind, matches in found:
        for resource in matches:
            when = _when(resource) or resource.get("meta", {}).get("lastUpdated", "")
            entries.append(TimelineEntry(when, kind, LABELS[kind], _text(resource),
                                         confirmation_of(resource) or "", resource["id"]))
    return entries


def conversation_entries(patient: User) -> list[TimelineEntry]:
    """One entry per day the patient wrote: how many messages, the first words, the highest triage level."""
    days = (Message.objects.filter(conversation__patient=patient, author=Author.PATIENT)
            .annotate(day=TruncDate("created_at")).values("day")
            .annotate(n=Count("id"), first=Min("id"), last=Max("created_at")).order_by("-day")[:PER_KIND])
    firsts = dict(Message.objects.filter(id__in=[d["first"] for d in days]).values_list("id", "text"))
    levels = set(Message.objects.filter(conversation__patient=patient, author=Author.PATIENT,
                                        triage_level__in=("emergency", "urgent"))
                 .annotate(day=TruncDate("created_at")).values_list("day", "triage_level"))
    entries = []
    for day in days:
        words = " ".join(firsts.get(day["first"], "").split())
        text = f"{day['n']} message{'s' if day['n'] != 1 else ''}: “{words[:120]}{'…' if len(words) > 120 else ''}”"
        for level in ("emergency", "urgent"):
            if (day["day"], level) in levels:
                text += f" (triage: {level})"
                break
        last: datetime = day["last"]
        entries.append(TimelineEntry(last.isoformat(), "conversation", "conversation", text))
    return entries


def _instant(text: str) -> datetime:
    """For ordering: FHIR times carry their own offsets (or none, or are dates); unreadable ones sort last."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def patient_timeline(reader: User, patient: User, limit: int = LIMIT, observations: list[dict] | None = None
                     ) -> list[TimelineEntry]:
    """Newest first, at most `limit` entries, as `reader` may see the record (and the conversation only if they may
    see the patient at all)."""
    talk = conversation_entries(patient) if can_view_patient(reader, patient.pk) else []
    entries = record_entries(reader, patient, observations) + talk
    return sorted(entries, key=lambda e: _instant(e.when), reverse=True)[:limit]
