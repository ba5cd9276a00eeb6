from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_creates_the_three_accounts_and_prints_working_passwords():
    out = StringIO()
    call_command("create_demo_accounts", stdout=out)
    passwords = {}
    for line in out.getvalue().splitlines():
        if "password '" in line:
            username = line.split("username '")[1].split("'")[0]
            passwords[username] = line.split("password '")[1].split("'")[0]
    assert set(passwords) == {"candidate", "reviewer", "admin"}
    for username, password in passwords.items():
        assert authenticate(username=username, password=password) is not None
    assert get_user_model().objects.get(username="admin").is_superuser
    assert not get_user_model().objects.get(username="candidate").is_staff


def test_running_it_again_keeps_the_passwords_and_prints_none():
    call_command("create_demo_accounts", stdout=StringIO())
    before = get_user_model().objects.get(username="candidate").password
    out = StringIO()
    call_command("create_demo_accounts", stdout=out)
    assert "password '" not in out.getvalue()
    assert get_user_model().objects.get(username="candidate").password == before
