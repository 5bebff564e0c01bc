"""The server's own outputs are valid FHIR R4: HL7's official validator finds no error in any of them.

A small record for alice is written through the API, then the responses a client sees are saved one file
each (CapabilityStatement, a searchset with _include and paging links, $everything, history, an error's
OperationOutcome, a transaction-response, AuditEvents, the red-flag layer's Flag) and validated in ONE run
of the validator (scripts/fetch_fhir_validator.py installs it; loading the R4 core package takes most of the
time). Warnings are allowed and counted; error and fatal issues fail the test, each printed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from agent.safety.escalation import DEADLINE_DEFINITION
from scripts.fetch_fhir_validator import is_installed, validator_command
from tests.support.fhir import FhirClient, condition, observation
from webapp.actions.messages import do_send_patient_message

pytestmark = [pytest.mark.django_db]

FILE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/operationoutcome-file"
# Errors that only say that a value could not be checked because the validator runs with no terminology server
# (-tx n/a): CapabilityStatement.format's BCP-13 mime type application/fhir+json is valid, but the validator cannot
# look the code system urn:ietf:bcp:13 up offline. (path prefix, words the message must all contain)
UNCHECKABLE_OFFLINE = (("CapabilityStatement.format[", ("urn:ietf:bcp:13", "No server available")),)
# Validated beside the outputs: the validator must find its error, or it is not really looking.
CONTROL = "Control-invalid-Patient"
INVALID_PATIENT = {"resourceType": "Patient", "id": "control", "birthDate": "1980-02-30", "gender": "woman"}
VITAL_SIGNS = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                           "code": "vital-signs", "display": "Vital Signs"}]}


def encounter(patient_id: str) -> dict:
    return {"resourceType": "Encounter", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                      "display": "ambulatory"},
            "subject": {"reference": f"Patient/{patient_id}"},
            "period": {"start": "2026-11-01T09:00:00Z", "end": "2026-11-01T09:20:00Z"}}


def problem(patient_id: str, **extra) -> dict:
    return condition(patient_id, clinicalStatus={"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        verificationStatus={"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
        **extra)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def collect_outputs(api: FhirClient, cast) -> dict[str, dict]:
    """Write alice's small record, then gather what the server answers; name -> resource."""
    alice = cast["alice"]
    pid = alice.fhir_id
    encounter_id = ok(api.post("Encounter", encounter(pid)), 201)["id"]
    context = {"encounter": {"reference": f"Encounter/{encounter_id}"}}
    pulse = ok(api.post("Observation", observation(pid, category=[VITAL_SIGNS], **context)), 201)
    ok(api.post("Observation", observation(pid, value=80, when="2026-11-02", category=[VITAL_SIGNS], **context)), 201)
    ok(api.post("Condition", problem(pid, encounter={"reference": f"Encounter/{encounter_id}"})), 201)
    ok(api.put(f"Observation/{pulse['id']}", pulse | {"status": "amended"}, If_Match='W/"1"'))

    do_send_patient_message(alice, alice.conversation, "crushing chest pain and sweating")
    flags = ok(api.get(f"Flag?patient={pid}"))
    assert flags["total"] == 1, flags

    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:6f1b1e1c-0d5e-4a59-9a51-2b1e8c7a0001", "resource": encounter(pid),
         "request": {"method": "POST", "url": "Encounter"}},
        {"resource": observation(pid, code="9279-1", value=16, when="2026-11-03", category=[VITAL_SIGNS],
                                 encounter={"reference": "urn:uuid:6f1b1e1c-0d5e-4a59-9a51-2b1e8c7a0001"}),
         "request": {"method": "POST", "url": "Observation"}},
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "GET", "url": f"Condition?patient={pid}"}},
    ]}

    outputs = {
        "CapabilityStatement-metadata": ok(api.get("metadata")),
        "Bundle-searchset-include-paging": ok(api.get(
            f"Observation?patient={pid}&_include=Observation:subject&_include=Observation:encounter&_count=1")),
        "Bundle-searchset-revinclude": ok(api.get(f"Patient?_id={pid}&_revinclude=Condition:subject")),
        "Bundle-everything": ok(api.get(f"Patient/{pid}/$everything")),
        "Bundle-history-instance": ok(api.get(f"Observation/{pulse['id']}/_history")),
        "Bundle-history-type": ok(api.get("Observation/_history?_count=2")),
        "OperationOutcome-404": ok(api.get("Observation/no-such-id"), 404),
        "OperationOutcome-400": ok(api.post("Observation", {"resourceType": "Observation", "status": "nonsense"}), 400),
        "Bundle-transaction-response": ok(api.post("", transaction)),
        "Flag-red-flag": flags["entry"][0]["resource"],
        "Patient-alice": ok(api.get(f"Patient/{pid}")),
    }
    page = outputs["Bundle-searchset-include-paging"]
    assert {link["relation"] for link in page["link"]} >= {"self", "next"}, page["link"]
    assert any(e["search"]["mode"] == "include" for e in page["entry"]), page["entry"]

    audit = ok(FhirClient(user=cast["root"]).get("AuditEvent?_count=200"))
    outputs["Bundle-searchset-AuditEvent"] = audit
    seen: set[str] = set()
    for entry in audit["entry"]:  # one AuditEvent of each kind of interaction
        event = entry["resource"]
        kind = f"{event['subtype'][0]['code']}-{event['outcome']}"
        if kind not in seen:
            seen.add(kind)
            outputs[f"AuditEvent-{kind}"] = event
    assert len(seen) >= 4, seen
    return outputs


