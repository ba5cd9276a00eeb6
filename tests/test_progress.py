"""My progress over HTTP: each user sees their own attempts only, a team's
distribution is counts only, final and provisional scores are told apart in
words and shapes, hostile text stays text, and the page costs a fixed number
of queries however many attempts there are."""

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exams.models import Attempt, ExamVersion
from grading import reviewing
from grading.models import Membership, Team
from tests.progress_support import scored_attempt
from tests.review_support import finished_attempt, import_pack, page_text, parts, review_pack, text, texts

pytestmark = pytest.mark.django_db
User = get_user_model()
URL = "/progress/"
HOSTILE = "<script>alert('pwned')</script>"


@pytest.fixture
def exam(tmp_path):
    return import_pack(review_pack(tmp_path))


def days_ago(n: float):
    return timezone.now() - timedelta(days=n)


def get(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


class _Rows(HTMLParser):
    """The cells of each row of the tables with a class, as lists of texts."""

    def __init__(self, cls: str):
        super().__init__(convert_charrefs=True)
        self.cls, self.depth, self.rows, self.cell = cls, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.depth += 1 if self.depth or self.cls in (dict(attrs).get("class") or "").split() else 0
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, cls: str) -> list[list[str]]:
    parser = _Rows(cls)
    parser.feed(html)
    return parser.rows


def row_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'id="attempt-(\d+)"', html)}


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/progress/")


def test_the_menu_links_to_it_for_people_who_are_logged_in(client, people):
    html = get(client, people.candidate)
    assert '<a class="nav-link" href="/progress/">My progress</a>' in html


def test_a_user_with_no_finished_attempt_is_told_how_to_get_one(client, people, exam):
    Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)  # still open: not shown
    html = get(client, people.candidate)
    assert "No finished attempt yet." in html
    assert "<svg" not in html


def test_a_user_sees_only_their_own_attempts(client, people, exam, tmp_path):
    other_exam = import_pack(review_pack(tmp_path / "other", slug="other-exam"))
    ExamVersion.objects.filter(exam=other_exam).update(title="Mallory's own exam")
    mine = {scored_attempt(people.candidate, exam, p, when=days_ago(3 - n)).pk for n, p in enumerate((40, 55))}
    theirs = {scored_attempt(people.member_u, exam, 91.25).pk, scored_attempt(people.member_u, other_exam, 12).pk}
    open_attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)

    html = get(client, people.candidate)
    assert row_ids(html) == mine
    assert "Mallory's own exam" not in html and "91.25" not in html
    assert text(html, cls="exam-summary") == "2 finished attempts · 0 with a final review"
    for pk in theirs | {open_attempt.pk}:
        assert f"/attempts/{pk}/results/" not in html
    # And the other way round.
    assert row_ids(get(client, people.member_u)) == theirs


@pytest.mark.parametrize("chosen", ["theirs", "open", "nonsense", "-1", "١٢", "9" * 40])
def test_an_attempt_that_is_not_ones_own_finished_one_cannot_be_chosen(client, people, exam, chosen):
    scored_attempt(people.candidate, exam, 50)
    values = {
        "theirs": lambda: scored_attempt(people.member_u, exam, 70).pk,
        "open": lambda: Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)[0].pk,
    }
    value = values[chosen]() if chosen in values else chosen
    client.force_login(people.candidate)
    assert client.get(URL, {"attempt": value}).status_code == 404


def test_the_bars_show_the_latest_attempt_or_the_chosen_one(client, people, exam):
    first = scored_attempt(people.candidate, exam, 25, when=days_ago(2))
    scored_attempt(people.candidate, exam, 75, when=days_ago(1))
    html = get(client, people.candidate)
    assert 'aria-labelledby="sections-' in html
    assert text(html, cls="chosen-attempt").startswith("Attempt 2,")
    assert f"sections-{exam.pk}-title" in html
    assert texts(html, cls="bar-value") == ["3 of 4", "9 of 12"]

    html = get(client, people.candidate, attempt=first.pk)
    assert text(html, cls="chosen-attempt").startswith("Attempt 1,")
    assert texts(html, cls="bar-value") == ["1 of 4", "3 of 12"]
    assert text(html, id=f"attempt-{first.pk}").endswith("Provisional sections shown")


