"""Exports of an exam's scores: who may export (persona by persona), the CSV
and JSON of a small known exam, the filters, spreadsheet formulas made
inert, bad input refused with a message and nothing recorded, and a
streamed export whose memory does not grow with its rows."""

import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.models import Attempt, Item
from grading import exports, reviewing
from grading.models import AttemptScore, AuditEvent, ItemScore, Membership, Review, Team
from tests.review_support import finished_attempt, import_pack, page_text, parts, review_pack

pytestmark = pytest.mark.django_db
URL = "/review/export/"
HEADER = "user,attempt,version,mode,started,finished,first,add,total,max,percent,reviewers,review_status"


@pytest.fixture
def exam(tmp_path):
    return import_pack(review_pack(tmp_path))


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def finished(user, exam, started: datetime, ended: datetime) -> Attempt:
    attempt = finished_attempt(user, exam, {"first": "A p99 is the 99th percentile.", "add": "Zero."})
    Attempt.objects.filter(pk=attempt.pk).update(started_at=started, finalized_at=ended)
    attempt.refresh_from_db()
    return attempt


@pytest.fixture
def reviewed(exam, people):
    """Alice's attempt of 2 March, reviewed and final: the question 2 + 2 - 1.5,
    the drill's written part 2 (no code, so no tests), Overall 2: 6.50 of 18."""
    attempt = finished(people.candidate, exam, at(2, 9), at(2, 10))
    p = parts(attempt)

    def mark(item, criteria, revision, adjustment="0", reason=""):
        review = reviewing.mark(
            attempt,
            people.reviewer_t,
            item,
            criteria_ids=[c.pk for c in criteria],
            adjustment=Decimal(adjustment),
            reason=reason,
            comment="",
            revision=revision,
        )
        return review.revision

    revision = mark(p.question, [p.defines, p.example], 0, "-1.5", "Vague on the tail")
    revision = mark(p.drill, [p.drill_criterion], revision)
    revision = mark(None, [p.strong], revision)
    reviewing.finalize(attempt, people.reviewer_t, revision)
    return attempt


@pytest.fixture
def in_review(exam, people):
    """Alice's second attempt, 5 March, timed; the owner has started reviewing it."""
    attempt = finished(people.candidate, exam, at(5, 9), at(5, 11))
    Attempt.objects.filter(pk=attempt.pk).update(mode=Attempt.Mode.TIMED)
    attempt.refresh_from_db()
    p = parts(attempt)
    reviewing.mark(
        attempt, people.owner_t, p.question, criteria_ids=[p.defines.pk], adjustment=Decimal(0), reason="",
        comment="", revision=0,
    )  # fmt: skip
    return attempt


@pytest.fixture
def outsider_attempt(exam, people):
    """An attempt of team U's member: never in team T's export."""
    return finished(people.member_u, exam, at(3), at(3, 11))