def run_validator(folder: Path, names: list[str]) -> dict[str, list[dict]]:
    """Validate every file in one java run, with the definitions of our own extensions; file name -> its issues."""
    report = folder / "report.json"
    definitions = folder / "definitions"
    definitions.mkdir()
    (definitions / "StructureDefinition-response-deadline.json").write_text(json.dumps(DEADLINE_DEFINITION))
    files = [str(folder / f"{name}.json") for name in names]
    run = subprocess.run(validator_command(*files, "-ig", str(definitions), "-output", str(report),
                                           "-txCache", str(folder / "tx-cache")),
                         capture_output=True, text=True, timeout=900)
    if not report.exists():
        pytest.fail(f"the validator wrote no report (exit {run.returncode}):\n{(run.stdout + run.stderr)[-6000:]}")
    result = json.loads(report.read_text())
    outcomes = [e["resource"] for e in result["entry"]] if result["resourceType"] == "Bundle" else [result]
    issues: dict[str, list[dict]] = {}
    for outcome in outcomes:
        source = next(e["valueString"] for e in outcome.get("extension", []) if e["url"] == FILE_EXTENSION)
        issues[Path(source).stem] = outcome.get("issue", [])
    return issues


def where(issue: dict) -> str:
    return ", ".join(issue.get("expression", []) or issue.get("location", []))


def message(issue: dict) -> str:
    return issue.get("details", {}).get("text") or issue.get("diagnostics") or ""


def describe(issue: dict) -> str:
    return f"  {issue['severity']:<11} {where(issue)}: {message(issue)}"


def uncheckable_offline(issue: dict) -> bool:
    return any(where(issue).startswith(path) and all(word in message(issue) for word in words)
               for path, words in UNCHECKABLE_OFFLINE)


def test_the_official_validator_finds_no_error_in_the_servers_outputs(api, cast, tmp_path):
    if not is_installed():
        pytest.fail("the FHIR validator is not installed: run scripts/setup.sh --test "
                    "(scripts/fetch_fhir_validator.py)")
    if not shutil.which("java"):
        pytest.fail("java is not on PATH: the FHIR validator needs Java 17")
    outputs = collect_outputs(api, cast)
    for name, resource in {**outputs, CONTROL: INVALID_PATIENT}.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(resource, indent=1))

    started = time.monotonic()
    issues = run_validator(tmp_path, sorted([*outputs, CONTROL]))
    seconds = time.monotonic() - started

    assert set(issues) == {*outputs, CONTROL}, f"validated {sorted(issues)}, expected {sorted(outputs)}"
    control = [i for i in issues.pop(CONTROL) if i["severity"] == "error"]
    assert {where(i) for i in control} >= {"Patient.birthDate", "Patient.gender"}, control
    serious = {name: [i for i in found if i["severity"] in ("error", "fatal")] for name, found in issues.items()}
    errors = {name: [i for i in found if not uncheckable_offline(i)] for name, found in serious.items()}
    unchecked = {name: [i for i in found if uncheckable_offline(i)] for name, found in serious.items()}
    warnings = {name: [i for i in found if i["severity"] == "warning"] for name, found in issues.items()}
    print(f"\nFHIR validator, one run of {seconds:.0f} s: {len(outputs)} outputs, "
          f"{sum(map(len, errors.values()))} errors, {sum(map(len, warnings.values()))} warnings, "
          f"{sum(map(len, unchecked.values()))} errors that only say a value cannot be checked offline")
    for name in sorted(outputs):
        print(f"{name}: {len(errors[name])} errors, {len(warnings[name])} warnings")
        for issue in errors[name] + unchecked[name] + warnings[name]:
            print(describe(issue))
    failing = {name: found for name, found in errors.items() if found}
    assert not failing, "the validator found errors:\n" + "\n".join(
        f"{name}:\n" + "\n".join(describe(i) for i in found) for name, found in sorted(failing.items()))
