from django.apps import AppConfig


class PerceptionConfig(AppConfig):
    name = "perception"
    label = "perception"
    verbose_name = "Perception (uploads)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perception import fhir_uploads  # noqa: F401  (registers the FHIR API upload hooks)
