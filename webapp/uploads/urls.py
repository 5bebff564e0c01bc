from django.urls import path

from webapp.uploads import views

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<uuid:upload_id>/", views.upload_page, name="upload_page"),
    path("<uuid:upload_id>/file", views.upload_file, name="upload_file"),
    path("<uuid:upload_id>/confirm", views.confirm, name="upload_confirm"),
]
