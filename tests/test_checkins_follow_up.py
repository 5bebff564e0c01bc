"""Follow-up plans and check-ins: a clinician approves a plan, inside it the agent schedules check-ins itself and
outside it only proposes; the beat sends due check-ins once at the patient's local time (the clock is moved, never
slept on), the patient's reply answers them, a missed one is reminded once and then escalated; outsiders get 404."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.models import Trajectory
from agent.turn import run_turn
from fhir.definitions import search_params
from fhir.models import SearchIndex, StoredResource
from tests.support.turns import client_for, new_turn
from webapp import clock
from webapp.accounts.models import PatientProfile
from webapp.actions import followup
from webapp.actions.followup import (
    PlanNotOpen,
    check_in_kind,
    do_approve_plan,
    do_create_plan,
    do_mark_check_ins_answered,
    do_propose_plan,
    do_reject_plan,
    do_run_check_ins,
    do_send_due_check_ins,
)
from webapp.actions.handover import do_hand_back, do_set_agent_paused, do_take_over
from webapp.actions.messages import do_send_patient_message
from webapp.chat.models import Author, Message
from webapp.followup.local_time import at_local, due_in_days, series
from webapp.followup.models import CheckInDelivery
from webapp.followup.resources import CHECK_IN_PROGRESS_SYSTEM, FOLLOW_UP_FLAG_SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]

# A Friday evening in UTC: already Saturday morning in Tokyo, still Friday afternoon in Los Angeles; the US moves
# its clocks forward on Sunday 8 March 2026, the UK on Sunday 29 March.
NOW = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
ADVICE_PHASE = ("Facial pain and fever for ten days, severe, no breathing problems, nothing else, and I have taken "
                "no medicines. Can I get antibiotics for my sinus infection?")
BP = {"topic": "blood pressure", "question": "What was your blood pressure this morning?", "in_days": 3}


@pytest.fixture(autouse=True)
def pinned_clock():
    clock.set_now(NOW)
    yield
    clock.set_now(None)


def in_zone(user, name: str) -> None:
    PatientProfile.objects.filter(user=user).update(time_zone=name)
    user.refresh_from_db()
    user.patient_profile.refresh_from_db()


def stored(resource_type: str, patient) -> list[dict]:
    return [r.content for r in StoredResource.objects.filter(resource_type=resource_type, patient_id=patient.fhir_id,
                                                               deleted=False).order_by("pk")]


def check_ins(patient) -> list[dict]:
    return sorted((t for t in stored("Task", patient) if t.get("code", {}).get("coding", [{}])[0].get("code")
                   == "check-in"), key=lambda t: t["executionPeriod"]["start"])


def bp_plan(patient, clinician=None, every_days=3, count=5, in_days=1):
    kind = check_in_kind(patient, "blood pressure", "What was your blood pressure this morning?", in_days,
                         every_days, count)
    return do_propose_plan(patient, [kind], "Blood pressure after the dose change", clinician=clinician)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_hour(instant_text: str, zone: str) -> tuple[date, int]:
    local = utc(instant_text).astimezone(ZoneInfo(zone))
    return local.date(), local.hour


def agent_turn(patient, scripted_model, arguments: dict):
    turn = new_turn(patient, ADVICE_PHASE)
    scripted_model.decide({"tool_calls": [{"name": "schedule_checkin", "arguments": arguments}]})
    run_turn(turn.id, client_for(scripted_model))
    [step] = [s for s in Trajectory.objects.get(turn=turn).steps if s.get("tool") == "schedule_checkin"]
    return step


# ---- local time -------------------------------------------------------------------------------------------

def test_in_three_days_is_counted_on_the_patients_calendar_at_nine_local():
    tokyo, los_angeles = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/Los_Angeles")
    # Saturday 7 March in Tokyo: Tuesday 10 March 09:00 JST is midnight UTC.
    assert due_in_days(NOW, 3, tokyo, 9) == datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    # Friday 6 March in Los Angeles: Monday 9 March 09:00, after the clocks went forward (PDT, UTC-7).
    assert due_in_days(NOW, 3, los_angeles, 9) == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert due_in_days(NOW, 3, ZoneInfo("UTC"), 9) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_a_series_keeps_its_local_hour_across_daylight_saving():
    london = ZoneInfo("Europe/London")
    first = at_local(date(2026, 3, 27), 9, 0, london)  # GMT
    times = series(first, 3, 3, london)
    assert times == [datetime(2026, 3, 27, 9, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC),  # BST from the 29th
                     datetime(2026, 4, 2, 8, tzinfo=UTC)]
    assert {t.astimezone(london).hour for t in times} == {9}


def test_check_ins_are_never_sent_at_night():
    zone = ZoneInfo("Europe/Paris")
    assert at_local(date(2026, 6, 1), 3, 30, zone).astimezone(zone).hour == 8
    assert at_local(date(2026, 6, 1), 23, 0, zone).astimezone(zone).hour == 20


# ---- plans: propose, approve, reject ----------------------------------------------------------------------

def test_a_proposed_plan_is_a_draft_and_schedules_nothing(cast):
    alice = cast["alice"]
    plan = bp_plan(alice)
    assert plan["status"] == "draft" and plan["intent"] == "plan"
    assert plan["category"][0]["coding"][0]["code"] == "follow-up"
    detail = plan["activity"][0]["detail"]
    assert detail["description"] == "What was your blood pressure this morning?"
    assert {"count": 5, "period": 3, "periodUnit": "d"}.items() <= detail["scheduledTiming"]["repeat"].items()
    assert plan["author"] == {"display": "Continuum agent"}
    assert check_ins(alice) == []


def test_approval_activates_the_plan_names_the_clinician_and_the_agent_schedules_it(cast):
    alice, carol = cast["alice"], cast["carol"]
    in_zone(alice, "America/Los_Angeles")
    plan = bp_plan(alice)
    approved = do_approve_plan(carol, plan["id"])
    assert approved["status"] == "active"
    assert approved["contributor"] == [{"reference": f"Practitioner/{carol.fhir_id}", "display": "carol"}]
    [provenance] = [p for p in stored("Provenance", alice) if p["target"][0]["reference"].startswith(
        f"CarePlan/{plan['id']}/_history/")]
    assert provenance["agent"][0]["who"]["reference"] == f"Practitioner/{carol.fhir_id}"
    tasks = check_ins(alice)
    assert len(tasks) == 5
    assert {t["status"] for t in tasks} == {"ready"} and {t["intent"] for t in tasks} == {"plan"}
    assert {t["basedOn"][0]["reference"] for t in tasks} == {f"CarePlan/{plan['id']}"}
    assert {t["requester"]["display"] for t in tasks} == {"Continuum agent"}
    # Every 3 days at 09:00 in Los Angeles, from Saturday 7 March, across the change to summer time.
    assert [local_hour(t["executionPeriod"]["start"], "America/Los_Angeles") for t in tasks] == [
        (date(2026, 3, 7 + 3 * i), 9) for i in range(5)]
    assert tasks[0]["executionPeriod"]["start"].startswith("2026-03-07T17:00")  # PST
    assert tasks[1]["executionPeriod"]["start"].startswith("2026-03-10T16:00")  # PDT
    with pytest.raises(PlanNotOpen):
        do_approve_plan(carol, plan["id"])  # decided once
    assert len(check_ins(alice)) == 5


def test_the_search_the_scheduler_uses_is_indexed(cast):
    alice = cast["alice"]
    do_approve_plan(cast["carol"], bp_plan(alice)["id"])
    params = search_params("Task")
    assert {"period", "status", "code", "business-status", "modified", "based-on"} <= set(params)
    task = check_ins(alice)[0]
    rows = SearchIndex.objects.filter(resource__fhir_id=task["id"], resource__resource_type="Task")
    assert rows.filter(param="period", low=utc(task["executionPeriod"]["start"])).exists()
    assert rows.filter(param="status", code="ready").exists()
    assert rows.filter(param="code", code="check-in").exists()


def test_a_rejected_plan_is_revoked_and_a_stopped_one_cancels_what_was_not_sent(cast):
    alice, carol = cast["alice"], cast["carol"]
    rejected = do_reject_plan(carol, bp_plan(alice)["id"], "not needed")
    assert rejected["status"] == "revoked" and check_ins(alice) == []
    active = do_create_plan(carol, alice, [check_in_kind(alice, "rash", "How is the rash?", 7)], "rash review")
    assert active["author"]["reference"] == f"Practitioner/{carol.fhir_id}" and active["status"] == "active"
    do_reject_plan(carol, active["id"])
    assert [t["status"] for t in check_ins(alice)] == ["cancelled"]


def test_a_clinician_outside_the_care_team_cannot_decide(cast):
    from fhir.errors import FhirError

    plan = bp_plan(cast["alice"])
    with pytest.raises(FhirError) as refused:
        do_approve_plan(cast["dave"], plan["id"])
    assert refused.value.status == 404
    with pytest.raises(PermissionError):
        do_create_plan(cast["dave"], cast["alice"], [check_in_kind(cast["alice"], "rash", "How is it?", 7)])


# ---- the agent's tool -------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_outside_an_approved_plan_the_agent_only_proposes(cast, scripted_model):
    alice = cast["alice"]
    step = agent_turn(alice, scripted_model, BP)
    assert step["ok"] and "Not scheduled" in step["result"] and "do not promise" in step["result"]
    [plan] = stored("CarePlan", alice)
    assert plan["status"] == "draft" and plan["author"] == {"display": "Continuum agent"}
    assert plan["activity"][0]["detail"]["description"] == BP["question"]
    assert check_ins(alice) == []
    # Asked again, it does not propose the same thing twice.
    again = agent_turn(alice, scripted_model, BP)
    assert "already proposed" in again["result"] and len(stored("CarePlan", alice)) == 1


@pytest.mark.django_db(transaction=True)
def test_inside_an_approved_plan_the_agent_schedules_the_check_in_itself(cast, scripted_model):
    alice, carol = cast["alice"], cast["carol"]
    in_zone(alice, "Asia/Tokyo")
    plan = do_approve_plan(carol, bp_plan(alice, every_days=7, count=2)["id"])
    before = len(check_ins(alice))
    step = agent_turn(alice, scripted_model, BP)
    assert step["ok"] and "Scheduled within the approved follow-up plan" in step["result"]
    tasks = check_ins(alice)
    assert len(tasks) == before + 1 and len(stored("CarePlan", alice)) == 1
    [added] = [t for t in tasks if t["identifier"][0]["value"].startswith(f"{plan['id']}-agent-")]
    assert added["basedOn"] == [{"reference": f"CarePlan/{plan['id']}"}] and added["status"] == "ready"
    assert local_hour(added["executionPeriod"]["start"], "Asia/Tokyo") == (date(2026, 3, 10), 9)
    # Something the plan is not about, or beyond its end, is only proposed.
    rash = agent_turn(alice, scripted_model, {"topic": "rash", "question": "How does the rash look now?",
                                              "in_days": 3})
    late = agent_turn(alice, scripted_model, BP | {"in_days": 60})
    assert "Not scheduled" in rash["result"] and "Not scheduled" in late["result"]
    assert len(check_ins(alice)) == before + 1
    assert sorted(p["status"] for p in stored("CarePlan", alice)) == ["active", "draft", "draft"]


# ---- the beat ---------------------------------------------------------------------------------------------

def approved_bp(cast, **kwargs) -> dict:
    return do_approve_plan(cast["carol"], bp_plan(cast["alice"], **kwargs)["id"])


def agent_messages(patient) -> list[str]:
    return list(Message.objects.filter(conversation=patient.conversation, author=Author.AGENT)
                .order_by("id").values_list("text", flat=True))


def test_the_beat_sends_each_due_check_in_once(cast, django_capture_on_commit_callbacks):
    alice = cast["alice"]
    approved_bp(cast)
    first, second = check_ins(alice)[:2]
    assert do_run_check_ins().sent == []  # nothing due yet
    clock.set_now(utc(first["executionPeriod"]["start"]) + timedelta(minutes=1))
    with django_capture_on_commit_callbacks() as callbacks:
        assert do_run_check_ins().sent == [first["id"]]
    assert len(callbacks) == 1  # streamed to the open tabs once, after commit
    assert do_run_check_ins().sent == []  # a second beat finds nothing
    assert agent_messages(alice) == ["Checking in, as planned with your care team: What was your blood pressure "
                                     "this morning?"]
    sent = check_ins(alice)[0]
    assert sent["status"] == "in-progress" and sent["businessStatus"]["coding"][0] == {
        "system": CHECK_IN_PROGRESS_SYSTEM, "code": "sent"}
    assert [t["status"] for t in check_ins(alice)[1:]] == ["ready"] * 4 and second["status"] == "ready"


def test_celery_beat_runs_the_check_ins_task(cast, settings):
    from webapp.celery import app
    from webapp.followup.tasks import run_check_ins

    entry = settings.CELERY_BEAT_SCHEDULE["check-ins"]
    assert entry["task"] == "webapp.followup.tasks.run_check_ins" and entry["task"] in app.tasks
    approved_bp(cast)
    clock.set_now(utc(check_ins(cast["alice"])[0]["executionPeriod"]["start"]))
    assert run_check_ins() == {"sent": 1, "reminded": 0, "escalated": 0, "completed_plans": 0}
    assert run_check_ins()["sent"] == 0  # a retried or overlapping run sends nothing again


def test_two_beats_racing_on_the_same_check_in_send_it_once(cast):
    alice = cast["alice"]
    approved_bp(cast)
    stale = check_ins(alice)[0]  # what a second beat read before the first one sent it
    clock.set_now(utc(stale["executionPeriod"]["start"]))
    assert do_send_due_check_ins() == [stale["id"]]
    assert followup._send(stale, clock.now()) is False
    assert len(agent_messages(alice)) == 1 and CheckInDelivery.objects.count() == 1


def test_a_taken_over_conversation_or_a_paused_agent_holds_check_ins(cast):
    alice, carol = cast["alice"], cast["carol"]
    approved_bp(cast)
    clock.set_now(utc(check_ins(alice)[0]["executionPeriod"]["start"]))
    do_take_over(carol, alice.conversation)
    assert do_send_due_check_ins() == []
    do_hand_back(carol, alice.conversation)
    do_set_agent_paused(cast["root"], True, "maintenance")
    assert do_send_due_check_ins() == []
    do_set_agent_paused(cast["root"], False)
    assert len(do_send_due_check_ins()) == 1


def test_the_patients_next_message_answers_the_check_in(cast):
    alice = cast["alice"]
    approved_bp(cast)
    clock.set_now(utc(check_ins(alice)[0]["executionPeriod"]["start"]))
    do_send_due_check_ins()
    do_send_patient_message(alice, alice.conversation, "138 over 85 this morning")
    answered = check_ins(alice)[0]
    assert answered["status"] == "completed" and answered["businessStatus"]["text"] == "answered"
    assert answered["output"][0]["valueString"] == "138 over 85 this morning"
    delivery = CheckInDelivery.objects.get(task_id=answered["id"])
    assert delivery.closed_at is not None and delivery.answer.text == "138 over 85 this morning"
    # Later messages find nothing open, and the answered check-in is never reminded.
    assert do_mark_check_ins_answered(alice.conversation, delivery.answer) == []
    clock.set_now(clock.now() + timedelta(hours=49))
    run = do_run_check_ins()
    assert run.reminded == [] and run.escalated == []


def test_a_missed_check_in_is_reminded_once_then_escalated_to_the_care_team(cast, settings, monkeypatch):
    settings.CHECKIN_REMINDER_HOURS, settings.CHECKIN_ESCALATE_HOURS = 6, 12
    alice = cast["alice"]
    alerts = []
    real_notify = followup.notify_care_team
    monkeypatch.setattr(followup, "notify_care_team",
                        lambda patient, flag, event: (alerts.append((patient, flag, event)),
                                                      real_notify(patient, flag, event)))
    approved_bp(cast)
    due = utc(check_ins(alice)[0]["executionPeriod"]["start"])
    clock.set_now(due)
    [task_id] = do_run_check_ins().sent
    clock.set_now(due + timedelta(hours=5))
    assert do_run_check_ins().reminded == []
    clock.set_now(due + timedelta(hours=6, minutes=1))
    assert do_run_check_ins().reminded == [task_id]
    assert do_run_check_ins().reminded == []  # one reminder only
    assert agent_messages(alice)[-1] == ("A reminder, in case you missed it: What was your blood pressure this "
                                         "morning?")
    clock.set_now(due + timedelta(hours=6 + 11))
    assert do_run_check_ins().escalated == []
    clock.set_now(due + timedelta(hours=6 + 12, minutes=2))
    assert do_run_check_ins().escalated == [task_id]
    assert do_run_check_ins().escalated == []
    missed = next(t for t in check_ins(alice) if t["id"] == task_id)
    assert missed["status"] == "failed" and missed["businessStatus"]["text"] == "escalated"
    [flag] = stored("Flag", alice)
    assert flag["status"] == "active" and flag["category"][0]["coding"][0]["code"] == "clinical"
    assert flag["code"]["coding"][0] == {"system": FOLLOW_UP_FLAG_SYSTEM, "code": "missed-check-in",
                                         "display": "Missed check-in"}
    deadline = flag["extension"][0]
    assert deadline["url"] == "https://continuum.health/fhir/StructureDefinition/response-deadline"
    assert utc(deadline["valueDateTime"]) == clock.now() + timedelta(minutes=settings.URGENT_RESPONSE_MINUTES)
    [(patient, alerted_flag, event)] = alerts
    assert patient == alice and alerted_flag["id"] == flag["id"] and event["type"] == "alert.missed_check_in"
    # A reply after the escalation does not reopen it.
    do_send_patient_message(alice, alice.conversation, "sorry, I was away")
    assert next(t for t in check_ins(alice) if t["id"] == task_id)["status"] == "failed"


def test_a_plan_completes_when_its_period_is_over_and_nothing_is_open(cast):
    alice = cast["alice"]
    plan = approved_bp(cast, every_days=0, count=1)
    [task] = check_ins(alice)
    clock.set_now(utc(task["executionPeriod"]["start"]))
    do_run_check_ins()
    clock.set_now(utc(plan["period"]["end"]) + timedelta(hours=1))
    assert do_run_check_ins().completed_plans == []  # its one check-in still waits for a reply
    do_send_patient_message(alice, alice.conversation, "120/80")
    assert do_run_check_ins().completed_plans == [plan["id"]]
    assert stored("CarePlan", alice)[0]["status"] == "completed"


# ---- pages ------------------------------------------------------------------------------------------------

def test_the_clinician_approves_a_proposal_with_an_edited_schedule(cast, client):
    alice, carol = cast["alice"], cast["carol"]
    plan = bp_plan(alice)
    client.force_login(carol)
    listing = client.get("/follow-up/")
    assert listing.status_code == 200 and "waiting for approval" in listing.content.decode()
    page = client.get(f"/follow-up/plans/{plan['id']}/")
    assert page.status_code == 200 and 'id="approve"' in page.content.decode()
    response = client.post(f"/follow-up/plans/{plan['id']}/approve", {
        "a0-topic": "blood pressure", "a0-question": "Your blood pressure today?", "a0-first_date": "2026-03-08",
        "a0-hour": "10", "a0-every_days": "7", "a0-times": "2"})
    assert response.status_code == 302
    tasks = check_ins(alice)
    assert [t["executionPeriod"]["start"][:16] for t in tasks] == ["2026-03-08T10:00", "2026-03-15T10:00"]
    assert {t["description"] for t in tasks} == {"Your blood pressure today?"}
    conversation = client.get(f"/chat/{alice.conversation.public_id}/").content.decode()
    assert 'id="follow-up"' in conversation and "Your blood pressure today?" in conversation
    assert "approved by carol" in conversation


def test_the_clinician_writes_a_plan_from_the_conversation(cast, client):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    assert client.get(f"/follow-up/new/{alice.conversation.public_id}/").status_code == 200
    response = client.post(f"/follow-up/new/{alice.conversation.public_id}/", {
        "topic": "blood pressure", "question": "What was your blood pressure?", "in_days": "1", "every_days": "3",
        "for_days": "14", "hour": "9", "approve": "on"})
    assert response.status_code == 302
    assert len(check_ins(alice)) == 5 and stored("CarePlan", alice)[0]["status"] == "active"
    bad = client.post(f"/follow-up/new/{alice.conversation.public_id}/", {"topic": "x", "in_days": "400"})
    assert bad.status_code == 400


def test_the_patient_sees_their_upcoming_check_ins_on_their_clock(cast, client):
    alice, bob = cast["alice"], cast["bob"]
    in_zone(alice, "Europe/London")
    approved_bp(cast, every_days=3, count=2)
    client.force_login(alice)
    page = client.get("/care/check-ins/").content.decode()
    assert "Sat 07 Mar 2026, 09:00 GMT" in page and "What was your blood pressure this morning?" in page
    client.force_login(bob)
    assert "No check-ins are planned" in client.get("/care/check-ins/").content.decode()


def test_outsiders_get_404_and_other_roles_403(cast, client):
    alice, bob = cast["alice"], cast["bob"]
    plan = bp_plan(alice)
    client.force_login(cast["dave"])
    assert client.get(f"/follow-up/plans/{plan['id']}/").status_code == 404
    assert client.post(f"/follow-up/plans/{plan['id']}/approve", {}).status_code == 404
    assert client.post(f"/follow-up/plans/{plan['id']}/reject", {}).status_code == 404
    assert client.get(f"/follow-up/new/{alice.conversation.public_id}/").status_code == 404
    assert plan["id"] not in client.get("/follow-up/").content.decode()
    assert client.get("/care/check-ins/").status_code == 403
    client.force_login(cast["carol"])
    assert client.get(f"/follow-up/plans/{bp_plan(bob)['id']}/").status_code == 404  # bob is not carol's
    client.force_login(alice)
    assert client.get("/follow-up/").status_code == 403
    assert client.post(f"/follow-up/plans/{plan['id']}/approve", {}).status_code == 403
    assert stored("CarePlan", alice)[0]["status"] == "draft"
