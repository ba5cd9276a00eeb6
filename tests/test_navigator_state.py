"""What the attempt page's question navigator and answered count say: a drill
counts as answered once its code differs from the starter or it has a run;
saves and reveals send the item's navigator entry along."""

import pytest

from exams.models import Answer, Attempt, Reveal
from exams.state import attempt_state
from grading.models import Submission

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def question(attempt):
    return attempt.version.items.get(slug="first")


def save(client, attempt, item, content, part="text", revision=0):
    url = f"/attempts/{attempt.pk}/items/{item.pk}/save/"
    return client.post(url, {"part": part, "revision": revision, "content": content}, **HTMX)


def test_an_untouched_starter_does_not_answer_a_drill(attempt, drill):
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=drill.starter_code + "\n", revision=1)
    state = attempt_state(attempt)
    assert not state.item(drill.pk).answered
    assert state.answered_count == 0
    assert drill.pk in [item.pk for item in state.unanswered]


def test_changed_code_answers_a_drill(attempt, drill):
    Answer.objects.create(attempt=attempt, item=drill, part="code", content="def add(a, b):\n    return a + b\n")
    assert attempt_state(attempt).item(drill.pk).answered


def test_a_run_answers_a_drill_even_with_the_starter_code(attempt, drill):
    Submission.objects.create(attempt=attempt, item=drill, code=drill.starter_code, max_score=drill.points)
    item = attempt_state(attempt).item(drill.pk)
    assert item.answered
    assert item.tests is None  # not graded yet


def test_the_latest_graded_run_gives_the_tests_state(attempt, drill):
    Submission.objects.create(
        attempt=attempt, item=drill, code="x", max_score=drill.points, status="graded", passed=2, total=3
    )
    assert attempt_state(attempt).item(drill.pk).tests == (2, 3)


def test_the_save_of_the_starter_code_does_not_count_it_answered(candidate_client, attempt, drill):
    response = save(candidate_client, attempt, drill, drill.starter_code, part="code")
    page = response.content.decode()
    assert f'id="nav-item-{drill.pk}" class="nav-entry" data-item="{drill.pk}" data-answered="0"' in page


def test_a_save_of_written_text_marks_its_item_answered_without_sending_the_entry(candidate_client, attempt, question):
    page = save(candidate_client, attempt, question, "The 99th percentile.").content.decode()
    assert "answered-count" not in page  # the page counts the entries marked answered
    assert f'data-answered-item="{question.pk}"' in page
    assert "nav-item-" not in page


def test_a_save_of_code_sends_the_items_navigator_entry(candidate_client, attempt, drill):
    page = save(candidate_client, attempt, drill, "def add(a, b):\n    return 0\n", part="code").content.decode()
    assert "data-answered-item" not in page
    assert f'id="nav-item-{drill.pk}" class="nav-entry" data-item="{drill.pk}" data-answered="1"' in page
    assert "(answered)" in page
    unchanged = save(candidate_client, attempt, drill, drill.starter_code, revision=1, part="code").content.decode()
    assert f'data-item="{drill.pk}" data-answered="0"' in unchanged  # the starter code answers nothing


def test_the_attempt_page_lists_every_answerable_item_in_the_navigator(candidate_client, attempt, question, drill):
    Reveal.objects.create(
        attempt=attempt, item=question, user=attempt.user, revealed_at=attempt.started_at, had_answer=False
    )
    page = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert 'id="navigator"' in page
    assert f'href="#item-{question.pk}"' in page and f'href="#item-{drill.pk}"' in page
    assert "revealed, locked" in page
    assert '<h1 class="h6 fw-semibold mb-0">Mini exam</h1>' in page


def test_a_reveal_sends_the_items_navigator_entry(candidate_client, attempt, question):
    page = candidate_client.post(f"/attempts/{attempt.pk}/items/{question.pk}/reveal/", **HTMX).content.decode()
    assert f'id="item-{question.pk}"' in page
    assert f'<li id="nav-item-{question.pk}"' in page and 'hx-swap-oob="true"' in page
    assert "revealed, locked" in page


def test_the_submit_page_counts_a_drill_with_a_run_as_answered(candidate_client, attempt, drill, question):
    Submission.objects.create(attempt=attempt, item=drill, code=drill.starter_code, max_score=drill.points)
    page = candidate_client.get(f"/attempts/{attempt.pk}/submit/").content.decode()
    assert "You have not answered 1 item:" in page
    assert f"#item-{question.pk}" in page and f"#item-{drill.pk}" not in page


def test_the_practice_page_has_the_navigator_too(candidate_client, mini_exam, personas):
    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    page = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert 'aria-labelledby="navigator-title"' in page
