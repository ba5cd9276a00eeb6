"""Passwords are stored with Argon2id at OWASP's parameters; a hash from
Django's PBKDF2 default still logs in and is stored again with Argon2id."""

import pytest
from argon2 import extract_parameters
from argon2.low_level import Type
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from examsite.hashers import Argon2idHasher

pytestmark = pytest.mark.django_db
# The site's list: the test suite itself hashes with MD5, for speed (conftest).
SITE_HASHERS = [
    "examsite.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]


def test_the_settings_list_the_site_hashers():
    from examsite import settings as module

    assert module.PASSWORD_HASHERS == SITE_HASHERS


def test_a_new_password_is_argon2id_with_owasps_parameters(settings):
    settings.PASSWORD_HASHERS = SITE_HASHERS
    encoded = make_password("correct horse battery staple")
    assert encoded.startswith("argon2$argon2id$")
    parameters = extract_parameters(encoded.removeprefix("argon2"))
    assert (parameters.type, parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (
        Type.ID,
        19 * 1024,
        2,
        1,
    )
    assert Argon2idHasher().verify("correct horse battery staple", encoded)
    assert not Argon2idHasher().verify("correct horse battery stapler", encoded)


def test_a_pbkdf2_hash_logs_in_and_is_stored_again_as_argon2id(settings, client):
    settings.PASSWORD_HASHERS = SITE_HASHERS
    old = PBKDF2PasswordHasher()
    user = get_user_model().objects.create(username="legacy", password=old.encode("pw-legacy-1", old.salt()))
    assert user.password.startswith("pbkdf2_sha256$")
    response = client.post("/accounts/login/", {"username": "legacy", "password": "pw-legacy-1"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    client.logout()
    assert client.post("/accounts/login/", {"username": "legacy", "password": "pw-legacy-1"}).status_code == 302
