"""Marking by question: one item across every attempt in the reviewer's
queue, marked through the review page's own endpoint, with progress and
navigation; read-only where the viewer's review is final; and nobody
outside the teams reaches an item by its id."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.models import Item
from grading import reviewing
from grading.models import Mark, Membership, Review
from tests.review_support import (
    HTMX,
    finished_attempt,
    import_pack,
    mark_fields,
    mark_url,
    page_text,
    parts,
    review_pack,
    team_people,
    text,
    texts,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def exam(tmp_path):
    return import_pack(review_pack(tmp_path))


@pytest.fixture
def people(db):
    people = team_people()
    for name in ("bob", "carol"):
        setattr(people, name, User.objects.create_user(name, password="pw"))
        Membership.objects.create(team=people.t, user=getattr(people, name))
    return people


@pytest.fixture
def attempts(exam, people):
    """Three finished attempts of team T's members, in queue order."""
    return [
        finished_attempt(user, exam, {"first": f"Answer of {user.username}: the tail.", "add": "Zero."})
        for user in (people.candidate, people.bob, people.carol)
    ]


@pytest.fixture
def p(attempts):
    return parts(attempts[0])


def item_url(item, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/review/questions/{item.pk}/" + (f"?{query}" if query else "")


def answer_shown(html: str) -> str:
    return text(html, cls="answer-text")


def mark(attempt, user, item, criteria, revision=None):
    if revision is None:
        review = reviewing.review_of(attempt, user)
        revision = review.revision if review else 0
    return reviewing.mark(
        attempt,
        user,
        item,
        criteria_ids=[c.pk for c in criteria],
        adjustment=Decimal(0),
        reason="",
        comment="",
        revision=revision,
    )


def test_the_index_lists_the_exams_markable_items_with_how_many_answers_are_marked(client, exam, people, attempts, p):
    mark(attempts[1], people.reviewer_t, p.question, [p.defines])
    client.force_login(people.reviewer_t)
    html = client.get(f"/review/questions/?exam={exam.slug}").content.decode()
    rows = texts(html, cls="by-question-item")
    assert len(rows) == 2  # the question and the drill; the reading is not marked
    assert rows[0].endswith("First question 1 of 3 marked")
    assert rows[1].endswith("Add two numbers 0 of 3 marked")
    assert f'href="/review/questions/{p.question.pk}/"' in html


def test_the_index_without_an_exam_offers_the_exams_of_the_queue(client, exam, people, attempts):
    client.force_login(people.reviewer_t)
    response = client.get("/review/questions/")
    assert response.status_code == 200
    assert f'<option value="{exam.slug}"' in response.content.decode()


def test_a_reviewer_marks_one_item_across_three_attempts_answer_after_answer(client, people, attempts, p):
    client.force_login(people.reviewer_t)
    html = client.get(item_url(p.question)).content.decode()
    seen = []
    for step in range(3):
        assert text(html, id="bq-progress") == f"{step} of 3 marked"
        assert text(html, cls="bq-position") == f"Answer {step + 1} of 3"
        current = attempts[step]
        assert answer_shown(html) == f"Answer of {current.user.username}: the tail."
        if step == 2:
            assert "The last answer to mark." in html
        # The review page's own mark form and endpoint.
        assert f'hx-post="{mark_url(current, p.question)}"' in html
        response = client.post(mark_url(current, p.question), mark_fields([p.defines, p.example]), **HTMX)
        assert response.status_code == 200
        assert "saved" in text(response.content.decode(), id=f"mark-status-{p.question.pk}")
        progress = client.get(item_url(p.question), **HTMX).content.decode()
        assert text(progress, id="bq-progress") == f"{step + 1} of 3 marked"
        seen.append(current.pk)
        again = client.get(item_url(p.question, attempt=current.pk)).content.decode()
        next_unmarked = re.search(r'id="bq-next-unmarked" href="([^"]+)"', again)
        if step < 2:
            assert next_unmarked is not None
            html = client.get(next_unmarked.group(1).replace("&amp;", "&")).content.decode()
        else:
            assert next_unmarked is None
    assert seen == [a.pk for a in attempts]
    for attempt in attempts:
        stored = Mark.objects.get(review__attempt=attempt, review__reviewer=people.reviewer_t, item=p.question)
        assert set(stored.criteria.all()) == {p.defines, p.example}
    html = client.get(item_url(p.question)).content.decode()
    assert text(html, id="bq-progress") == "3 of 3 marked"
    assert "Nothing left to mark here." in html
    # Finalizing stays per attempt: nothing was finalized, and the page links to the attempt.
    assert not Review.objects.filter(status=Review.Status.FINAL).exists()
    assert f'href="/review/attempts/{attempts[0].pk}/"' in html


def test_previous_and_next_follow_the_queue_and_the_first_unmarked_answer_opens_first(client, people, attempts, p):
    mark(attempts[0], people.reviewer_t, p.question, [p.defines])
    client.force_login(people.reviewer_t)
    html = client.get(item_url(p.question)).content.decode()
    assert text(html, cls="bq-position") == "Answer 2 of 3"
    assert f'id="bq-prev" rel="prev" href="{item_url(p.question, attempt=attempts[0].pk)}"' in html
    assert f'id="bq-next" rel="next" href="{item_url(p.question, attempt=attempts[2].pk)}"' in html
    first = client.get(item_url(p.question, attempt=attempts[0].pk)).content.decode()
    assert 'id="bq-prev"' not in first
    assert f'id="criterion-{p.defines.pk}" checked' in first


def test_an_attempt_whose_own_review_is_final_is_read_only_and_not_offered_as_unmarked(client, people, attempts, p):
    review = mark(attempts[0], people.reviewer_t, p.question, [p.defines])
    reviewing.finalize(attempts[0], people.reviewer_t, review.revision)
    client.force_login(people.reviewer_t)
    html = client.get(item_url(p.question, attempt=attempts[0].pk)).content.decode()
    assert "<fieldset disabled>" in html
    assert "hx-post" not in html
    assert "Your review of this attempt is final" in html
    assert text(html, id="bq-progress") == "1 of 3 marked"
    assert f'id="bq-next-unmarked" href="{item_url(p.question, attempt=attempts[1].pk)}"' in html


def test_another_reviewers_marks_stay_hidden_until_every_review_is_final(client, exam, people, attempts, p):
    exam.current_version.__class__.objects.filter(pk=exam.current_version_id).update(reviews_required=2)
    review = mark(attempts[0], people.reviewer_t, p.question, [p.defines])
    Mark.objects.filter(review=review).update(comment="Rita's private note")
    reviewing.finalize(attempts[0], people.reviewer_t, review.revision)
    client.force_login(people.owner_t)
    html = client.get(item_url(p.question, attempt=attempts[0].pk)).content.decode()
    assert f'id="criterion-{p.defines.pk}" checked' not in html
    assert "Rita's private note" not in html
    assert text(html, id="bq-progress") == "0 of 3 marked"
    index = client.get(f"/review/questions/?exam={exam.slug}").content.decode()
    assert texts(index, cls="by-question-item")[0].endswith("0 of 3 marked")


def test_once_the_review_is_final_its_marks_show_read_only_to_another_reviewer(client, exam, people, attempts, p):
    review = mark(attempts[0], people.reviewer_t, p.question, [p.defines])
    reviewing.finalize(attempts[0], people.reviewer_t, review.revision)
    client.force_login(people.owner_t)
    html = client.get(item_url(p.question, attempt=attempts[0].pk)).content.decode()
    assert f'id="criterion-{p.defines.pk}" checked' in html
    assert "<fieldset disabled>" in html
    assert text(html, id="bq-progress") == "1 of 3 marked"


def test_a_team_filter_keeps_to_that_teams_members(client, exam, people, attempts, p):
    outsider = finished_attempt(people.member_u, exam, {"first": "From team U."})
    client.force_login(people.staff)
    everyone = client.get(item_url(p.question)).content.decode()
    assert text(everyone, id="bq-progress") == "0 of 4 marked"
    team_t = client.get(item_url(p.question, team="t")).content.decode()
    assert text(team_t, id="bq-progress") == "0 of 3 marked"
    assert client.get(item_url(p.question, team="t", attempt=outsider.pk)).status_code == 404
    assert 'href="/review/questions/' in team_t and "team=t" in team_t


@pytest.mark.parametrize("persona", ["candidate", "member_u", "reviewer_u"])
def test_nobody_outside_the_teams_reaches_an_item_by_its_id(client, people, attempts, p, persona):
    client.force_login(getattr(people, persona))
    assert client.get(item_url(p.question)).status_code == 404
    assert client.get(item_url(p.question), **HTMX).status_code == 404


def test_bad_ids_and_filters_are_refused(client, exam, people, attempts, p):
    client.force_login(people.reviewer_t)
    reading = Item.objects.filter(version_id=exam.current_version_id, kind=Item.Kind.TEXT).first()
    if reading is not None:
        assert client.get(item_url(reading)).status_code == 404
    assert client.get("/review/questions/999999/").status_code == 404
    assert client.get(item_url(p.question, attempt="999999")).status_code == 404
    assert client.get(item_url(p.question, attempt="x")).status_code == 404
    assert client.get(item_url(p.question, team="u")).status_code == 404
    assert client.get("/review/questions/?exam=nope").status_code == 404
    assert client.get(f"/review/questions/?exam={exam.slug}&version=99").status_code == 404
    client.force_login(people.candidate)
    assert client.get("/review/questions/").status_code == 403


def test_the_item_page_costs_the_same_queries_for_3_and_12_attempts(client, exam, people, attempts, p):
    client.force_login(people.reviewer_t)
    with CaptureQueriesContext(connection) as small:
        assert client.get(item_url(p.question)).status_code == 200
    for n in range(9):
        user = User.objects.create_user(f"more-{n}", password="pw")
        Membership.objects.create(team=people.t, user=user)
        attempt = finished_attempt(user, exam, {"first": "More."})
        mark(attempt, people.reviewer_t, p.question, [p.defines])
    with CaptureQueriesContext(connection) as big:
        assert client.get(item_url(p.question)).status_code == 200
    assert len(big) == len(small)


def test_a_drill_shows_the_code_its_latest_run_and_the_written_part(client, people, attempts, p):
    from exams.models import Answer
    from grading.models import Submission

    Answer.objects.create(
        attempt=attempts[0],
        item=p.drill,
        part=Answer.Part.CODE,
        content="def add(a, b):\n    return a + b\n",
        revision=1,
    )
    Submission.objects.create(
        attempt=attempts[0], item=p.drill, code="x", status="graded", passed=1, total=2, max_score=10
    )
    client.force_login(people.reviewer_t)
    html = client.get(item_url(p.drill, attempt=attempts[0].pk)).content.decode()
    shown = page_text(html)
    assert "return a + b" in shown
    assert "1 of 2" in shown
    assert answer_shown(html) == "Zero."
    assert f'hx-post="{mark_url(attempts[0], p.drill)}"' in html


def test_without_javascript_a_mark_comes_back_to_the_answer_it_was_made_on(client, people, attempts, p):
    client.force_login(people.reviewer_t)
    page_url = item_url(p.question, attempt=attempts[1].pk)
    html = client.get(page_url).content.decode()
    assert f'name="next" value="{page_url}"'.replace("&", "&amp;") in html
    fields = {**mark_fields([p.defines]), "next": page_url}
    response = client.post(mark_url(attempts[1], p.question), fields)
    assert (response.status_code, response["Location"]) == (302, page_url)
    assert Mark.objects.filter(review__attempt=attempts[1], item=p.question).exists()
    # Anything but a page of marking by question goes to the review page as before.
    fields = {**mark_fields([p.defines], revision=1), "next": "https://elsewhere.example/"}
    response = client.post(mark_url(attempts[1], p.question), fields)
    assert response["Location"] == f"/review/attempts/{attempts[1].pk}/#mark-{p.question.pk}"
