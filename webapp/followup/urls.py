from django.urls import path

from webapp.followup import views

urlpatterns = [
    path("follow-up/", views.plan_list, name="follow_up"),
    path("follow-up/plans/<str:plan_id>/", views.plan_detail, name="follow_up_plan"),
    path("follow-up/plans/<str:plan_id>/approve", views.approve, name="follow_up_approve"),
    path("follow-up/plans/<str:plan_id>/reject", views.reject, name="follow_up_reject"),
    path("follow-up/new/<uuid:conversation_id>/", views.new_plan, name="follow_up_new"),
    path("care/check-ins/", views.my_check_ins, name="my_check_ins"),
]
