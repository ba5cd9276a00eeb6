from django.contrib import admin
from django.urls import include, path

from exams import account_views
from examsite import views as ops
from grading import pages

urlpatterns = [
    path("admin/", admin.site.urls),
    # Operations (docs/operations.md): probes, Prometheus metrics, the staff status page.
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("ops/status/", ops.status, name="ops_status"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/password/", account_views.PasswordChangeView.as_view(), name="password_change"),
    # Password reset by email (Django's views; the mail goes through EMAIL_BACKEND).
    path("accounts/password/reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", account_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # Pages that combine taking and scoring are named here, at the top, so
    # the lower app (exams) can link to them without importing the one above.
    path("attempts/<int:pk>/results/", pages.results, name="attempt_results"),
    path("", include("exams.urls")),
    path("", include("grading.urls")),
]

# The site's page for requests Django refuses (too large, too many fields).
handler400 = "examsite.errors.bad_request"
