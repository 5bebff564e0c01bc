"""What a patient sees of their own record, and the confirmation levels of recorded facts.

Facts the agent or perception records carry a tag in ``meta.tag`` (system CONFIRMATION_SYSTEM):
``unconfirmed`` -> ``patient-confirmed`` -> ``clinician-verified`` (or ``rejected``). A patient
sees their released record: facts a clinician verified, final documents, and what they reported
themselves; not clinicians' drafts, not rejected facts, not the audit trail.

What a clinician must release explicitly (the signed summaries of webapp/actions/summaries.py) carries a second tag
(system RELEASE_SYSTEM): ``held`` until the clinician releases it, then ``released``. A held resource is never
released, whatever its status; a released one still is not while its status marks a draft.
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

RELEASE_SYSTEM = "https://continuum.health/fhir/CodeSystem/release"
HELD, RELEASED = "held", "released"


def _tag(resource: dict, system: str) -> str | None:
    for tag in resource.get("meta", {}).get("tag", []):
        if tag.get("system") == system:
            return tag.get("code")
    return None


def confirmation_of(resource: dict) -> str | None:
    return _tag(resource, CONFIRMATION_SYSTEM)


def release_of(resource: dict) -> str | None:
    """HELD or RELEASED for what a clinician releases explicitly; None for everything else."""
    return _tag(resource, RELEASE_SYSTEM)


def is_released(resource: dict) -> bool:
    """Whether the patient whose record this is may see it."""
    if resource["resourceType"] in _NEVER_RELEASED or resource.get("status") == "entered-in-error":
        return False
    if release_of(resource) == HELD:
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
    return _with_tag(resource, CONFIRMATION_SYSTEM, level)


def with_release(resource: dict, state: str) -> dict:
    """A copy of the resource held back from the patient (HELD) or released to them (RELEASED)."""
    if state not in (HELD, RELEASED):
        raise ValueError(f"unknown release state {state!r}")
    return _with_tag(resource, RELEASE_SYSTEM, state)


def _with_tag(resource: dict, system: str, code: str) -> dict:
    meta = dict(resource.get("meta", {}))
    tags = [t for t in meta.get("tag", []) if t.get("system") != system]
    meta["tag"] = [*tags, {"system": system, "code": code}]
    return {**resource, "meta": meta}
