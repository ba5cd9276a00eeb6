from django.urls import path

from exams import attempt_views, views

app_name = "exams"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("exams/<slug:slug>/", views.exam_detail, name="detail"),
    path("exams/<slug:slug>/start/", attempt_views.start_attempt, name="start"),
    path("exams/<slug:slug>/start/timed/", attempt_views.confirm_start, name="confirm_start"),
    path("attempts/", attempt_views.my_attempts, name="my_attempts"),
    path("attempts/<int:pk>/", attempt_views.attempt_page, name="attempt"),
    path("attempts/<int:pk>/clock/", attempt_views.clock, name="clock"),
    path("attempts/<int:pk>/submit/", attempt_views.submit, name="submit"),
    path("attempts/<int:pk>/items/<int:item_pk>/save/", attempt_views.save, name="save"),
    path("attempts/<int:pk>/items/<int:item_pk>/reveal/", attempt_views.reveal_answer, name="reveal"),
    path("attempts/<int:pk>/items/<int:item_pk>/open/", attempt_views.open_answer, name="open_answer"),
]
