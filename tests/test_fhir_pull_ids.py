"""Resources pulled from other servers keep apart: two servers that number their resources alike (HAPI counts from
1000) never overwrite each other here, and pulling the same server again finds what it stored before."""

from __future__ import annotations

import pytest

from fhir.access import SYSTEM
from fhir.remote import pulled_id, store_pulled
from fhir.store import Repository

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def record(family: str, value: float) -> list[dict]:
    """A remote patient and one Observation about them, with the ids a HAPI server would give (no identifiers)."""
    return [{"resourceType": "Patient", "id": "1000", "name": [{"family": family}]},
            {"resourceType": "Observation", "id": "1001", "status": "final", "code": {"text": "pulse"},
             "subject": {"reference": "Patient/1000"}, "valueQuantity": {"value": value, "unit": "/min"}}]


def test_two_servers_with_the_same_ids_do_not_collide_and_a_second_pull_changes_nothing():
    repo = Repository(SYSTEM, channel="import")
    first = store_pulled(repo, record("North", 61), "https://north.example/fhir")
    second = store_pulled(repo, record("South", 99), "https://south.example/fhir/")
    assert sum(first.created.values()) == sum(second.created.values()) == 2
    north, south = (pulled_id(f"https://{side}.example/fhir", "Observation", "1001") for side in ("north", "south"))
    assert north != south
    assert repo.read("Observation", north)["valueQuantity"]["value"] == 61
    assert repo.read("Observation", south)["valueQuantity"]["value"] == 99
    assert repo.read("Observation", south)["subject"]["reference"] == (
        f"Patient/{pulled_id('https://south.example/fhir', 'Patient', '1000')}")
    again = store_pulled(repo, record("North", 61), "https://north.example/fhir")
    assert sum(again.created.values()) == sum(again.updated.values()) == 0
