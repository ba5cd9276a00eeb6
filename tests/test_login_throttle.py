"""Log-in and sign-up are throttled: per account and per address, with a
lockout that says how long it lasts and ends on its own."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import time_machine
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db
# Near the real time, so sessions made while travelling are still valid after.
START = datetime.now(UTC).replace(microsecond=0)
WRONG_PASSWORD = "correct username and password"
LOCKED = "Too many failed log-ins"


@pytest.fixture(autouse=True)
def limits(settings):
    # A cache of this test's own, expiring by the (travelling) clock.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid4().hex}}
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_LOCKOUT_SECONDS = 600
    settings.SIGNUPS_PER_ADDRESS = 2
    settings.SIGNUP_WINDOW_SECONDS = 3600
    return settings


def log_in(client, username, password, address="192.0.2.1", path="/accounts/login/", **extra):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_up_to_the_limit_then_even_the_right_one_is_refused(client, personas):
    with time_machine.travel(START, tick=False):
        for _ in range(2):
            response = log_in(client, "alice", "wrong")
            assert response.status_code == 200
            assert WRONG_PASSWORD in response.content.decode()
            assert LOCKED not in response.content.decode()
        third = log_in(client, "alice", "wrong")
        assert LOCKED in third.content.decode()
        assert "10 minutes" in third.content.decode()
        response = log_in(client, "alice", "pw")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed log-ins for this account" in page and "Try again in 10 minutes" in page
    assert not logged_in(client)


def test_the_lockout_ends_on_its_own(client, personas):
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            log_in(client, "alice", "wrong")
    with time_machine.travel(START + timedelta(minutes=4), tick=False):
        response = log_in(client, "alice", "pw")
        assert "Try again in 6 minutes" in response.content.decode()
    with time_machine.travel(START + timedelta(minutes=10, seconds=1), tick=False):
        response = log_in(client, "alice", "pw")
        assert response.status_code == 302
        assert logged_in(client)


def test_the_account_is_locked_from_every_address_and_in_any_letter_case(client, personas):
    with time_machine.travel(START, tick=False):
        for n in range(3):
            log_in(client, "alice", "wrong", address=f"198.51.100.{n}")
        response = log_in(client, "ALICE ", "pw", address="203.0.113.9")
    assert response.status_code == 429
    assert not logged_in(client)


def test_a_success_before_the_limit_starts_the_count_again(client, personas):
    with time_machine.travel(START, tick=False):
        log_in(client, "alice", "wrong")
        log_in(client, "alice", "wrong")
        assert log_in(client, "alice", "pw").status_code == 302
        client.post("/accounts/logout/")
        log_in(client, "alice", "wrong")
        log_in(client, "alice", "wrong")
        assert log_in(client, "alice", "pw").status_code == 302


def test_one_address_trying_many_accounts_is_locked_out(client, personas):
    with time_machine.travel(START, tick=False):
        for n in range(5):
            log_in(client, f"guess{n}", "wrong")
        response = log_in(client, "alice", "pw")
        assert response.status_code == 429
        assert "Too many failed log-ins from your network address" in response.content.decode()
        assert not logged_in(client)
        # Another address is not held back by it.
        assert log_in(client, "alice", "pw", address="192.0.2.77").status_code == 302


def test_ipv6_addresses_of_one_network_count_together(client, personas):
    with time_machine.travel(START, tick=False):
        for n in range(5):
            log_in(client, f"guess{n}", "wrong", address=f"2001:db8:1:2::{n + 1}")
        assert log_in(client, "alice", "pw", address="2001:db8:1:2:ffff::1").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, personas, settings):
    settings.TRUSTED_PROXIES = 1
    proxy = "10.0.0.1"
    with time_machine.travel(START, tick=False):
        for n in range(5):
            log_in(client, f"guess{n}", "wrong", address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.50")
        assert log_in(client, "alice", "pw", address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.50").status_code == 429
        # A client spoofing the header still gets the address its proxy saw.
        assert (
            log_in(client, "alice", "pw", address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.50, 192.0.2.51").status_code
            == 302
        )


def test_the_admin_log_in_is_throttled_too(client, personas):
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            log_in(client, "sam", "wrong", path="/admin/login/")
        response = log_in(client, "sam", "pw", path="/admin/login/")
        assert "Too many failed log-ins for this account" in response.content.decode()
        assert not logged_in(client)
        assert log_in(client, "sam", "pw").status_code == 429


SIGNUP = {"password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"}


def test_sign_up_is_throttled_per_address(client):
    with time_machine.travel(START, tick=False):
        for n in range(2):
            response = client.post("/accounts/signup/", {"username": f"new{n}", **SIGNUP}, REMOTE_ADDR="192.0.2.1")
            assert response.status_code == 302
            client.post("/accounts/logout/")
        response = client.post("/accounts/signup/", {"username": "new2", **SIGNUP}, REMOTE_ADDR="192.0.2.1")
        assert response.status_code == 429
        assert "Too many sign-ups from your network address. Try again in 60 minutes" in response.content.decode()
        assert not get_user_model().objects.filter(username="new2").exists()
        assert (
            client.post("/accounts/signup/", {"username": "new3", **SIGNUP}, REMOTE_ADDR="192.0.2.2").status_code == 302
        )
    with time_machine.travel(START + timedelta(hours=1, seconds=1), tick=False):
        client.post("/accounts/logout/")
        response = client.post("/accounts/signup/", {"username": "new2", **SIGNUP}, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="new2").exists()


def test_failed_sign_ups_count_too(client):
    with time_machine.travel(START, tick=False):
        for _ in range(2):
            assert (
                client.post("/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"}).status_code
                == 200
            )
        assert client.post("/accounts/signup/", {"username": "ok", **SIGNUP}).status_code == 429
