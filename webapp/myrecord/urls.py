from django.urls import path

from webapp.myrecord import views

urlpatterns = [
    path("care/record/", views.record, name="my_record"),
    path("care/record/download", views.download, name="my_record_download"),
]
