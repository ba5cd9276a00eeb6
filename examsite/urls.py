from django.contrib import admin
from django.urls import include, path

from exams import account_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/password/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path("", include("exams.urls")),
    path("", include("grading.urls")),
]
