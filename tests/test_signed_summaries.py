"""The agent drafts one SOAP summary per consultation episode (a preliminary Composition citing the record and the
evidence); a clinician on the care team edits and signs it (final, attested, with a Provenance), releases it, and
may amend it; the patient reads only what was released, on their page and through the FHIR API."""

from __future__ import annotations

import pytest
from django.test import Client

from agent.inquiry.picture import assess
from agent.memory.summaries import (
    ASSESSMENT,
    EPISODE_SYSTEM,
    EVIDENCE_EXTENSION,
    OBJECTIVE,
    PLAN,
    SUBJECTIVE,
    citations_of,
    section_text,
    sections_by_key,
)
from agent.models import InquiryState, Trajectory
from agent.turn import run_turn
from fhir.access import SYSTEM
from fhir.models import StoredResource
from fhir.release import HELD, RELEASED, is_released, release_of, with_release
from fhir.store import Repository
from fhir.validation import validate_resource
from tests.support.cast import PASSWORD
from tests.support.fhir import FhirClient
from tests.support.turns import client_for, new_turn
from webapp.actions.summaries import do_draft_summary, do_sign_summary
from webapp.chat.models import Author, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

FULL_HISTORY = ("Headache since yesterday, throbbing, 6 out of 10, no stiff neck or vision problems, "
                "I have taken nothing for it.")
CITED = "ev-0123456789"


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def seed_record(patient) -> dict[str, str]:
    """A fact of each kind the recall reads, and one refuted allergy it leaves out."""
    subject = {"reference": f"Patient/{patient.fhir_id}"}
    repo = Repository(SYSTEM)
    made = {
        "condition": repo.create({"resourceType": "Condition", "subject": subject, "code": {"text": "Migraine"}}),
        "observation": repo.create({"resourceType": "Observation", "status": "final", "subject": subject,
                                    "code": {"text": "Blood pressure systolic"}, "effectiveDateTime": "2026-01-02",
                                    "valueQuantity": {"value": 128, "unit": "mmHg"}}),
        "allergy": repo.create({"resourceType": "AllergyIntolerance", "patient": subject,
                                "code": {"text": "Penicillin"}}),
        "medication": repo.create({"resourceType": "MedicationStatement", "status": "active", "subject": subject,
                                   "medicationCodeableConcept": {"text": "Propranolol 40 mg"}}),
        "refuted": repo.create({"resourceType": "AllergyIntolerance", "patient": subject, "code": {"text": "Latex"},
                                "verificationStatus": {"coding": [{
                                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                    "code": "refuted"}]}}),
    }
    return {name: f"{w.resource['resourceType']}/{w.resource['id']}" for name, w in made.items()}


def summaries(patient) -> list[dict]:
    return Repository(SYSTEM).search("Composition", [("subject", f"Patient/{patient.fhir_id}"),
                                                     ("identifier", f"{EPISODE_SYSTEM}|")]).matches


def drafted(patient, reply: str = f"Rest, fluids and paracetamol should help [{CITED}].",
            note: str = "") -> dict:
    """A turn that reaches advice, and its draft written as the summary agent does (here with a citation, which
    needs the evidence index in a real turn)."""
    turn = new_turn(patient, FULL_HISTORY)
    picture = assess(turn)
    assert picture.phase == "advice"
    draft = do_draft_summary(turn, picture, note or "Headache, 1 day, no red flags.", reply, model_note=bool(note))
    assert draft is not None
    return draft


def provenances_of(reference: str) -> list[dict]:
    """The Provenances whose target is exactly this reference (a search by target matches every version)."""
    found = Repository(SYSTEM).search("Provenance", [("target", reference)]).matches
    return [p for p in found if p["target"][0]["reference"] == reference]


