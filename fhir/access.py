"""Who is asking: a Requester carries what one caller may read and write in the record.

Every entry point builds one (a logged-in user, an OAuth token, the agent acting in a
conversation, the server itself) and hands it to fhir.store.Repository, which enforces it on
every interaction: reads, searches, includes, $everything and writes alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir.definitions import APPEND_ONLY, RESOURCE_TYPES, is_patient_specific
from fhir.scopes import Scopes

ALL_TYPES = frozenset(RESOURCE_TYPES)
# What the patient-facing agent may write; agent/policies narrows it further per phase.
AGENT_WRITE_TYPES = frozenset({"Observation", "Condition", "AllergyIntolerance", "MedicationStatement", "Flag",
                               "Communication", "Provenance", "Task", "DocumentReference", "Binary", "Media",
                               "DiagnosticReport"})


@dataclass(frozen=True)
class Requester:
    kind: str  # patient | clinician | admin | system | agent
    reference: str  # who, as a FHIR reference: "Patient/1", "Practitioner/2", "Device/continuum-agent"
    display: str
    patient_ids: frozenset[str] | None  # the patients whose compartments it may touch; None: every patient
    read_types: frozenset[str]
    write_types: frozenset[str]
    released_only: bool = False  # a patient sees their released record only (fhir/release.py)
    user_id: int | None = None
    client_id: str | None = None

    def may_read_type(self, resource_type: str) -> bool:
        return resource_type in self.read_types

    def may_write_type(self, resource_type: str) -> bool:
        return resource_type in self.write_types and resource_type not in APPEND_ONLY

    def may_touch_patient(self, resource_type: str, patient_id: str | None) -> bool:
        """Whether a resource in this compartment (None: in none) is within reach."""
        if self.patient_ids is None:
            return True
        if patient_id is None:
            # Shared resources (Practitioner, Organization...) are readable by all; patient-type resources
            # without a patient (e.g. about a Group) only by system-wide requesters.
            return not is_patient_specific(resource_type)
        return patient_id in self.patient_ids


def _types(scopes: Scopes, allowed: frozenset[str], write: bool) -> frozenset[str]:
    check = scopes.may_write if write else scopes.may_read
    return frozenset(t for t in allowed if check(t))


# The server itself (creating a new user's Patient, writing triage Flags): every call site says why.
SYSTEM = Requester(kind="system", reference="Device/continuum-server", display="Continuum server",
                   patient_ids=None, read_types=ALL_TYPES, write_types=ALL_TYPES)


def agent_requester(patient_id: str, writes: frozenset[str] = AGENT_WRITE_TYPES) -> Requester:
    """The agent acting in one patient's conversation: that compartment only. ``writes``: the types it may write,
    narrower or wider than the patient-facing agent's for the few actions that need it (the summary agent writes
    only its draft Composition; proposing a follow-up plan writes a draft CarePlan); each caller says why."""
    return Requester(kind="agent", reference="Device/continuum-agent", display="Continuum agent",
                     patient_ids=frozenset({patient_id}), read_types=ALL_TYPES - {"AuditEvent"}, write_types=writes)


# What perception writes: the uploaded file and what was read from it, never clinical judgements.
PERCEPTION_WRITE_TYPES = frozenset({"Binary", "DocumentReference", "Observation", "DiagnosticReport",
                                    "ImagingStudy", "Provenance", "Task"})


def perception_requester(patient_id: str) -> Requester:
    """Perception storing and reading one patient's upload: that compartment only."""
    return Requester(kind="agent", reference="Device/continuum-perception", display="Continuum perception",
                     patient_ids=frozenset({patient_id}), read_types=ALL_TYPES - {"AuditEvent"},
                     write_types=PERCEPTION_WRITE_TYPES)


def requester_for_user(user, scopes: Scopes | None = None, client_id: str | None = None) -> Requester:
    """A logged-in user (session), optionally narrowed by the scopes of the OAuth token they granted."""
    from webapp.accounts.models import CareTeamMembership, Role

    without_audit = ALL_TYPES - {"AuditEvent"}
    if user.role == Role.PATIENT:
        read, write = without_audit, frozenset()
        patients = frozenset({user.fhir_id}) if user.fhir_id else frozenset()
        kind, reference, released = "patient", f"Patient/{user.fhir_id}", True
    elif user.role == Role.CLINICIAN:
        read, write = without_audit, without_audit
        patients = frozenset(CareTeamMembership.objects.filter(clinician=user, patient__fhir_id__isnull=False)
                             .values_list("patient__fhir_id", flat=True))
        kind, reference, released = "clinician", f"Practitioner/{user.fhir_id}", False
    elif user.role == Role.ADMIN:
        # Admins look after the system and its audit trail; clinical data stays with care teams.
        read, write, patients = frozenset({"AuditEvent"}), frozenset(), None
        kind, reference, released = "admin", f"Device/admin-{user.pk}", False
    else:  # an EHR client acts only through the scopes of its token
        read = write = frozenset()
        patients, kind, reference, released = None, "system", f"Device/client-{user.pk}", False
    if scopes is not None:
        if kind == "system":
            read, write = _types(scopes, ALL_TYPES, False), _types(scopes, ALL_TYPES, True)
        else:
            read, write = read & _types(scopes, ALL_TYPES, False), write & _types(scopes, ALL_TYPES, True)
    return Requester(kind=kind, reference=reference, display=user.get_username(), patient_ids=patients,
                     read_types=read, write_types=write, released_only=released, user_id=user.pk,
                     client_id=client_id)
