"""record: what the patient reports, written as unconfirmed resources with a Provenance naming the source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fhir.persistence import new_id
from fhir.release import UNCONFIRMED, with_confirmation
from fhir.store import PARTICIPANT_TYPE, Repository

MESSAGE_SYSTEM = "https://continuum.health/fhir/sid/chat-message"
KINDS = ("symptom", "condition", "medication", "allergy", "measurement")


@dataclass(frozen=True)
class ReportedFact:
    kind: str  # one of KINDS
    text: str  # in the patient's words, e.g. "headache", "ibuprofen 400 mg twice a day", "penicillin"
    onset: str | None = None  # FHIR date or dateTime, when the patient said it started
    value: float | None = None  # measurement only
    unit: str | None = None  # measurement only (UCUM where possible)
    detail: str | None = None  # reaction for an allergy, dose for a medication


def _unconfirmed_concept(text: str) -> dict:
    return {"text": text}


def resource_for(fact: ReportedFact, patient_id: str, when: str) -> dict:
    subject = {"reference": f"Patient/{patient_id}"}
    unconfirmed = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                               "code": "unconfirmed"}]}
    if fact.kind in ("symptom", "condition"):
        category = "problem-list-item" if fact.kind == "condition" else "encounter-diagnosis"
        resource = {"resourceType": "Condition", "subject": subject, "code": _unconfirmed_concept(fact.text),
                    "verificationStatus": unconfirmed, "recordedDate": when,
                    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                              "code": category}]}],
                    "clinicalStatus": {"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}}
        if fact.onset:
            resource["onsetDateTime"] = fact.onset
    elif fact.kind == "medication":
        resource = {"resourceType": "MedicationStatement", "status": "active", "subject": subject,
                    "medicationCodeableConcept": _unconfirmed_concept(fact.text), "dateAsserted": when,
                    "informationSource": subject}
        if fact.detail:
            resource["dosage"] = [{"text": fact.detail}]
    elif fact.kind == "allergy":
        resource = {"resourceType": "AllergyIntolerance", "patient": subject, "code": _unconfirmed_concept(fact.text),
                    "verificationStatus": {"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                        "code": "unconfirmed"}]}, "recordedDate": when, "asserter": subject}
        if fact.detail:
            resource["reaction"] = [{"manifestation": [{"text": fact.detail}]}]
    elif fact.kind == "measurement":
        if fact.value is None:
            raise ValueError("a measurement needs a value")
        resource = {"resourceType": "Observation", "status": "preliminary", "subject": subject,
                    "code": _unconfirmed_concept(fact.text), "effectiveDateTime": fact.onset or when,
                    "performer": [subject],
                    "valueQuantity": {"value": fact.value, **({"unit": fact.unit} if fact.unit else {})}}
    else:
        raise ValueError(f"unknown kind {fact.kind!r}; one of {', '.join(KINDS)}")
    return with_confirmation(resource, UNCONFIRMED)


def record_reported_fact(repo: Repository, patient_id: str, fact: ReportedFact, source_message_id: int) -> dict:
    """Write the fact and its Provenance (who recorded it, from which message) in one transaction, as one
    audited interaction."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    resource = resource_for(fact, patient_id, when)
    fact_id = new_id()
    provenance = {
        "resourceType": "Provenance",
        "target": [{"reference": f"{resource['resourceType']}/{fact_id}"}],
        "recorded": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE"}]},
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE,
                                        "code": "author"}]},
                   "who": {"display": repo.requester.display}},
                  {"type": {"coding": [{"system": PARTICIPANT_TYPE,
                                        "code": "informant"}]},
                   "who": {"reference": f"Patient/{patient_id}"}}],
        "entity": [{"role": "source", "what": {"identifier": {"system": MESSAGE_SYSTEM,
                                                               "value": str(source_message_id)}}}],
    }
    written, _ = repo.create_many([(resource, fact_id), (provenance, new_id())])
    return written.resource
