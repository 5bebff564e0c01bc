"""The embedded database keeps good query plans as the record grows: refresh_statistics (after imports, and hourly
on beat) gives SQLite's planner the statistics that steer a search criterion to one seek per candidate."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from fhir.access import SYSTEM
from fhir.maintenance import refresh_statistics
from fhir.models import StoredResource
from fhir.search.parse import parse_search
from fhir.search.query import criterion_filter
from fhir.store import Repository
from tests.support.fhir import observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def plan(resource_type: str, query: list[tuple[str, str]]) -> str:
    queryset = StoredResource.objects.filter(resource_type=resource_type, deleted=False)
    for criterion in parse_search(resource_type, query).criteria:
        queryset = queryset.filter(criterion_filter(criterion))
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_a_value_range_is_checked_per_candidate_not_scanned_per_candidate():
    if connection.vendor != "sqlite":
        assert refresh_statistics() is False  # PostgreSQL's autovacuum analyses by itself
        return
    patients = [str(uuid.uuid4()) for _ in range(3)]
    resources = [{"resourceType": "Patient", "id": pid} for pid in patients]
    resources += [{**observation(patients[i % 3], value=60 + i % 120), "id": str(uuid.uuid4())} for i in range(600)]
    Repository(SYSTEM, channel="import").put_many(resources)
    query = [("patient", patients[0]), ("value-quantity", "gt140")]
    before = plan("Observation", query)
    assert refresh_statistics() is True
    after = plan("Observation", query)
    # Without statistics SQLite took (param, number) and scanned the whole range for each of the patient's rows.
    assert "fhir_ix_number" in before, before
    assert "fhir_ix_number" not in after, after
    found = Repository(SYSTEM).search("Observation", [*query, ("_count", "1000")]).matches
    assert len(found) == sum(1 for i in range(600) if i % 3 == 0 and 60 + i % 120 > 140)


def test_a_patients_search_is_driven_by_the_patient_not_by_every_resource_of_the_type():
    if connection.vendor != "sqlite":
        return  # PostgreSQL plans the semi-join either way
    patients = [str(uuid.uuid4()) for _ in range(10)]
    resources = [{"resourceType": "Patient", "id": pid} for pid in patients]
    resources += [{**observation(patients[i % 10], code=str(8000 + i % 7)), "id": str(uuid.uuid4())}
                  for i in range(600)]
    Repository(SYSTEM, channel="import").put_many(resources)
    refresh_statistics()
    query = [("patient", patients[0]), ("code", "8003")]
    steps = plan("Observation", query)
    # The reference's index rows drive the search; each candidate is then checked for the code with one seek.
    assert "USING INTEGER PRIMARY KEY" in steps and "fhir_ix_reference" in steps, steps
    assert "fhir_type_updated" not in steps, steps
