"""Trend rules over a patient's real record: rising home blood pressure, weight gain in heart failure, falling peak
flow, low oxygen saturation and low blood glucose each raise one Flag (once for the same readings) and alert the care
team; readings that do not make the trend raise nothing. Earlier readings are written through the Repository as the
agent writes them; the newest arrives as the patient's chat message and the recording task runs the rules."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from channels.layers import get_channel_layer
from django.utils import timezone

from agent.measurements.parse import Measurement
from agent.measurements.record import observation
from agent.safety.escalation import DEADLINE_EXTENSION
from agent.safety.trend_rules import TREND_FLAG_SYSTEM, TREND_RULE_SYSTEM
from fhir.access import agent_requester, requester_for_user
from fhir.release import REJECTED
from fhir.store import Repository
from tests.support.chat_client import run_async
from tests.support.fhir import FhirClient
from webapp.actions.flags import alerts_group
from webapp.actions.measurements import do_record_measurements
from webapp.actions.messages import do_send_patient_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

HEART_FAILURE_SNOMED = {"coding": [{"system": "http://snomed.info/sct", "code": "84114007",
                                    "display": "Heart failure"}]}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    """Each test runs the recording itself (record() below); nothing goes to the broker."""
    monkeypatch.setattr("webapp.actions.measurements.enqueue_measurements", lambda message_id: True)


def earlier(patient, kind: str, *values: float, days_ago: float) -> dict:
    """A reading from before this conversation's newest message, written through the agent's Repository."""
    at = timezone.now() - timedelta(days=days_ago)
    identifier = f"earlier:{kind}:{at.isoformat()}"
    resource = observation(Measurement(kind, tuple(float(v) for v in values), "test"), patient.fhir_id, identifier,
                           at)
    return Repository(agent_requester(patient.fhir_id), channel="agent").create(resource).resource


def condition(patient, code: dict, **extra) -> dict:
    return Repository(agent_requester(patient.fhir_id), channel="agent").create(
        {"resourceType": "Condition", "subject": {"reference": f"Patient/{patient.fhir_id}"}, "code": code,
         **extra}).resource


def record(patient, text: str):
    message = do_send_patient_message(patient, patient.conversation, text).message
    return do_record_measurements(message.id)


def flags_seen_by(user) -> list[dict]:
    bundle = FhirClient(user=user).get("Flag?_sort=-_lastUpdated").json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


def rule(flag: dict) -> str:
    [coding] = flag["code"]["coding"]
    assert coding["system"] == TREND_RULE_SYSTEM
    return coding["code"]


# ---- rising home blood pressure -------------------------------------------------------------------------------

def test_rising_home_blood_pressure_raises_one_urgent_flag(cast, settings):
    settings.URGENT_RESPONSE_MINUTES = 120
    alice, carol = cast["alice"], cast["carol"]
    earlier(alice, "blood-pressure", 138, 84, days_ago=2)
    earlier(alice, "blood-pressure", 144, 88, days_ago=1)
    recorded = record(alice, "My BP this morning was 152/95")
    [flag] = flags_seen_by(carol)
    assert recorded.flags == [flag]
    assert rule(flag) == "blood-pressure-rising" and flag["status"] == "active"
    assert flag["category"][0]["coding"][0]["code"] == "clinical"
    assert flag["subject"]["reference"] == f"Patient/{alice.fhir_id}"
    assert "138/84 mmHg" in flag["code"]["text"] and "144/88" in flag["code"]["text"]
    assert "152/95" in flag["code"]["text"]
    [deadline] = [e["valueDateTime"] for e in flag["extension"] if e["url"] == DEADLINE_EXTENSION]
    assert datetime.fromisoformat(deadline) - datetime.fromisoformat(flag["period"]["start"]) == timedelta(minutes=120)
    assert flag["identifier"][0]["system"] == TREND_FLAG_SYSTEM
    # The same readings never raise it twice: the task retried, or the rules run again.
    message_id = alice.conversation.messages.filter(author="patient").last().id
    assert do_record_measurements(message_id).flags == []
    assert len(flags_seen_by(carol)) == 1
    assert flags_seen_by(cast["dave"]) == []  # outside the care team


def test_a_new_reading_that_keeps_rising_raises_a_new_flag(cast):
    alice = cast["alice"]
    earlier(alice, "blood-pressure", 138, 84, days_ago=3)
    earlier(alice, "blood-pressure", 144, 88, days_ago=2)
    earlier(alice, "blood-pressure", 150, 92, days_ago=1)
    record(alice, "bp 156/96")
    assert [rule(f) for f in flags_seen_by(cast["carol"])] == ["blood-pressure-rising"]
    assert "150/92" in flags_seen_by(cast["carol"])[0]["code"]["text"]  # the newest three, not the first


@pytest.mark.parametrize(("readings", "newest"), [
    (((120, 80), (125, 82)), "bp 130/84"),  # rising, but ending below 135/85
    (((150, 95), (140, 90)), "bp 155/96"),  # high, but not rising at each step
    (((138, 84),), "bp 150/90"),  # only two readings
    (((150, 95), (150, 95)), "bp 150/95"),  # high and steady: not a trend (the clinician sees it in the plot)
])
def test_blood_pressure_that_is_not_rising_raises_nothing(cast, readings, newest):
    alice = cast["alice"]
    for days_ago, (systolic, diastolic) in zip((2, 1), readings, strict=False):
        earlier(alice, "blood-pressure", systolic, diastolic, days_ago=days_ago)
    assert record(alice, newest).observations
    assert flags_seen_by(cast["carol"]) == []


def test_readings_spread_over_more_than_two_weeks_raise_nothing(cast):
    alice = cast["alice"]
    earlier(alice, "blood-pressure", 130, 80, days_ago=40)
    earlier(alice, "blood-pressure", 140, 85, days_ago=20)
    record(alice, "bp 150/95")
    assert flags_seen_by(cast["carol"]) == []


def test_a_reading_the_clinician_rejected_is_left_out(cast):
    alice, carol = cast["alice"], cast["carol"]
    earlier(alice, "blood-pressure", 130, 82, days_ago=3)
    wrong = earlier(alice, "blood-pressure", 120, 80, days_ago=2)  # would break the rise
    earlier(alice, "blood-pressure", 140, 86, days_ago=1)
    Repository(requester_for_user(carol), channel="app").set_confirmation("Observation", wrong["id"], REJECTED)
    record(alice, "bp 146/90")
    assert [rule(f) for f in flags_seen_by(carol)] == ["blood-pressure-rising"]
    assert "120/80" not in flags_seen_by(carol)[0]["code"]["text"]


# ---- weight gain in heart failure -----------------------------------------------------------------------------

def test_weight_gain_over_2_kg_in_3_days_in_heart_failure_raises_a_flag(cast):
    alice = cast["alice"]
    condition(alice, HEART_FAILURE_SNOMED)
    earlier(alice, "body-weight", 80.0, days_ago=2.5)
    earlier(alice, "body-weight", 81.0, days_ago=1)
    record(alice, "weighed 82.4 kg this morning")
    [flag] = flags_seen_by(cast["carol"])
    assert rule(flag) == "weight-gain-heart-failure"
    assert "2.4 kg" in flag["code"]["text"] and "80 kg" in flag["code"]["text"] and "82.4 kg" in flag["code"]["text"]


@pytest.mark.parametrize("code", [
    {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I50.9"}]},
    {"text": "Congestive cardiac failure"},
])
def test_heart_failure_is_recognised_by_icd10_or_by_name(cast, code):
    alice = cast["alice"]
    condition(alice, code)
    earlier(alice, "body-weight", 70.0, days_ago=2)
    record(alice, "I'm 11 st 6 lb")  # 72.57 kg
    assert [rule(f) for f in flags_seen_by(cast["carol"])] == ["weight-gain-heart-failure"]


@pytest.mark.parametrize(("setup", "days_ago", "before", "now"), [
    ("none", 2, 80.0, "weighed 83 kg"),  # no heart failure on the record
    ("refuted", 2, 80.0, "weighed 83 kg"),  # heart failure ruled out
    ("heart-failure", 4, 80.0, "weighed 83 kg"),  # the gain took longer than 3 days
    ("heart-failure", 2, 80.0, "weighed 82 kg"),  # exactly 2 kg is not more than 2 kg
    ("heart-failure", 2, 83.0, "weighed 80 kg"),  # a loss
])
def test_weight_changes_that_are_not_the_rule_raise_nothing(cast, setup, days_ago, before, now):
    alice = cast["alice"]
    if setup != "none":
        status = "refuted" if setup == "refuted" else "confirmed"
        condition(alice, HEART_FAILURE_SNOMED, verificationStatus={"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": status}]})
    earlier(alice, "body-weight", before, days_ago=days_ago)
    assert record(alice, now).observations
    assert flags_seen_by(cast["carol"]) == []


# ---- falling peak flow ----------------------------------------------------------------------------------------

def test_peak_flow_below_80_percent_of_the_personal_best_raises_a_flag(cast):
    alice = cast["alice"]
    earlier(alice, "peak-flow", 450, days_ago=10)
    earlier(alice, "peak-flow", 430, days_ago=5)
    record(alice, "peak flow 340")
    [flag] = flags_seen_by(cast["carol"])
    assert rule(flag) == "peak-flow-falling"
    assert "76% of the personal best 450 L/min" in flag["code"]["text"]


def test_three_falling_peak_flows_raise_a_flag(cast):
    alice = cast["alice"]
    earlier(alice, "peak-flow", 420, days_ago=2)
    earlier(alice, "peak-flow", 400, days_ago=1)
    record(alice, "peak flow 370")  # 88% of the best, but falling 12% over three readings
    [flag] = flags_seen_by(cast["carol"])
    assert rule(flag) == "peak-flow-falling" and "falling over three readings" in flag["code"]["text"]


@pytest.mark.parametrize(("readings", "newest"), [
    ((400, 398), "peak flow 396"),  # falling by 1 %: noise
    ((400, 350), "peak flow 380"),  # recovering, and above 80 % of the best
    ((), "peak flow 200"),  # the first reading: no personal best yet
])
def test_peak_flows_that_are_not_falling_raise_nothing(cast, readings, newest):
    alice = cast["alice"]
    for days_ago, value in zip((2, 1), readings, strict=False):
        earlier(alice, "peak-flow", value, days_ago=days_ago)
    assert record(alice, newest).observations
    assert flags_seen_by(cast["carol"]) == []


# ---- low oxygen saturation and low blood glucose --------------------------------------------------------------

@pytest.mark.parametrize(("copd", "text", "fires"), [
    (False, "sats 91%", True),
    (False, "sats 92%", False),
    (True, "sats 90%", False),  # within a COPD patient's target range
    (True, "sats 87%", True),
])
def test_low_oxygen_saturation(cast, copd, text, fires):
    alice = cast["alice"]
    if copd:
        condition(alice, {"coding": [{"system": "http://snomed.info/sct", "code": "13645005"}], "text": "COPD"})
    record(alice, text)
    assert [rule(f) for f in flags_seen_by(cast["carol"])] == (["oxygen-saturation-low"] if fires else [])


@pytest.mark.parametrize(("text", "fires"), [("sugar 3.5 mmol/L", True), ("blood sugar 4.2", False),
                                              ("blood sugar 60 mg/dL", True)])
def test_low_blood_glucose(cast, text, fires):
    alice = cast["alice"]
    record(alice, text)
    assert [rule(f) for f in flags_seen_by(cast["carol"])] == (["blood-glucose-low"] if fires else [])


def test_unrelated_readings_raise_nothing(cast):
    alice = cast["alice"]
    record(alice, "temp 37.1, pulse 72")
    assert flags_seen_by(cast["carol"]) == []


# ---- who hears about it ---------------------------------------------------------------------------------------

def test_the_care_team_gets_a_live_trend_alert(cast):
    alice, carol = cast["alice"], cast["carol"]
    layer = get_channel_layer()

    async def listen_while_alice_reports() -> dict:
        channel = await layer.new_channel()
        await layer.group_add(alerts_group(carol.pk), channel)
        await asyncio.to_thread(record, alice, "sats 89%")
        return await asyncio.wait_for(layer.receive(channel), timeout=10)

    event = run_async(listen_while_alice_reports())["event"]
    assert event["type"] == "alert.trend" and event["rule"] == "oxygen-saturation-low"
    assert event["level"] == "urgent" and event["patient_id"] == alice.fhir_id
    assert "89%" in event["reasons"][0] and event["conversation"] == str(alice.conversation.public_id)
    [flag] = flags_seen_by(carol)
    assert event["flag_id"] == flag["id"] and event["respond_by"]


def test_flags_are_written_by_the_agent_and_audited(cast):
    alice = cast["alice"]
    [flag] = record(alice, "sats 88%").flags
    audit = FhirClient(user=cast["root"]).get("AuditEvent?_count=200").json()
    writes = [e["resource"] for e in audit["entry"] if e["resource"]["action"] == "C"
              and any(ref.get("what", {}).get("reference", "").startswith(f"Flag/{flag['id']}")
                      for ref in e["resource"].get("entity", []))]
    assert [w["agent"][0]["who"]["display"] for w in writes] == ["Continuum agent"]
    assert flag["author"]["display"] == "Continuum trend rules"
