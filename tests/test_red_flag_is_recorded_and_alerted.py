"""A red flag leaves a Flag in the patient's record and a live alert for each clinician on their care team."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from channels.layers import get_channel_layer

from agent.safety.escalation import DEADLINE_EXTENSION
from tests.support.chat_client import run_async
from tests.support.fhir import FhirClient
from webapp.actions.flags import alerts_group
from webapp.actions.messages import do_send_patient_message
from webapp.chat.models import Author, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def flags_seen_by(user) -> list[dict]:
    bundle = FhirClient(user=user).get("Flag?_sort=-_lastUpdated").json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


def deadline(flag: dict) -> datetime:
    text = next(e["valueDateTime"] for e in flag["extension"] if e["url"] == DEADLINE_EXTENSION)
    return datetime.fromisoformat(text)


def test_an_emergency_writes_an_active_flag_with_a_15_minute_deadline(cast):
    alice = cast["alice"]
    do_send_patient_message(alice, alice.conversation, "crushing chest pain and I'm sweating a lot")
    [flag] = flags_seen_by(cast["carol"])
    assert flag["status"] == "active"
    assert flag["subject"]["reference"] == f"Patient/{alice.fhir_id}"
    assert flag["code"]["coding"][0]["code"] == "emergency"
    assert "heart attack" in flag["code"]["text"]
    start = datetime.fromisoformat(flag["period"]["start"])
    assert deadline(flag) - start == timedelta(minutes=15)


def test_an_urgent_message_writes_a_flag_with_the_urgent_deadline(cast, settings):
    settings.URGENT_RESPONSE_MINUTES = 120
    alice = cast["alice"]
    do_send_patient_message(alice, alice.conversation, "I have some chest pain when I climb stairs")
    [flag] = flags_seen_by(cast["carol"])
    assert flag["code"]["coding"][0]["code"] == "urgent"
    assert deadline(flag) - datetime.fromisoformat(flag["period"]["start"]) == timedelta(minutes=120)


def test_routine_messages_write_no_flag(cast):
    alice = cast["alice"]
    do_send_patient_message(alice, alice.conversation, "I have had a mild cold for two days")
    assert flags_seen_by(cast["carol"]) == []


def test_a_clinician_outside_the_care_team_does_not_see_the_flag(cast):
    alice = cast["alice"]
    do_send_patient_message(alice, alice.conversation, "I want to kill myself tonight")
    assert len(flags_seen_by(cast["carol"])) == 1
    assert flags_seen_by(cast["dave"]) == []


def test_the_flag_is_written_by_the_agent_and_audited(cast):
    alice = cast["alice"]
    do_send_patient_message(alice, alice.conversation, "my throat is swelling and I can't breathe after a bee sting")
    audit = FhirClient(user=cast["root"]).get("AuditEvent?_count=200").json()
    creates = [e["resource"] for e in audit["entry"]
               if e["resource"]["action"] == "C" and e["resource"]["source"]["site"] == "agent"]
    assert any(ref["what"]["reference"].startswith("Flag/") for event in creates for ref in event.get("entity", [])
               if "what" in ref)
    assert all(event["agent"][0]["who"]["display"] == "Continuum agent" for event in creates)


def test_the_care_team_gets_a_live_alert(cast):
    alice, carol = cast["alice"], cast["carol"]
    layer = get_channel_layer()

    async def listen_while_alice_writes() -> dict:
        channel = await layer.new_channel()
        await layer.group_add(alerts_group(carol.pk), channel)
        await asyncio.to_thread(do_send_patient_message, alice, alice.conversation,
                                "the left side of my face is drooping and my speech is slurred")
        return await asyncio.wait_for(layer.receive(channel), timeout=10)

    event = run_async(listen_while_alice_writes())["event"]
    assert event["type"] == "alert.red_flag" and event["level"] == "emergency"
    assert event["patient_id"] == alice.fhir_id and "stroke" in event["reasons"][0]


def test_a_failure_to_write_the_flag_never_loses_the_fixed_reply(cast, monkeypatch):
    from fhir import store

    def broken(*args, **kwargs):
        raise RuntimeError("record unavailable")

    monkeypatch.setattr(store.Repository, "create", broken)
    alice = cast["alice"]
    do_send_patient_message(alice, alice.conversation, "crushing chest pain and sweating")
    assert Message.objects.filter(conversation=alice.conversation, author=Author.SYSTEM,
                                  text__contains="Call 999 now").exists()
