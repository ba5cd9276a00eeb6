from django.urls import path

from grading import views

app_name = "grading"

urlpatterns = [
    path("attempts/<int:pk>/items/<int:item_pk>/run/", views.run, name="run"),
    path("submissions/<int:pk>/", views.submission, name="submission"),
]
