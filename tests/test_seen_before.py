"""A practice attempt cannot feed a timed one: while a timed attempt of an
exam is in progress, practice attempts of that exam neither reveal nor show
model answers; and an item whose model answer the candidate saw in an
earlier attempt of the same content is marked "seen before"."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from exams.loader import load_pack
from exams.models import AnswerOpening, Attempt, Exam, Item, Reveal, item_content_hash
from exams.state import attempt_state
from exams.taking import Refused, reveal, seen_before
from tests.conftest import HIDDEN_MARKER

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
WITHHELD = "timed attempt of this exam is in progress"


def start(user, exam, mode):
    exam.refresh_from_db()
    attempt, _ = Attempt.start(user, exam, mode)
    return attempt


def first(attempt) -> Item:
    return attempt.version.items.get(slug="first")


def hashes(attempt) -> list[str]:
    return list(attempt.version.items.exclude(kind="text").values_list("content_hash", flat=True))


def reimport(pack) -> None:
    call_command("import_exams", str(pack.root), stdout=StringIO())


def view_results(client, attempt) -> str:
    return client.get(f"/attempts/{attempt.pk}/results/").content.decode()


# While a timed attempt is in progress ------------------------------------------------


def test_a_practice_reveal_is_refused_while_a_timed_attempt_is_open(candidate_client, mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    response = candidate_client.post(f"/attempts/{practice.pk}/items/{first(practice).pk}/reveal/", **HTMX)
    assert response.status_code == 403
    page = response.content.decode()
    assert WITHHELD in page
    assert HIDDEN_MARKER not in page
    assert f'id="item-{first(practice).pk}"' in page  # the item, with the reason, not a bare message
    assert not Reveal.objects.exists()


def test_practice_reveals_work_again_once_the_timed_attempt_ends(candidate_client, mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    timed.finalize()
    response = candidate_client.post(f"/attempts/{practice.pk}/items/{first(practice).pk}/reveal/", **HTMX)
    assert response.status_code == 200
    assert HIDDEN_MARKER in response.content.decode()


def test_a_timed_attempt_past_its_deadline_no_longer_holds_practice_back(mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    with time_machine.travel(timed.deadline + timedelta(minutes=1)):
        reveal(practice, first(practice), personas.candidate)
    timed.refresh_from_db()
    assert timed.status == Attempt.Status.EXPIRED


def test_the_practice_page_hides_answers_revealed_earlier_while_a_timed_attempt_is_open(
    candidate_client, mini_exam, personas
):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    reveal(practice, first(practice), personas.candidate)
    assert HIDDEN_MARKER in candidate_client.get(f"/attempts/{practice.pk}/").content.decode()
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    page = candidate_client.get(f"/attempts/{practice.pk}/").content.decode()
    assert HIDDEN_MARKER not in page
    assert WITHHELD in page
    assert "Reveal model answer" not in page
    timed.finalize()
    assert HIDDEN_MARKER in candidate_client.get(f"/attempts/{practice.pk}/").content.decode()


def test_a_practice_results_page_hides_answers_while_a_timed_attempt_is_open(candidate_client, mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    practice.finalize()
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    first = practice.version.items.get(slug="first")
    page = view_results(candidate_client, practice)
    assert HIDDEN_MARKER not in page and "Show the model answer" not in page
    assert WITHHELD in page
    opened = candidate_client.post(f"/attempts/{practice.pk}/items/{first.pk}/open/", follow=True).content.decode()
    assert HIDDEN_MARKER not in opened and WITHHELD in opened
    assert not AnswerOpening.objects.exists()
    timed.finalize()
    assert "Show the model answer" in view_results(candidate_client, practice)
    candidate_client.post(f"/attempts/{practice.pk}/items/{first.pk}/open/")
    assert HIDDEN_MARKER in view_results(candidate_client, practice)


def test_practice_of_another_exam_is_not_held_back(candidate_client, mini_exam, personas, shipped_packs):
    other = Exam.objects.exclude(pk=mini_exam.pk).first()
    practice = start(personas.candidate, other, Attempt.Mode.PRACTICE)
    start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    item = practice.version.items.exclude(kind="text").first()
    assert candidate_client.post(f"/attempts/{practice.pk}/items/{item.pk}/reveal/", **HTMX).status_code == 200


def test_reviewers_and_staff_still_see_the_answers(client, mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    practice.finalize()
    start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    state = attempt_state(practice, show_answers=True, panels=False)
    assert state.item(first(practice).pk).model is not None


def test_the_exam_page_and_the_reveal_buttons_state_the_rule(candidate_client, mini_exam, personas):
    page = candidate_client.get("/exams/mini-exam/").content.decode()
    assert "While a timed attempt of this exam is in progress" in page
    assert "seen before" in page
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    page = candidate_client.get(f"/attempts/{practice.pk}/").content.decode()
    assert "Reveal model answer (marks it seen before in later timed attempts)" in page


# Seen before --------------------------------------------------------------------------


def test_an_item_revealed_in_practice_is_seen_before_in_the_next_timed_attempt(candidate_client, mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    reveal(practice, first(practice), personas.candidate)
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    state = attempt_state(timed, panels=False)
    assert state.item(first(timed).pk).seen_before
    assert not state.item(timed.version.items.get(slug="add").pk).seen_before
    page = candidate_client.get(f"/attempts/{timed.pk}/").content.decode()
    assert page.count("Seen before") == 1
    timed.finalize()
    results = view_results(candidate_client, timed)
    assert "Seen before" in results


def test_only_answers_opened_on_a_results_page_count_as_seen(candidate_client, mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    practice.finalize()
    first = practice.version.items.get(slug="first")
    assert seen_before(personas.candidate, hashes(practice)) == set()  # ended, but nothing opened yet
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert HIDDEN_MARKER not in view_results(candidate_client, practice)  # reading the page opens nothing
        candidate_client.post(f"/attempts/{practice.pk}/items/{first.pk}/open/")
    assert seen_before(personas.candidate, hashes(practice)) == {first.content_hash}
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    assert {item.slug for item in attempt_state(timed, panels=False).answerable if item.seen_before} == {"first"}


def test_a_results_page_that_shows_no_answers_does_not_count(candidate_client, mini_exam, personas, pack):
    pack.write("exam.md", pack.path("exam.md").read_text().replace("reveal_policy: on_demand", "reveal_policy: never"))
    reimport(pack)
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    practice.finalize()
    assert HIDDEN_MARKER not in view_results(candidate_client, practice)
    practice.refresh_from_db()
    assert practice.answers_shown_at is None
    assert seen_before(personas.candidate, hashes(practice)) == set()


def test_a_reviewer_reading_the_results_is_not_the_candidate_seeing_them(client, mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    practice.finalize()
    client.force_login(personas.staff)
    assert HIDDEN_MARKER in view_results(client, practice)
    practice.refresh_from_db()
    assert practice.answers_shown_at is None


def test_the_same_item_in_a_later_version_counts(mini_exam, personas, pack):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    reveal(practice, first(practice), personas.candidate)
    practice.finalize()
    # A new version: the drill changes, the question does not.
    pack.write("02-coding/01-add/starter.py", "def add(a, b):\n    return 0\n")
    pack.write(
        "02-coding/01-add/cases.jsonl",
        pack.path("02-coding/01-add/cases.jsonl").read_text() + '{"category": "large", "args": [5, 6]}\n',
    )
    reimport(pack)
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    assert timed.version_id != practice.version_id
    assert first(timed).content_hash == first(practice).content_hash
    assert attempt_state(timed, panels=False).item(first(timed).pk).seen_before


def test_a_changed_prompt_is_new_content(mini_exam, personas, pack):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    reveal(practice, first(practice), personas.candidate)
    pack.write("01-basics/01-first.md", pack.path("01-basics/01-first.md").read_text().replace("p99", "p95"))
    reimport(pack)
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    assert first(timed).content_hash != first(practice).content_hash
    assert not attempt_state(timed, panels=False).item(first(timed).pk).seen_before


def test_only_what_was_seen_before_the_timed_attempt_ended_counts(candidate_client, mini_exam, personas):
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    timed.finalize()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
        reveal(practice, first(practice), personas.candidate)
    assert seen_before(personas.candidate, hashes(timed), before=timed) == set()
    assert seen_before(personas.candidate, hashes(timed)) == {first(timed).content_hash}
    assert "Seen before" not in view_results(candidate_client, timed)


def test_a_reveal_in_the_timed_attempt_itself_is_not_seen_before(mini_exam, personas):
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    reveal(timed, first(timed), personas.candidate)
    assert seen_before(personas.candidate, hashes(timed), before=timed) == set()
    item = attempt_state(timed, panels=False).item(first(timed).pk)
    assert item.reveal is not None and not item.seen_before


def test_what_another_candidate_saw_does_not_count(mini_exam, personas):
    practice = start(personas.other, mini_exam, Attempt.Mode.PRACTICE)
    reveal(practice, first(practice), personas.other)
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    assert seen_before(personas.candidate, hashes(timed), before=timed) == set()


def test_a_reveal_racing_the_timed_start_still_counts(mini_exam, personas):
    # The practice reveal is checked before the timed attempt exists but
    # recorded after it started: it still happened before the timed one ended.
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    timed = start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    Reveal.objects.create(
        attempt=practice,
        item=first(practice),
        user=personas.candidate,
        revealed_at=timed.started_at + timedelta(seconds=1),
        had_answer=False,
    )
    assert seen_before(personas.candidate, hashes(timed), before=timed) == {first(timed).content_hash}


def test_practice_attempts_carry_no_seen_before_marks(mini_exam, personas):
    one = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    reveal(one, first(one), personas.candidate)
    two = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    assert not any(item.seen_before for item in attempt_state(two, panels=False).items)


def test_refusal_is_raised_by_the_rule_itself(mini_exam, personas):
    practice = start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    with pytest.raises(Refused) as refusal:
        reveal(practice, first(practice), personas.candidate)
    assert refusal.value.status == 403


# The content hash ---------------------------------------------------------------------


def test_the_hash_covers_what_the_candidate_is_asked_and_shown(pack):
    data = load_pack(pack.root)
    question = data.sections[0].items[0]
    base = item_content_hash(question)
    assert len(base) == 64
    question.title = "Another title"
    question.points = 9
    assert item_content_hash(question) == base
    question.answer_md += " more"
    assert item_content_hash(question) != base


def test_the_migration_fills_the_hash_of_existing_items(mini_exam):
    expected = dict(Item.objects.values_list("pk", "content_hash"))
    assert all(expected.values())
    Item.objects.update(content_hash="")
    migration = importlib.import_module("exams.migrations.0004_seen_before")
    migration.fill_content_hashes(apps, None)
    assert dict(Item.objects.values_list("pk", "content_hash")) == expected
