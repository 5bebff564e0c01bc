"""How FHIR resources are stored: the current version, every version, and search indexes.

A resource is stored as the JSON it is on the wire. Search never reads that JSON: each write
extracts one ``SearchIndex`` row per value of each search parameter (fhir/indexing.py), so a
search is a join on indexed columns on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from django.db import models

from fhir.jsonnum import Decoder, Encoder


class StoredResource(models.Model):
    """The current version of one resource (a deleted one keeps its row, with no content)."""

    resource_type = models.CharField(max_length=64)
    fhir_id = models.CharField(max_length=64)
    version_id = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    deleted = models.BooleanField(default=False)
    content = models.JSONField(null=True, encoder=Encoder, decoder=Decoder)  # decimals keep their text
    # The patient whose compartment holds the resource (their Patient id): the key for access checks.
    patient_id = models.CharField(max_length=64, null=True, blank=True)
    # Whether the patient sees it (verified facts, final documents, their own reports): fhir/release.py.
    released = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource_type", "fhir_id"], name="one_row_per_resource")]
        indexes = [
            models.Index(fields=["resource_type", "deleted", "last_updated"], name="fhir_type_updated"),
            models.Index(fields=["patient_id", "resource_type"], name="fhir_patient_type"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.fhir_id}/_history/{self.version_id}"


class ResourceVersion(models.Model):
    """Every version ever written, for vread and history; never changed once written."""

    class Method(models.TextChoices):
        CREATE = "POST"
        UPDATE = "PUT"
        DELETE = "DELETE"

    resource = models.ForeignKey(StoredResource, on_delete=models.CASCADE, related_name="versions")
    version_id = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    method = models.CharField(max_length=8, choices=Method.choices)
    content = models.JSONField(null=True, encoder=Encoder, decoder=Decoder)  # decimals keep their text
    released = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "version_id"], name="one_row_per_version")]
        indexes = [models.Index(fields=["last_updated"], name="fhir_version_updated")]


class SearchIndex(models.Model):
    """One value of one search parameter of a current resource.

    token: system, code (and value = display text lowered); string: value (normalised), code (as
    written); reference: ref_type, ref_id, code (the reference as written); date: low, high (UTC,
    high exclusive); quantity and number: number, system, code; uri: code.

    composite: one row per pair of component values found in the same element (the same Observation.component);
    the first component in its own columns (token: system, code; reference: ref_type, ref_id), the second in
    columns the first leaves free: quantity: number, value (unit code, else unit), ref_id (unit system), ref_type
    (unit text normalised); token: value (code), ref_id (system); date: low, high; string: value (normalised).
    ref_type and ref_id hold 64 characters, so longer values are compared by their first 64. Layout:
    fhir/indexing.py COMPOSITE_FIRST / COMPOSITE_SECOND.
    """

    resource = models.ForeignKey(StoredResource, on_delete=models.CASCADE, related_name="search_index")
    param = models.CharField(max_length=64)
    system = models.CharField(max_length=255, null=True)
    code = models.CharField(max_length=255, null=True)
    value = models.CharField(max_length=255, null=True)
    ref_type = models.CharField(max_length=64, null=True)
    ref_id = models.CharField(max_length=64, null=True)
    low = models.DateTimeField(null=True)
    high = models.DateTimeField(null=True)
    number = models.FloatField(null=True)

    class Meta:
        indexes = [
            # The resource right after the searched value: a search criterion is a correlated lookup per candidate row
            # (EXISTS ... WHERE param = ? AND code = ? AND resource = outer row), which these answer with one seek
            # whether or not the query names a system or target type (it often does not). With the resource last,
            # SQLite used the covering index for (param, value) and scanned every row of that value (all of a
            # patient's index rows) for each candidate: seconds per search at 10 Synthea patients.
            models.Index(fields=["param", "code", "resource", "system"], name="fhir_ix_token"),
            models.Index(fields=["param", "value"], name="fhir_ix_string"),
            models.Index(fields=["param", "ref_id", "resource", "ref_type"], name="fhir_ix_reference"),
            models.Index(fields=["param", "low", "high"], name="fhir_ix_date"),
            models.Index(fields=["param", "number"], name="fhir_ix_number"),
            models.Index(fields=["resource", "param"], name="fhir_ix_resource"),
        ]


class ClientGrant(models.Model):
    """The SMART scopes an OAuth client (an EHR backend, a patient's app) may ever be given."""

    application = models.OneToOneField("oauth2_provider.Application", on_delete=models.CASCADE,
                                       related_name="fhir_grant")
    scopes = models.TextField(help_text="space-separated SMART scopes, e.g. 'system/*.read system/Flag.write'")

    def __str__(self) -> str:
        return f"{self.application.name}: {self.scopes}"
