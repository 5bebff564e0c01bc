"""Flags written before Flag had a status search parameter (fhir/definitions.py EXTRA_PARAMS) get it indexed."""

from django.db import migrations


def index_flag_status(apps, schema_editor):
    from fhir.definitions import search_params
    from fhir.indexing import ROWS_BY_TYPE

    StoredResource = apps.get_model("fhir", "StoredResource")
    SearchIndex = apps.get_model("fhir", "SearchIndex")
    param = search_params("Flag")["status"]
    rows = []
    for stored in StoredResource.objects.filter(resource_type="Flag", deleted=False).iterator():
        if SearchIndex.objects.filter(resource=stored, param="status").exists():
            continue
        for value in param.evaluate(stored.content):
            rows += [SearchIndex(resource=stored, param="status", **row) for row in ROWS_BY_TYPE["token"](value)]
    SearchIndex.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("fhir", "0001_initial")]
    operations = [migrations.RunPython(index_flag_status, migrations.RunPython.noop)]
