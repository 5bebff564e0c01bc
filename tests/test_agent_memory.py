"""The agent's memory: it records what the patient reports as unconfirmed facts with their source, and recalls
the record within a budget, in the patient's compartment only."""

from __future__ import annotations

import pytest

from agent.memory.recall import recall
from agent.memory.record import MESSAGE_SYSTEM, ReportedFact, record_reported_fact
from fhir.access import SYSTEM, agent_requester
from fhir.errors import FhirError
from fhir.models import StoredResource
from fhir.store import Repository
from tests.support.fhir import FhirClient, condition, observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def agent_for(user) -> Repository:
    return Repository(agent_requester(user.fhir_id), channel="agent")


def test_a_reported_allergy_is_unconfirmed_with_a_provenance_naming_the_message(cast):
    alice = cast["alice"]
    written = record_reported_fact(agent_for(alice), alice.fhir_id,
                                   ReportedFact("allergy", "penicillin", detail="rash"), source_message_id=41)
    assert written["resourceType"] == "AllergyIntolerance"
    assert written["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert {"system": "https://continuum.health/fhir/CodeSystem/confirmation", "code": "unconfirmed"} in \
        written["meta"]["tag"]
    carol = FhirClient(user=cast["carol"])
    [provenance] = [e["resource"] for e in carol.get(f"Provenance?target=AllergyIntolerance/{written['id']}")
                    .json()["entry"]]
    assert provenance["entity"][0]["what"]["identifier"] == {"system": MESSAGE_SYSTEM, "value": "41"}
    assert provenance["agent"][0]["who"]["display"] == "Continuum agent"


@pytest.mark.parametrize("fact,resource_type", [
    (ReportedFact("symptom", "headache", onset="2026-11-20"), "Condition"),
    (ReportedFact("medication", "ibuprofen", detail="400 mg twice a day"), "MedicationStatement"),
    (ReportedFact("measurement", "home blood glucose", value=7.8, unit="mmol/L"), "Observation"),
])
def test_each_kind_of_fact_becomes_its_resource(cast, fact, resource_type):
    alice = cast["alice"]
    written = record_reported_fact(agent_for(alice), alice.fhir_id, fact, source_message_id=1)
    assert written["resourceType"] == resource_type


def test_the_agent_cannot_write_into_another_patients_record(cast):
    alice, bob = cast["alice"], cast["bob"]
    with pytest.raises(FhirError) as refused:
        record_reported_fact(agent_for(alice), bob.fhir_id, ReportedFact("symptom", "cough"), source_message_id=1)
    assert refused.value.status == 403
    assert FhirClient(user=bob).get("Condition").json()["total"] == 0


def test_recall_lists_allergies_first_and_marks_confirmation(cast):
    alice = cast["alice"]
    agent = agent_for(alice)
    record_reported_fact(agent, alice.fhir_id, ReportedFact("allergy", "penicillin", detail="hives"), 1)
    Repository(SYSTEM).create(condition(alice.fhir_id, text="Type 2 diabetes"))
    Repository(SYSTEM).create(observation(alice.fhir_id, code="4548-4", value=7.1, unit="%", when="2026-10-01"))
    summary = recall(agent, alice.fhir_id)
    assert summary.index("Allergies:") < summary.index("Problems:") < summary.index("Recent observations:")
    assert "penicillin (reaction: hives) [unconfirmed]" in summary
    assert "Type 2 diabetes" in summary and "7.1 %" in summary


def test_recall_keeps_to_its_budget(cast):
    alice = cast["alice"]
    for i in range(30):
        Repository(SYSTEM).create(observation(alice.fhir_id, value=60 + i, when=f"2026-10-{i % 28 + 1:02d}"))
    summary = recall(agent_for(alice), alice.fhir_id, budget_chars=300)
    assert len(summary) <= 300 + len("(more in the record)") and summary.endswith("(more in the record)")


def test_recall_of_an_empty_record_says_so(cast):
    assert recall(agent_for(cast["bob"]), cast["bob"].fhir_id) == "The record holds nothing about this patient yet."


def test_recall_never_shows_another_patients_facts(cast):
    alice, bob = cast["alice"], cast["bob"]
    Repository(SYSTEM).create(condition(bob.fhir_id, text="Bob's secret condition"))
    assert "secret" not in recall(agent_for(alice), bob.fhir_id)


def test_a_fact_and_its_provenance_are_written_as_one_audited_interaction(cast):
    alice = cast["alice"]
    before = StoredResource.objects.filter(resource_type="AuditEvent").count()
    written = record_reported_fact(agent_for(alice), alice.fhir_id, ReportedFact("symptom", "cough"), 7)
    [event] = [row.content for row in StoredResource.objects.filter(resource_type="AuditEvent").order_by("pk")
               [before:]]
    whats = [e["what"]["reference"] for e in event["entity"] if "what" in e]
    provenance = StoredResource.objects.get(resource_type="Provenance", patient_id=alice.fhir_id)
    assert event["action"] == "C" and event["outcome"] == "0" and event["source"]["site"] == "agent"
    assert f"Condition/{written['id']}/_history/1" in whats and f"Provenance/{provenance.fhir_id}/_history/1" in whats
    assert f"Patient/{alice.fhir_id}" in whats
    assert provenance.content["target"] == [{"reference": f"Condition/{written['id']}"}]
