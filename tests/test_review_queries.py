"""The review queue and the review page cost a fixed number of queries,
however many attempts wait and however many items an exam has."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.models import Answer, Attempt, Exam, Reveal
from grading import reviewing
from grading.models import Membership, Team
from tests.review_support import finished_attempt, import_pack, review_pack

pytestmark = pytest.mark.django_db
User = get_user_model()


def exam_with(tmp_path, extra: int) -> Exam:
    """The review pack with `extra` more questions, each with a rubric of two criteria."""
    pack = review_pack(tmp_path / f"n{extra}", slug=f"exam-{extra}")
    for n in range(extra):
        pack.write(
            f"01-basics/{n + 10:02d}-q-{n}.md",
            f"""
            ---
            title: Q{n}
            kind: question
            points: 3
            rubric:
              strong:
                - text: Gives reason {n}
                  points: 3
              weak:
                - text: Misses point {n}
                  points: -1
            ---
            Why {n}?

            ## Model answer

            Because {n}.
            """,
        )
    return import_pack(pack)


@pytest.fixture
def team(db):
    team = Team.objects.create(name="Team T", slug="t")
    reviewer = User.objects.create_user("rita", password="pw")
    Membership.objects.create(team=team, user=reviewer, role=Membership.Role.REVIEWER)
    return team, reviewer


def queue_queries(client, team, exam, count: int) -> int:
    """Queries of the queue once `count` members of the team have a finished
    attempt: a third of them in review, a third done."""
    team, reviewer = team
    for n in range(count):
        candidate = User.objects.create_user(f"candidate-{count}-{n}", password="pw")
        Membership.objects.create(team=team, user=candidate)
        attempt = finished_attempt(candidate, exam, {"first": f"Answer {n}"})
        if n % 3:
            criterion = attempt.version.criteria.filter(item__isnull=True, points__gt=0).get()
            reviewing.mark(
                attempt,
                reviewer,
                None,
                criteria_ids=[criterion.pk],
                adjustment=Decimal(0),
                reason="",
                comment="",
                revision=0,
            )
            if n % 3 == 2:
                reviewing.finalize(attempt, reviewer, revision=1)
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/review/")
    assert response.status_code == 200
    assert response.content.decode().count('class="queue-row"') == min(count, 25)
    return len(queries)


def test_the_queue_with_30_attempts_costs_what_it_costs_with_3(client, team, tmp_path):
    exam = exam_with(tmp_path, 0)
    small = queue_queries(client, team, exam, 3)
    # The same reviewer, now with 30 more attempts waiting (33 in all: two pages).
    big = queue_queries(client, team, exam, 30)
    assert big == small
    assert big <= 12


def review_page_queries(client, reviewer, candidate, exam) -> int:
    """Queries of the review page of an attempt whose every item has an
    answer, a reveal and a mark with a ticked criterion (a review in progress)."""
    attempt, _ = Attempt.start(candidate, exam, Attempt.Mode.PRACTICE)
    items = list(attempt.version.items.exclude(kind="text"))
    for item in items:
        Answer.objects.create(attempt=attempt, item=item, content="an answer", revision=1)
        Reveal.objects.create(
            attempt=attempt, item=item, user=candidate, revealed_at=attempt.started_at, had_answer=True
        )
    attempt.finalize()
    criteria = {c.item_id: c.pk for c in attempt.version.criteria.filter(points__gt=0)}
    for revision, item in enumerate([*items, None]):
        reviewing.mark(
            attempt,
            reviewer,
            item,
            criteria_ids=[criteria[item.pk if item else None]],
            adjustment=Decimal(0),
            reason="",
            comment=f"Comment {revision}",
            revision=revision,
        )
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/review/attempts/{attempt.pk}/")
    assert response.status_code == 200
    assert response.content.decode().count('class="card mb-3 review-item"') == len(items) + 1
    return len(queries)


def test_the_review_page_of_30_items_costs_what_it_costs_with_2(client, team, tmp_path):
    team, reviewer = team
    candidate = User.objects.create_user("alice", password="pw")
    Membership.objects.create(team=team, user=candidate)
    small_exam = exam_with(tmp_path, 0)
    small = review_page_queries(client, reviewer, candidate, small_exam)
    big_exam = exam_with(tmp_path, 28)
    assert big_exam.current_version.items.exclude(kind="text").count() == 30
    big = review_page_queries(client, reviewer, candidate, big_exam)
    assert big == small
    assert big <= 30
