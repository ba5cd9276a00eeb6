"""Attempts end: by submit, by the next access after the deadline, by the periodic task."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from exams.models import Attempt
from exams.tasks import finalize_expired_attempts

pytestmark = pytest.mark.django_db


@pytest.fixture
def timed(mini_exam, personas):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    return attempt


def test_submit_asks_for_confirmation_then_ends_the_attempt(candidate_client, timed):
    page = candidate_client.get(f"/attempts/{timed.pk}/submit/").content.decode()
    assert "You have not answered 2 items" in page
    timed.refresh_from_db()
    assert timed.is_open
    response = candidate_client.post(f"/attempts/{timed.pk}/submit/")
    assert response["Location"] == f"/attempts/{timed.pk}/results/"
    timed.refresh_from_db()
    assert timed.status == Attempt.Status.SUBMITTED
    assert timed.finalized_at is not None


def test_a_submitted_attempt_refuses_saves(candidate_client, timed):
    timed.finalize()
    item = timed.version.items.get(slug="first")
    response = candidate_client.post(
        f"/attempts/{timed.pk}/items/{item.pk}/save/",
        {"part": "text", "revision": 0, "content": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    assert "submitted" in response.content.decode()


def test_opening_an_expired_attempt_finalizes_it(candidate_client, timed):
    with time_machine.travel(timed.deadline + timedelta(seconds=6)):
        response = candidate_client.get(f"/attempts/{timed.pk}/")
    assert response["Location"] == f"/attempts/{timed.pk}/results/"
    timed.refresh_from_db()
    assert timed.status == Attempt.Status.EXPIRED


def test_the_clock_poll_ends_an_expired_attempt_and_redirects_htmx(candidate_client, timed):
    with time_machine.travel(timed.deadline + timedelta(seconds=6)):
        response = candidate_client.get(f"/attempts/{timed.pk}/clock/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/attempts/{timed.pk}/results/"
    timed.refresh_from_db()
    assert timed.status == Attempt.Status.EXPIRED


def test_the_clock_poll_returns_the_server_deadline(candidate_client, timed):
    page = candidate_client.get(f"/attempts/{timed.pk}/clock/", HTTP_HX_REQUEST="true").content.decode()
    assert f'data-deadline="{timed.deadline.isoformat()}"' in page
    assert "<html" not in page


def test_the_periodic_task_ends_abandoned_attempts_only(timed, mini_exam, personas):
    practice, _ = Attempt.start(personas.other, mini_exam, Attempt.Mode.PRACTICE)
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert finalize_expired_attempts() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert finalize_expired_attempts() == 1
        assert finalize_expired_attempts() == 0
    timed.refresh_from_db()
    practice.refresh_from_db()
    assert timed.status == Attempt.Status.EXPIRED
    assert practice.is_open


def test_the_command_ends_abandoned_attempts(timed):
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        call_command("finalize_expired", stdout=out)
    assert "1 attempt ended" in out.getvalue()
    timed.refresh_from_db()
    assert timed.status == Attempt.Status.EXPIRED


def test_the_task_is_scheduled_with_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["finalize-expired-attempts"]["task"] == "exams.finalize_expired_attempts"


def test_results_show_time_used_and_item_states(candidate_client, timed):
    with time_machine.travel(timed.started_at + timedelta(minutes=12, seconds=5), tick=False):
        candidate_client.post(f"/attempts/{timed.pk}/submit/")
    page = candidate_client.get(f"/attempts/{timed.pk}/results/").content.decode()
    assert "12 min 05 s" in page
    assert "Awaiting review" in page
    assert "Tests: not run" in page  # no code was saved for the drill
