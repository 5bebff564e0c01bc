"""The care team's timeline of a patient: conversations day by day (with red-flag decisions), reported symptoms,
observations, documents, flags and summaries, newest first, in one list; only what the reader may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from agent.memory.record import ReportedFact, record_reported_fact
from fhir.access import agent_requester
from fhir.store import Repository
from tests.support.cast import PASSWORD
from webapp.actions.messages import do_send_patient_message
from webapp.chat.models import Message
from webapp.dashboard.timeline import _instant, patient_timeline

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def observation(patient, when, value: float) -> dict:
    return Repository(agent_requester(patient.fhir_id), channel="agent").create({
        "resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{patient.fhir_id}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}], "text": "Body weight"},
        "effectiveDateTime": when.isoformat(), "valueQuantity": {"value": value, "unit": "kg"}}).resource


def test_the_timeline_merges_the_record_and_the_conversation_newest_first(cast):
    alice, carol = cast["alice"], cast["carol"]
    now = timezone.now()
    do_send_patient_message(alice, alice.conversation, "I have crushing chest pain and I'm sweating")
    earlier = Message.objects.filter(conversation=alice.conversation, author="patient").get()
    Message.objects.filter(id=earlier.id).update(created_at=now - timedelta(days=3))  # three days ago
    do_send_patient_message(alice, alice.conversation, "Feeling better today")
    observation(alice, now - timedelta(days=2), 81.5)
    observation(alice, now - timedelta(days=10), 80.0)
    record_reported_fact(Repository(agent_requester(alice.fhir_id), channel="agent"), alice.fhir_id,
                         ReportedFact(kind="symptom", text="ankle swelling"), earlier.id)

    entries = patient_timeline(carol, alice)
    kinds = [e.kind for e in entries]
    assert {"conversation", "Observation", "Condition", "Flag"} <= set(kinds)
    texts = [e.text for e in entries]
    assert texts.index("Body weight: 81.5 kg") < texts.index("Body weight: 80.0 kg")  # newest first
    days = [e for e in entries if e.kind == "conversation"]
    assert len(days) == 2 and "Feeling better today" in days[0].text
    assert "(triage: emergency)" in days[1].text and "chest pain" in days[1].text
    assert next(e for e in entries if e.text == "ankle swelling").level == "unconfirmed"
    assert all(_instant(a.when) >= _instant(b.when) for a, b in zip(entries, entries[1:], strict=False))

    client = Client()
    assert client.login(username="carol", password=PASSWORD)
    page = client.get(f"/chat/{alice.conversation.public_id}/").content.decode()
    assert 'id="timeline"' in page and "ankle swelling" in page and "(triage: emergency)" in page


def test_the_timeline_is_the_care_teams_only(cast):
    alice, dave = cast["alice"], cast["dave"]
    observation(alice, timezone.now(), 70.0)
    client = Client()
    assert client.login(username="dave", password=PASSWORD)
    assert client.get(f"/chat/{alice.conversation.public_id}/").status_code == 404
    assert patient_timeline(dave, alice) == []
