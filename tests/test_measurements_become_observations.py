"""Measurements a patient writes in chat become coded, unconfirmed Observations: found deterministically on the
message path, recorded once each by a Celery task through the agent's Repository, whoever answers the chat.
Implausible values and text that only looks like a reading are refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.measurements.kinds import GLUCOSE_MG_DL_PER_MMOL_L, KG_PER_LB, KG_PER_STONE, fahrenheit_to_celsius
from agent.measurements.parse import find_measurements
from agent.measurements.record import MEASUREMENT_SYSTEM
from agent.tasks import record_measurements
from fhir.release import CONFIRMATION_SYSTEM
from tests.support.fhir import FhirClient
from webapp.actions.handover import do_set_agent_paused, do_take_over
from webapp.actions.measurements import do_record_measurements
from webapp.actions.messages import do_send_patient_message
from webapp.chat.models import Message

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"


def readings(text: str) -> list[tuple[str, tuple[float, ...]]]:
    return [(m.kind, m.values) for m in find_measurements(text)]


# ---- the parser (no database) --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("my BP this morning was 150/95", [("blood-pressure", (150, 95))]),
    ("Blood pressure 150 over 95 today", [("blood-pressure", (150, 95))]),
    ("142/88 mmHg", [("blood-pressure", (142, 88))]),
    ("I had my bp checked at 8am: 150/95", [("blood-pressure", (150, 95))]),
    ("weighed 82.4 kg", [("body-weight", (82.4,))]),
    ("I'm 13 st 2 lb", [("body-weight", (83.46,))]),
    ("I weigh 180 lbs now", [("body-weight", (81.65,))]),
    ("peak flow 320", [("peak-flow", (320,))]),
    ("My peak flow has fallen to 250 l/min", [("peak-flow", (250,))]),
    ("sugar 7.8 mmol/L", [("blood-glucose", (7.8,))]),
    ("blood sugar 140 mg/dL before breakfast", [("blood-glucose", (7.8,))]),
    ("temp 38.2", [("body-temperature", (38.2,))]),
    ("temperature 101 F", [("body-temperature", (38.3,))]),
    ("temp 38,5 and shivering", [("body-temperature", (38.5,))]),
    ("pulse 96", [("heart-rate", (96,))]),
    ("heart rate 72 bpm", [("heart-rate", (72,))]),
    ("sats 93%", [("oxygen-saturation", (93,))]),
    ("pulse ox says 91", [("oxygen-saturation", (91,))]),
    ("bp 150/95 pulse 96, sats 97%", [("blood-pressure", (150, 95)), ("heart-rate", (96,)),
                                      ("oxygen-saturation", (97,))]),
    ("my pressure is 150/95 and pulse 96. Is that high?", [("blood-pressure", (150, 95)), ("heart-rate", (96,))]),
])
def test_readings_are_found_in_the_patients_words(text, expected):
    assert readings(text) == [(kind, tuple(float(v) for v in values)) for kind, values in expected]


@pytest.mark.parametrize("text", [
    "My knee still hurts when I climb stairs",
    "bp 20/10", "my systolic was 400/200", "bp 120/115",  # implausible, or no gap between the two numbers
    "pulse 300", "sats 40%", "temp 50", "peak flow 20", "sugar 60 mmol/L",
    "bp on 12/05 was fine", "My BP on 15/03 was 140/90", "bp yesterday was 160/100", "bp 150/95 on Monday",
    "two weeks ago I weighed 80 kg", "my temp last night was 38.5",  # readings not taken now
    "I walked 150 steps", "pulse 150 steps a minute", "sugar 2 spoons in my tea", "temp 38 days of this",
    "o2 2 litres", "I took 2 tablets at 10am", "I spent 150 pounds on shoes", "I live at 13 St Mary's Road",
    "my target bp is 130/80", "my bp is usually 130/80", "normal blood pressure is 120/80",
    "Is 150/95 high?", "If my sats drop below 92 what should I do", "what should my peak flow be, 400?",
    "bp went from 140/90 to 160/100", "my weight went up by 2 kg", "I lost 3 kg", "sats not 90",
    "my weight is 82",  # kilograms or pounds: not known
    "Sugar 37",  # mmol/L or mg/dL: not known
    "I was born on 12/05/1970 and my pulse is fine",
])
def test_text_that_only_looks_like_a_reading_is_refused(text):
    assert readings(text) == []


def test_unit_factors_agree_with_ucum():
    """The parser's plain factors (the message path cannot wait for the UCUM registry) are UCUM's own."""
    from perception.labs.units import MOLAR_MASS, convert, registry

    assert convert(1, "[lb_av]", "kg") == pytest.approx(KG_PER_LB)
    assert convert(1, "[stone_av]", "kg") == pytest.approx(KG_PER_STONE)
    fahrenheit = registry().Quantity(101, "degree_Fahrenheit")  # an offset unit: pint converts it, not convert()
    assert fahrenheit.to("degree_Celsius").magnitude == pytest.approx(fahrenheit_to_celsius(101))
    assert convert(1, "mmol/L", "mg/dL", "glucose") == pytest.approx(GLUCOSE_MG_DL_PER_MMOL_L)
    assert MOLAR_MASS["glucose"] / 10 == pytest.approx(GLUCOSE_MG_DL_PER_MMOL_L)


# ---- recording ------------------------------------------------------------------------------------------------

@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The message ids handed to the broker (the broker boundary: a test runs the task itself)."""
    sent: list[int] = []
    monkeypatch.setattr("webapp.actions.measurements.enqueue_measurements", sent.append)
    return sent