def export(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def body(response) -> str:
    assert response.streaming, "an export is streamed"
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


# Who may export.

# The team's reviewers and owners export its members' scores; staff export
# any team's, or everyone's. A member, a candidate in no team that reviews,
# get 403 (they review nothing); a reviewer of another team gets 404 for
# team T, exactly as if it did not exist.
MATRIX = {
    "candidate": 403,
    "member_u": 403,
    "reviewer_u": 404,
    "reviewer_t": 200,
    "owner_t": 200,
    "staff": 200,
}


@pytest.mark.parametrize(("persona", "status"), MATRIX.items())
def test_who_may_export_team_t(client, exam, people, reviewed, persona, status):
    response = export(client, getattr(people, persona), exam=exam.slug, team="t")
    assert response.status_code == status
    if status == 200:
        assert [row["user"] for row in csv_rows(response)] == ["alice"]
        assert AuditEvent.objects.filter(action="export").count() == 1
    else:
        assert not response.streaming
        assert "6.50" not in response.content.decode()
        assert not AuditEvent.objects.filter(action="export").exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, exam, reviewed):
    response = client.get(URL, {"exam": exam.slug, "team": "t"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert not AuditEvent.objects.filter(action="export").exists()


def test_a_reviewer_must_choose_a_team(client, exam, people, reviewed):
    response = export(client, people.reviewer_t, exam=exam.slug)
    assert response.status_code == 400
    assert "Choose one of your teams" in page_text(response.content.decode())


def test_staff_may_export_every_team_at_once(client, exam, people, reviewed, outsider_attempt):
    rows = csv_rows(export(client, people.staff, exam=exam.slug))
    assert sorted(row["user"] for row in rows) == ["alice", "mallory"]


def test_the_export_is_offered_on_the_review_queue(client, exam, people, reviewed):
    client.force_login(people.reviewer_t)
    page = client.get("/review/").content.decode()
    assert f'action="{URL}"' in page
    assert '<option value="t"' in page
    assert 'value="json"' in page


# What it contains.


def test_the_csv_of_a_small_known_exam(client, exam, people, reviewed, in_review, outsider_attempt):
    response = export(client, people.reviewer_t, exam=exam.slug, team="t")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="mini-exam-v1-t-scores.csv"'
    text = body(response)
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert lines[1:] == [
        f"alice,{reviewed.pk},1,practice,2026-03-02T09:00:00+00:00,2026-03-02T10:00:00+00:00,"
        "2.50,2.00,6.50,18,36.11,rita,final",
        # Provisional: nothing of a draft review counts yet (a question's
        # rubric part is 0 until a review is final).
        f"alice,{in_review.pk},1,timed,2026-03-05T09:00:00+00:00,2026-03-05T11:00:00+00:00,"
        "0.00,0.00,0.00,18,0.00,otto,in review",
    ]


def test_the_json_of_the_same_exam(client, exam, people, reviewed, in_review):
    response = export(client, people.owner_t, exam=exam.slug, team="t", format="json")
    assert response["Content-Type"] == "application/json"
    data = json.loads(body(response))
    assert {k: v for k, v in data.items() if k != "attempts"} == {
        "exam": "mini-exam",
        "version": 1,
        "title": "Mini exam",
        "team": "t",
        "from": None,
        "to": None,
        "items": [
            {"slug": "first", "title": "First question", "max_points": 4},
            {"slug": "add", "title": "Add two numbers", "max_points": 12},
        ],
    }
    assert data["attempts"] == [
        {
            "user": "alice",
            "attempt": reviewed.pk,
            "version": 1,
            "mode": "practice",
            "started": "2026-03-02T09:00:00+00:00",
            "finished": "2026-03-02T10:00:00+00:00",
            "points": {"first": 2.5, "add": 2.0},
            "total": 6.5,
            "max": 18,
            "percent": 36.11,
            "reviewers": ["rita"],
            "review_status": "final",
        },
        {
            "user": "alice",
            "attempt": in_review.pk,
            "version": 1,
            "mode": "timed",
            "started": "2026-03-05T09:00:00+00:00",
            "finished": "2026-03-05T11:00:00+00:00",
            "points": {"first": 0.0, "add": 0.0},
            "total": 0.0,
            "max": 18,
            "percent": 0.0,
            "reviewers": ["otto"],
            "review_status": "in review",
        },
    ]


def test_an_empty_export_is_still_valid(client, exam, people):
    assert body(export(client, people.reviewer_t, exam=exam.slug, team="t")).splitlines() == [HEADER]
    data = json.loads(body(export(client, people.reviewer_t, exam=exam.slug, team="t", format="json")))
    assert data["attempts"] == []


def test_an_attempt_nobody_reviewed_and_one_in_progress(client, exam, people):
    ended = finished(people.candidate, exam, at(4, 9), at(4, 10))
    Attempt.start(people.owner_t, exam, Attempt.Mode.PRACTICE)  # still open: not exported
    rows = csv_rows(export(client, people.reviewer_t, exam=exam.slug, team="t"))
    assert [(row["attempt"], row["reviewers"], row["review_status"]) for row in rows] == [(str(ended.pk), "", "none")]


def test_dates_are_days_of_finishing_both_included(client, exam, people, reviewed, in_review):
    def attempts(**dates):
        return [
            int(row["attempt"])
            for row in csv_rows(export(client, people.reviewer_t, exam=exam.slug, team="t", **dates))
        ]

    assert attempts(**{"from": "2026-03-02", "to": "2026-03-05"}) == [reviewed.pk, in_review.pk]
    assert attempts(**{"from": "2026-03-03"}) == [in_review.pk]
    assert attempts(to="2026-03-04") == [reviewed.pk]
    assert attempts(**{"from": "2026-03-05", "to": "2026-03-05"}) == [in_review.pk]
    assert attempts(to="9999-12-31") == [reviewed.pk, in_review.pk]
    assert attempts(**{"from": "2026-03-06"}) == []


def test_each_version_is_exported_with_its_own_items(client, exam, people, reviewed, tmp_path):
    pack = review_pack(tmp_path)
    pack.write(
        "01-basics/02-second.md",
        "---\ntitle: Second question\nkind: question\npoints: 3\n---\nWhat is a p50?\n\n"
        "## Model answer\n\nThe median.\n",
    )
    exam = import_pack(pack)
    assert exam.current_version.number == 2
    newer = finished(people.candidate, exam, at(6), at(6, 11))
    current = export(client, people.reviewer_t, exam=exam.slug, team="t")
    lines = body(current).splitlines()
    assert lines[0] == HEADER.replace("first,add", "first,second,add")
    assert [line.split(",")[1] for line in lines[1:]] == [str(newer.pk)]
    first = csv_rows(export(client, people.reviewer_t, exam=exam.slug, team="t", version="1"))
    assert [(row["attempt"], row["version"]) for row in first] == [(str(reviewed.pk), "1")]
    assert "second" not in first[0]


def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe(client, exam, people):
    User = get_user_model()
    for name in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)"):
        user = User.objects.create_user(name, password="pw")
        Membership.objects.create(team=people.t, user=user)
        finished(user, exam, at(7), at(7, 11))
    rows = csv_rows(export(client, people.reviewer_t, exam=exam.slug, team="t"))
    assert sorted(row["user"] for row in rows) == ["'+1", "'-2", "'=HYPERLINK(1)", "'@SUM(A1)"]


def test_a_negative_number_stays_a_number():
    assert exports.safe_cell("-1.50") == "'-1.50"  # as text it would be neutralized...
    assert exports._number(Decimal("-1.50")) == "-1.50"  # ...so numbers are written as numbers
    assert exports.safe_cell("rita") == "rita"
    assert exports.safe_cell("\t=1") == "'\t=1"


# Bad input: a message, the status, nothing recorded.

BAD = [
    ({"exam": ""}, 400, "Choose an exam"),
    ({"exam": "nope", "team": "t"}, 404, "no exam by that name"),
    ({"exam": "mini\x00exam", "team": "t"}, 404, "no exam by that name"),
    ({"version": "x"}, 400, "A version is a number"),
    ({"version": "9"}, 404, "no such version"),
    ({"team": "nope"}, 404, "No such team among those you review"),
    ({"team": "u"}, 404, "No such team among those you review"),
    ({"team": "t\x00"}, 404, "No such team among those you review"),
    ({"from": "2026-02-30"}, 400, "The date `from` must be a day"),
    ({"from": "yesterday"}, 400, "The date `from` must be a day"),
    ({"to": "2026-3-1"}, 400, "The date `to` must be a day"),
    ({"to": "20260301"}, 400, "The date `to` must be a day"),
    ({"from": "\uff12\uff10\uff12\uff16-03-01"}, 400, "The date `from` must be a day"),
    ({"from": "2026-03-05", "to": "2026-03-01"}, 400, "must be on or before"),
    ({"format": "xlsx"}, 400, "Choose the format csv or json"),
]


@pytest.mark.parametrize(("params", "status", "message"), BAD)
def test_bad_input_is_refused_with_a_message(client, exam, people, reviewed, params, status, message):
    before = AuditEvent.objects.count()
    query = {"exam": exam.slug, "team": "t", **params}
    response = export(client, people.reviewer_t, **query)
    assert response.status_code == status
    assert message in page_text(response.content.decode())
    assert not response.streaming
    assert "6.50" not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_only_get(client, exam, people):
    client.force_login(people.staff)
    assert client.post(URL, {"exam": exam.slug}).status_code == 405


# Streaming: constant memory, queries by chunks.


def bulk_attempts(exam, team: Team, reviewer, count: int) -> None:
    """`count` finished attempts of team members with stored scores and a
    final review each, written in bulk (the arithmetic is not under test)."""
    User = get_user_model()
    batch = User.objects.count()
    users = [User.objects.create_user(f"bulk-{batch}-{n}", password="pw") for n in range(10)]
    Membership.objects.bulk_create(Membership(team=team, user=user) for user in users)
    version = exam.current_version
    items = list(Item.objects.filter(version=version).exclude(kind=Item.Kind.TEXT))
    start = at(1)
    attempts = Attempt.objects.bulk_create(
        Attempt(
            user=users[n % 10], exam=exam, version=version, mode=Attempt.Mode.PRACTICE,
            status=Attempt.Status.SUBMITTED, started_at=start + timedelta(minutes=n),
            finalized_at=start + timedelta(minutes=n + 30),
        )
        for n in range(count)
    )  # fmt: skip
    zero = Decimal("0.00")
    AttemptScore.objects.bulk_create(
        AttemptScore(
            attempt=a, total=Decimal("9.50"), max_points=18, percent=Decimal("52.78"), is_final=True, tests=zero,
            tests_max=10, rubric=zero, rubric_max=6, overall=zero, overall_max=2, strong_points=zero,
            weak_points=zero, computed_at=start,
        )
        for a in attempts
    )  # fmt: skip
    ItemScore.objects.bulk_create(
        ItemScore(attempt=a, item=item, tests_max=0, rubric_max=0, score=Decimal("4.75"), max_points=item.max_points)
        for a in attempts
        for item in items
    )
    Review.objects.bulk_create(
        Review(attempt=a, reviewer=reviewer, status=Review.Status.FINAL, finalized_at=start) for a in attempts
    )


def consume(response) -> tuple[int, int]:
    """Read the streamed export under tracemalloc: (rows, peak bytes)."""
    tracemalloc.start()
    try:
        lines = 0
        for piece in response.streaming_content:
            lines += piece.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines - 1, peak


def test_memory_does_not_grow_with_the_number_of_rows(client, exam, people, monkeypatch):
    # Chunks of 100, so that both exports are several chunks long: the peak
    # is one chunk's rows, whatever the number of chunks.
    monkeypatch.setattr(exports, "CHUNK_SIZE", 100)
    client.force_login(people.reviewer_t)
    params = {"exam": exam.slug, "team": "t"}

    def peak() -> tuple[int, int]:
        # The lower of two runs: the first after new rows also warms caches.
        (rows, first), (_, second) = consume(client.get(URL, params)), consume(client.get(URL, params))
        return rows, min(first, second)

    bulk_attempts(exam, people.t, people.owner_t, 200)
    small_rows, small_peak = peak()
    bulk_attempts(exam, people.t, people.owner_t, 1800)
    big_rows, big_peak = peak()
    assert (small_rows, big_rows) == (200, 2000)
    ratio = big_peak / small_peak
    print(f"export peak memory: {small_peak:,} B for 200 rows, {big_peak:,} B for 2,000 rows: ratio {ratio:.2f}")
    assert ratio < 1.3


def test_queries_grow_with_chunks_only(client, exam, people, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 100)
    client.force_login(people.reviewer_t)
    params = {"exam": exam.slug, "team": "t", "format": "json"}

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            data = json.loads(body(client.get(URL, params)))
        assert all(a["points"] == {"first": 4.75, "add": 4.75} for a in data["attempts"])
        return len(captured)

    bulk_attempts(exam, people.t, people.owner_t, 200)
    small = queries()  # 2 chunks
    bulk_attempts(exam, people.t, people.owner_t, 1800)
    big = queries()  # 20 chunks
    assert big - small == 2 * (20 - 2)  # item scores and reviews: two queries a chunk
    assert small <= 20
