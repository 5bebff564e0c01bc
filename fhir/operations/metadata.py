"""metadata: the CapabilityStatement, built from what the server really implements."""

from __future__ import annotations

from fhir.definitions import APPEND_ONLY, RESOURCE_TYPES, search_params
from fhir.operations import confirm, everything, validate
from fhir.persistence import instant, now

SEARCH_RESULT_PARAMS = [
    ("_count", "number"), ("_offset", "number"), ("_sort", "string"), ("_include", "special"),
    ("_revinclude", "special"), ("_summary", "token"), ("_elements", "string"), ("_total", "token"),
]
SOFTWARE_VERSION = "0.1.0"


def _resource(resource_type: str) -> dict:
    writable = resource_type not in APPEND_ONLY
    interactions = ["read", "vread", "search-type", "history-instance", "history-type"]
    if writable:
        interactions += ["create", "update", "delete"]
    params = [{"name": p.code, "type": p.type} | ({"definition": p.definition} if p.definition else {})
              for p in search_params(resource_type).values()]
    entry = {
        "type": resource_type,
        "interaction": [{"code": code} for code in interactions],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": writable,
        "conditionalCreate": writable,
        "conditionalRead": "not-supported",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "referencePolicy": ["literal", "enforced", "local"],
        "searchInclude": [f"{resource_type}:{p.code}" for p in search_params(resource_type).values()
                          if p.type == "reference"] + [f"{resource_type}:*"],
        "searchParam": params + [{"name": n, "type": t} for n, t in SEARCH_RESULT_PARAMS],
        "operation": [{"name": "validate", "definition": validate.DEFINITION["url"]}],
    }
    if resource_type == "Patient":
        entry["operation"].append({"name": "everything", "definition": everything.DEFINITION["url"]})
    if resource_type in confirm.DEFINITION["resource"]:
        entry["operation"].append({"name": "confirm", "definition": confirm.DEFINITION["url"]})
    return entry


def capability_statement(base: str, origin: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now()),
        "publisher": "Continuum",
        "kind": "instance",
        "software": {"name": "Continuum FHIR server", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Continuum's longitudinal patient record", "url": base.rstrip("/")},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": False,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "SMART-on-FHIR"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": f"{origin}/o/token/"},
                                  {"url": "authorize", "valueUri": f"{origin}/o/authorize/"}],
                }],
                "description": "OAuth 2 with SMART scopes (patient/, user/, system/), or a logged-in session",
            },
            "resource": [_resource(t) for t in sorted(RESOURCE_TYPES)],
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
        }],
    }
