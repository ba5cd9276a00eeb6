"""Pages for a logged-in user may hold model answers, scores and reviews:
no shared or browser cache keeps them (Cache-Control: no-store, Vary: Cookie)."""

import pytest

from exams.models import Attempt
from tests.conftest import HIDDEN_MARKER
from tests.review_support import finished_attempt, import_pack, review_pack

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def exam(tmp_path):
    return import_pack(review_pack(tmp_path))


def assert_not_stored(response) -> None:
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_the_attempt_page_and_a_revealed_answer_are_not_stored(client, exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    client.force_login(people.candidate)
    assert_not_stored(client.get(f"/attempts/{attempt.pk}/"))
    item = attempt.version.items.get(slug="first")
    reveal = client.post(f"/attempts/{attempt.pk}/items/{item.pk}/reveal/", **HTMX)
    assert HIDDEN_MARKER in reveal.content.decode()
    assert_not_stored(reveal)


def test_the_results_page_is_not_stored(client, exam, people):
    attempt = finished_attempt(people.candidate, exam, {"first": "An answer."})
    client.force_login(people.candidate)
    item = attempt.version.items.get(slug="first")
    client.post(f"/attempts/{attempt.pk}/items/{item.pk}/open/")
    response = client.get(f"/attempts/{attempt.pk}/results/")
    assert HIDDEN_MARKER in response.content.decode()
    assert_not_stored(response)


def test_the_review_page_and_queue_are_not_stored(client, exam, people):
    attempt = finished_attempt(people.candidate, exam, {"first": "An answer."})
    client.force_login(people.reviewer_t)
    assert_not_stored(client.get(f"/review/attempts/{attempt.pk}/"))
    assert_not_stored(client.get("/review/"))


def test_a_redirect_and_a_404_for_a_logged_in_user_are_not_stored_either(client, exam, people):
    client.force_login(people.candidate)
    assert_not_stored(client.get("/attempts/999999/"))
    assert_not_stored(client.get("/accounts/login/"))


def test_pages_for_anonymous_visitors_keep_their_headers(client, exam):
    response = client.get("/")
    assert "no-store" not in response.get("Cache-Control", "")
