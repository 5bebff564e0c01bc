from django.urls import path

from webapp.dashboard import proposals, summaries, views

urlpatterns = [
    path("patients/", views.panel, name="patients"),
    path("patients/flags/<str:flag_id>/close", views.close_flag, name="close_flag"),
    path("patients/proposals/", proposals.proposal_queue, name="proposals"),
    path("patients/proposals/<str:task_id>/<str:decision>", proposals.decide_proposal, name="decide_proposal"),
    path("patients/<uuid:conversation_id>/<str:action>", views.conversation_action, name="conversation_action"),
    path("system/agent/", views.agent_switch, name="agent_switch"),
    path("patients/<uuid:conversation_id>/summaries/", summaries.summary_list, name="summary_list"),
    path("patients/summaries/<str:composition_id>/", summaries.summary_page, name="summary_page"),
    path("patients/summaries/<str:composition_id>/<str:action>", summaries.summary_action, name="summary_action"),
    path("care/summaries/", summaries.my_summaries, name="my_summaries"),
    path("patients/record/<str:resource_type>/<str:fhir_id>/<str:decision>", views.review_fact, name="review_fact"),
]
