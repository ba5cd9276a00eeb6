"""Starting a timed attempt goes through a confirmation that says what it
commits to; a practice start stays one click."""

from decimal import Decimal

import pytest

from exams.models import Accommodation, Attempt

pytestmark = pytest.mark.django_db


def test_the_exam_page_sends_a_timed_start_to_its_confirmation(candidate_client, mini_exam):
    page = candidate_client.get("/exams/mini-exam/").content.decode()
    assert 'action="/exams/mini-exam/start/timed/"' in page
    assert "Start timed attempt (30 min)…" in page
    assert 'name="mode" value="practice"' in page


def test_the_confirmation_states_the_duration_the_clock_and_the_reveal_rule(candidate_client, mini_exam):
    response = candidate_client.get("/exams/mini-exam/start/timed/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "You will have 30 minutes" in page
    assert "The clock cannot be paused" in page
    assert "revealing it locks your answer to that item" in page
    assert 'name="confirmed" value="yes"' in page
    assert not Attempt.objects.exists()


def test_the_confirmation_counts_the_extra_time(candidate_client, mini_exam, personas):
    Accommodation.objects.create(user=personas.candidate, time_multiplier=Decimal("1.5"))
    page = candidate_client.get("/exams/mini-exam/start/timed/").content.decode()
    assert "You will have 45 minutes" in page
    assert "30 minutes with your extra time" in page
    assert "Start the clock (45 min)" in page


def test_a_timed_start_without_confirmation_starts_nothing(candidate_client, mini_exam):
    response = candidate_client.post("/exams/mini-exam/start/", {"mode": "timed"})
    assert response.status_code == 302
    assert response["Location"] == "/exams/mini-exam/start/timed/"
    assert not Attempt.objects.exists()


def test_the_confirmed_start_starts_the_clock(candidate_client, mini_exam, personas):
    response = candidate_client.post("/exams/mini-exam/start/", {"mode": "timed", "confirmed": "yes"})
    attempt = Attempt.objects.get()
    assert (attempt.user, attempt.mode) == (personas.candidate, Attempt.Mode.TIMED)
    assert attempt.deadline is not None
    assert response["Location"] == attempt.get_absolute_url()


def test_a_practice_start_needs_no_confirmation(candidate_client, mini_exam):
    candidate_client.post("/exams/mini-exam/start/", {"mode": "practice"})
    assert Attempt.objects.get().mode == Attempt.Mode.PRACTICE


def test_the_confirmation_of_an_exam_with_a_timed_attempt_open_resumes_it(candidate_client, mini_exam, personas):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    response = candidate_client.get("/exams/mini-exam/start/timed/")
    assert response["Location"] == attempt.get_absolute_url()
    # A resume needs no confirmation: the clock is already running.
    response = candidate_client.post("/exams/mini-exam/start/", {"mode": "timed"})
    assert response["Location"] == attempt.get_absolute_url()
    assert Attempt.objects.count() == 1


def test_the_confirmation_needs_a_login(client, mini_exam):
    response = client.get("/exams/mini-exam/start/timed/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
