from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "webapp.evidence"
    label = "evidence"
