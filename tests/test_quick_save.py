"""The autosave's short path (taking.quick_save): an answer already stored,
saved again from the page, in two statements. It accepts exactly what the
full path accepts; everything else falls through to the full path, which
refuses it with its own message and changes nothing."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from exams import taking
from exams.models import Answer, Attempt, Reveal
from tests.test_autosave import save

pytestmark = pytest.mark.django_db
START = "2026-03-01 10:00:00+00:00"


@pytest.fixture
def attempt(mini_exam, personas):
    with time_machine.travel(START, tick=False):
        attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    return attempt


@pytest.fixture
def question(attempt):
    return attempt.version.items.get(slug="first")


@pytest.fixture
def saved_once(candidate_client, attempt, question):
    with time_machine.travel(START, tick=False):
        assert save(candidate_client, attempt, question, "The 99th").status_code == 200
    return Answer.objects.get()


def test_a_second_save_of_written_text_costs_two_statements_and_marks_its_item_answered(
    candidate_client, attempt, question, saved_once
):
    with time_machine.travel("2026-03-01 10:01:00+00:00", tick=False), CaptureQueriesContext(connection) as queries:
        response = save(candidate_client, attempt, question, "The 99th percentile", revision=1)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="revision" value="2"' in page and "10:01:00" in page
    # Text that is not blank answers the item: the status says so, and no
    # navigator entry (nor the state it needs) comes back.
    assert f'id="save-status-{question.pk}-text"' in page
    assert f'data-answered-item="{question.pk}"' in page
    assert "nav-item-" not in page
    answer = Answer.objects.get()
    assert (answer.content, answer.revision) == ("The 99th percentile", 2)
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    writes = [sql for sql in statements if sql.startswith("UPDATE")]
    assert len(writes) == 1
    # Session and user, the locked attempt, the write: nothing else.
    assert len(statements) <= 4, statements


def test_a_save_that_blanks_the_text_sends_the_items_navigator_entry_again(
    candidate_client, attempt, question, saved_once
):
    with time_machine.travel("2026-03-01 10:01:00+00:00", tick=False):
        response = save(candidate_client, attempt, question, "   ", revision=1)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="revision" value="2"' in page
    assert "data-answered-item" not in page
    assert f'id="nav-item-{question.pk}" class="nav-entry" data-item="{question.pk}" data-answered="0"' in page


def test_the_short_path_writes_what_the_full_path_would(attempt, question, saved_once, personas):
    with time_machine.travel("2026-03-01 10:02:00+00:00", tick=False):
        saved = taking.quick_save(attempt.pk, personas.candidate.pk, question.pk, "text", "p99", 1)
    assert saved.revision == 2
    assert Answer.objects.values_list("content", "revision").get() == ("p99", 2)


REFUSED = {
    "another user's attempt": lambda a, q, p: taking.quick_save(a.pk, p.other.pk, q.pk, "text", "x", 1),
    "a stale revision": lambda a, q, p: taking.quick_save(a.pk, p.candidate.pk, q.pk, "text", "x", 5),
    "a first save": lambda a, q, p: taking.quick_save(a.pk, p.candidate.pk, q.pk, "text", "x", 0),
    "another part": lambda a, q, p: taking.quick_save(a.pk, p.candidate.pk, q.pk, "code", "x", 1),
    "another item": lambda a, q, p: taking.quick_save(a.pk, p.candidate.pk, q.pk + 1, "text", "x", 1),
    "an answer over the size limit": lambda a, q, p: taking.quick_save(
        a.pk, p.candidate.pk, q.pk, "text", "x" * (Answer.MAX_BYTES + 1), 1
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_the_short_path_writes_nothing_where_a_condition_fails(attempt, question, saved_once, personas, case):
    with time_machine.travel("2026-03-01 10:02:00+00:00", tick=False):
        assert REFUSED[case](attempt, question, personas) is None
    assert Answer.objects.values_list("content", "revision").get() == ("The 99th", 1)


def test_past_the_deadline_and_its_grace_the_full_path_ends_the_attempt_and_says_why(
    candidate_client, attempt, question, saved_once
):
    late = attempt.deadline + Attempt.GRACE + timedelta(seconds=1)
    with time_machine.travel(late, tick=False):
        assert taking.quick_save(attempt.pk, attempt.user_id, question.pk, "text", "late", 1) is None
        response = save(candidate_client, attempt, question, "late", revision=1)
    assert response.status_code == 403 and "Time is up" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EXPIRED
    assert Answer.objects.get().content == "The 99th"


def test_within_the_grace_the_short_path_still_saves(candidate_client, attempt, question, saved_once):
    with time_machine.travel(attempt.deadline + Attempt.GRACE - timedelta(seconds=1), tick=False):
        assert save(candidate_client, attempt, question, "just in time", revision=1).status_code == 200
    assert Answer.objects.get().content == "just in time"


def test_a_reveal_that_locks_the_item_sends_the_save_to_the_full_path_which_refuses_it(
    candidate_client, attempt, question, saved_once, personas
):
    Reveal.objects.create(
        attempt=attempt, item=question, user=personas.candidate, had_answer=True, revealed_at=attempt.started_at
    )
    with time_machine.travel("2026-03-01 10:03:00+00:00", tick=False):
        assert taking.quick_save(attempt.pk, attempt.user_id, question.pk, "text", "after", 1) is None
        response = save(candidate_client, attempt, question, "after", revision=1)
    assert response.status_code == 403
    assert Answer.objects.get().content == "The 99th"


def test_in_practice_a_reveal_does_not_lock_and_the_short_path_saves(mini_exam, personas, candidate_client):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    question = attempt.version.items.get(slug="first")
    assert save(candidate_client, attempt, question, "first").status_code == 200
    Reveal.objects.create(
        attempt=attempt, item=question, user=personas.candidate, had_answer=True, revealed_at=attempt.started_at
    )
    assert taking.quick_save(attempt.pk, attempt.user_id, question.pk, "text", "second", 1) is not None
    assert Answer.objects.get(attempt=attempt).content == "second"


@pytest.mark.django_db(transaction=True)
def test_a_save_waits_for_a_submit_holding_the_attempt_and_is_then_refused(mini_exam, personas):
    """On PostgreSQL the short path locks the attempt row like the full path:
    a submit that holds it first wins, and the save after it writes nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serializes whole transactions instead)")
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    question = attempt.version.items.get(slug="first")
    taking.store_answer(attempt, question, "text", "before", 0, attempt.started_at)
    holding, release = threading.Event(), threading.Event()

    def submit():
        try:
            with transaction.atomic():
                Attempt.objects.select_for_update().get(pk=attempt.pk)
                holding.set()
                release.wait(5)
                Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.SUBMITTED)
        finally:
            connection.close()

    submitter = threading.Thread(target=submit)
    submitter.start()
    assert holding.wait(5)
    outcome = {}

    def autosave():
        try:
            outcome["result"] = taking.quick_save(attempt.pk, attempt.user_id, question.pk, "text", "after", 1)
        finally:
            connection.close()

    saver = threading.Thread(target=autosave)
    saver.start()
    time.sleep(0.3)
    assert saver.is_alive()  # waiting on the row lock
    release.set()
    submitter.join(5)
    saver.join(5)
    assert outcome["result"] is None
    assert Answer.objects.get(attempt=attempt).content == "before"


def test_the_saves_navigator_entry_does_not_ask_about_earlier_attempts(
    candidate_client, attempt, question, saved_once, monkeypatch
):
    asked = []
    monkeypatch.setattr("exams.state.seen_before", lambda *args, **kwargs: asked.append(args) or set())
    with time_machine.travel("2026-03-01 10:04:00+00:00", tick=False):
        assert save(candidate_client, attempt, question, "again", revision=1).status_code == 200
        assert asked == []  # the entry never shows it: no join over earlier attempts per keystroke
        candidate_client.get(f"/attempts/{attempt.pk}/")
    assert len(asked) == 1  # the page does
