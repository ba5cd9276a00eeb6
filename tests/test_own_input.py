"""Run on your own input: arguments typed as Python literals, parsed outside
the sandbox, run through the same sandbox, limits and rate as Run tests,
never scored and never the run that counts."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from exams.models import Answer, Attempt
from exams.taking import Refused
from grading.models import Submission
from grading.own_input import MAX_INPUT_CHARS, parse_arguments
from grading.scoring import latest_runs
from grading.submitting import drill_runs, latest_submissions, queue_final_runs
from tests.sandbox_support import need_bubblewrap

HTMX = {"HTTP_HX_REQUEST": "true"}
RIGHT = "def add(a, b):\n    return a + b\n"
NOISY = "def add(a, b):\n    print('adding', a, b)\n    return [a, b, a + b]\n"
RAISES = "def helper(x):\n    raise ValueError(f'bad {x}')\n\ndef add(a, b):\n    return helper(a)\n"


# Parsing: unit tests, no database.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 2", {"args": [1, 2], "kwargs": {}}),
        ("", {"args": [], "kwargs": {}}),
        ("  [3, 1, 2] , k=2 ", {"args": [[3, 1, 2]], "kwargs": {"k": 2}}),
        ("'a\\nb', None, True, -1.5", {"args": ["a\nb", None, True, -1.5], "kwargs": {}}),
        ("(1, 2), {'x': [1, (2, 3)]}", {"args": [[1, 2], {"x": [1, [2, 3]]}], "kwargs": {}}),
        ("[[[[[1]]]]]", {"args": [[[[[[1]]]]]], "kwargs": {}}),
        ("1,\n# a comment\n2,", {"args": [1, 2], "kwargs": {}}),
    ],
)
def test_it_parses_literal_arguments(text, expected):
    assert parse_arguments(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("__import__('os').system('id')", "not a literal (a call is not allowed)"),
        ("x", "not a literal (the name 'x' is not allowed)"),
        ("1 +", "not valid Python"),
        ("1), print(2", "not arguments of one call"),
        ("1) or (2", "not arguments of one call"),
        ("1)(2", "not arguments of one call"),
        ("*[1, 2]", "*arguments are not supported"),
        ("**{'a': 1}", "**arguments are not supported"),
        ("{1, 2}", "is a set"),
        ("b'x'", "is a bytes"),
        ("1j", "is a complex"),
        ("{1: 2}", "keys must be strings"),
        ("1e999", "which the tests cannot pass"),
        ("lambda: 1", "not a literal"),
        ("[i for i in range(9)]", "not a literal"),
    ],
)
def test_it_refuses_anything_but_literals_with_a_reason(text, says):
    with pytest.raises(Refused) as refused:
        parse_arguments(text)
    assert says in refused.value.message
    assert refused.value.status == 400


def test_it_refuses_input_past_the_size_cap_before_parsing():
    with pytest.raises(Refused) as refused:
        parse_arguments("[" + "1, " * MAX_INPUT_CHARS + "]")
    assert refused.value.status == 413
    assert f"at most {MAX_INPUT_CHARS:,}" in refused.value.message


@pytest.mark.parametrize("text", ["[" * 3000 + "]" * 3000, "[" * 60 + "]" * 60, "9" * 5000])
def test_it_refuses_what_is_nested_too_deep_or_too_long(text):
    with pytest.raises(Refused) as refused:
        parse_arguments(text)
    assert refused.value.status == 400


# Runs: the view, the rules, the result.


@pytest.fixture
def own_run(django_capture_on_commit_callbacks):
    def post(client, attempt, item, code, arguments, **extra):
        answer = Answer.objects.filter(attempt=attempt, item=item, part="code").first()
        data = {"arguments": arguments}
        if code is not None:
            data.update(part="code", content=code, revision=answer.revision if answer else 0)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/attempts/{attempt.pk}/items/{item.pk}/run-own-input/", data, **{**HTMX, **extra})

    return post


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def post(client, attempt, item, code):
        answer = Answer.objects.filter(attempt=attempt, item=item, part="code").first()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/attempts/{attempt.pk}/items/{item.pk}/run/",
                {"part": "code", "content": code, "revision": answer.revision if answer else 0},
                **HTMX,
            )

    return post


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_grading")
def test_it_shows_the_return_value_and_the_prints(candidate_client, attempt, drill, own_run):
    need_bubblewrap()
    response = own_run(candidate_client, attempt, drill, NOISY, "40, b=2")
    assert response.status_code == 200
    run = Submission.objects.get()
    assert (run.source, run.status, run.score, run.max_score) == ("custom", "graded", 0, 0)
    assert run.custom_input == {"args": [40], "kwargs": {"b": 2}, "text": "40, b=2"}
    custom = run.result["custom"]
    assert (custom["reason"], custom["actual"], custom["stdout"]) == ("returned", [40, 2, 42], "adding 40 2\n")
    assert f'id="own-result-{drill.pk}"' in response.content.decode()
    # The task ran on commit, after the response: the page shows the result.
    html = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "<code>add(40, b=2)</code>" in html
    assert '<code class="own-run-value">[40, 2, 42]</code>' in html
    assert "adding 40 2" in html
    # The code was saved as the answer, as Run tests does.
    assert Answer.objects.get(attempt=attempt, item=drill, part="code").content == NOISY


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_grading")
def test_it_shows_the_traceback_of_the_candidates_code(candidate_client, attempt, drill, own_run):
    need_bubblewrap()
    own_run(candidate_client, attempt, drill, RAISES, "7, 8")
    html = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    custom = Submission.objects.get().result["custom"]
    assert custom["reason"] == "exception"
    assert custom["trace"] == [[5, "add", "return helper(a)"], [2, "helper", "raise ValueError(f'bad {x}')"]]
    assert "ValueError: bad 7" in html
    assert "ValueError: ValueError" not in html
    assert '<span class="trace-line" data-line="5">line 5</span>' in html
    assert "harness" not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_grading")
def test_without_javascript_the_saved_code_runs(candidate_client, attempt, drill, own_run):
    need_bubblewrap()
    Answer.objects.create(attempt=attempt, item=drill, part="code", content=RIGHT, revision=1)
    response = own_run(candidate_client, attempt, drill, None, "2, 3", HTTP_HX_REQUEST="")
    assert response.status_code == 302
    run = Submission.objects.get()
    assert (run.code, run.result["custom"]["actual"]) == (RIGHT, 5)


@pytest.mark.django_db
def test_bad_arguments_are_refused_and_nothing_runs(candidate_client, attempt, drill, own_run):
    response = own_run(candidate_client, attempt, drill, RIGHT, "open('/etc/passwd')")
    assert response.status_code == 400
    assert "is not a literal" in response.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_grading")
def test_an_own_input_run_is_never_scored_nor_the_run_that_counts(candidate_client, attempt, drill, own_run, run):
    need_bubblewrap()
    run(candidate_client, attempt, drill, "def add(a, b):\n    return -999\n")
    own_run(candidate_client, attempt, drill, RIGHT, "1, 2")
    tests_run, custom = Submission.objects.order_by("created_at", "pk")
    assert custom.source == "custom" and custom.created_at >= tests_run.created_at
    assert latest_submissions(attempt)[drill.pk] == tests_run
    assert latest_runs(attempt)[drill.pk].score == 0
    runs = drill_runs(attempt, [drill.pk])[drill.pk]
    assert (runs.latest, runs.custom) == (tests_run, custom)
    # The saved code (RIGHT) was only run on own input: the end of the attempt grades it.
    (final,) = queue_final_runs(attempt)
    assert (final.source, final.code) == ("final", RIGHT)


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_grading")
def test_own_input_runs_share_the_rate_limit_of_runs(candidate_client, attempt, drill, own_run, run, settings):
    need_bubblewrap()
    settings.GRADING_RUNS_PER_MINUTE = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert run(candidate_client, attempt, drill, RIGHT).status_code == 200
        assert own_run(candidate_client, attempt, drill, RIGHT, "1, 2").status_code == 200
        refused = own_run(candidate_client, attempt, drill, RIGHT, "1, 2")
        assert refused.status_code == 429
        assert "2 times a minute" in refused.content.decode()
        assert run(candidate_client, attempt, drill, RIGHT).status_code == 429
    assert Submission.objects.count() == 2
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert own_run(candidate_client, attempt, drill, RIGHT, "1, 2").status_code == 200


@pytest.mark.django_db
def test_own_input_runs_end_at_the_deadline(candidate_client, attempt, drill, own_run):
    with time_machine.travel(attempt.deadline + Attempt.GRACE + timedelta(seconds=1)):
        response = own_run(candidate_client, attempt, drill, RIGHT, "1, 2")
    assert response.status_code == 403
    assert "Time is up" in response.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_an_own_input_run_waits_for_a_pending_run(candidate_client, attempt, drill, own_run):
    Submission.objects.create(attempt=attempt, item=drill, code=RIGHT)
    response = own_run(candidate_client, attempt, drill, RIGHT, "1, 2")
    assert response.status_code == 429
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_another_candidate_cannot_run_on_this_attempt(client, personas, attempt, drill, own_run):
    client.force_login(personas.other)
    assert own_run(client, attempt, drill, RIGHT, "1, 2").status_code == 404
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_a_runs_code_is_served_to_its_owner_only(client, personas, attempt, drill):
    submission = Submission.objects.create(attempt=attempt, item=drill, code=RIGHT, status="graded")
    url = f"/submissions/{submission.pk}/code/"
    client.force_login(personas.candidate)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == RIGHT
    for someone in (personas.other, personas.staff):
        client.force_login(someone)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    assert client.get("/submissions/999999/code/").status_code in (302, 404)
