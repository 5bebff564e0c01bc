"""What a patient sees of their own record, and the confirmation levels of recorded facts.

Facts the agent or perception records carry a tag in ``meta.tag`` (system CONFIRMATION_SYSTEM):
``unconfirmed`` -> ``patient-confirmed`` -> ``clinician-verified`` (or ``rejected``). A patient
sees their released record: facts a clinician verified, final documents, and what they reported
themselves; not clinicians' drafts, not rejected facts, not the audit trail.
"""

from __future__ import annotations

CONFIRMATION_SYSTEM = "https://continuum.health/fhir/CodeSystem/confirmation"
UNCONFIRMED, PATIENT_CONFIRMED, CLINICIAN_VERIFIED, REJECTED = (
    "unconfirmed", "patient-confirmed", "clinician-verified", "rejected")
CONFIRMATION_LEVELS = (UNCONFIRMED, PATIENT_CONFIRMED, CLINICIAN_VERIFIED, REJECTED)

# Status values that mark work in progress by clinicians (drafts), per resource type and element.
_DRAFT_STATUS = {
    "Composition": ("status", {"preliminary"}),
    "DocumentReference": ("docStatus", {"preliminary"}),
    "DiagnosticReport": ("status", {"registered", "partial", "preliminary"}),
    "Observation": ("status", {"registered", "preliminary"}),
    "CarePlan": ("status", {"draft"}),
    "MedicationRequest": ("status", {"draft"}),
    "Consent": ("status", {"draft", "proposed"}),
}
_NEVER_RELEASED = {"AuditEvent", "Provenance"}


def confirmation_of(resource: dict) -> str | None:
    for tag in resource.get("meta", {}).get("tag", []):
        if tag.get("system") == CONFIRMATION_SYSTEM:
            return tag.get("code")
    return None


def is_released(resource: dict) -> bool:
    """Whether the patient whose record this is may see it."""
    if resource["resourceType"] in _NEVER_RELEASED or resource.get("status") == "entered-in-error":
        return False
    confirmation = confirmation_of(resource)
    if confirmation == REJECTED:
        return False
    if confirmation in (UNCONFIRMED, PATIENT_CONFIRMED, CLINICIAN_VERIFIED):
        return True  # the patient's own reports, and what a clinician verified
    element, drafts = _DRAFT_STATUS.get(resource["resourceType"], ("", set()))
    return resource.get(element) not in drafts


def with_confirmation(resource: dict, level: str) -> dict:
    """A copy of the resource with its confirmation tag set to ``level``."""
    if level not in CONFIRMATION_LEVELS:
        raise ValueError(f"unknown confirmation level {level!r}")
    meta = dict(resource.get("meta", {}))
    tags = [t for t in meta.get("tag", []) if t.get("system") != CONFIRMATION_SYSTEM]
    meta["tag"] = [*tags, {"system": CONFIRMATION_SYSTEM, "code": level}]
    return {**resource, "meta": meta}
