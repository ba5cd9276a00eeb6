"""Sign up, log in, log out, change password; each says what happened."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_a_visitor_signs_up_and_is_logged_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"},
        follow=True,
    )
    assert "your account is ready" in response.content.decode()
    assert response.context["user"].username == "newbie"


def test_signup_can_be_turned_off(client, settings):
    settings.ALLOW_SIGNUP = False
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"},
        follow=True,
    )
    assert "Sign-up is turned off" in response.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()
    assert "Create an account" not in client.get("/accounts/login/").content.decode()


def test_signup_shows_form_errors(client):
    response = client.post("/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"})
    assert response.status_code == 200
    assert "password fields didn" in response.content.decode()


def test_log_in_and_out_with_messages(client, personas):
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw"}, follow=True)
    assert "You are logged in." in response.content.decode()
    response = client.post("/accounts/logout/", follow=True)
    assert "You are logged out." in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_a_wrong_password_is_refused(client, personas):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_password_change(candidate_client, personas):
    response = candidate_client.post(
        "/accounts/password/",
        {"old_password": "pw", "new_password1": "another-long-phrase-7", "new_password2": "another-long-phrase-7"},
        follow=True,
    )
    assert "Your password has been changed." in response.content.decode()
    personas.candidate.refresh_from_db()
    assert personas.candidate.check_password("another-long-phrase-7")
