"""Regenerate fhir/definitions/search_parameters.json from the official R4 package.

The official definitions come in npm `hl7.fhir.r4.examples@4.0.1` (CC0). We keep only
what the server uses: the search parameters of the resource types it stores and the
patient compartment, so the repository carries ~150 KB instead of 19 MB and nothing
is downloaded at run time.

    python scripts/build_fhir_definitions.py [path/to/hl7.fhir.r4.examples-4.0.1.tgz]

Without an argument it runs `npm pack` into a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "hl7.fhir.r4.examples@4.0.1"
OUT = Path(__file__).resolve().parent.parent / "fhir" / "definitions" / "search_parameters.json"

# The resource types Continuum stores (issue 5 lists them); keep in step with fhir/definitions.py.
RESOURCE_TYPES = [
    "Patient", "Practitioner", "PractitionerRole", "Organization", "Encounter", "Observation", "Condition",
    "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Medication", "Procedure", "Immunization",
    "DocumentReference", "DiagnosticReport", "ImagingStudy", "Media", "Binary", "Composition", "CarePlan",
    "CareTeam", "Task", "Flag", "Communication", "Provenance", "AuditEvent", "Consent", "Device", "Location",
    "Claim", "ExplanationOfBenefit", "Goal", "SupplyDelivery", "MedicationAdministration", "Coverage",
]
SEARCH_TYPES = {"token", "string", "reference", "date", "quantity", "uri", "number"}


def load(tgz: Path) -> tuple[dict, dict]:
    with tarfile.open(tgz) as tar:
        params = json.load(tar.extractfile("package/Bundle-searchParams.json"))
        compartment = json.load(tar.extractfile("package/CompartmentDefinition-patient.json"))
    return params, compartment


def split_union(expression: str) -> list[str]:
    """Split a FHIRPath union at its top level: 'A.x | (B.y as T)' -> ['A.x', '(B.y as T)']."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(expression):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            parts.append(expression[start:i].strip())
            start = i + 1
    parts.append(expression[start:].strip())
    return parts


def for_type(expression: str, resource_type: str) -> str:
    """The parts of a shared parameter's expression that apply to one resource type."""
    return " | ".join(p for p in split_union(expression) if p.lstrip("(").startswith(resource_type + "."))


def build(params: dict, compartment: dict) -> dict:
    by_type: dict[str, list[dict]] = {t: [] for t in RESOURCE_TYPES}
    common: list[dict] = []
    for entry in params["entry"]:
        sp = entry["resource"]
        if sp["type"] not in SEARCH_TYPES or not sp.get("expression"):
            continue
        row = {"code": sp["code"], "type": sp["type"], "expression": sp["expression"]}
        if sp.get("target"):
            row["target"] = sorted(sp["target"])
        bases = sp["base"]
        if bases in (["Resource"], ["DomainResource"]):
            common.append(row)
            continue
        for base in bases:
            if base in by_type and (expression := for_type(sp["expression"], base)):
                by_type[base].append(row | {"expression": expression})
    patient_compartment = {
        r["code"]: r["param"] for r in compartment["resource"] if r.get("param") and r["code"] in by_type
    }
    return {
        "source": f"npm {PACKAGE} (HL7 FHIR R4 4.0.1, CC0): "
                  "Bundle-searchParams.json, CompartmentDefinition-patient.json",
        "common": sorted(common, key=lambda r: r["code"]),
        "resources": {t: sorted(rows, key=lambda r: r["code"]) for t, rows in sorted(by_type.items())},
        "patient_compartment": dict(sorted(patient_compartment.items())),
    }


def main() -> None:
    if len(sys.argv) > 1:
        tgz = Path(sys.argv[1])
        params, compartment = load(tgz)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True, capture_output=True)
            params, compartment = load(next(Path(tmp).glob("*.tgz")))
    OUT.write_text(json.dumps(build(params, compartment), indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
