from pathlib import Path

from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "fhir"
    label = "fhir"
    verbose_name = "FHIR record"
    # `fhir` is a namespace shared with fhir.resources (see __init__.py): Django needs the path spelt out.
    path = str(Path(__file__).resolve().parent)
    default_auto_field = "django.db.models.BigAutoField"
