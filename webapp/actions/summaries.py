"""Consultation summaries: the agent drafts one per episode; a clinician on the care team edits and signs it,
releases it to the patient, and may amend it later.

The summary is a FHIR Composition (agent/memory/summaries.py). Its life, one version per step, each written through
the acting person's Repository (audited) with a Provenance:

    preliminary (held)  --sign-->  final (held)  --release-->  final (released)
                                      \\--amend-->  amended (held)  --release-->  amended (released)

Signing sets ``attester`` (mode legal, the clinician's Practitioner, the time). A signed summary is never edited in
place: changing it is an amendment (a new version, status amended, signed again by whoever amends it), which holds it
back from the patient until it is released again. Release is its own step (the tag in fhir/release.py), so a
clinician can sign now and decide later what the patient reads. Every write names the version it edits (If-Match):
two clinicians cannot overwrite each other unseen.
"""

from __future__ import annotations

import logging

from django.db import transaction

from agent.inquiry.picture import Picture
from agent.memory.summaries import (
    AGENT_AUTHOR,
    EPISODE_SYSTEM,
    SECTIONS,
    episode_identifier,
    summary_requester,
    with_texts,
    write_draft,
)
from fhir.access import requester_for_user
from fhir.errors import FhirError, not_found
from fhir.persistence import instant, new_id
from fhir.release import HELD, RELEASED, release_of, with_release
from fhir.store import PARTICIPANT_TYPE, Repository
from webapp import clock
from webapp.accounts.models import Role, User
from webapp.actions.events import send_event_on_commit
from webapp.actions.flags import send_to_care_team
from webapp.chat.models import Author, Message, Turn

log = logging.getLogger(__name__)

DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
# ISO/ASTM E1762 signature types (the R4 Signature.type value set).
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
VERIFICATION_SIGNATURE = "1.2.840.10065.1.12.1.5"
SIGNED = ("final", "amended")


class SummaryStateError(Exception):
    """The summary is not in a state that allows this step (signed already, not signed yet, changed meanwhile)."""


def is_summary(composition: dict) -> bool:
    return composition.get("identifier", {}).get("system") == EPISODE_SYSTEM


def patient_user(composition: dict) -> User:
    fhir_id = composition.get("subject", {}).get("reference", "").removeprefix("Patient/")
    return User.objects.select_related("conversation").get(fhir_id=fhir_id, role=Role.PATIENT)


# ---- the agent's draft ------------------------------------------------------------------------------------


def do_draft_summary(turn: Turn, picture: Picture, note: str, reply: str, model_note: bool) -> dict | None:
    """Write the episode's draft summary once (a retried turn finds it) and tell the care team. Never raises: the
    patient already has the reply, and the note stays in the InquiryState whatever happens here."""
    patient = turn.conversation.patient
    if not patient.fhir_id or picture.complaint is None:
        return None
    repo = Repository(summary_requester(patient.fhir_id), channel="agent")
    identifier = episode_identifier(turn.conversation.public_id.hex, picture.episode_started_at)
    try:
        with transaction.atomic():
            draft, written = write_draft(repo, patient.fhir_id, identifier, picture, reply, note, model_note,
                                         turn.message_id, clock.now())
            if written:
                send_to_care_team(patient, {"type": "alert.summary_drafted", "summary_id": draft["id"],
                                          "patient_id": patient.fhir_id,
                                          "patient": patient.get_full_name() or patient.username,
                                          "conversation": str(turn.conversation.public_id)})
    except Exception:
        log.exception("could not write the draft summary of turn %s", turn.id)
        return None
    return draft


# ---- the clinician's steps --------------------------------------------------------------------------------


def _repo(clinician: User) -> Repository:
    if clinician.role != Role.CLINICIAN:
        raise PermissionError("only clinicians sign and release summaries")
    return Repository(requester_for_user(clinician), channel="app")


def read_summary(clinician: User, composition_id: str) -> dict:
    """The summary, if it is one of this clinician's patients' (FhirError 404 otherwise), audited as them."""
    composition = _repo(clinician).read("Composition", composition_id)
    if not is_summary(composition):
        raise not_found("Composition", composition_id)
    return composition


def _practitioner(clinician: User) -> dict:
    return {"reference": f"Practitioner/{clinician.fhir_id}",
            "display": clinician.get_full_name() or clinician.username}


def _update(repo: Repository, composition: dict, version: str) -> dict:
    try:
        return repo.update("Composition", composition["id"], composition, if_match=f'W/"{version}"').resource
    except FhirError as error:
        if error.status == 412:
            raise SummaryStateError("The summary was changed meanwhile: reload it and try again.") from None
        raise


