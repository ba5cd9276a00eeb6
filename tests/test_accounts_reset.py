"""Password reset by email, end to end through Django's locmem outbox, and
new passwords for the demo accounts."""

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from django.core.management import call_command

pytestmark = pytest.mark.django_db

NEW = "a-fresh-pass-phrase-91"


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", email="alice@example.com", password="pw")


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_user_who_forgot_the_password_sets_a_new_one_from_the_emailed_link(client, alice):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in page

    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "alice" in message.body

    link = reset_link(message)
    form = client.get(link, follow=True)  # Django moves the token into the session, then shows the form
    assert "Choose a new password" in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}, follow=True)
    assert "Your password has been set" in response.content.decode()
    assert authenticate(username="alice", password=NEW) is not None
    assert authenticate(username="alice", password="pw") is None


def test_the_link_works_once(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    link = reset_link(mail.outbox[0])
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    again = client.get(link, follow=True).content.decode()
    assert "This link no longer works" in again
    assert "new_password1" not in again


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, alice):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_reset_requests_are_limited_per_address(client, alice, settings):
    settings.PASSWORD_RESETS_PER_ADDRESS = 2
    for _ in range(2):
        client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert response.status_code == 429
    assert "Too many reset requests" in response.content.decode()
    assert len(mail.outbox) == 2


def test_the_reset_pages_render_for_a_visitor(client):
    assert client.get("/accounts/password/reset/").status_code == 200
    assert client.get("/accounts/password/reset/sent/").status_code == 200
    bad = client.get("/accounts/password/reset/MQ/bad-token/", follow=True)
    assert "This link no longer works" in bad.content.decode()


def test_reset_passwords_prints_new_working_passwords_for_the_three_demo_accounts():
    call_command("create_demo_accounts", stdout=StringIO())
    User = get_user_model()
    before = {u.username: u.password for u in User.objects.filter(username__in=["candidate", "reviewer", "admin"])}

    out = StringIO()
    call_command("create_demo_accounts", "--reset-passwords", stdout=out)
    printed = dict(re.findall(r"username '([^']+)', password '([^']+)'", out.getvalue()))
    assert set(printed) == {"candidate", "reviewer", "admin"}
    for username, password in printed.items():
        assert authenticate(username=username, password=password) is not None
        assert User.objects.get(username=username).password != before[username]
    assert "old ones no longer work" in out.getvalue()


def test_without_the_flag_existing_passwords_stay_and_the_output_says_how_to_reset():
    call_command("create_demo_accounts", stdout=StringIO())
    out = StringIO()
    call_command("create_demo_accounts", stdout=out)
    assert "password '" not in out.getvalue()
    assert "--reset-passwords" in out.getvalue()
