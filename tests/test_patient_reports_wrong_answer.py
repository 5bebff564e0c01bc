"""A patient marks an agent message as wrong: the care team is alerted and sees it on the panel and the
conversation page, the turn's trajectory records it, and only the patient's own agent messages can be reported."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from agent.models import Trajectory
from agent.turn import run_turn
from tests.support.cast import PASSWORD
from tests.support.scripted_model import Script
from tests.support.turns import client_for, new_turn
from webapp.chat.models import MessageReport
from webapp.dashboard.panel import panel_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_reported_answer_reaches_the_care_team_and_the_trajectory(cast, scripted_model):
    alice, carol = cast["alice"], cast["carol"]
    scripted_model.queue(Script(text="When did the knee pain start?"))
    reply = run_turn(new_turn(alice, "My knee hurts").id, client_for(scripted_model))
    client = logged_in(alice)
    response = client.post(f"/chat/messages/{reply.id}/report", json.dumps({"reason": "I said it was my ankle"}),
                           content_type="application/json")
    assert response.status_code == 200 and response.json() == {"reported": reply.id}
    assert client.post(f"/chat/messages/{reply.id}/report", {"reason": "again"}).status_code == 200  # once only
    assert MessageReport.objects.filter(message=reply).count() == 1

    steps = Trajectory.objects.get(turn=reply.turn).steps
    assert steps[-1]["kind"] == "patient_report" and steps[-1]["reason"] == "I said it was my ankle"
    [row] = [r for r in panel_rows(carol) if r.patient == alice]
    assert row.reports == 1
    page = logged_in(carol).get(f"/chat/{alice.conversation.public_id}/").content.decode()
    assert "Marked wrong by the patient" in page and "I said it was my ankle" in page

    logged_in(carol).post(f"/patients/{alice.conversation.public_id}/resolve-report", {"message": reply.id})
    assert MessageReport.objects.get(message=reply).resolved_by == carol
    assert [r for r in panel_rows(carol) if r.patient == alice][0].reports == 0


def test_only_the_patients_own_agent_messages_can_be_reported(cast, scripted_model):
    alice, bob = cast["alice"], cast["bob"]
    reply = run_turn(new_turn(alice, "My knee hurts").id, client_for(scripted_model))
    assert logged_in(bob).post(f"/chat/messages/{reply.id}/report", {"reason": "x"}).status_code == 404
    assert logged_in(cast["carol"]).post(f"/chat/messages/{reply.id}/report", {"reason": "x"}).status_code == 403
    own = reply.conversation.messages.filter(author="patient").first()
    assert logged_in(alice).post(f"/chat/messages/{own.id}/report", {"reason": "x"}).status_code == 404
    assert not MessageReport.objects.exists()
    assert logged_in(cast["dave"]).post(f"/patients/{alice.conversation.public_id}/resolve-report",
                                        {"message": reply.id}).status_code == 404
