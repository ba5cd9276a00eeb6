"""Sign-up and password change; log in and out are Django's own views, with
failed log-ins and sign-ups throttled (exams/throttle.py)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from exams import throttle


class ThrottledLogin:
    """For an authentication form: a locked account or address is refused
    before its password is checked (even the right one), and each failed
    check counts towards the lockout (exams/throttle.py)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        refusal = throttle.login_lockout(self.request, username)
        if refusal:
            raise ValidationError(refusal, code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if self.user_cache is None and username and self.cleaned_data.get("password"):
                lockout = throttle.login_failed(self.request, username)
                if lockout:
                    raise ValidationError([error, ValidationError(lockout, code="throttled")]) from None
            raise
        if self.user_cache is not None:
            throttle.login_succeeded(username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLogin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLogin, AdminAuthenticationForm):
    pass


def signup_open() -> bool:
    """Sign-up is offered (navbar, landing page, log-in page) only while this holds."""
    return settings.ALLOW_SIGNUP


def signup(request: HttpRequest) -> HttpResponse:
    if not signup_open():
        messages.error(request, "Sign-up is turned off on this site; ask an administrator for an account.")
        return redirect("login")
    if request.user.is_authenticated:
        return redirect("exams:catalogue")
    if request.method == "POST":
        refusal = throttle.signup_lockout(request)
        if refusal:
            context = {"form": UserCreationForm(), "refusal": refusal}
            return render(request, "registration/signup.html", context, status=429)
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}: your account is ready.")
        return redirect("exams:catalogue")
    return render(request, "registration/signup.html", {"form": form})


class LoginView(SuccessMessageMixin, auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    success_message = "You are logged in."

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code="throttled"):
            response.status_code = 429
        return response

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "allow_signup": signup_open()}


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    success_url = reverse_lazy("exams:catalogue")
    success_message = "Your password has been changed."


def password_resets() -> throttle.Limiter:
    return throttle.Limiter(
        "password-reset-address", settings.PASSWORD_RESETS_PER_ADDRESS, settings.PASSWORD_RESET_WINDOW_SECONDS
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email: the same answer whether or not the address has
    an account (nothing to learn about who is registered). Requests are
    counted per network address, so the form cannot be used to flood inboxes."""

    def form_valid(self, form) -> HttpResponse:
        limiter, address = password_resets(), throttle.client_address(self.request)
        wait = limiter.locked_for(address)
        if wait:
            minutes = max(1, -(-wait // 60))
            form.add_error(None, f"Too many reset requests from your network address. Try again in {minutes} min.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        limiter.hit(address)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(SuccessMessageMixin, auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("login")
    success_message = "Your password has been set. You can log in with it now."
