from django.urls import path

from webapp.dashboard import views

urlpatterns = [
    path("patients/", views.panel, name="patients"),
    path("patients/flags/<str:flag_id>/close", views.close_flag, name="close_flag"),
    path("patients/record/<str:resource_type>/<str:fhir_id>/<str:decision>", views.review_fact, name="review_fact"),
]