def test_by_default_the_bars_show_the_latest_reviewed_attempt_not_a_newer_provisional_one(client, people, exam):
    scored_attempt(people.candidate, exam, 75, final=True, reviewer=people.reviewer_t, when=days_ago(2))
    scored_attempt(people.candidate, exam, 25, when=days_ago(1))  # newer, awaiting review: mostly zeros
    html = get(client, people.candidate)
    assert text(html, cls="chosen-attempt").startswith("Attempt 1,")
    assert texts(html, cls="bar-value") == ["3 of 4", "9 of 12"]


def test_final_and_provisional_scores_are_told_apart_in_words_and_shapes(client, people, exam):
    final = scored_attempt(people.candidate, exam, 60, final=True, reviewer=people.reviewer_t, when=days_ago(2))
    provisional = scored_attempt(people.candidate, exam, 30, timed=True, when=days_ago(1))
    html = get(client, people.candidate)
    assert text(html, id=f"attempt-{final.pk}").startswith("1 ")
    assert "Practice 60% Final" in text(html, id=f"attempt-{final.pk}")
    assert "Timed 30% Provisional" in text(html, id=f"attempt-{provisional.pk}")
    # In the chart: a circle for the final score, a diamond for the provisional one, each with its words.
    assert re.search(r'<circle class="marker point marker-practice"[^>]*/><title>Attempt 1: 60%, final, practice', html)
    assert re.search(r'<path class="marker point marker-timed"[^>]*/><title>Attempt 2: 30%, provisional, timed', html)
    assert "1 final, 1 provisional" in html


def test_signals_count_reviewed_attempts_only_and_points_are_per_attempt(client, people, exam):
    reviewer = people.reviewer_t
    scored_attempt(people.candidate, exam, 50, reviewer=reviewer, final=True, hits=("Names the metric",), strong="4")
    scored_attempt(
        people.candidate, exam, 40, reviewer=reviewer, final=True, hits=("Ignores the tail",), strong="2", weak="-1"
    )
    scored_attempt(people.candidate, exam, 70, reviewer=reviewer, final=True, hits=("Names the metric",), strong="6")
    # No final review: its signals mean nothing yet, whatever the row says.
    scored_attempt(people.candidate, exam, 20, hits=("Names the metric", "Ignores the tail"))
    html = get(client, people.candidate)
    assert table_rows(html, "strong-signals") == [["Signal", "Points", "Hit"], ["Names the metric", "+2", "2 of 3"]]
    assert table_rows(html, "weak-signals") == [["Signal", "Points", "Hit"], ["Ignores the tail", "-1", "1 of 3"]]
    # Each reviewed attempt (not the 4th) with its number, strong and weak points.
    points = [(number, strong, weak) for number, _, strong, weak in table_rows(html, "points-table")]
    assert points == [("Attempt", "Strong", "Weak"), ("1", "+4", "0"), ("2", "+2", "-1"), ("3", "+6", "0")]


def test_signals_wait_for_a_final_review(client, people, exam):
    scored_attempt(people.candidate, exam, 20)
    html = get(client, people.candidate)
    assert "Signals appear once a reviewer finalizes" in html
    assert "strong-signals" not in html


def team_of_scores(people, exam) -> None:
    """Team T: alice's best timed 64 (her practice 95 does not count), the
    owner's best timed 41.75, the reviewer's 12.5, cleo's 15.5, and a member
    with only a practice attempt and an open timed one. Team U: mallory 88."""
    scored_attempt(people.candidate, exam, 64, timed=True, when=days_ago(3))
    scored_attempt(people.candidate, exam, 51, timed=True, when=days_ago(2))
    scored_attempt(people.candidate, exam, 95, when=days_ago(1))
    scored_attempt(people.owner_t, exam, "37.25", timed=True)
    scored_attempt(people.owner_t, exam, "41.75", timed=True)
    scored_attempt(people.reviewer_t, exam, "12.5", timed=True)
    cleo = User.objects.create_user("cleo", password="pw")
    Membership.objects.create(team=people.t, user=cleo)
    scored_attempt(cleo, exam, "15.5", timed=True)
    bob = User.objects.create_user("bob", password="pw")
    Membership.objects.create(team=people.t, user=bob)
    scored_attempt(bob, exam, "77.77")
    Attempt.start(bob, exam, Attempt.Mode.TIMED)
    scored_attempt(people.member_u, exam, "88.88", timed=True)


