from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "webapp.followup"
    label = "followup"
    verbose_name = "Follow-up plans and check-ins"
