"""Nobody but the owner (and staff, read-only) reaches an attempt, not even by guessing ids."""

import pytest

from exams.models import Answer, Attempt, Reveal

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(mini_exam, personas):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    return attempt


def urls(attempt):
    item = attempt.version.items.get(slug="first")
    base = f"/attempts/{attempt.pk}"
    return {
        "page": ("get", f"{base}/"),
        "clock": ("get", f"{base}/clock/"),
        "submit": ("post", f"{base}/submit/"),
        "results": ("get", f"{base}/results/"),
        "save": ("post", f"{base}/items/{item.pk}/save/"),
        "reveal": ("post", f"{base}/items/{item.pk}/reveal/"),
    }


# persona -> status of each view. Staff read everything but change nothing:
# the live page sends them to the read-only results.
EXPECTED = {
    "other": dict.fromkeys(["page", "clock", "submit", "results", "save", "reveal"], 404),
    "staff": {"page": 302, "clock": 404, "submit": 404, "results": 200, "save": 404, "reveal": 404},
}


@pytest.mark.parametrize("persona", ["other", "staff"])
def test_other_people_get_404_and_change_nothing(client, attempt, personas, persona):
    client.force_login(getattr(personas, persona))
    for name, (method, url) in urls(attempt).items():
        data = {"part": "text", "revision": 0, "content": "intruder"} if name == "save" else {}
        response = getattr(client, method)(url, data)
        assert response.status_code == EXPECTED[persona][name], (persona, name)
    attempt.refresh_from_db()
    assert attempt.is_open
    assert not Answer.objects.exists()
    assert not Reveal.objects.exists()


def test_staff_read_the_results_of_a_finished_attempt(client, attempt, personas):
    attempt.finalize()
    client.force_login(personas.staff)
    page = client.get(f"/attempts/{attempt.pk}/results/").content.decode()
    assert "alice" in page


def test_anonymous_visitors_are_sent_to_log_in(client, attempt):
    for _name, (method, url) in urls(attempt).items():
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_attempt_or_an_item_of_another_exam_is_a_404(candidate_client, attempt, personas, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from exams.models import Exam
    from tests.conftest import PackBuilder

    assert candidate_client.get("/attempts/999999/").status_code == 404
    other = PackBuilder(tmp_path / "other", slug="other-exam")
    call_command("import_exams", str(other.root), stdout=StringIO())
    foreign = Exam.objects.get(slug="other-exam").current_version.items.get(slug="first")
    response = candidate_client.post(
        f"/attempts/{attempt.pk}/items/{foreign.pk}/save/", {"part": "text", "revision": 0, "content": "x"}
    )
    assert response.status_code == 404
    assert not Answer.objects.exists()
