"""Continuum's own FHIR extensions: their canonical URLs and StructureDefinitions, so validators and readers know
what they are. Each extension's module keeps its own differential; the boilerplate around it lives here."""

from __future__ import annotations

BASE = "https://continuum.health/fhir/StructureDefinition/"


def extension_url(slug: str) -> str:
    return BASE + slug


def extension_definition(slug: str, name: str, title: str, description: str, *, context: str,
                         elements: list[dict]) -> dict:
    """The StructureDefinition of one extension on ``context`` (a resource type): ``elements`` is the
    differential below the root element (slices, url, value[x])."""
    return {
        "resourceType": "StructureDefinition",
        "id": slug,
        "url": extension_url(slug),
        "name": name,
        "title": title,
        "status": "active",
        "publisher": "Continuum",
        "description": description,
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": context}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension", "path": "Extension", "short": title, "definition": description, "max": "1"},
            *elements,
        ]},
    }
