"""Trends for the care team: one series per measured quantity (blood pressure's two components apart), oldest
first, reference ranges carried, rejected readings left out, care team only."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from fhir.access import agent_requester
from fhir.release import CONFIRMATION_SYSTEM
from fhir.store import Repository
from tests.support.cast import PASSWORD
from webapp.dashboard.trends import patient_trends

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

LOINC = "http://loinc.org"


def observation(patient, when: str, code: str, display: str, value: float | None = None, unit: str = "",
                components: list[tuple[str, str, float]] = (), low: float | None = None, high: float | None = None,
                tag: str | None = None) -> None:
    resource = {"resourceType": "Observation", "status": "final",
                "subject": {"reference": f"Patient/{patient.fhir_id}"},
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
                "effectiveDateTime": when}
    if value is not None:
        resource["valueQuantity"] = {"value": value, "unit": unit}
    if components:
        resource["component"] = [{"code": {"coding": [{"system": LOINC, "code": c, "display": d}], "text": d},
                                  "valueQuantity": {"value": v, "unit": "mmHg"}} for c, d, v in components]
    if low is not None:
        resource["referenceRange"] = [{"low": {"value": low, "unit": unit}, "high": {"value": high, "unit": unit}}]
    if tag:
        resource["meta"] = {"tag": [{"system": CONFIRMATION_SYSTEM, "code": tag}]}
    Repository(agent_requester(patient.fhir_id), channel="agent").create(resource)


def test_series_per_quantity_with_ranges_and_without_rejected_readings(cast):
    alice, carol = cast["alice"], cast["carol"]
    for day, (sys, dia) in enumerate([(128, 82), (135, 88), (149, 95)], start=1):
        observation(alice, f"2026-11-0{day}T08:00:00Z", "85354-9", "Blood pressure",
                    components=[("8480-6", "Systolic", sys), ("8462-4", "Diastolic", dia)])
    observation(alice, "2026-11-01T09:00:00Z", "2823-3", "Potassium", 3.1, "mmol/L", low=3.5, high=5.1)
    observation(alice, "2026-11-03T09:00:00Z", "2823-3", "Potassium", 3.4, "mmol/L", low=3.5, high=5.1)
    observation(alice, "2026-11-04T09:00:00Z", "2823-3", "Potassium", 9.9, "mmol/L", tag="rejected")
    observation(alice, "2026-11-02T09:00:00Z", "29463-7", "Body weight", 80, "kg")  # one point: no trend

    series = {s.label: s for s in patient_trends(carol, alice)}
    assert set(series) == {"Systolic", "Diastolic", "Potassium"}
    assert [p["v"] for p in series["Systolic"].points] == [128, 135, 149]
    assert [p["v"] for p in series["Diastolic"].points] == [82, 88, 95]
    potassium = series["Potassium"]
    assert [p["v"] for p in potassium.points] == [3.1, 3.4] and (potassium.low, potassium.high) == (3.5, 5.1)
    assert potassium.unit == "mmol/L"

    client = Client()
    assert client.login(username=carol.username, password=PASSWORD)
    page = client.get(f"/chat/{alice.conversation.public_id}/").content.decode()
    assert page.count("<canvas data-series-id=") == 3 and "chart.umd.min.js" in page
    start = page.index('id="series-0"')
    data = json.loads(page[page.index(">", start) + 1:page.index("</script>", start)])
    assert data["points"] and "low" in data

    assert patient_trends(cast["dave"], alice) == []  # not on the care team: nothing comes back
