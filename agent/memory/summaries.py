"""The consultation summary as a FHIR Composition (SOAP), drafted by the summary agent for a clinician to sign.

One draft per conversation episode (its identifier names the conversation and the episode's start, so a retried
turn finds the draft it already wrote). It is a LOINC 11506-3 progress note with four sections (Subjective,
Objective, Assessment, Plan), each a short XHTML narrative plus ``entry`` references to the record facts it rests
on: the same searches the recall makes (agent/memory/recall.py ``read_sections``), so the draft cites what the
agent read. Evidence passages the reply cited stay as ``[ev-…]`` markers in the narrative and, machine-readable,
as ``evidence-citation`` extensions on the section (an Identifier: passages are not FHIR resources).

Everything here is deterministic (no model call). On the full plan the model's own note goes in Assessment.
The draft is ``preliminary`` and tagged ``held`` (fhir/release.py), so the patient never sees it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from agent.inquiry.picture import Picture
from agent.inquiry.slots import SLOTS
from agent.memory.recall import concept_text, observation_value, read_sections
from fhir.access import Requester, agent_requester
from fhir.persistence import instant, new_id
from fhir.release import HELD, confirmation_of, with_release
from fhir.store import PARTICIPANT_TYPE, Repository

LOINC = "http://loinc.org"
PROGRESS_NOTE = {"system": LOINC, "code": "11506-3", "display": "Progress note"}
SUBJECTIVE, OBJECTIVE, ASSESSMENT, PLAN = "subjective", "objective", "assessment", "plan"
# key -> (title, LOINC code, display), in SOAP order.
SECTIONS: dict[str, tuple[str, str, str]] = {
    SUBJECTIVE: ("Subjective", "61150-9", "Subjective Narrative"),
    OBJECTIVE: ("Objective", "61149-1", "Objective Narrative"),
    ASSESSMENT: ("Assessment", "51848-0", "Evaluation note"),
    PLAN: ("Plan", "18776-5", "Plan of care note"),
}
EPISODE_SYSTEM = "https://continuum.health/fhir/sid/summary-episode"
EVIDENCE_EXTENSION = "https://continuum.health/fhir/StructureDefinition/evidence-citation"
EVIDENCE_SYSTEM = "https://continuum.health/fhir/sid/evidence-passage"
MESSAGE_SYSTEM = "https://continuum.health/fhir/sid/chat-message"
AGENT_AUTHOR = {"display": "Continuum agent"}
XHTML = "http://www.w3.org/1999/xhtml"
CITED = re.compile(r"\[(ev-[0-9a-f]{10})\]")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
EMPTY_SECTION = "Nothing recorded."


def summary_requester(patient_id: str) -> Requester:
    """The summary agent: the agent in this patient's record, writing only its draft and the draft's Provenance
    (the patient-facing agent's own write types have no Composition: it never writes clinical documents)."""
    return agent_requester(patient_id, writes=frozenset({"Composition", "Provenance"}))


def episode_identifier(conversation_public_id: str, episode_started_at: datetime) -> dict:
    """Stable per episode; digits and dots only after the conversation id, so it survives a search URL."""
    return {"system": EPISODE_SYSTEM, "value": f"{conversation_public_id}.{int(episode_started_at.timestamp())}"}


# ---- narrative --------------------------------------------------------------------------------------------


def narrative(lines: list[str]) -> dict:
    """Plain lines -> a FHIR Narrative (one <p> per line, escaped)."""
    lines = [line.strip() for line in lines if line.strip()] or [EMPTY_SECTION]
    body = "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines)
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{body}</div>'}


def narrative_lines(section: dict) -> list[str]:
    """The plain lines of a section this module wrote (the inverse of ``narrative``)."""
    div = section.get("text", {}).get("div", "")
    return [html.unescape(re.sub(r"<[^>]+>", "", p)) for p in _PARAGRAPH.findall(div)]


def section_text(section: dict) -> str:
    return "\n".join(line for line in narrative_lines(section) if line != EMPTY_SECTION)


def citations_of(section: dict) -> list[str]:
    return [e["valueIdentifier"]["value"] for e in section.get("extension", []) if e.get("url") == EVIDENCE_EXTENSION]


def citation_extensions(ids: list[str]) -> list[dict]:
    return [{"url": EVIDENCE_EXTENSION, "valueIdentifier": {"system": EVIDENCE_SYSTEM, "value": i}}
            for i in dict.fromkeys(ids)]


def section_key(section: dict) -> str | None:
    codes = {c.get("code") for c in section.get("code", {}).get("coding", []) if c.get("system") == LOINC}
    return next((key for key, (_, code, _) in SECTIONS.items() if code in codes), None)


def sections_by_key(composition: dict) -> dict[str, dict]:
    return {key: s for s in composition.get("section", []) if (key := section_key(s)) is not None}


def with_texts(composition: dict, texts: dict[str, str]) -> dict:
    """The composition with some sections' narrative replaced by a clinician's plain text. Citations follow the
    text: a passage whose marker is removed is no longer cited; markers the draft never cited are only text."""
    sections = []
    for section in composition.get("section", []):
        key = section_key(section)
        if key in texts:
            cited = citations_of(section)
            kept = [i for i in CITED.findall(texts[key]) if i in cited]
            others = [e for e in section.get("extension", []) if e.get("url") != EVIDENCE_EXTENSION]
            section = {k: v for k, v in section.items() if k != "extension"}
            section["text"] = narrative(texts[key].replace("\r\n", "\n").split("\n"))
            if others or kept:
                section["extension"] = [*others, *citation_extensions(kept)]
        sections.append(section)
    return {**composition, "section": sections}


# ---- the draft --------------------------------------------------------------------------------------------


@dataclass
class RecordFacts:
    """What the recall read, as references with a line each."""
    allergies: list[tuple[dict, str]]
    medications: list[tuple[dict, str]]
    problems: list[tuple[dict, str]]
    flags: list[tuple[dict, str]]
    observations: list[tuple[dict, str]]


def _reference(resource: dict, text: str) -> dict:
    return {"reference": f"{resource['resourceType']}/{resource['id']}", "display": text[:200]}


def _level(resource: dict) -> str:
    level = confirmation_of(resource)
    return f" [{level}]" if level else ""


def _refuted(resource: dict) -> bool:
    return resource.get("verificationStatus", {}).get("coding", [{}])[0].get("code") == "refuted"


def record_facts(repo: Repository, patient_id: str) -> RecordFacts:
    """The facts recall() summarised for the model (same searches, same filters), one audited batch."""
    found = read_sections(repo, f"Patient/{patient_id}")

    def facts(resources: list[dict], line) -> list[tuple[dict, str]]:
        out = []
        for resource in resources:
            if _refuted(resource):
                continue
            text = line(resource)
            out.append((_reference(resource, text), text + _level(resource)))
        return out

    return RecordFacts(
        allergies=facts(found["AllergyIntolerance"], lambda a: concept_text(a.get("code"))),
        medications=facts(found["MedicationStatement"], lambda m: concept_text(m.get("medicationCodeableConcept"))
                          + (f" — {m['dosage'][0]['text']}" if m.get("dosage") and m["dosage"][0].get("text")
                             else "")),
        problems=facts(found["Condition"], lambda c: concept_text(c.get("code"))
                       + (f" since {c['onsetDateTime'][:10]}" if c.get("onsetDateTime") else "")),
        flags=facts(found["Flag"], lambda f: concept_text(f.get("code"))
                    + f" since {f.get('period', {}).get('start', '?')[:16]}"),
        observations=facts(found["Observation"], lambda o: f"{(o.get('effectiveDateTime') or '?')[:10]} "
                           f"{concept_text(o.get('code'))}: {observation_value(o)}"),
    )


_SOURCE = {"answer": "patient's answer", "conversation": "patient's words"}


def soap_sections(picture: Picture, facts: RecordFacts, reply: str, note: str, model_note: bool,
                  cited: list[str]) -> dict[str, tuple[list[str], list[dict], list[str]]]:
    """key -> (narrative lines, entries, cited passage ids), built from the picture and the record only."""
    assert picture.complaint is not None
    subjective = [f"Chief complaint: {picture.complaint.label}."]
    for name, slot in SLOTS.items():
        known = picture.slots.get(name)
        if known is not None and known["source"] != "record":  # record facts are listed below, with references
            subjective.append(f"{slot.label}: {known['value']} ({_SOURCE.get(known['source'], known['source'])})")
    subjective += [f"Allergy: {text}" for _, text in facts.allergies]
    subjective += [f"Medication: {text}" for _, text in facts.medications]

    objective = ([f"Observation: {text}" for _, text in facts.observations]
                 or ["No measurements in the record; no examination (remote consultation)."])

    # A passage the reply did not cite is not cited here either (never invented): its marker goes.
    note = CITED.sub(lambda m: m.group(0) if m.group(1) in cited else "", note)
    assessment = [line for line in note.splitlines() if line.strip()] if model_note else [
        f"{picture.complaint.label}: {picture.reason}."]
    if picture.red_flag:
        assessment.append("A red flag fired in this episode: the patient was told how soon to be seen.")
    assessment += [f"Open red flag: {text}" for _, text in facts.flags]
    assessment += [f"Known problem: {text}" for _, text in facts.problems]

    plan = [f"Advice given to the patient: {' '.join(reply.split())}"] if reply.strip() else []
    if picture.missing:
        plan.append("To establish: " + ", ".join(SLOTS[name].label.lower() for name in picture.missing
                                                  if name in SLOTS) + ".")
    plan.append("Evidence cited: " + " ".join(f"[{i}]" for i in cited) if cited else
                "No guideline passage was cited.")
    return {
        SUBJECTIVE: (subjective, [r for r, _ in facts.allergies + facts.medications], []),
        OBJECTIVE: (objective, [r for r, _ in facts.observations], []),
        ASSESSMENT: (assessment, [r for r, _ in facts.flags + facts.problems],
                     [i for i in cited if f"[{i}]" in note] if model_note else []),
        PLAN: (plan, [], cited),
    }


def draft_composition(patient_id: str, identifier: dict, picture: Picture, facts: RecordFacts, reply: str,
                      note: str, model_note: bool, when: datetime) -> dict:
    """The preliminary SOAP Composition (held back from the patient)."""
    cited = list(dict.fromkeys(CITED.findall(reply)))
    sections = []
    for key, (lines, entries, ids) in soap_sections(picture, facts, reply, note, model_note, cited).items():
        title, code, display = SECTIONS[key]
        section = {"title": title, "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                   "text": narrative(lines)}
        if ids:
            section["extension"] = citation_extensions(ids)
        if entries:
            section["entry"] = entries
        sections.append(section)
    assert picture.complaint is not None
    composition = {
        "resourceType": "Composition", "identifier": identifier, "status": "preliminary",
        "type": {"coding": [PROGRESS_NOTE], "text": "Consultation summary"},
        "subject": {"reference": f"Patient/{patient_id}"}, "date": instant(when), "author": [AGENT_AUTHOR],
        "title": f"Consultation summary: {picture.complaint.label}", "section": sections,
    }
    return with_release(composition, HELD)


def write_draft(repo: Repository, patient_id: str, identifier: dict, picture: Picture, reply: str, note: str,
                model_note: bool, message_id: int, when: datetime) -> tuple[dict, bool]:
    """Write the episode's draft and a Provenance naming the agent as its author (one audited interaction), unless
    the episode has one already. Returns (the draft, whether it was written now)."""
    existing = repo.conditional_match("Composition", f"identifier={identifier['system']}|{identifier['value']}")
    if existing is not None:
        return existing, False
    facts = record_facts(repo, patient_id)
    composition_id = new_id()
    composition = draft_composition(patient_id, identifier, picture, facts, reply, note, model_note, when)
    provenance = {
        "resourceType": "Provenance", "target": [{"reference": f"Composition/{composition_id}"}],
        "recorded": instant(when),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE"}], "text": "summary drafted"},
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "author"}]}, "who": AGENT_AUTHOR}],
        "entity": [{"role": "source", "what": {"identifier": {"system": MESSAGE_SYSTEM, "value": str(message_id)}}}],
    }
    written, _ = repo.create_many([(composition, composition_id), (provenance, new_id())])
    return written.resource, True