def observations_seen_by(user) -> list[dict]:
    bundle = FhirClient(user=user).get("Observation?_sort=date&_count=100").json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_a_reported_blood_pressure_becomes_an_unconfirmed_coded_observation(cast, enqueued):
    alice, carol = cast["alice"], cast["carol"]
    sent = do_send_patient_message(alice, alice.conversation, "My BP this morning was 150/95, pulse 96").message
    assert enqueued == [sent.id]  # after commit, once

    assert record_measurements.apply(args=[sent.id]).get() == 2  # the Celery task itself
    bp, pulse = observations_seen_by(carol)
    assert bp["code"]["coding"][0] == {"system": LOINC, "code": "85354-9",
                                       "display": "Blood pressure panel with all children optional"}
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"], c["valueQuantity"]["code"],
             c["valueQuantity"]["system"]) for c in bp["component"]] == [("8480-6", 150, "mm[Hg]", UCUM),
                                                                       ("8462-4", 95, "mm[Hg]", UCUM)]
    assert bp["category"][0]["coding"][0]["code"] == "vital-signs"
    assert datetime.fromisoformat(bp["effectiveDateTime"]) == sent.created_at  # when the patient said it
    assert bp["performer"] == [{"reference": f"Patient/{alice.fhir_id}"}]
    assert bp["subject"] == {"reference": f"Patient/{alice.fhir_id}"}
    assert {"system": CONFIRMATION_SYSTEM, "code": "unconfirmed"} in bp["meta"]["tag"]
    assert bp["identifier"] == [{"system": MEASUREMENT_SYSTEM, "value": f"{sent.id}:blood-pressure:1"}]
    assert pulse["code"]["coding"][0]["code"] == "8867-4" and pulse["valueQuantity"]["code"] == "/min"
    # The patient sees what they reported; a clinician outside the care team sees nothing.
    assert len(observations_seen_by(alice)) == 2
    assert observations_seen_by(cast["dave"]) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_converted_units_keep_what_the_patient_wrote(cast, enqueued):
    alice = cast["alice"]
    sent = do_send_patient_message(alice, alice.conversation, "I'm 13 st 2 lb. Blood sugar 140 mg/dL").message
    weight, glucose = do_record_measurements(sent.id).observations
    assert weight["code"]["coding"][0]["code"] == "29463-7"
    assert weight["valueQuantity"] == {"value": 83.46, "unit": "kg", "system": UCUM, "code": "kg"}
    assert '"13 st 2 lb"' in weight["note"][0]["text"]
    assert glucose["code"]["coding"][0]["code"] == "14743-9"
    assert glucose["valueQuantity"]["value"] == 7.8 and glucose["valueQuantity"]["code"] == "mmol/L"
    assert glucose["category"][0]["coding"][0]["code"] == "laboratory"


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_a_retry_never_writes_twice(cast, enqueued):
    alice = cast["alice"]
    sent = do_send_patient_message(alice, alice.conversation, "weighed 82.4 kg, sats 97%").message
    first = do_record_measurements(sent.id)
    again = do_record_measurements(sent.id)
    assert first.created == 2 and again.created == 0
    assert [o["id"] for o in again.observations] == [o["id"] for o in first.observations]
    assert len(observations_seen_by(cast["carol"])) == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_recorded_by_the_agent_with_a_provenance_and_an_audit_trail(cast, enqueued):
    alice = cast["alice"]
    sent = do_send_patient_message(alice, alice.conversation, "peak flow 320").message
    [observation] = do_record_measurements(sent.id).observations
    provenance = FhirClient(user=cast["carol"]).get(f"Provenance?target=Observation/{observation['id']}").json()
    [entry] = provenance["entry"]
    assert entry["resource"]["entity"][0]["what"]["identifier"]["value"] == str(sent.id)
    audit = FhirClient(user=cast["root"]).get("AuditEvent?_count=200").json()
    writes = [e["resource"] for e in audit["entry"] if e["resource"]["action"] == "C"
              and any(ref.get("what", {}).get("reference", "").startswith(f"Observation/{observation['id']}")
                      for ref in e["resource"].get("entity", []))]
    assert [w["agent"][0]["who"]["display"] for w in writes] == ["Continuum agent"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_messages_without_readings_enqueue_nothing(cast, enqueued):
    alice = cast["alice"]
    for text in ("My knee still hurts", "I walked 150 steps today", "Is 150/95 high?"):
        do_send_patient_message(alice, alice.conversation, text)
    assert enqueued == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_readings_are_recorded_while_a_clinician_has_the_chat_or_the_agent_is_paused(cast, enqueued):
    alice, carol = cast["alice"], cast["carol"]
    do_take_over(carol, alice.conversation)
    taken_over = do_send_patient_message(alice, alice.conversation, "temp 38.2").message
    do_set_agent_paused(cast["root"], True, "maintenance")
    paused = do_send_patient_message(alice, alice.conversation, "sats 95%").message
    assert enqueued == [taken_over.id, paused.id]
    for message_id in enqueued:
        record_measurements.apply(args=[message_id]).get()
    assert [o["code"]["coding"][0]["code"] for o in observations_seen_by(carol)] == ["8310-5", "59408-5"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_only_patient_messages_are_read(cast, enqueued):
    from webapp.actions.handover import do_send_clinician_message

    alice = cast["alice"]
    clinician_message = do_send_clinician_message(cast["carol"], alice.conversation, "Aim for a bp under 140/90")
    assert do_record_measurements(clinician_message.id).created == 0
    assert do_record_measurements(Message.objects.order_by("-id").first().id + 1000).created == 0
    assert observations_seen_by(cast["carol"]) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite_pass
def test_readings_survive_an_unreachable_broker(cast, settings, monkeypatch):
    """The job is in the database before the broker is asked: when the broker is away the reconciler enqueues it
    again later, and once recorded it is done (and never enqueued again)."""
    from datetime import timedelta

    from django.utils import timezone

    from agent.models import MeasurementJob
    from webapp.actions.measurements import do_reconcile_measurements
    from webapp.celery import app

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("the broker is away")

    monkeypatch.setattr(app, "send_task", broker_down)
    alice = cast["alice"]
    sent = do_send_patient_message(alice, alice.conversation, "sats 91% this morning").message
    job = MeasurementJob.objects.get(message=sent)
    assert job.done_at is None and job.attempts == 1  # handed over once, and it failed
    assert do_reconcile_measurements() == []  # just tried: leave it a while

    handed: list[tuple] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: handed.append((name, args)))
    stale = timezone.now() - timedelta(seconds=settings.TURN_STALL_SECONDS + 1)
    MeasurementJob.objects.filter(id=job.id).update(enqueued_at=stale)
    assert do_reconcile_measurements() == [sent.id]
    assert handed == [("agent.tasks.record_measurements", [sent.id])]
    assert record_measurements.apply(args=[sent.id]).get() == 1  # what the worker then does
    assert MeasurementJob.objects.get(id=job.id).done_at is not None
    MeasurementJob.objects.filter(id=job.id).update(enqueued_at=stale)
    assert do_reconcile_measurements() == []  # done: never again
    assert [o["code"]["coding"][0]["code"] for o in observations_seen_by(cast["carol"])] == ["59408-5"]
