"""Anonymous marking: under the exam's default or the reviewer's queue
option, no response of the review flow (queue, review page, its writes and
refusals, marking by question, a run's page, the results page a reviewer
opens) names the candidate, by username, first or last name, in its text
or its links; a stable pseudonym stands in; names come back once the
review is final."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from exams.models import ExamVersion
from grading import pseudonyms, reviewing
from grading.models import Membership, Submission
from tests.review_support import (
    HTMX,
    finished_attempt,
    import_pack,
    mark_fields,
    mark_url,
    parts,
    review_pack,
    team_people,
    texts,
)

pytestmark = pytest.mark.django_db
User = get_user_model()
NAMES = ("zelda.quartermaine", "Zelda", "Quartermaine", "ygritte.pemberton", "Ygritte", "Pemberton")
PSEUDONYM = re.compile(r"Candidate [2-9A-HJKMNP-Z]{5}")


def with_anonymous_marking(pack):
    text = pack.path("exam.md").read_text()
    pack.path("exam.md").write_text(
        text.replace("reveal_policy: on_demand", "reveal_policy: on_demand\nanonymous_marking: true")
    )
    return pack


@pytest.fixture
def people(db):
    people = team_people()
    people.zelda = User.objects.create_user(
        "zelda.quartermaine", "z@example.com", "pw", first_name="Zelda", last_name="Quartermaine"
    )
    people.ygritte = User.objects.create_user(
        "ygritte.pemberton", "y@example.com", "pw", first_name="Ygritte", last_name="Pemberton"
    )
    for user in (people.zelda, people.ygritte):
        Membership.objects.create(team=people.t, user=user)
    return people


@pytest.fixture
def anonymous_exam(tmp_path):
    return import_pack(with_anonymous_marking(review_pack(tmp_path / "a", slug="blind-exam")))


@pytest.fixture
def open_exam(tmp_path):
    return import_pack(review_pack(tmp_path / "o", slug="open-exam"))


def attempt_with_runs(user, exam):
    attempt = finished_attempt(user, exam, {"first": "The tail latency.", "add": "Zero and negatives."})
    drill = parts(attempt).drill
    for passed in (1, 2):
        Submission.objects.create(
            attempt=attempt,
            item=drill,
            code="def add(a, b):\n    return a + b\n",
            status="graded",
            passed=passed,
            total=2,
            score=passed,
            max_score=drill.points,
        )
    return attempt


def assert_anonymous(response, where: str):
    body = response.content.decode()
    found = [name for name in NAMES if name.lower() in body.lower()]
    found += [name for name in NAMES if name.lower() in response.get("Location", "").lower()]
    assert not found, f"{where} names {found}"


def flow(client, attempt) -> dict:
    """Every page and fragment of the review flow for this attempt, marked as the flow marks."""
    p = parts(attempt)
    exam = attempt.exam.slug
    runs = list(Submission.objects.filter(attempt=attempt).order_by("pk"))
    responses = {
        "queue": client.get("/review/"),
        "queue filtered": client.get(f"/review/?exam={exam}&team=t&status=needs_review"),
        "review page": client.get(f"/review/attempts/{attempt.pk}/"),
        "by question index": client.get(f"/review/questions/?exam={exam}&team=t"),
        "by question": client.get(f"/review/questions/{p.question.pk}/?attempt={attempt.pk}"),
        "by question drill": client.get(f"/review/questions/{p.drill.pk}/?attempt={attempt.pk}&team=t"),
        "run page": client.get(f"/submissions/{runs[0].pk}/"),
        "run fragment": client.get(f"/submissions/{runs[1].pk}/", **HTMX),
        "results page": client.get(f"/attempts/{attempt.pk}/results/"),
    }
    responses["mark (htmx)"] = client.post(mark_url(attempt, p.question), mark_fields([p.defines]), **HTMX)
    responses["by question progress"] = client.get(f"/review/questions/{p.question.pk}/", **HTMX)
    responses["mark refused (htmx)"] = client.post(mark_url(attempt, p.question), mark_fields(revision=0), **HTMX)
    responses["mark (form)"] = client.post(mark_url(attempt, p.drill), mark_fields([p.drill_criterion], revision=1))
    responses["mark refused (form)"] = client.post(mark_url(attempt, None), mark_fields(revision=0), follow=True)
    responses["finalize refused"] = client.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 0})
    responses["review page, marked"] = client.get(f"/review/attempts/{attempt.pk}/")
    statuses = {name: response.status_code for name, response in responses.items()}
    assert set(statuses.values()) <= {200, 286, 302, 409}, statuses
    assert (statuses["mark (htmx)"], statuses["mark refused (htmx)"], statuses["mark (form)"]) == (200, 409, 302)
    assert statuses["finalize refused"] == 409
    return responses


def test_no_response_in_the_flow_names_the_candidate_when_the_exam_asks_for_anonymous_marking(
    client, people, anonymous_exam
):
    attempt = attempt_with_runs(people.zelda, anonymous_exam)
    finished_attempt(people.ygritte, anonymous_exam, {"first": "Mean latency."})
    client.force_login(people.reviewer_t)
    for name, response in flow(client, attempt).items():
        assert_anonymous(response, name)
    label = pseudonyms.pseudonym(anonymous_exam.pk, people.zelda.pk)
    page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert texts(page, cls="h5")[0] == f"Review: {label}"
    assert f"Review · {label}" in page
    queue = client.get("/review/").content.decode()
    assert label in queue and pseudonyms.pseudonym(anonymous_exam.pk, people.ygritte.pk) in queue


def test_the_queue_option_hides_names_in_an_exam_that_does_not_ask_for_it(client, people, open_exam):
    attempt = attempt_with_runs(people.zelda, open_exam)
    client.force_login(people.reviewer_t)
    p = parts(attempt)
    run = Submission.objects.filter(attempt=attempt).first()
    for url in (
        "/review/",
        f"/review/attempts/{attempt.pk}/",
        f"/review/questions/{p.question.pk}/",
        f"/submissions/{run.pk}/",
        f"/attempts/{attempt.pk}/results/",
    ):
        assert "zelda.quartermaine" in client.get(url).content.decode(), url
    response = client.post("/review/anonymous/", {"anonymous": "on", "exam": open_exam.slug, "team": "t"})
    assert response.status_code == 302
    assert response["Location"] == f"/review/?exam={open_exam.slug}&team=t"
    for name, response in flow(client, attempt).items():
        assert_anonymous(response, name)
    assert "Anonymous marking: <strong" in client.get("/review/").content.decode()
    client.post("/review/anonymous/", {"anonymous": "off"})
    assert "zelda.quartermaine" in client.get(f"/review/attempts/{attempt.pk}/").content.decode()


def test_turning_the_option_off_leaves_an_anonymous_exam_anonymous(client, people, anonymous_exam):
    attempt = attempt_with_runs(people.zelda, anonymous_exam)
    client.force_login(people.reviewer_t)
    client.post("/review/anonymous/", {"anonymous": "off"})
    assert_anonymous(client.get("/review/"), "queue")
    assert_anonymous(client.get(f"/review/attempts/{attempt.pk}/"), "review page")


def test_the_option_is_a_post_with_csrf_and_refuses_anything_but_on_or_off(people, client):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.reviewer_t)
    assert strict.post("/review/anonymous/", {"anonymous": "on"}).status_code == 403
    assert "review_anonymous" not in strict.session
    client.force_login(people.reviewer_t)
    assert client.get("/review/anonymous/").status_code == 405
    assert client.post("/review/anonymous/", {"anonymous": "maybe"}).status_code == 400
    assert "review_anonymous" not in client.session
    client.force_login(people.candidate)
    assert client.post("/review/anonymous/", {"anonymous": "on"}).status_code == 403


def test_names_come_back_once_the_reviewers_own_review_is_final(client, people, anonymous_exam):
    attempt = attempt_with_runs(people.zelda, anonymous_exam)
    p = parts(attempt)
    review = reviewing.mark(
        attempt,
        people.reviewer_t,
        p.question,
        criteria_ids=[p.defines.pk],
        adjustment=Decimal(0),
        reason="",
        comment="",
        revision=0,
    )
    client.force_login(people.reviewer_t)
    assert_anonymous(client.get(f"/review/attempts/{attempt.pk}/"), "draft")
    reviewing.finalize(attempt, people.reviewer_t, review.revision)
    page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert texts(page, cls="h5")[0] == "Review: zelda.quartermaine"
    assert "zelda.quartermaine" in client.get("/review/").content.decode()
    assert (
        "zelda.quartermaine" in client.get(f"/review/questions/{p.question.pk}/?attempt={attempt.pk}").content.decode()
    )


def test_with_double_marking_a_second_reviewer_sees_the_pseudonym_until_every_review_is_final(
    client, people, anonymous_exam
):
    ExamVersion.objects.filter(pk=anonymous_exam.current_version_id).update(reviews_required=2)
    attempt = attempt_with_runs(people.zelda, anonymous_exam)
    p = parts(attempt)
    review = reviewing.mark(
        attempt,
        people.reviewer_t,
        p.question,
        criteria_ids=[p.defines.pk],
        adjustment=Decimal(0),
        reason="",
        comment="",
        revision=0,
    )
    reviewing.finalize(attempt, people.reviewer_t, review.revision)
    client.force_login(people.reviewer_t)
    assert "zelda.quartermaine" in client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    client.force_login(people.owner_t)
    for url in ("/review/", f"/review/attempts/{attempt.pk}/", f"/review/questions/{p.question.pk}/"):
        assert_anonymous(client.get(url), url)


def test_a_pseudonym_is_stable_per_exam_and_candidate_and_differs_between_them(people, anonymous_exam, open_exam):
    label = pseudonyms.pseudonym(anonymous_exam.pk, people.zelda.pk)
    assert PSEUDONYM.fullmatch(label)
    assert label == pseudonyms.pseudonym(anonymous_exam.pk, people.zelda.pk)
    assert label != pseudonyms.pseudonym(open_exam.pk, people.zelda.pk)
    assert label != pseudonyms.pseudonym(anonymous_exam.pk, people.ygritte.pk)


def test_two_attempts_of_one_candidate_share_their_pseudonym_in_the_queue(client, people, anonymous_exam):
    for _ in range(2):
        finished_attempt(people.zelda, anonymous_exam, {"first": "Again."})
    client.force_login(people.reviewer_t)
    queue = client.get("/review/").content.decode()
    assert queue.count(pseudonyms.pseudonym(anonymous_exam.pk, people.zelda.pk)) == 4  # cell and link text, twice
