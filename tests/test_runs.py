"""Run tests on a drill: a stored submission, graded in the sandbox, shown by
category; the limits on running; what the page may and may not show."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from exams.models import Answer, Attempt, Reveal
from grading.grader import MAX_CODE_BYTES
from grading.models import Submission
from tests.conftest import HIDDEN_MARKER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_grading")]
HTMX = {"HTTP_HX_REQUEST": "true"}
RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
HIDDEN_INPUT = "1000000"  # the drill's one hidden "large" case: add(1000000, 1)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """POST Run tests; the task queued on commit runs in-process, as with no broker."""

    def post(client, attempt, item, code, revision=None, **extra):
        if revision is None:
            answer = Answer.objects.filter(attempt=attempt, item=item, part="code").first()
            revision = answer.revision if answer else 0
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/attempts/{attempt.pk}/items/{item.pk}/run/",
                {"part": "code", "content": code, "revision": revision},
                **{**HTMX, **extra},
            )

    return post


def page(client, attempt) -> str:
    return client.get(f"/attempts/{attempt.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_run_saves_the_code_grades_it_and_shows_the_result(candidate_client, attempt, drill):
    # With no broker the run is graded in-process once the submission is
    # committed, so the response already holds the result (no test transaction here).
    response = candidate_client.post(
        f"/attempts/{attempt.pk}/items/{drill.pk}/run/", {"part": "code", "content": RIGHT, "revision": 0}, **HTMX
    )
    assert response.status_code == 200
    submission = Submission.objects.get()
    assert (submission.status, submission.passed, submission.total) == ("graded", 3, 3)
    assert submission.score == drill.points
    assert submission.claims == 1
    answer = Answer.objects.get(attempt=attempt, item=drill, part="code")
    assert (answer.content, answer.revision) == (RIGHT, 1)
    html = response.content.decode()
    assert "3 of 3 tests passed" in html
    assert f'id="save-status-{drill.pk}-code" hx-swap-oob="true"' in html  # the form learns revision 1
    assert 'name="revision" value="1"' in html


def test_failures_are_reported_by_category_without_hidden_data(candidate_client, attempt, drill, run):
    assert run(candidate_client, attempt, drill, WRONG).status_code == 200
    html = page(candidate_client, attempt)
    assert "0 of 3 tests passed" in html
    assert "basics" in html and "large" in html
    assert "wrong answer" in html
    # The sample case is shown in full: its input, expected 3 and the actual -1.
    assert "<code>add(1, 2)</code>" in html and "<code>-1</code>" in html
    assert HIDDEN_INPUT not in html
    stored = json.dumps(Submission.objects.get().result)
    assert HIDDEN_INPUT not in stored and "1000001" not in stored
    assert HIDDEN_MARKER not in html


def test_the_latest_run_counts_and_earlier_runs_stay_as_history(candidate_client, attempt, drill, run):
    run(candidate_client, attempt, drill, RIGHT)
    run(candidate_client, attempt, drill, WRONG)
    html = page(candidate_client, attempt)
    assert "Earlier runs (1)" in html
    assert html.index("0 of 3 tests passed") < html.index("Earlier runs")
    assert Submission.objects.count() == 2
    candidate_client.post(f"/attempts/{attempt.pk}/submit/")
    results = candidate_client.get(f"/attempts/{attempt.pk}/results/").content.decode()
    # The final code is the wrong one, already graded by the last run: no extra run, score 0.
    assert Submission.objects.count() == 2
    assert "Tests: <strong>0</strong> of" in results


def test_runs_end_at_the_deadline(candidate_client, attempt, drill, run):
    with time_machine.travel(attempt.deadline + Attempt.GRACE + timedelta(seconds=1)):
        response = run(candidate_client, attempt, drill, RIGHT)
    assert response.status_code == 403
    assert "Time is up" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_revealed_drill_cannot_be_run_in_a_timed_attempt(candidate_client, attempt, drill, run, personas):
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=RIGHT, revision=1)
    Reveal.objects.create(
        attempt=attempt, item=drill, user=personas.candidate, revealed_at=timezone.now(), had_answer=True
    )
    response = run(candidate_client, attempt, drill, RIGHT)
    assert response.status_code == 403
    assert "model answer" in response.content.decode()
    assert not Submission.objects.exists()


def test_code_past_64_kb_is_neither_saved_nor_run(candidate_client, attempt, drill, run):
    # 40,000 characters fit a limit in characters, but not 65,536 bytes: the
    # answer limit is the grader's, in bytes, so a saved answer always runs.
    code = RIGHT + "# " + "é" * 40_000 + "\n"
    response = run(candidate_client, attempt, drill, code)
    assert response.status_code == 413
    assert "the limit is 65,536 bytes" in response.content.decode()
    assert not Submission.objects.exists()
    assert not Answer.objects.exists()


def test_code_at_the_byte_limit_is_saved_and_run(candidate_client, attempt, drill, run):
    code = RIGHT + "#" * (Answer.MAX_BYTES - len(RIGHT))
    assert len(code.encode()) == MAX_CODE_BYTES
    response = run(candidate_client, attempt, drill, code)
    assert response.status_code == 200
    assert Submission.objects.get().status == "graded"
    assert Answer.objects.get(attempt=attempt, item=drill, part="code").content == code


def test_runs_are_limited_per_minute(candidate_client, attempt, drill, run, settings):
    settings.GRADING_RUNS_PER_MINUTE = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert run(candidate_client, attempt, drill, RIGHT).status_code == 200
        assert run(candidate_client, attempt, drill, WRONG).status_code == 200
        refused = run(candidate_client, attempt, drill, RIGHT)
    assert refused.status_code == 429
    assert "2 times a minute" in refused.content.decode()
    assert Submission.objects.count() == 2
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert run(candidate_client, attempt, drill, RIGHT).status_code == 200


def test_a_run_waits_for_the_previous_one(candidate_client, attempt, drill, run):
    Submission.objects.create(attempt=attempt, item=drill, code=WRONG)
    response = run(candidate_client, attempt, drill, RIGHT)
    assert response.status_code == 429
    assert "has not finished" in response.content.decode()
    assert Submission.objects.count() == 1


def test_a_stale_revision_runs_nothing_and_overwrites_nothing(candidate_client, attempt, drill, run):
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=WRONG, revision=2)
    response = run(candidate_client, attempt, drill, RIGHT, revision=1)
    assert response.status_code == 409
    assert Answer.objects.get(attempt=attempt, item=drill, part="code").content == WRONG
    assert not Submission.objects.exists()


def test_invalid_utf8_runs_nothing(candidate_client, attempt, drill, django_capture_on_commit_callbacks):
    body = b"part=code&revision=0&content=def+add%28a%2C+b%29%3A+return+%FF"
    response = candidate_client.post(
        f"/attempts/{attempt.pk}/items/{drill.pk}/run/", body, content_type="application/x-www-form-urlencoded", **HTMX
    )
    assert response.status_code == 400
    assert not Submission.objects.exists() and not Answer.objects.exists()


def test_only_drills_have_tests(candidate_client, attempt, run):
    question = attempt.version.items.get(slug="first")
    assert run(candidate_client, attempt, question, RIGHT).status_code == 404


def test_without_javascript_a_run_redirects_back_with_a_message(candidate_client, attempt, drill, run):
    response = run(candidate_client, attempt, drill, RIGHT, HTTP_HX_REQUEST="")
    assert response.status_code == 302
    assert response["Location"] == f"/attempts/{attempt.pk}/#item-{drill.pk}"
    page = candidate_client.get(response["Location"]).content.decode()
    assert "tests are running" in page and "3 of 3 tests passed" in page


def test_a_pending_run_polls_and_a_finished_one_stops_polling(candidate_client, attempt, drill):
    submission = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT)
    pending = candidate_client.get(f"/submissions/{submission.pk}/", **HTMX)
    assert pending.status_code == 200
    assert 'hx-trigger="every 500ms"' in pending.content.decode()
    assert "Queued" in pending.content.decode()
    Submission.objects.filter(pk=submission.pk).update(status="graded", passed=3, total=3, score=10)
    done = candidate_client.get(f"/submissions/{submission.pk}/", **HTMX)
    assert done.status_code == 286  # htmx stops the poll and swaps in the result
    assert "every 500ms" not in done.content.decode()


@pytest.mark.parametrize(
    ("who", "view_status", "run_status"),
    [("candidate", 200, 200), ("other", 404, 404), ("staff", 200, 404), ("anonymous", 302, 302)],
)
def test_only_the_owner_runs_and_only_owner_and_staff_see_runs(
    client, attempt, drill, personas, run, who, view_status, run_status
):
    submission = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, status="graded")
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    assert client.get(f"/submissions/{submission.pk}/").status_code == view_status
    Submission.objects.filter(pk=submission.pk).update(status="graded")
    assert run(client, attempt, drill, WRONG).status_code == run_status
    assert Submission.objects.count() == (2 if run_status == 200 else 1)


def test_an_unknown_submission_is_a_404(candidate_client, attempt):
    assert candidate_client.get("/submissions/999999/").status_code == 404


def test_the_submission_page_shows_the_code_and_the_result(candidate_client, attempt, drill, run):
    run(candidate_client, attempt, drill, WRONG)
    submission = Submission.objects.get()
    page = candidate_client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "Test run: Add two numbers" in page
    assert "0 of 3 tests passed" in page
    assert "highlight" in page  # the code, highlighted by Pygments on the server


@pytest.mark.parametrize("action", ["save", "run"])
def test_a_nul_character_is_refused_before_it_reaches_the_database(candidate_client, attempt, drill, action):
    response = candidate_client.post(
        f"/attempts/{attempt.pk}/items/{drill.pk}/{action}/",
        {"part": "code", "content": "def add(a, b):\x00\n    return a + b\n", "revision": 0},
        **HTMX,
    )
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not Answer.objects.exists() and not Submission.objects.exists()
