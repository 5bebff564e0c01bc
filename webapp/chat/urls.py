from django.urls import path

from webapp.chat import views

urlpatterns = [
    path("", views.home, name="home"),
    path("chat/", views.chat, name="chat"),
    path("chat/<uuid:conversation_id>/", views.conversation, name="conversation"),
    path("chat/messages/<int:message_id>/report", views.report_message, name="report_message"),
]
