"""The agent's proposals wait in a queue for the patient's care team: listed oldest first, approved or rejected with
a note (the Task's new status, its owner and a Provenance, audited as the clinician), and the patient is told who
decided. Patients get 403; clinicians outside the care team see nothing and get 404."""

from __future__ import annotations

import pytest
from django.test import Client

from agent.tools.base import ToolContext
from agent.tools.propose_to_clinician import handle as propose
from fhir.access import agent_requester
from fhir.store import Repository
from tests.support.cast import PASSWORD
from tests.support.fhir import FhirClient
from webapp.actions.proposals import NotAProposal, do_approve_proposal, waiting_proposals
from webapp.chat.models import Author, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

QUEUE = "/patients/proposals/"


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def proposal(patient, kind: str = "test-order", summary: str = "Check HbA1c and kidney function",
             reason: str = "Thirsty for two weeks; last HbA1c over a year ago") -> str:
    """What the agent's propose_to_clinician tool writes, through the agent's own Repository."""
    context = ToolContext(patient.fhir_id, Repository(agent_requester(patient.fhir_id), channel="agent"))
    propose(context, {"kind": kind, "summary": summary, "reason": reason})
    return context.notes[-1].removeprefix("proposed Task/")


def task(user, task_id: str) -> dict:
    return FhirClient(user=user).get(f"Task/{task_id}").json()


def system_messages(patient) -> list[str]:
    return list(Message.objects.filter(conversation=patient.conversation, author=Author.SYSTEM)
                .values_list("text", flat=True))


def test_the_queue_lists_care_team_proposals_oldest_first(cast):
    alice, bob, carol = cast["alice"], cast["bob"], cast["carol"]
    first = proposal(alice)
    second = proposal(alice, "medication-change", "Increase ramipril to 5 mg", "Home BP above target for 2 weeks")
    proposal(bob, "referral", "Refer to dermatology", "Rash for 3 months")  # bob is not on carol's team
    page = logged_in(carol).get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(first) < html.index(second)  # oldest first
    assert "Check HbA1c and kidney function" in html and "Thirsty for two weeks" in html
    assert "A test" in html and "A medication change" in html
    assert f"/chat/{alice.conversation.public_id}/" in html  # a link to the conversation
    assert "Refer to dermatology" not in html
    assert [p.id for p in waiting_proposals(carol)] == [first, second]


def test_clinicians_outside_the_care_team_see_nothing_and_patients_are_refused(cast):
    proposal(cast["alice"])
    page = logged_in(cast["dave"]).get(QUEUE)
    assert page.status_code == 200 and "No proposals are waiting" in page.content.decode()
    assert logged_in(cast["alice"]).get(QUEUE).status_code == 403
    assert Client().get(QUEUE).status_code == 302  # to the login page


def test_approving_records_the_decision_and_tells_the_patient(cast):
    alice, carol = cast["alice"], cast["carol"]
    task_id = proposal(alice)
    response = logged_in(carol).post(f"{QUEUE}{task_id}/approve", {"note": "Agreed: book bloods this week"})
    assert response.status_code == 302 and response["Location"] == QUEUE

    approved = task(carol, task_id)
    assert approved["status"] == "accepted"
    assert approved["owner"]["reference"] == f"Practitioner/{carol.fhir_id}"
    assert approved["statusReason"]["text"] == "Agreed: book bloods this week"
    assert approved["note"][-1]["authorReference"]["reference"] == f"Practitioner/{carol.fhir_id}"
    assert approved["meta"]["versionId"] == "2"

    [provenance] = [e["resource"] for e in FhirClient(user=carol).get(f"Provenance?target=Task/{task_id}")
                    .json()["entry"]]
    assert provenance["target"][0]["reference"] == f"Task/{task_id}/_history/2"
    assert provenance["agent"][0]["who"]["reference"] == f"Practitioner/{carol.fhir_id}"

    audit = FhirClient(user=cast["root"]).get("AuditEvent?_count=200").json()
    updates = [e["resource"] for e in audit["entry"] if e["resource"]["action"] == "U"
               and any(ref.get("what", {}).get("reference", "").startswith(f"Task/{task_id}")
                       for ref in e["resource"].get("entity", []))]
    assert [u["agent"][0]["who"]["display"] for u in updates] == ["carol"]

    [told] = system_messages(alice)
    assert "carol" in told and "approved" in told and "Check HbA1c" in told
    assert task_id not in logged_in(carol).get(QUEUE).content.decode()  # it has left the queue


def test_rejecting_records_the_decision_and_tells_the_patient(cast):
    alice, carol = cast["alice"], cast["carol"]
    task_id = proposal(alice, "prescription", "Amoxicillin 500 mg three times a day", "Sore throat for 3 days")
    logged_in(carol).post(f"{QUEUE}{task_id}/reject", {"note": ""})
    rejected = task(carol, task_id)
    assert rejected["status"] == "rejected" and rejected["statusReason"]["text"] == "Declined by carol"
    [told] = system_messages(alice)
    assert "declined" in told and "a prescription" in told
    assert waiting_proposals(carol) == []


def test_outsiders_get_404_and_patients_403_and_nothing_changes(cast):
    alice = cast["alice"]
    task_id = proposal(alice)
    assert logged_in(cast["dave"]).post(f"{QUEUE}{task_id}/approve").status_code == 404
    assert logged_in(cast["bob"]).post(f"{QUEUE}{task_id}/approve").status_code == 403
    assert logged_in(alice).post(f"{QUEUE}{task_id}/approve").status_code == 403
    assert logged_in(cast["carol"]).post(f"{QUEUE}no-such-task/approve").status_code == 404
    assert logged_in(cast["carol"]).post(f"{QUEUE}{task_id}/prescribe").status_code == 404
    assert logged_in(cast["carol"]).get(f"{QUEUE}{task_id}/approve").status_code == 405
    assert task(cast["carol"], task_id)["status"] == "requested"
    assert system_messages(alice) == []


def test_a_proposal_is_decided_once(cast):
    alice, carol = cast["alice"], cast["carol"]
    task_id = proposal(alice)
    do_approve_proposal(carol, task_id)
    page = logged_in(carol).post(f"{QUEUE}{task_id}/reject", follow=True).content.decode()
    assert "not a proposal waiting for a decision" in page
    assert task(carol, task_id)["status"] == "accepted"
    assert len(system_messages(alice)) == 1


def test_other_tasks_are_not_proposals(cast):
    alice, carol = cast["alice"], cast["carol"]
    review = Repository(agent_requester(alice.fhir_id), channel="agent").create({
        "resourceType": "Task", "status": "requested", "intent": "order", "description": "Review the upload",
        "for": {"reference": f"Patient/{alice.fhir_id}"}}).resource
    assert waiting_proposals(carol) == []
    with pytest.raises(NotAProposal):
        do_approve_proposal(carol, review["id"])
