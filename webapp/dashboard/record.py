"""The patient's record as the care team reviews it: allergies, open red flags, problems, medications, recent
observations and documents, each with its confirmation level, read through the clinician's audited Repository
(the same sections the agent reads, agent/memory/recall.py)."""

from __future__ import annotations

from dataclasses import dataclass

from agent.memory.recall import concept_text, observation_value, read_sections
from fhir.access import requester_for_user
from fhir.release import confirmation_of
from fhir.store import Repository
from webapp.accounts.models import User

SECTIONS = (("AllergyIntolerance", "Allergies"), ("Flag", "Open red flags"), ("Condition", "Problems"),
            ("MedicationStatement", "Medications"), ("Observation", "Recent observations"),
            ("DocumentReference", "Documents"))
LEVEL_LABELS = {"unconfirmed": "unconfirmed", "patient-confirmed": "confirmed by the patient",
                "clinician-verified": "verified", "rejected": "rejected"}


@dataclass(frozen=True)
class RecordItem:
    resource_type: str
    fhir_id: str
    text: str
    when: str
    level: str | None  # confirmation level; None for what was not recorded by the agent or perception

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level or "", "")

    @property
    def reviewable(self) -> bool:
        return self.level in ("unconfirmed", "patient-confirmed")


def describe(resource: dict) -> tuple[str, str]:
    kind = resource["resourceType"]
    if kind == "Observation":
        return (f"{concept_text(resource.get('code'))}: {observation_value(resource)}",
                resource.get("effectiveDateTime") or "")
    if kind == "MedicationStatement":
        return concept_text(resource.get("medicationCodeableConcept")), resource.get("dateAsserted") or ""
    if kind == "DocumentReference":
        return resource.get("description") or "document", resource.get("date") or ""
    if kind == "Flag":
        return concept_text(resource.get("code")), resource.get("period", {}).get("start") or ""
    return concept_text(resource.get("code")), resource.get("recordedDate") or resource.get("onsetDateTime") or ""


def patient_record(reader: User, patient: User, observations: list[dict] | None = None
                   ) -> list[tuple[str, list[RecordItem]]]:
    """The record's sections as `reader` may see them: the care team for review, the patient what was released to
    them (an empty list when there is no record)."""
    if not patient.fhir_id:
        return []
    known = {"Observation": observations} if observations is not None else None  # newest first, already read
    sections = read_sections(Repository(requester_for_user(reader), channel="app"), f"Patient/{patient.fhir_id}",
                             known)
    out = []
    for resource_type, title in SECTIONS:
        items = []
        for resource in sections[resource_type]:
            text, when = describe(resource)
            items.append(RecordItem(resource_type, resource["id"], text, when[:16], confirmation_of(resource)))
        out.append((title, items))
    return out
