"""Starting attempts: modes, pinning, one open timed attempt, accommodations, extensions."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from exams.models import Accommodation, Attempt, DeadlineExtension
from tests.conftest import write

pytestmark = pytest.mark.django_db


def start(client, mode: str, slug: str = "mini-exam"):
    """Start as the pages do: a timed start comes from its confirmation page."""
    data = {"mode": mode, "confirmed": "yes"} if mode == "timed" else {"mode": mode}
    return client.post(f"/exams/{slug}/start/", data)


def test_starting_requires_login(client, mini_exam):
    response = start(client, "timed")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Attempt.objects.count() == 0


def test_a_timed_attempt_gets_a_server_deadline_from_the_pack_duration(candidate_client, mini_exam):
    with time_machine.travel("2026-03-01 10:00:00+00:00", tick=False):
        response = start(candidate_client, "timed")
    attempt = Attempt.objects.get()
    assert response["Location"] == f"/attempts/{attempt.pk}/"
    assert attempt.deadline - attempt.started_at == timedelta(minutes=30)
    assert attempt.version == mini_exam.current_version


def test_a_practice_attempt_has_no_deadline(candidate_client, mini_exam):
    start(candidate_client, "practice")
    assert Attempt.objects.get().deadline is None


def test_an_unknown_mode_starts_nothing(candidate_client, mini_exam):
    response = start(candidate_client, "leisurely")
    assert response.status_code == 302
    assert Attempt.objects.count() == 0


def test_a_second_timed_start_returns_the_attempt_in_progress(candidate_client, mini_exam):
    start(candidate_client, "timed")
    response = start(candidate_client, "timed")
    attempt = Attempt.objects.get()
    assert response["Location"] == f"/attempts/{attempt.pk}/"
    start(candidate_client, "practice")
    assert Attempt.objects.count() == 2


def test_a_new_timed_attempt_is_allowed_once_the_old_one_expired(candidate_client, mini_exam):
    start(candidate_client, "timed")
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        start(candidate_client, "timed")
    assert list(Attempt.objects.order_by("pk").values_list("status", flat=True)) == ["expired", "in_progress"]


def test_an_attempt_pins_the_version_it_started_on(candidate_client, mini_exam, pack):
    start(candidate_client, "timed")
    write(pack.path("01-basics/01-first.md"), "---\ntitle: Changed\nkind: question\n---\nNew prompt\n")
    from io import StringIO

    from django.core.management import call_command

    call_command("import_exams", str(pack.root), stdout=StringIO())
    attempt = Attempt.objects.get()
    mini_exam.refresh_from_db()
    assert mini_exam.current_version.number == 2
    assert attempt.version.number == 1
    page = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "What is a p99?" in page
    assert "New prompt" not in page


def test_an_accommodation_multiplies_the_time_of_every_timed_attempt(candidate_client, mini_exam, personas):
    Accommodation.objects.create(user=personas.candidate, time_multiplier=Decimal("1.5"), granted_by=personas.staff)
    assert "45 min with your extra time" in candidate_client.get("/exams/mini-exam/").content.decode()
    start(candidate_client, "timed")
    attempt = Attempt.objects.get()
    assert attempt.deadline - attempt.started_at == timedelta(minutes=45)
    assert attempt.time_multiplier == Decimal("1.50")


def test_staff_extend_one_attempt_and_the_extension_is_recorded(client, candidate_client, mini_exam, personas):
    start(candidate_client, "timed")
    attempt = Attempt.objects.get()
    before = attempt.deadline
    client.force_login(personas.staff)
    personas.staff.is_superuser = True
    personas.staff.save()
    response = client.post(
        f"/admin/exams/attempt/{attempt.pk}/change/",
        {
            "extensions-TOTAL_FORMS": "1",
            "extensions-INITIAL_FORMS": "0",
            "extensions-0-minutes": "10",
            "extensions-0-reason": "power cut",
            "answers-TOTAL_FORMS": "0",
            "answers-INITIAL_FORMS": "0",
            "reveals-TOTAL_FORMS": "0",
            "reveals-INITIAL_FORMS": "0",
            "openings-TOTAL_FORMS": "0",
            "openings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    attempt.refresh_from_db()
    assert attempt.deadline - before == timedelta(minutes=10)
    extension = DeadlineExtension.objects.get()
    assert (extension.minutes, extension.reason, extension.granted_by) == (10, "power cut", personas.staff)


def test_the_exam_page_offers_to_resume_an_open_timed_attempt(candidate_client, mini_exam):
    start(candidate_client, "timed")
    page = candidate_client.get("/exams/mini-exam/").content.decode()
    assert "Resume your timed attempt" in page
    assert "Start timed attempt" not in page


def test_my_attempts_lists_only_my_own(candidate_client, client, mini_exam, personas):
    start(candidate_client, "practice")
    page = candidate_client.get("/attempts/").content.decode()
    assert "Mini exam" in page and "Resume" in page
    client.force_login(personas.other)
    assert "Mini exam" not in client.get("/attempts/").content.decode()
