"""Requests Django itself refuses (a body over DATA_UPLOAD_MAX_MEMORY_SIZE,
more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS) get the site's own 400 page,
or for htmx a fragment the page shows, and change nothing."""

import pytest
from django.test import Client

from exams.models import Answer, Attempt

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
BOUNDARY = "----examsite-limits"


@pytest.fixture
def attempt(mini_exam, personas):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    return attempt


@pytest.fixture
def save_url(attempt):
    return f"/attempts/{attempt.pk}/items/{attempt.version.items.get(slug='first').pk}/save/"


def huge_body() -> bytes:
    return b"part=text&revision=0&content=" + b"x" * (9 * 1024 * 1024)


def many_fields() -> bytes:
    return b"part=text&revision=0&content=hi&" + b"&".join(b"f%d=1" % i for i in range(5000))


def multipart_with_many_fields() -> bytes:
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n'.encode()
    return part * 5000 + f"--{BOUNDARY}--\r\n".encode()


def csrf_client(personas, attempt) -> tuple[Client, str]:
    """A client that enforces CSRF, as browsers meet it: the middleware reads the form first."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.candidate)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    return client, page.split('"x-csrftoken": "')[1].split('"')[0]


FORM = "application/x-www-form-urlencoded"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
CASES = {
    "9 MB form": (huge_body, FORM, "This request is too large"),
    "9 MB multipart": (huge_body, MULTIPART, "This request is too large"),
    "5,000 fields": (many_fields, FORM, "too many fields"),
    "5,000 multipart fields": (multipart_with_many_fields, MULTIPART, "too many fields"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_site_page_says_what_was_wrong_and_nothing_is_saved(candidate_client, save_url, case):
    body, content_type, message = CASES[case]
    response = candidate_client.post(save_url, body(), content_type=content_type)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "nothing was saved" in page
    assert "<nav" in page and "Serving Prep" in page  # the site's layout, not Django's bare page
    assert not Answer.objects.exists()


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_htmx_gets_a_fragment_for_the_page_error_region(candidate_client, save_url, case):
    body, content_type, message = CASES[case]
    response = candidate_client.post(save_url, body(), content_type=content_type, **HTMX)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "<html" not in page and "<nav" not in page
    assert response["HX-Retarget"] == "#request-error"
    assert response["HX-Reswap"] == "innerHTML"
    assert not Answer.objects.exists()


def test_the_page_has_the_region_the_fragment_goes_to(candidate_client, attempt):
    assert 'id="request-error"' in candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_with_csrf_enforced_the_answer_is_the_same(personas, attempt, save_url, case):
    body, content_type, message = CASES[case]
    client, token = csrf_client(personas, attempt)
    response = client.post(save_url, body(), content_type=content_type, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Answer.objects.exists()


def test_other_bad_requests_get_the_site_page_too(client, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert "This request could not be understood" in page
