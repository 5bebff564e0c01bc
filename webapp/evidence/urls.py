from django.urls import path

from webapp.evidence import views

urlpatterns = [
    path("<str:citation_id>/", views.passage, name="evidence_passage"),
]