def _provenance(written: dict, clinician: User, activity: str, role: str, when: str, *, signed: bool) -> dict:
    """Who did what to which version: the agent stays the author; the clinician signs (legal) or acts."""
    clinician_ref = _practitioner(clinician)
    provenance = {
        "resourceType": "Provenance", "id": new_id(),
        "target": [{"reference": f"Composition/{written['id']}/_history/{written['meta']['versionId']}"}],
        "recorded": when,
        "activity": {"coding": [{"system": DATA_OPERATION, "code": "UPDATE"}], "text": activity},
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "author"}]}, "who": AGENT_AUTHOR},
                  {"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": role}]}, "who": clinician_ref}],
    }
    if signed:
        provenance["signature"] = [{"type": [{"system": SIGNATURE_TYPE, "code": VERIFICATION_SIGNATURE,
                                              "display": "Verification Signature"}],
                                    "when": when, "who": clinician_ref}]
    return provenance


def _signed(composition: dict, clinician: User, texts: dict[str, str], status: str, when: str) -> dict:
    """The composition with the clinician's text, signed by them now (attester legal), held from the patient."""
    edited = with_texts(composition, {k: v for k, v in texts.items() if k in SECTIONS})
    practitioner = _practitioner(clinician)
    authors = edited.get("author", [])
    if practitioner["reference"] not in {a.get("reference") for a in authors}:
        authors = [*authors, practitioner]  # whoever signs has written it too
    signed = {**edited, "status": status, "date": when, "author": authors,
              "attester": [{"mode": "legal", "time": when, "party": practitioner}]}
    return with_release(signed, HELD)


def _sign_step(clinician: User, composition_id: str, texts: dict[str, str], version: str, *, amend: bool) -> dict:
    repo = _repo(clinician)
    when = instant(clock.now())
    with transaction.atomic():
        composition = read_summary(clinician, composition_id)
        if amend and composition.get("status") not in SIGNED:
            raise SummaryStateError("Only a signed summary is amended; sign the draft instead.")
        if not amend and composition.get("status") != "preliminary":
            raise SummaryStateError("This summary is signed already: a change to it is an amendment.")
        status = "amended" if amend else "final"
        written = _update(repo, _signed(composition, clinician, texts, status, when), version)
        repo.create(_provenance(written, clinician, "summary amended" if amend else "summary signed", "legal",
                                when, signed=True))
        patient = patient_user(written)
        send_to_care_team(patient, {"type": f"alert.summary_{status}", "summary_id": written["id"],
                                  "patient_id": patient.fhir_id, "by": clinician.get_full_name() or clinician.username})
    return written


def do_save_summary(clinician: User, composition_id: str, texts: dict[str, str], version: str) -> dict:
    """Keep a clinician's edits to a draft without signing it (it stays preliminary and held)."""
    repo = _repo(clinician)
    with transaction.atomic():
        composition = read_summary(clinician, composition_id)
        if composition.get("status") != "preliminary":
            raise SummaryStateError("This summary is signed already: a change to it is an amendment.")
        return _update(repo, with_texts(composition, {k: v for k, v in texts.items() if k in SECTIONS}), version)


def do_sign_summary(clinician: User, composition_id: str, texts: dict[str, str], version: str) -> dict:
    """Sign the draft with the clinician's text: a final version, attested (legal) by them, with a Provenance."""
    return _sign_step(clinician, composition_id, texts, version, amend=False)


def do_amend_summary(clinician: User, composition_id: str, texts: dict[str, str], version: str) -> dict:
    """Change a signed summary: a new version, status amended, signed by the amending clinician, with a Provenance;
    held back from the patient until released again."""
    return _sign_step(clinician, composition_id, texts, version, amend=True)


def do_release_summary(clinician: User, composition_id: str, version: str) -> dict:
    """Let the patient read a signed summary: a new version tagged released, a Provenance, and a line in their
    conversation (live in their open tabs) saying where to read it."""
    repo = _repo(clinician)
    when = instant(clock.now())
    with transaction.atomic():
        composition = read_summary(clinician, composition_id)
        if composition.get("status") not in SIGNED:
            raise SummaryStateError("Sign the summary before releasing it.")
        if release_of(composition) == RELEASED:
            return composition
        written = _update(repo, with_release(composition, RELEASED), version)
        repo.create(_provenance(written, clinician, "summary released to the patient", "performer", when,
                                signed=False))
        patient = patient_user(written)
        name = clinician.get_full_name() or clinician.username
        message = Message.objects.create(
            conversation=patient.conversation, author=Author.SYSTEM,
            text=f"{name} shared a summary of your consultation with you. You can read it under Summaries.")
        send_event_on_commit(patient.conversation.group_name, message.as_event())
        send_to_care_team(patient, {"type": "alert.summary_released", "summary_id": written["id"],
                                  "patient_id": patient.fhir_id, "by": name})
    return written