def test_the_agent_drafts_one_soap_summary_per_episode(cast, scripted_model):
    alice = cast["alice"]
    facts = seed_record(alice)
    turn = new_turn(alice, FULL_HISTORY)
    run_turn(turn.id, client_for(scripted_model))

    [draft] = summaries(alice)
    valid = validate_resource(draft)  # valid FHIR R4 (fhir.resources): raises otherwise
    assert {k: v for k, v in valid.items() if k != "meta"} == {k: v for k, v in draft.items() if k != "meta"}
    assert draft["status"] == "preliminary" and release_of(draft) == HELD and not is_released(draft)
    assert draft["type"]["coding"][0] == {"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}
    assert draft["subject"] == {"reference": f"Patient/{alice.fhir_id}"}
    assert draft["author"] == [{"display": "Continuum agent"}] and draft["title"] == "Consultation summary: Headache"
    assert [s["code"]["coding"][0]["code"] for s in draft["section"]] == ["61150-9", "61149-1", "51848-0", "18776-5"]
    sections = sections_by_key(draft)
    for section in draft["section"]:
        assert section["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "Chief complaint: Headache." in section_text(sections[SUBJECTIVE])
    assert "Severity: 6 out of 10" in section_text(sections[SUBJECTIVE])
    entries = {s: [e["reference"] for e in sections[s].get("entry", [])] for s in sections}
    assert entries[SUBJECTIVE] == [facts["allergy"], facts["medication"]]  # the refuted allergy is left out
    assert entries[OBJECTIVE] == [facts["observation"]] and "128 mmHg" in section_text(sections[OBJECTIVE])
    assert entries[ASSESSMENT] == [facts["condition"]] and "Known problem: Migraine" in section_text(
        sections[ASSESSMENT])
    reply = Message.objects.filter(conversation=alice.conversation, author=Author.AGENT).get().text
    assert f"Advice given to the patient: {' '.join(reply.split())}" in section_text(sections[PLAN])
    [step] = [s for s in Trajectory.objects.get(turn=turn).steps if s["kind"] == "summary"]
    assert step["composition"] == draft["id"]
    [provenance] = provenances_of(f"Composition/{draft['id']}")
    assert provenance["agent"][0]["who"] == {"display": "Continuum agent"}

    # The same episode goes on: no second draft; a retried summary finds the one it wrote.
    later = new_turn(alice, "Thanks, and should I rest today?")
    run_turn(later.id, client_for(scripted_model))
    again = assess(turn)
    again.episode_started_at = InquiryState.objects.get(turn=turn).episode_started_at
    assert do_draft_summary(turn, again, "again", "again", False)["id"] == draft["id"]
    assert len(summaries(alice)) == 1
    assert len(provenances_of(f"Composition/{draft['id']}")) == 1


def test_cited_evidence_is_in_the_text_and_machine_readable(cast):
    draft = drafted(cast["alice"], note=f"Tension-type headache likely [{CITED}]; no red flags.")
    sections = sections_by_key(draft)
    assert f"[{CITED}]" in section_text(sections[PLAN]) and citations_of(sections[PLAN]) == [CITED]
    assert sections[PLAN]["extension"] == [{"url": EVIDENCE_EXTENSION, "valueIdentifier": {
        "system": "https://continuum.health/fhir/sid/evidence-passage", "value": CITED}}]
    # On the full plan the model's note is the assessment.
    assert section_text(sections[ASSESSMENT]).startswith(f"Tension-type headache likely [{CITED}]")
    assert citations_of(sections[ASSESSMENT]) == [CITED]
    assert not citations_of(sections[SUBJECTIVE])


def test_a_clinician_edits_signs_releases_and_amends(cast):
    alice, carol = cast["alice"], cast["carol"]
    draft = drafted(alice)
    client = logged_in(carol)
    listing = client.get(f"/patients/{alice.conversation.public_id}/summaries/").content.decode()
    assert f"/patients/summaries/{draft['id']}/" in listing and "Draft" in listing
    page = client.get(f"/patients/summaries/{draft['id']}/").content.decode()
    assert 'id="section-subjective"' in page and 'id="sign-summary"' in page and CITED in page
    assert f"/patients/{alice.conversation.public_id}/summaries/" in client.get(
        f"/chat/{alice.conversation.public_id}/").content.decode()

    assert client.post(f"/patients/summaries/{draft['id']}/save",
                       {"version": "1", "assessment": "Probable tension headache."}).status_code == 302
    saved = Repository(SYSTEM).read("Composition", draft["id"])
    assert saved["status"] == "preliminary" and section_text(sections_by_key(saved)[ASSESSMENT]) == (
        "Probable tension headache.")
    # A form showing an older version cannot overwrite what was saved since.
    assert client.post(f"/patients/summaries/{draft['id']}/sign", {"version": "1"}).status_code == 409

    plan = f"Paracetamol as needed [{CITED}].\nReview in a week if not better."
    response = client.post(f"/patients/summaries/{draft['id']}/sign",
                           {"version": "2", "plan": plan, "assessment": "Tension headache."})
    assert response.status_code == 302
    signed = Repository(SYSTEM).read("Composition", draft["id"])
    assert signed["meta"]["versionId"] == "3" and signed["status"] == "final" and release_of(signed) == HELD
    [attester] = signed["attester"]
    assert attester["mode"] == "legal" and attester["party"]["reference"] == f"Practitioner/{carol.fhir_id}"
    assert attester["time"] == signed["date"]
    assert section_text(sections_by_key(signed)[PLAN]) == plan
    assert citations_of(sections_by_key(signed)[PLAN]) == [CITED]  # the marker the clinician kept
    [provenance] = provenances_of(f"Composition/{draft['id']}/_history/3")
    assert provenance["activity"]["text"] == "summary signed"
    assert [(a["type"]["coding"][0]["code"], a["who"].get("reference")) for a in provenance["agent"]] == [
        ("author", None), ("legal", f"Practitioner/{carol.fhir_id}")]
    assert provenance["signature"][0]["who"]["reference"] == f"Practitioner/{carol.fhir_id}"

    # Signed: no more editing in place; release is a step of its own.
    assert client.post(f"/patients/summaries/{draft['id']}/sign", {"version": "3"}).status_code == 409
    assert client.post(f"/patients/summaries/{draft['id']}/save", {"version": "3"}).status_code == 409
    assert client.post(f"/patients/summaries/{draft['id']}/release", {"version": "3"}).status_code == 302
    released = Repository(SYSTEM).read("Composition", draft["id"])
    assert release_of(released) == RELEASED and is_released(released) and released["status"] == "final"
    assert provenances_of(f"Composition/{draft['id']}/_history/4")[0]["activity"]["text"] == (
        "summary released to the patient")
    told = Message.objects.filter(conversation=alice.conversation, author=Author.SYSTEM).last()
    assert "shared a summary of your consultation" in told.text

    # An amendment: a new version signed again, held back until released again.
    assert 'id="amend-summary"' in client.get(f"/patients/summaries/{draft['id']}/?amend=1").content.decode()
    assert client.post(f"/patients/summaries/{draft['id']}/amend",
                       {"version": "4", "plan": "Paracetamol as needed. Review in 3 days."}).status_code == 302
    amended = Repository(SYSTEM).read("Composition", draft["id"])
    assert amended["status"] == "amended" and release_of(amended) == HELD
    assert provenances_of(f"Composition/{draft['id']}/_history/5")[0]["activity"]["text"] == "summary amended"
    assert citations_of(sections_by_key(amended)[PLAN]) == []  # the clinician took the citation out


def test_only_the_care_team_sees_or_signs_a_summary(cast):
    alice, dave = cast["alice"], cast["dave"]
    draft = drafted(alice)
    base = f"/patients/summaries/{draft['id']}"
    outsider = logged_in(dave)
    assert outsider.get(f"/patients/{alice.conversation.public_id}/summaries/").status_code == 404
    assert outsider.get(f"{base}/").status_code == 404
    assert outsider.post(f"{base}/sign", {"version": "1"}).status_code == 404
    assert outsider.post(f"{base}/release", {"version": "1"}).status_code == 404
    for patient in (alice, cast["bob"]):
        assert logged_in(patient).get(f"{base}/").status_code == 403
        assert logged_in(patient).post(f"{base}/sign", {"version": "1"}).status_code == 403
        assert logged_in(patient).get(f"/patients/{alice.conversation.public_id}/summaries/").status_code == 403
    assert logged_in(cast["carol"]).get("/patients/summaries/not-a-summary/").status_code == 404
    assert Repository(SYSTEM).read("Composition", draft["id"])["meta"]["versionId"] == "1"
    with pytest.raises(PermissionError):
        do_sign_summary(alice, draft["id"], {}, "1")


def test_the_patient_sees_only_released_summaries(cast):
    alice, bob, carol = cast["alice"], cast["bob"], cast["carol"]
    draft = drafted(alice)
    page, api = logged_in(alice), FhirClient(user=alice)
    search = f"Composition?subject=Patient/{alice.fhir_id}"

    def visible() -> tuple[bool, int, int]:
        shown = f"summary-{draft['id']}" in page.get("/care/summaries/").content.decode()
        return shown, len(api.get(search).json().get("entry", [])), api.get(f"Composition/{draft['id']}").status_code

    assert visible() == (False, 0, 404)  # a draft
    do_sign_summary(carol, draft["id"], {"plan": "Rest and fluids."}, "1")
    assert visible() == (False, 0, 404)  # signed, not released
    logged_in(carol).post(f"/patients/summaries/{draft['id']}/release", {"version": "2"})
    assert visible() == (True, 1, 200)
    mine = page.get("/care/summaries/").content.decode()
    assert "Rest and fluids." in mine and "signed by carol" in mine
    assert api.get(f"Composition/{draft['id']}/_history/1").status_code == 404  # the draft version stays hidden
    assert api.get(f"Composition/{draft['id']}/_history/3").status_code == 200
    assert f"summary-{draft['id']}" not in logged_in(bob).get("/care/summaries/").content.decode()
    assert logged_in(carol).get("/care/summaries/").status_code == 403
    # Amended: hidden again until the clinician releases the new version.
    logged_in(carol).post(f"/patients/summaries/{draft['id']}/amend", {"version": "3", "plan": "Rest."})
    assert visible() == (False, 0, 404)


def test_each_step_is_audited_as_who_took_it(cast):
    alice, carol = cast["alice"], cast["carol"]
    before = StoredResource.objects.filter(resource_type="AuditEvent").count()
    draft = drafted(alice)
    client = logged_in(carol)
    client.get(f"/patients/summaries/{draft['id']}/")
    client.post(f"/patients/summaries/{draft['id']}/sign", {"version": "1"})
    client.post(f"/patients/summaries/{draft['id']}/release", {"version": "2"})
    events = [r.content for r in StoredResource.objects.filter(resource_type="AuditEvent").order_by("id")[before:]]

    def touching(version: str) -> list[tuple[str, str, str]]:
        ref = f"Composition/{draft['id']}/_history/{version}"
        return [(e["subtype"][0]["code"], e["agent"][0]["who"].get("reference", e["agent"][0]["who"]["display"]),
                 e["source"]["site"]) for e in events
                if any(x.get("what", {}).get("reference") == ref for x in e.get("entity", []))]

    assert ("create", "Device/continuum-agent", "agent") in touching("1")
    assert ("read", f"Practitioner/{carol.fhir_id}", "app") in touching("1")
    assert touching("2")[0] == ("update", f"Practitioner/{carol.fhir_id}", "app")
    assert touching("3")[0] == ("update", f"Practitioner/{carol.fhir_id}", "app")


def test_release_rules_for_held_resources():
    composition = {"resourceType": "Composition", "status": "final"}
    assert is_released(composition)  # a final document from elsewhere (an EHR) stays as before
    assert not is_released(with_release(composition, HELD))
    assert is_released(with_release(composition, RELEASED))
    assert not is_released(with_release({**composition, "status": "preliminary"}, RELEASED))
    with pytest.raises(ValueError):
        with_release(composition, "shown")
