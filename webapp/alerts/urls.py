from django.urls import path

from webapp.alerts import views

urlpatterns = [
    path("flags/<str:flag_id>/acknowledge", views.acknowledge, name="acknowledge_alert"),
    path("ack/<str:token>", views.acknowledge_link, name="acknowledge_link"),
]
