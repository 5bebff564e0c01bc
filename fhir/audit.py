"""AuditEvents: one per read, search and write of clinical data, whoever asked and however.

They are FHIR AuditEvent resources in the same store (searchable by admins through the REST
API), written through fhir.persistence so that auditing never audits itself, and append-only:
no requester may update or delete one (fhir.access.Requester.may_write_type).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from fhir.access import Requester
from fhir.dates import date_range
from fhir.indexing import normalise, split_reference
from fhir.models import ResourceVersion
from fhir.persistence import insert_new_version, instant, new_id, now

# FHIR restful-interaction code -> AuditEvent.action (C create, R read/vread/search, U update, D delete, E execute).
ACTIONS = {"create": "C", "read": "R", "vread": "R", "search-type": "E", "search-system": "E", "history-instance": "R",
           "history-type": "R", "update": "U", "delete": "D", "transaction": "E", "batch": "E", "operation": "E",
           "patch": "U"}
OUTCOMES = {"success": "0", "minor": "4", "serious": "8"}
AUDIT_ENTITIES = 100  # resources named per AuditEvent (and as many patients); a bulk write spreads over several


@dataclass
class AuditRecord:
    interaction: str
    outcome: str = "success"
    entities: list[str] = field(default_factory=list)  # references read or written: "Observation/1/_history/2"
    patients: set[str] = field(default_factory=set)  # Patient ids whose data was touched
    query: str | None = None
    # Further queries answered by the same interaction (Repository.search_many: one event for several searches).
    more_queries: list[str] = field(default_factory=list)
    description: str | None = None


def _entity(ref: str) -> dict:
    """A resource ('Type/id', 'Type/id/_history/n') is the entity's ``what``; a whole type (a type-level search
    or history) is no Reference (R4 wants Type/id), so it is the entity's ``name``."""
    described = {"what": {"reference": ref}} if "/" in ref else {"name": ref}
    return {**described, "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"}}


def build_audit_event(requester: Requester, record: AuditRecord, channel: str) -> dict:
    entities = [_entity(ref) for ref in record.entities[:AUDIT_ENTITIES]]
    entities += [{"what": {"reference": f"Patient/{pid}"},
                  "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
                  "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"}}
                 for pid in sorted(record.patients)[:AUDIT_ENTITIES]]
    for query in ([record.query] if record.query else []) + record.more_queries:
        entities.append({"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
                         "query": base64.b64encode(query.encode()).decode()})
    agent = {"who": {"display": requester.display}, "requestor": True}
    if requester.reference.split("/", 1)[1] not in ("", "None"):
        agent["who"]["reference"] = requester.reference
    if requester.client_id:
        agent["altId"] = requester.client_id
    event = {
        "resourceType": "AuditEvent",
        "id": new_id(),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
                 "display": "RESTful Operation"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": record.interaction}],
        "action": ACTIONS.get(record.interaction, "E"),
        "recorded": instant(now()),
        "outcome": OUTCOMES[record.outcome],
        "agent": [agent],
        "source": {"site": channel, "observer": {"display": "Continuum FHIR server"},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}]},
    }
    if record.description:
        event["outcomeDesc"] = record.description[:1000]
    if entities:
        event["entity"] = entities
    return event


def _reference_row(reference: str) -> dict:
    ref_type, ref_id = split_reference(reference)
    return {"code": reference[:255], "ref_type": ref_type, "ref_id": ref_id}


def _coding_row(coding: dict) -> dict:
    row = {"system": coding.get("system"), "code": coding.get("code"), "value": None}
    if coding.get("display"):
        row["value"] = normalise(coding["display"])
    return row


def audit_index_rows(event: dict) -> list[tuple[str, dict]]:
    """The search index of an AuditEvent this module built, without evaluating FHIRPath (an AuditEvent is written
    on every interaction). Yields exactly what fhir.indexing.index_values would: tests/test_fhir_audit.py checks it."""
    rows: list[tuple[str, dict]] = [("action", {"code": event["action"]})]
    for agent in event["agent"]:
        if "reference" in agent["who"]:
            rows.append(("agent", _reference_row(agent["who"]["reference"])))
        if agent.get("altId"):
            rows.append(("altid", {"code": agent["altId"]}))
    low, high = date_range(event["recorded"])
    rows.append(("date", {"low": low, "high": high}))
    entities, types, roles, names = [], [], [], []
    for entity in event.get("entity", []):
        if "what" in entity:
            entities.append(_reference_row(entity["what"]["reference"]))
        if "name" in entity:
            names.append({"value": normalise(entity["name"]), "code": entity["name"]})
        if "role" in entity:
            roles.append(_coding_row(entity["role"]))
        if "type" in entity:
            types.append(_coding_row(entity["type"]))
    for code, values in (("entity", entities), ("entity-name", names), ("entity-role", roles), ("entity-type", types)):
        seen: list[dict] = []
        for row in values:
            if row not in seen:
                seen.append(row)
                rows.append((code, row))
    rows.append(("outcome", {"code": event["outcome"]}))
    patients = [(agent["who"]["reference"]) for agent in event["agent"]
                if agent["who"].get("reference", "").startswith("Patient/")]
    patients += [row["code"] for row in entities if row["code"].startswith("Patient/")]
    seen_patients: list[str] = []
    for reference in patients:
        if reference not in seen_patients:
            seen_patients.append(reference)
            rows.append(("patient", _reference_row(reference)))
    rows.append(("site", {"code": event["source"]["site"]}))
    rows += [("subtype", _coding_row(coding)) for coding in event["subtype"]]
    rows.append(("type", _coding_row(event["type"])))
    rows.append(("_id", {"code": event["id"]}))
    if event.get("meta", {}).get("lastUpdated"):  # set by fhir.persistence.stamp before indexing
        low, high = date_range(event["meta"]["lastUpdated"])
        rows.append(("_lastUpdated", {"low": low, "high": high}))
    return rows


def write_audit_event(requester: Requester, record: AuditRecord, channel: str) -> None:
    insert_new_version(build_audit_event(requester, record, channel), ResourceVersion.Method.CREATE, audit_index_rows)
