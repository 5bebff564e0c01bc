from django.urls import path

from webapp.dashboard import views

urlpatterns = [
    path("patients/", views.panel, name="patients"),
    path("patients/flags/<str:flag_id>/close", views.close_flag, name="close_flag"),
    path("patients/<uuid:conversation_id>/<str:action>", views.conversation_action, name="conversation_action"),
    path("system/agent/", views.agent_switch, name="agent_switch"),
    path("patients/record/<str:resource_type>/<str:fhir_id>/<str:decision>", views.review_fact, name="review_fact"),
]