def test_the_team_histogram_counts_each_members_best_timed_attempt(client, people, exam):
    team_of_scores(people, exam)
    html = get(client, people.candidate)
    block = text(html, id=f"team-{people.t.pk}-{exam.pk}-block")
    assert "4 members with a finished timed attempt. 10–19%: 2; 40–49%: 1; 60–69%: 1. You are in 60–69%." in block  # noqa: RUF001
    rows = re.findall(r"<tr( class=\"chosen own-bin\")?><th scope=\"row\">([^<]+)</th><td>(\d+)</td>", html)
    assert [(band, int(count), bool(own)) for own, band, count in rows] == [
        ("0–9%", 0, False),  # noqa: RUF001
        ("10–19%", 2, False),  # noqa: RUF001
        ("20–29%", 0, False),  # noqa: RUF001
        ("30–39%", 0, False),  # noqa: RUF001
        ("40–49%", 1, False),  # noqa: RUF001
        ("50–59%", 0, False),  # noqa: RUF001
        ("60–69%", 1, True),  # noqa: RUF001
        ("70–79%", 0, False),  # noqa: RUF001
        ("80–89%", 0, False),  # noqa: RUF001
        ("90–100%", 0, False),  # noqa: RUF001
    ]
    assert '<g class="hist-bin hist-own"><title>60–69%: 1 member, you</title>' in html  # noqa: RUF001
    assert f'fill="url(#team-{people.t.pk}-{exam.pk}-hatch)"' in html


def test_the_team_histogram_shows_no_other_members_name_or_score(client, people, exam):
    team_of_scores(people, exam)
    html = get(client, people.candidate)
    for name in ("otto", "rita", "bob", "cleo", "mallory"):
        assert name not in html
    for score in ("37.25", "41.75", "12.5", "15.5", "77.77", "88.88"):
        assert score not in html
    assert f"team-{people.u.pk}-" not in html  # alice is not in team U


def test_a_user_in_two_teams_sees_one_block_per_team_and_a_small_teams_scores_stay_private(client, people, exam):
    team_of_scores(people, exam)
    Membership.objects.create(team=people.u, user=people.candidate)
    html = get(client, people.candidate)
    assert "Team T" in html and "Team U" in html
    block = text(html, id=f"team-{people.u.pk}-{exam.pk}-block")
    # In U, mallory alone besides alice: a band would be her score.
    assert "Fewer than 3 other members have finished a timed attempt on this exam" in block
    assert "80–89%" not in block and f"team-{people.u.pk}-{exam.pk}-hatch" not in html  # noqa: RUF001
    for n in range(2):  # two more members of U finish: now three others
        other = User.objects.create_user(f"u-{n}", password="pw")
        Membership.objects.create(team=people.u, user=other)
        scored_attempt(other, exam, "55", timed=True)
    block = text(get(client, people.candidate), id=f"team-{people.u.pk}-{exam.pk}-block")
    assert "4 members with a finished timed attempt. 50–59%: 2; 60–69%: 1; 80–89%: 1. You are in 60–69%." in block  # noqa: RUF001


def test_a_team_member_with_no_timed_attempt_sees_the_others_without_a_you(client, people, exam):
    team_of_scores(people, exam)
    bob = User.objects.get(username="bob")
    html = get(client, bob)
    block = text(html, id=f"team-{people.t.pk}-{exam.pk}-block")
    assert "4 members with a finished timed attempt." in block
    assert "You have no finished timed attempt on this exam yet." in block
    assert "hist-own" not in html


def test_a_scored_attempt_through_the_real_review_is_final_with_its_signals(client, people, exam):
    attempt = finished_attempt(people.candidate, exam, {"first": "The latency 99% of requests beat."})
    html = get(client, people.candidate)
    assert "Provisional" in text(html, id=f"attempt-{attempt.pk}")

    p = parts(attempt)
    marks = {"adjustment": Decimal(0), "reason": "", "comment": ""}
    reviewing.mark(attempt, people.reviewer_t, p.question, criteria_ids=[p.defines.pk], revision=0, **marks)
    reviewing.mark(attempt, people.reviewer_t, None, criteria_ids=[p.strong.pk], revision=1, **marks)
    reviewing.finalize(attempt, people.reviewer_t, revision=2)
    html = get(client, people.candidate)
    row = text(html, id=f"attempt-{attempt.pk}")
    assert "Final" in row and "Provisional" not in row
    assert table_rows(html, "strong-signals")[1:] == [["Names the metric", "+2", "1 of 1"]]
    assert table_rows(html, "weak-signals")[1:] == [["Ignores the tail", "-1", "0 of 1"]]
    assert texts(html, cls="bar-value") == ["2 of 4", "0 of 12"]


