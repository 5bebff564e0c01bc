"""The clinician's panel: their patients only, most urgent first (red flags, then what waits for them, then unread
messages), read through the audited record; a flag closed from it; alerts on the clinician's own socket."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from agent.memory.record import ReportedFact, record_reported_fact
from fhir.access import agent_requester
from fhir.models import StoredResource
from fhir.store import Repository
from tests.support.cast import PASSWORD, make_clinician, make_patient
from tests.support.chat_client import run_async
from tests.support.fhir import FhirClient
from webapp.actions.accounts import do_add_to_care_team
from webapp.actions.messages import do_send_patient_message
from webapp.dashboard.consumers import AlertsConsumer
from webapp.dashboard.panel import panel_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

EMERGENCY = "crushing chest pain and I'm sweating"
URGENT = "I've been short of breath since this morning"


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def fact(patient, text: str) -> None:
    repo = Repository(agent_requester(patient.fhir_id), channel="agent")
    record_reported_fact(repo, patient.fhir_id, ReportedFact(kind="allergy", text=text), 0)


def proposal(patient) -> None:
    Repository(agent_requester(patient.fhir_id), channel="agent").create({
        "resourceType": "Task", "status": "requested", "intent": "proposal",
        "for": {"reference": f"Patient/{patient.fhir_id}"}, "description": "start an inhaler"})


@pytest.fixture
def ward():
    names = ("quiet", "unread", "waiting", "urgent", "emergency")
    patients = {name: make_patient(f"{name}-patient") for name in names}
    carol = make_clinician("carol-panel", tuple(patients.values()))
    do_send_patient_message(patients["emergency"], patients["emergency"].conversation, EMERGENCY)
    do_send_patient_message(patients["urgent"], patients["urgent"].conversation, URGENT)
    fact(patients["waiting"], "penicillin")
    proposal(patients["waiting"])
    do_send_patient_message(patients["unread"], patients["unread"].conversation, "Thanks, all fine today")
    return patients, carol


def test_the_panel_puts_the_most_urgent_first(ward):
    patients, carol = ward
    rows = panel_rows(carol)
    assert [r.patient.username for r in rows] == [
        "emergency-patient", "urgent-patient", "waiting-patient", "unread-patient", "quiet-patient"]
    first = rows[0]
    assert first.top_level == "emergency" and "chest pain" in first.flags[0]["text"].lower()
    assert first.flags[0]["respond_by"]
    waiting = rows[2]
    assert (waiting.tasks, waiting.unconfirmed) == (1, 1)
    assert rows[3].unread == 1 and rows[4].unread == 0
    page = logged_in(carol).get("/patients/").content.decode()
    assert page.index("emergency-patient") < page.index("urgent-patient") < page.index("quiet-patient")


def test_only_the_care_team_sees_a_patient(ward):
    patients, _ = ward
    dave = make_clinician("dave-panel")
    assert panel_rows(dave) == []
    assert "emergency-patient" not in logged_in(dave).get("/patients/").content.decode()
    assert logged_in(patients["quiet"]).get("/patients/").status_code == 403
    assert Client().get("/patients/").status_code == 302  # to the login page


def test_reading_a_conversation_clears_its_unread_count(ward):
    patients, carol = ward
    client = logged_in(carol)
    assert client.get(f"/chat/{patients['unread'].conversation.public_id}/").status_code == 200
    row = next(r for r in panel_rows(carol) if r.patient == patients["unread"])
    assert row.unread == 0
    do_send_patient_message(patients["unread"], patients["unread"].conversation, "One more thing")
    assert next(r for r in panel_rows(carol) if r.patient == patients["unread"]).unread == 1


def test_the_panel_reads_the_record_audited_as_the_clinician(ward):
    _, carol = ward
    before = StoredResource.objects.filter(resource_type="AuditEvent").count()
    panel_rows(carol)
    events = [r.content for r in StoredResource.objects.filter(resource_type="AuditEvent").order_by("id")[before:]]
    assert len(events) == 2  # the active flags, and the per-patient counts
    assert all(e["agent"][0]["who"]["reference"] == f"Practitioner/{carol.fhir_id}" for e in events)
    assert any(e.get("outcomeDesc") == "counts per patient" for e in events)


def test_a_flag_is_closed_by_the_care_team_only(ward):
    patients, carol = ward
    dave = make_clinician("dave-closer")
    [flag] = [f for r in panel_rows(carol) if r.patient == patients["emergency"] for f in r.flags]
    assert logged_in(dave).post(f"/patients/flags/{flag['id']}/close").status_code == 404
    response = logged_in(carol).post(f"/patients/flags/{flag['id']}/close")
    assert response.status_code == 302
    closed = FhirClient(user=carol).get(f"Flag/{flag['id']}").json()
    assert closed["status"] == "inactive" and closed["period"]["end"]
    rows = panel_rows(carol)
    assert [r.patient.username for r in rows][0] == "urgent-patient"
    # Open flags are searchable through the API too (Continuum's Flag status parameter).
    active = FhirClient(user=carol).get("Flag?status=active").json()
    assert flag["id"] not in [e["resource"]["id"] for e in active.get("entry", [])] and active["total"] == 1


def test_alerts_reach_the_care_teams_sockets_only(ward):
    patients, carol = ward
    dave = make_clinician("dave-socket")

    async def scenario() -> tuple[dict, bool, int]:
        mine = WebsocketCommunicator(AlertsConsumer.as_asgi(), "/ws/alerts/")
        mine.scope["user"] = carol
        other = WebsocketCommunicator(AlertsConsumer.as_asgi(), "/ws/alerts/")
        other.scope["user"] = dave
        patient = WebsocketCommunicator(AlertsConsumer.as_asgi(), "/ws/alerts/")
        patient.scope["user"] = patients["quiet"]
        assert (await mine.connect())[0] and (await other.connect())[0]
        refused = await patient.connect()
        await asyncio.to_thread(do_send_patient_message, patients["quiet"], patients["quiet"].conversation,
                                "my face is drooping on one side and my speech is slurred")
        event = await mine.receive_json_from(timeout=10)
        silent = await other.receive_nothing(timeout=1)
        await mine.disconnect()
        await other.disconnect()
        return event, silent, refused[1]

    event, silent, refused_code = run_async(scenario())
    assert event["type"] == "alert.red_flag" and event["patient_id"] == patients["quiet"].fhir_id
    assert silent and refused_code == 4403


def test_a_large_panel_is_paged_most_urgent_first(ward, settings, monkeypatch):
    from webapp.dashboard import views

    patients, carol = ward
    monkeypatch.setattr(views, "PANEL_PAGE_SIZE", 2)
    client = logged_in(carol)
    first = client.get("/patients/").content.decode()
    assert "emergency-patient" in first and "urgent-patient" in first and "quiet-patient" not in first
    assert "2 of 5 patients, page 1 of 3" in first
    last = client.get("/patients/?page=3").content.decode()
    assert "quiet-patient" in last and "emergency-patient" not in last
    assert client.get("/patients/?page=99").status_code == 200  # past the end: the last page


def test_trends_and_overdue_check_ins_come_after_red_flags_and_before_waiting_work(ward):
    """Abnormal trends, then overdue check-ins, sit between red flags and the rest; plans to approve and summaries
    to sign count as work waiting."""
    from datetime import timedelta

    from webapp.actions.followup import check_in_kind, do_propose_plan
    from webapp.actions.measurements import do_record_measurements
    from webapp.chat.models import Message
    from webapp.clock import now
    from webapp.followup.resources import missed_flag

    patients, carol = ward
    trend, overdue = make_patient("trend-patient"), make_patient("overdue-patient")
    for patient in (trend, overdue):
        do_add_to_care_team(carol, patient)
    do_send_patient_message(trend, trend.conversation, "my sats this morning were 89%")
    do_record_measurements(Message.objects.filter(conversation=trend.conversation).latest("id").id)  # the task's work
    repo = Repository(agent_requester(overdue.fhir_id), channel="agent")
    task = repo.create({"resourceType": "Task", "status": "failed", "intent": "plan",
                        "for": {"reference": f"Patient/{overdue.fhir_id}"},
                        "description": "How is your blood pressure today?"}).resource
    repo.create(missed_flag(overdue.fhir_id, task, now(), now() + timedelta(hours=4)))
    do_propose_plan(patients["quiet"], [check_in_kind(patients["quiet"], "blood pressure",
                                                      "What is your blood pressure today?", 3)])

    rows = panel_rows(carol)
    assert [r.patient.username for r in rows][:5] == [
        "emergency-patient", "urgent-patient", "trend-patient", "overdue-patient", "waiting-patient"]
    assert rows[2].top_level == "trend" and "89" in rows[2].flags[0]["text"]
    assert rows[3].top_level == "overdue" and "blood pressure" in rows[3].flags[0]["text"]
    quiet = next(r for r in rows if r.patient.username == "quiet-patient")
    assert quiet.plans == 1
    page = logged_in(carol).get("/patients/").content.decode()
    assert "TREND</strong>" in page and "OVERDUE CHECK-IN</strong>" in page and "1 plan to approve" in page
