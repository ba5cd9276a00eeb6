"""Reveal on demand: recorded, policy-bound, locks in timed mode; never in the page before."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from exams.models import Answer, AnswerOpening, Attempt, Reveal
from tests.conftest import HIDDEN_MARKER

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_attempt(user, exam, mode=Attempt.Mode.TIMED):
    attempt, _ = Attempt.start(user, exam, mode)
    return attempt


def set_policy(pack, policy):
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", f"reveal_policy: {policy}")
    pack.path("exam.md").write_text(text)
    call_command("import_exams", str(pack.root), stdout=StringIO())


def reveal(client, attempt, item, **extra):
    return client.post(f"/attempts/{attempt.pk}/items/{item.pk}/reveal/", **{**HTMX, **extra})


def every_response_so_far(client, attempt) -> str:
    pages = [
        client.get(f"/attempts/{attempt.pk}/"),
        client.get(f"/attempts/{attempt.pk}/", **HTMX),
        client.get(f"/attempts/{attempt.pk}/clock/", **HTMX),
        client.get(f"/attempts/{attempt.pk}/submit/"),
        client.get("/exams/mini-exam/"),
        client.get("/attempts/"),
    ]
    return "".join(p.content.decode() for p in pages)


def test_the_model_answer_is_nowhere_before_the_reveal(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    html = every_response_so_far(candidate_client, attempt)
    assert HIDDEN_MARKER not in html
    assert "return a + b" not in html  # the drill's reference solution
    assert "Negative numbers and zero" not in html  # the drill's model answer


def test_a_reveal_is_recorded_and_returns_the_answer(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    item = attempt.version.items.get(slug="first")
    response = reveal(candidate_client, attempt, item)
    assert response.status_code == 200
    assert HIDDEN_MARKER in response.content.decode()
    record = Reveal.objects.get()
    assert (record.user, record.item, record.had_answer) == (personas.candidate, item, False)


def test_a_drill_reveal_shows_the_highlighted_reference_solution(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    drill = attempt.version.items.get(slug="add")
    page = reveal(candidate_client, attempt, drill).content.decode()
    assert "Negative numbers and zero" in page
    assert '<span class="k">return</span>' in page


def test_the_reveal_records_whether_an_answer_existed(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    item = attempt.version.items.get(slug="first")
    Answer.objects.create(attempt=attempt, item=item, content="my try", revision=1)
    reveal(candidate_client, attempt, item)
    assert Reveal.objects.get().had_answer is True


def test_revealing_twice_records_once(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    item = attempt.version.items.get(slug="first")
    reveal(candidate_client, attempt, item)
    reveal(candidate_client, attempt, item)
    assert Reveal.objects.count() == 1


def test_in_a_timed_attempt_a_reveal_locks_the_item(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    item = attempt.version.items.get(slug="first")
    page = reveal(candidate_client, attempt, item).content.decode()
    assert "readonly" in page and "locked" in page
    response = candidate_client.post(
        f"/attempts/{attempt.pk}/items/{item.pk}/save/", {"part": "text", "revision": 0, "content": "x"}, **HTMX
    )
    assert response.status_code == 403
    assert not Answer.objects.exists()


def test_in_practice_a_reveal_does_not_lock(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    item = attempt.version.items.get(slug="first")
    reveal(candidate_client, attempt, item)
    response = candidate_client.post(
        f"/attempts/{attempt.pk}/items/{item.pk}/save/", {"part": "text", "revision": 0, "content": "x"}, **HTMX
    )
    assert response.status_code == 200


def test_after_submit_policy_refuses_reveals_until_the_attempt_ends(candidate_client, mini_exam, personas, pack):
    set_policy(pack, "after_submit")
    mini_exam.refresh_from_db()
    attempt = make_attempt(personas.candidate, mini_exam)
    item = attempt.version.items.get(slug="first")
    page = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Reveal model answer" not in page
    response = reveal(candidate_client, attempt, item)
    assert response.status_code == 403
    assert HIDDEN_MARKER not in response.content.decode()
    assert not Reveal.objects.exists()
    attempt.finalize()
    results = candidate_client.get(f"/attempts/{attempt.pk}/results/").content.decode()
    assert HIDDEN_MARKER not in results and "Show the model answer" in results  # one at a time, on request
    opened = candidate_client.post(f"/attempts/{attempt.pk}/items/{item.pk}/open/", follow=True)
    assert HIDDEN_MARKER in opened.content.decode()


def test_never_policy_keeps_answers_from_candidates_even_after_submit(candidate_client, mini_exam, personas, pack):
    set_policy(pack, "never")
    mini_exam.refresh_from_db()
    attempt = make_attempt(personas.candidate, mini_exam)
    item = attempt.version.items.get(slug="first")
    assert reveal(candidate_client, attempt, item).status_code == 403
    attempt.finalize()
    assert reveal(candidate_client, attempt, item).status_code == 403
    assert HIDDEN_MARKER not in candidate_client.get(f"/attempts/{attempt.pk}/results/").content.decode()


def test_on_demand_answers_open_one_at_a_time_on_the_results_page(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    attempt.finalize()
    first, drill = attempt.version.items.get(slug="first"), attempt.version.items.get(slug="add")
    results = candidate_client.get(f"/attempts/{attempt.pk}/results/").content.decode()
    assert HIDDEN_MARKER not in results
    assert results.count('class="mt-2 open-answer"') == 2  # a button for the question and one for the drill
    response = candidate_client.post(f"/attempts/{attempt.pk}/items/{first.pk}/open/")
    assert response["Location"] == f"/attempts/{attempt.pk}/results/?opened={first.pk}#review-{first.pk}"
    results = candidate_client.get(response["Location"]).content.decode()
    assert HIDDEN_MARKER in results
    assert f'id="review-{first.pk}" open' in results
    assert "Negative numbers and zero." not in results  # the drill's model answer stays closed
    assert [o.item_id for o in AnswerOpening.objects.filter(attempt=attempt)] == [first.pk]
    assert not Reveal.objects.exists()  # an opening after the attempt is not a reveal
    candidate_client.post(f"/attempts/{attempt.pk}/items/{first.pk}/open/")  # twice: still one
    assert AnswerOpening.objects.count() == 1
    assert f'action="/attempts/{attempt.pk}/items/{drill.pk}/open/"' in results


def test_an_answer_opens_only_once_the_attempt_has_ended_and_only_for_its_owner(client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    first = attempt.version.items.get(slug="first")
    client.force_login(personas.candidate)
    client.post(f"/attempts/{attempt.pk}/items/{first.pk}/open/")
    assert not AnswerOpening.objects.exists()
    attempt.finalize()
    client.force_login(personas.other)
    assert client.post(f"/attempts/{attempt.pk}/items/{first.pk}/open/").status_code == 404
    assert not AnswerOpening.objects.exists()


def test_the_never_policy_opens_nothing(candidate_client, mini_exam, personas, pack):
    set_policy(pack, "never")
    mini_exam.refresh_from_db()
    attempt = make_attempt(personas.candidate, mini_exam)
    attempt.finalize()
    first = attempt.version.items.get(slug="first")
    results = candidate_client.post(f"/attempts/{attempt.pk}/items/{first.pk}/open/", follow=True).content.decode()
    assert "Show the model answer" not in results and HIDDEN_MARKER not in results
    assert not AnswerOpening.objects.exists()


def test_reveal_needs_a_csrf_token(mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.candidate)
    response = reveal(client, attempt, attempt.version.items.get(slug="first"))
    assert response.status_code == 403
    assert not Reveal.objects.exists()


def test_reveal_is_a_post(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    item = attempt.version.items.get(slug="first")
    assert candidate_client.get(f"/attempts/{attempt.pk}/items/{item.pk}/reveal/").status_code == 405


def test_a_reveal_after_the_deadline_is_refused_and_recorded_nowhere(candidate_client, mini_exam, personas):
    attempt = make_attempt(personas.candidate, mini_exam)
    item = attempt.version.items.get(slug="first")
    with time_machine.travel(attempt.deadline + timedelta(seconds=30)):
        response = reveal(candidate_client, attempt, item)
    assert response.status_code == 403
    assert "Time is up" in response.content.decode()
    assert HIDDEN_MARKER not in response.content.decode()
    assert response["HX-Redirect"] == f"/attempts/{attempt.pk}/results/"  # where the reason is shown
    assert not Reveal.objects.exists()
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EXPIRED


@pytest.mark.parametrize("policy", ["on_demand", "after_submit"])
def test_a_reveal_after_submit_is_refused_and_recorded_nowhere(candidate_client, mini_exam, personas, pack, policy):
    if policy != "on_demand":
        set_policy(pack, policy)
        mini_exam.refresh_from_db()
    attempt = make_attempt(personas.candidate, mini_exam, Attempt.Mode.PRACTICE)
    attempt.finalize()
    response = reveal(candidate_client, attempt, attempt.version.items.get(slug="first"))
    assert response.status_code == 403
    assert "submitted" in response.content.decode()
    assert not Reveal.objects.exists()
    # The results page opens the answers the policy allows, one at a time: that is not a reveal.
    item = attempt.version.items.get(slug="first")
    opened = candidate_client.post(f"/attempts/{attempt.pk}/items/{item.pk}/open/", follow=True)
    assert HIDDEN_MARKER in opened.content.decode()
    assert not Reveal.objects.exists()