def test_hostile_titles_and_texts_are_escaped_everywhere(client, people, exam):
    ExamVersion.objects.filter(exam=exam).update(title=HOSTILE)
    Team.objects.filter(pk=people.t.pk).update(name=HOSTILE)
    attempt = scored_attempt(people.candidate, exam, 50, timed=True, reviewer=people.reviewer_t, final=True)
    score = attempt.score
    score.sections = [{"slug": "x", "title": HOSTILE, "score": "1", "max": 2}]
    score.signals = [{"criterion": 1, "signal": "strong", "text": HOSTILE, "points": 2, "hit": True}]
    score.save(update_fields=["sections", "signals"])
    html = get(client, people.candidate)
    assert "<script>alert" not in html
    escaped = "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;"
    assert html.count(escaped) >= 8  # titles of charts, headings, table rows, the signal
    assert HOSTILE in page_text(html)


def test_the_page_respects_the_csp_and_links_its_chart_styles(client, people, exam):
    scored_attempt(people.candidate, exam, 50, timed=True)
    html = get(client, people.candidate)
    assert "style=" not in html and "<style" not in html
    assert "<script>" not in html.split("</head>")[1]
    assert '<link rel="stylesheet" href="/static/css/charts.css">' in html


def add_attempts(people, exam, members, start: int, stop: int) -> None:
    """Attempts `start`..`stop` of alice (timed and practice, a third reviewed),
    and as many timed ones of each other member of her team."""
    for n in range(start, stop):
        reviewer = people.reviewer_t if n % 3 == 0 else None
        scored_attempt(
            people.candidate, exam, 10 + n, timed=bool(n % 2), final=bool(reviewer), reviewer=reviewer,
            when=days_ago(30 - n), hits=("Names the metric",),
        )  # fmt: skip
        for member in members:
            scored_attempt(member, exam, 20 + n, timed=True, when=days_ago(30 - n))


def page_queries(client, user) -> tuple[int, str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_page_costs_the_same_queries_for_2_and_20_attempts(client, people, exam):
    members = [User.objects.create_user(f"member-{n}", password="pw") for n in range(3)]
    for member in members:
        Membership.objects.create(team=people.t, user=member)
    add_attempts(people, exam, members, 0, 2)
    few, html = page_queries(client, people.candidate)
    assert len(row_ids(html)) == 2

    add_attempts(people, exam, members, 2, 20)
    many, html = page_queries(client, people.candidate)
    assert len(row_ids(html)) == 20
    assert "7 with a final review" in html
    assert few == many <= 8


def test_each_exam_has_its_own_charts_the_latest_finished_first(client, people, exam, tmp_path):
    other = import_pack(review_pack(tmp_path / "other", slug="other-exam"))
    ExamVersion.objects.filter(exam=other).update(title="Other exam")
    scored_attempt(people.candidate, other, 30, when=days_ago(5))
    scored_attempt(people.candidate, exam, 40, when=days_ago(3))
    scored_attempt(people.candidate, other, 50, when=days_ago(1))
    html = get(client, people.candidate)
    assert re.findall(r'<h2 class="h4" id="exam-\d+-title">([^<]+)</h2>', html) == ["Other exam", "Mini exam"]
    assert html.count('class="chart chart-history"') == 2
    assert f'<a href="#exam-{other.pk}">Other exam</a>' in html


def test_an_attempt_that_ended_before_scores_were_kept_is_listed_unscored(client, people, exam):
    now = timezone.now()
    old = Attempt.objects.create(
        user=people.candidate,
        exam=exam,
        version=exam.current_version,
        mode=Attempt.Mode.PRACTICE,
        status=Attempt.Status.SUBMITTED,
        started_at=now - timedelta(hours=1),
        finalized_at=now - timedelta(minutes=30),
    )
    html = get(client, people.candidate)
    assert table_rows(html, "attempts-table")[1][2:] == ["Practice", "–", "Not scored"]  # noqa: RUF001
    assert "1 attempt ended before scores were kept: open its results to score it." in page_text(html)
    assert f"/attempts/{old.pk}/results/" in html
    assert "chart-history" not in html
