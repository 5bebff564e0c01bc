from django.apps import AppConfig


class MyRecordConfig(AppConfig):
    name = "webapp.myrecord"
    label = "myrecord"
