from django.apps import AppConfig


class ImagingConfig(AppConfig):
    name = "perception.imaging"
    label = "imaging"
    verbose_name = "Image classifiers"
    default_auto_field = "django.db.models.BigAutoField"
