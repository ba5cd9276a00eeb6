"""What the candidate's pages show of a failed hidden case: its category and
reason, never the exception type the program chose (issue 12, point 9)."""

import pytest

from exams.models import Answer
from grading.models import Submission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_grading")]
HTMX = {"HTTP_HX_REQUEST": "true"}
# The mini drill's hidden cases are add(-1, 1) and add(1000000, 1); the
# sample is add(1, 2). Each raises a type picked from its input, named in
# pieces so that the code shown in the editor does not spell the names out.
CHOOSER = (
    "import builtins\n"
    "def add(a, b):\n"
    "    name = 'Key' if a < 0 else 'Index' if a > 1000 else 'ZeroDivision'\n"
    "    raise getattr(builtins, name + 'Error')()\n"
)


def run(client, attempt, item, code, capture):
    answer = Answer.objects.filter(attempt=attempt, item=item, part="code").first()
    with capture(execute=True):
        return client.post(
            f"/attempts/{attempt.pk}/items/{item.pk}/run/",
            {"part": "code", "content": code, "revision": answer.revision if answer else 0},
            **HTMX,
        )


def test_the_attempt_page_names_only_the_samples_exception(
    candidate_client, attempt, drill, django_capture_on_commit_callbacks
):
    assert run(candidate_client, attempt, drill, CHOOSER, django_capture_on_commit_callbacks).status_code == 200
    html = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "0 of 3 tests passed" in html
    assert "ZeroDivisionError" in html  # the sample case's own failure
    assert "KeyError" not in html and "IndexError" not in html
    assert "1 × exception" in html  # noqa: RUF001 (the sign the summary uses)


def test_a_result_stored_with_hidden_exception_types_does_not_show_them(candidate_client, attempt, drill):
    result = {
        "status": "graded",
        "passed": 0,
        "total": 2,
        "categories": [
            {
                "name": "large",
                "passed": 0,
                "total": 2,
                "reasons": {"exception": 2},
                "failures": [{"reason": "exception", "exception": "KeyError"}, {"reason": "exception"}],
            }
        ],
        "visible_cases": [],
    }
    submission = Submission.objects.create(
        attempt=attempt, item=drill, code="x", status="graded", result=result, passed=0, total=2
    )
    html = candidate_client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "KeyError" not in html
    assert "2 × exception" in html  # noqa: RUF001
