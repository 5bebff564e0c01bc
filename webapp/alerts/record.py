"""How an acknowledgement shows in the record: an extension on the Flag naming who acknowledged it and when, so an
EHR reading the Flag sees it too (the AuditEvent of that update names the clinician as well)."""

from __future__ import annotations

from datetime import datetime

from fhir.extensions import extension_definition, extension_url

ACK_EXTENSION = extension_url("alert-acknowledgement")
ACK_DEFINITION = extension_definition(
    "alert-acknowledgement", "AlertAcknowledgement", "Alert acknowledgement",
    "Who acknowledged the alert raised for this Flag, and when; escalation stopped then.", context="Flag",
    elements=[
        {"id": "Extension.extension:by", "path": "Extension.extension", "sliceName": "by", "min": 1, "max": "1"},
        {"id": "Extension.extension:by.url", "path": "Extension.extension.url", "fixedUri": "by"},
        {"id": "Extension.extension:by.value[x]", "path": "Extension.extension.value[x]",
         "type": [{"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Practitioner"]}]},
        {"id": "Extension.extension:at", "path": "Extension.extension", "sliceName": "at", "min": 1, "max": "1"},
        {"id": "Extension.extension:at.url", "path": "Extension.extension.url", "fixedUri": "at"},
        {"id": "Extension.extension:at.value[x]", "path": "Extension.extension.value[x]",
         "type": [{"code": "dateTime"}]},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": extension_url("alert-acknowledgement")},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
    ])


def acknowledgement_extension(practitioner_id: str, name: str, at: datetime) -> dict:
    return {"url": ACK_EXTENSION, "extension": [
        {"url": "by", "valueReference": {"reference": f"Practitioner/{practitioner_id}", "display": name}},
        {"url": "at", "valueDateTime": at.isoformat()}]}


def acknowledgement_of(flag: dict) -> tuple[str, str] | None:
    """(who, when) from a Flag's acknowledgement extension, or None when nobody has acknowledged it."""
    for extension in flag.get("extension", []):
        if extension.get("url") == ACK_EXTENSION:
            parts = {part.get("url"): part for part in extension.get("extension", [])}
            return (parts.get("by", {}).get("valueReference", {}).get("display", ""),
                    parts.get("at", {}).get("valueDateTime", ""))
    return None
