"""Team leaderboards: ranking, honesty markers, freeze and publish, privacy,
the cache and its invalidation, and a query count that does not grow."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exams.models import Answer, Attempt, Reveal
from grading import leaderboard, reviewing, scoring, teams
from grading.models import AttemptScore, BoardSettings, Membership, Team
from tests.review_support import import_pack, review_pack

pytestmark = pytest.mark.django_db
START = timezone.make_aware(timezone.datetime(2026, 5, 1, 9, 0))


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.fixture
def mini_exam(db, tmp_path):
    """The mini exam whose question "first" has a rubric: +2, +2, -1 (tests/review_support.py)."""
    return import_pack(review_pack(tmp_path))


@pytest.fixture
def team(db):
    return Team.objects.create(name="Serving crew", slug="serving-crew")


@pytest.fixture
def reviewer(team):
    user = get_user_model().objects.create_user("rita")
    Membership.objects.create(team=team, user=user, role=Membership.Role.REVIEWER)
    return user


def member(team, name: str, **fields):
    user = get_user_model().objects.create_user(name)
    Membership.objects.create(team=team, user=user, **fields)
    return user


def finish(user, exam, *, minutes: int, mode=Attempt.Mode.TIMED, start=START, answers=(), reveal_first=()):
    """A finished attempt of `user` that took `minutes`, with text answers for
    the item slugs in `answers` and reveals before answering for `reveal_first`."""
    attempt, _ = Attempt.start(user, exam, mode, now=start)
    items = {item.slug: item for item in attempt.version.items.all()}
    for slug in reveal_first:
        Reveal.objects.create(attempt=attempt, item=items[slug], user=user, revealed_at=start, had_answer=False)
    for slug in answers:
        Answer.objects.create(attempt=attempt, item=items[slug], content="an answer", revision=1, saved_at=start)
    with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
        attempt.finalize()
    return attempt


def review(attempt, reviewer, ticks: dict[str, list[int]]):
    """Final review ticking the first n criteria of each named item."""
    revision = 0
    for slug, positions in ticks.items():
        item = attempt.version.items.get(slug=slug)
        criteria = list(item.criteria.order_by("position").values_list("pk", flat=True))
        chosen = [criteria[i] for i in positions]
        revision = reviewing.mark(
            attempt,
            reviewer,
            item,
            criteria_ids=chosen,
            adjustment=Decimal(0),
            reason="",
            comment="",
            revision=revision,
        ).revision
    reviewing.finalize(attempt, reviewer, revision)


def rows(team, exam, **kwargs):
    kwargs.setdefault("frozen_at", None)
    kwargs.setdefault("final_only", False)
    return leaderboard.board(team, exam, **kwargs).rows


def test_it_ranks_each_members_best_timed_attempt_by_score_then_time_then_finish(mini_exam, team, reviewer):
    ann, bob, cid = member(team, "ann"), member(team, "bob"), member(team, "cid")
    review(finish(ann, mini_exam, minutes=20, answers=["first"]), reviewer, {"first": [0]})  # 2 points
    review(finish(ann, mini_exam, minutes=25, answers=["first"]), reviewer, {"first": [0, 1]})  # 4: ann's best
    review(finish(bob, mini_exam, minutes=10, answers=["first"]), reviewer, {"first": [0, 1]})  # 4, faster
    review(finish(cid, mini_exam, minutes=5, answers=["first"]), reviewer, {"first": [0]})  # 2
    finish(cid, mini_exam, minutes=5, mode=Attempt.Mode.PRACTICE, answers=["first"])  # practice never ranks
    ranked = rows(team, mini_exam)
    assert [(r.rank, r.username, r.ranked_total) for r in ranked] == [
        (1, "bob", Decimal("4.00")),
        (2, "ann", Decimal("4.00")),
        (3, "cid", Decimal("2.00")),
    ]
    assert ranked[1].time_used == timedelta(minutes=25)


def test_a_full_tie_shares_the_rank(mini_exam, team):
    ann, bob = member(team, "ann"), member(team, "bob")
    finish(ann, mini_exam, minutes=10)
    finish(bob, mini_exam, minutes=10)
    assert [r.rank for r in rows(team, mini_exam)] == [1, 1]


def test_an_item_revealed_before_answering_scores_zero_on_the_board_and_is_marked(mini_exam, team, reviewer):
    ann = member(team, "ann")
    attempt = finish(ann, mini_exam, minutes=10, answers=["first"], reveal_first=["first"])
    review(attempt, reviewer, {"first": [0, 1]})
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.total, score.ranked_total, score.seen_items) == (Decimal("4.00"), Decimal("0.00"), 1)
    (row,) = rows(team, mini_exam)
    assert (row.ranked_total, row.seen_items, row.provisional) == (Decimal("0.00"), 1, False)


def test_an_unfinished_review_is_provisional_and_can_be_left_out(mini_exam, team, reviewer):
    ann, bob = member(team, "ann"), member(team, "bob")
    finish(ann, mini_exam, minutes=10)
    review(finish(bob, mini_exam, minutes=10, answers=["first"]), reviewer, {"first": [0]})
    assert {r.username: r.provisional for r in rows(team, mini_exam)} == {"ann": True, "bob": False}
    assert [r.username for r in rows(team, mini_exam, final_only=True)] == ["bob"]


def test_extra_time_is_marked_not_penalized(mini_exam, team):
    from exams.models import Accommodation

    ann = member(team, "ann")
    Accommodation.objects.create(user=ann, time_multiplier=Decimal("1.50"))
    finish(ann, mini_exam, minutes=40)
    (row,) = rows(team, mini_exam)
    assert row.accommodated and row.time_multiplier == Decimal("1.50")


def test_a_frozen_board_hides_later_finishes(mini_exam, team):
    ann, bob = member(team, "ann"), member(team, "bob")
    finish(ann, mini_exam, minutes=10)
    finish(bob, mini_exam, minutes=10, start=START + timedelta(hours=2))
    frozen_at = START + timedelta(hours=1)
    assert [r.username for r in rows(team, mini_exam, frozen_at=frozen_at)] == ["ann"]
    assert len(rows(team, mini_exam)) == 2


def test_only_members_rank_and_an_outsider_never_appears(mini_exam, team):
    ann = member(team, "ann")
    outsider = get_user_model().objects.create_user("olga")
    finish(ann, mini_exam, minutes=10)
    finish(outsider, mini_exam, minutes=1)
    assert [r.username for r in rows(team, mini_exam)] == ["ann"]


def test_the_cache_serves_until_a_score_a_membership_or_a_setting_changes(
    mini_exam, team, reviewer, django_capture_on_commit_callbacks
):
    ann = member(team, "ann")
    with django_capture_on_commit_callbacks(execute=True):
        attempt = finish(ann, mini_exam, minutes=10, answers=["first"])
    rows(team, mini_exam)
    with CaptureQueriesContext(connection) as cached:
        assert rows(team, mini_exam)[0].provisional
    assert len(cached) == 0

    with django_capture_on_commit_callbacks(execute=True):  # a review finalized: a score changed
        review(attempt, reviewer, {"first": [0]})
    assert not rows(team, mini_exam)[0].provisional

    with django_capture_on_commit_callbacks(execute=True):  # a regrade's recompute
        AttemptScore.objects.filter(attempt=attempt).update(ranked_total=0)
        scoring.recompute(attempt)
    assert rows(team, mini_exam)[0].ranked_total == Decimal("2.00")

    with django_capture_on_commit_callbacks(execute=True):  # a member joins (with a finished attempt)
        bob = get_user_model().objects.create_user("bob")
        finish(bob, mini_exam, minutes=5)
        Membership.objects.create(team=team, user=bob)
    assert [r.username for r in rows(team, mini_exam)] == ["ann", "bob"]

    with django_capture_on_commit_callbacks(execute=True):  # a member hides their name
        teams.set_hidden(Membership.objects.get(user=bob), True)
    assert rows(team, mini_exam)[1].hide_name

    with django_capture_on_commit_callbacks(execute=True):  # an owner publishes final rows only
        teams.publish(team, mini_exam, reviewer, final_only=True)
    settings = leaderboard.settings_for(team, mini_exam)
    assert [r.username for r in rows(team, mini_exam, final_only=settings.final_only)] == ["ann"]

    with django_capture_on_commit_callbacks(execute=True):  # a member leaves
        teams.remove(Membership.objects.get(user=ann))
    assert [r.username for r in rows(team, mini_exam)] == ["bob"]


def test_the_ranking_costs_one_query_whatever_the_number_of_members(mini_exam, team):
    for n in range(3):
        finish(member(team, f"small-{n}"), mini_exam, minutes=10)
    with CaptureQueriesContext(connection) as small:
        leaderboard.ranked_rows(team, mini_exam, frozen_at=None, final_only=False)
    for n in range(40):
        user = member(team, f"big-{n}")
        for k in range(3):
            finish(user, mini_exam, minutes=10 + k, start=START + timedelta(hours=k))
    with CaptureQueriesContext(connection) as big:
        ranked = leaderboard.ranked_rows(team, mini_exam, frozen_at=None, final_only=False)
    assert len(ranked) == 43
    assert len(small) == len(big) == 1


def test_settings_default_to_a_live_board_of_every_row(mini_exam, team):
    settings = leaderboard.settings_for(team, mini_exam)
    assert (settings.frozen_at, settings.final_only, settings.pk) == (None, False, None)
    assert not BoardSettings.objects.exists()


def test_a_live_board_ranked_a_page_at_a_time_agrees_with_the_whole_ranking(mini_exam, team):
    from tests.team_support import bulk_members

    # 230 members; the three around the first page break tie on every key.
    totals = [Decimal(300 - n) for n in range(98)] + [Decimal(150)] * 3 + [Decimal(100 - n % 90) for n in range(129)]
    users = bulk_members(team, mini_exam, totals, prefix="bulk", max_points=400)
    whole = leaderboard.ranked_rows(team, mini_exam, frozen_at=None, final_only=False)
    assert [r.rank for r in whole[97:102]] == [98, 99, 99, 99, 102]
    pages = [rows(team, mini_exam, page=n) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [100, 100, 30]
    assert [(r.rank, r.user_id) for p in pages for r in p] == [(r.rank, r.user_id) for r in whole]
    for user in (users[0], users[99], users[100], users[150], users[-1]):
        mine = leaderboard.board(team, mini_exam, frozen_at=None, final_only=False, viewer_id=user.pk).mine
        assert (mine.user_id, mine.rank) == next((r.user_id, r.rank) for r in whole if r.user_id == user.pk)
    assert leaderboard.board(team, mini_exam, frozen_at=None, final_only=False, page=99).number == 3


def test_a_frozen_board_is_ranked_whole_and_paged_the_same_way(mini_exam, team):
    from tests.team_support import bulk_members

    users = bulk_members(team, mini_exam, [Decimal(n % 50) for n in range(150)], prefix="bulk", max_points=400)
    frozen_at = timezone.now() + timedelta(days=1)
    whole = leaderboard.ranked_rows(team, mini_exam, frozen_at=frozen_at, final_only=False)
    second = leaderboard.board(team, mini_exam, frozen_at=frozen_at, final_only=False, page=2, viewer_id=users[7].pk)
    assert [(r.rank, r.user_id) for r in second.rows] == [(r.rank, r.user_id) for r in whole[100:]]
    assert second.mine.user_id == users[7].pk and second.count == 150


def test_an_answer_opened_in_an_earlier_practice_attempt_scores_zero_in_the_timed_one(mini_exam, team, reviewer):
    ann = member(team, "ann")
    practice = finish(ann, mini_exam, minutes=5, mode=Attempt.Mode.PRACTICE, reveal_first=["first"])
    timed = finish(ann, mini_exam, minutes=10, start=START + timedelta(hours=1), answers=["first"])
    review(timed, reviewer, {"first": [0, 1]})
    score = AttemptScore.objects.get(attempt=timed)
    assert (score.total, score.ranked_total, score.seen_items) == (Decimal("4.00"), Decimal("0.00"), 1)
    (row,) = rows(team, mini_exam)
    assert (row.attempt_id, row.ranked_total, row.seen_items) == (timed.pk, Decimal("0.00"), 1)
    assert practice.pk != timed.pk
