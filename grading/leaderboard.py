"""A team's leaderboard of one exam: each member's best finished timed attempt.

The ranking is one query over the stored scores (a window function picks
each member's best attempt), so it costs the same for 5 members or 10,000.
The ranked rows are cached per team and exam; the cache key carries a
per-team version that every change bumps (a score stored, a membership or a
board setting changed), so a stale board is never served after a change.

Ranking: by `AttemptScore.ranked_total` (the total with items seen before
answering counted as zero), then less time used, then the earlier finish.
Practice attempts never rank.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Window
from django.db.models.functions import RowNumber

from exams.models import Attempt, Exam
from grading.models import AttemptScore, BestAttempt, BoardSettings, Membership, Team

PAGE_SIZE = 100
CACHE_SECONDS = 600
ANONYMOUS = "anonymous member"


@dataclass(frozen=True)
class Row:
    rank: int
    user_id: int
    username: str
    hide_name: bool
    attempt_id: int
    ranked_total: Decimal
    total: Decimal
    max_points: int
    seen_items: int
    provisional: bool
    time_multiplier: Decimal
    time_used: timedelta
    finished_at: datetime

    @property
    def percent(self) -> Decimal:
        return (self.ranked_total * 100 / self.max_points).quantize(Decimal("0.1")) if self.max_points else Decimal(0)

    @property
    def accommodated(self) -> bool:
        return self.time_multiplier > 1


def _version_key(team_id: int) -> str:
    return f"leaderboard:version:{team_id}"


def _version(team_id: int) -> int:
    key = _version_key(team_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, 1, timeout=None)
        version = cache.get(key, 1)
    return version


def invalidate_team(team_id: int) -> None:
    """Every cached board of the team is stale from now on."""
    key = _version_key(team_id)
    try:
        cache.incr(key)
    except ValueError:  # not in the cache (evicted or never read): any new value will do
        cache.set(key, 2, timeout=None)


def team_changed(sender, instance, **kwargs) -> None:
    """A membership or a board's settings was saved or deleted (receiver of
    post_save and post_delete): the team's boards are stale once it commits."""
    team_id = instance.team_id
    transaction.on_commit(lambda: invalidate_team(team_id))


def invalidate_user(user_id: int) -> None:
    """A score of this user changed: the boards of each of their teams are stale."""
    for team_id in Membership.objects.filter(user_id=user_id).values_list("team_id", flat=True):
        invalidate_team(team_id)


def settings_for(team: Team, exam: Exam) -> BoardSettings:
    return BoardSettings.objects.filter(team=team, exam=exam).first() or BoardSettings(team=team, exam=exam)


def facts(team: Team, exam: Exam) -> tuple[BoardSettings, int]:
    """The board's settings and the team's member count, cached under the
    team's version (a settings or membership change bumps it)."""
    key = f"leaderboard:{team.pk}:{exam.pk}:{_version(team.pk)}:facts"
    cached = cache.get(key)
    if cached is None:
        cached = (settings_for(team, exam), team.memberships.count())
        cache.set(key, cached, timeout=CACHE_SECONDS)
    return cached


ROW_FIELDS = (
    "attempt__user_id",
    "attempt__user__username",
    "hide_name",
    "attempt_id",
    "ranked_total",
    "total",
    "max_points",
    "seen_items",
    "is_final",
    "attempt__time_multiplier",
    "time_used",
    "attempt__finalized_at",
)


def _time_used():
    return ExpressionWrapper(F("attempt__finalized_at") - F("attempt__started_at"), output_field=DurationField())


def _best_first(time_used) -> list:
    return [F("ranked_total").desc(), time_used.asc(), F("attempt__finalized_at").asc(), F("attempt_id").asc()]


def refresh_best(user_id: int, exam_id: int) -> None:
    """Store the user's best finished timed attempt of the exam, and their best
    one with a final review (or remove them when there is none). Called by
    scoring.recompute whenever a score is stored. The user's row is locked
    first, so two scores of one user stored at once refresh one after the
    other and the later one sees both."""
    get_user_model().objects.select_for_update().filter(pk=user_id).exists()
    time_used = _time_used()
    scores = (
        AttemptScore.objects.filter(
            attempt__user_id=user_id, attempt__exam_id=exam_id, attempt__mode=Attempt.Mode.TIMED
        )
        .exclude(attempt__status=Attempt.Status.IN_PROGRESS)
        .annotate(time_used=time_used)
        .order_by(*_best_first(time_used))
    )
    for final_only in (False, True):
        best = (scores.filter(is_final=True) if final_only else scores).select_related("attempt").first()
        key = {"user_id": user_id, "exam_id": exam_id, "final_only": final_only}
        if best is None:
            BestAttempt.objects.filter(**key).delete()
            continue
        BestAttempt.objects.update_or_create(
            **key,
            defaults={
                "attempt_id": best.attempt_id,
                "ranked_total": best.ranked_total,
                "total": best.total,
                "max_points": best.max_points,
                "seen_items": best.seen_items,
                "is_final": best.is_final,
                "time_multiplier": best.attempt.time_multiplier,
                "time_used": best.time_used,
                "finished_at": best.attempt.finalized_at,
            },
        )


def _rows(values, first_position: int = 1, first_rank: int | None = None) -> list[Row]:
    """Rows from value tuples in board order; `first_rank` is the rank of the
    first (it may tie with the row before it, on an earlier page)."""
    rows: list[Row] = []
    previous = None
    for position, value in enumerate(values, start=first_position):
        row = Row(position, *value[:2], bool(value[2]), *value[3:8], not value[8], *value[9:])
        key = (row.ranked_total, row.time_used, row.finished_at)
        if not rows and first_rank is not None:
            row = replace(row, rank=first_rank)
        elif key == previous:  # a full tie shares the rank
            row = replace(row, rank=rows[-1].rank)
        previous = key
        rows.append(row)
    return rows


LIVE_ORDER = ("-ranked_total", "time_used", "finished_at", "attempt_id")
LIVE_FIELDS = (
    "user_id", "user__username", "hide_name", "attempt_id", "ranked_total", "total", "max_points",
    "seen_items", "is_final", "time_multiplier", "time_used", "finished_at",
)  # fmt: skip


def _live(team: Team, exam: Exam, final_only: bool):
    """The stored best attempts of the team's members: one row per member."""
    return BestAttempt.objects.filter(exam=exam, final_only=final_only, user__memberships__team=team).annotate(
        hide_name=F("user__memberships__hide_name")
    )


def _ahead_of(row: Row, *, ties: bool) -> Q:
    """The rows ranked strictly better than `row` (with ties: also those that
    tie it but come first, by attempt id)."""
    ahead = (
        Q(ranked_total__gt=row.ranked_total)
        | Q(ranked_total=row.ranked_total, time_used__lt=row.time_used)
        | Q(ranked_total=row.ranked_total, time_used=row.time_used, finished_at__lt=row.finished_at)
    )
    if ties:
        ahead |= Q(
            ranked_total=row.ranked_total,
            time_used=row.time_used,
            finished_at=row.finished_at,
            attempt_id__lt=row.attempt_id,
        )
    return ahead


def ranked_rows(team: Team, exam: Exam, *, frozen_at: datetime | None, final_only: bool) -> list[Row]:
    """Each member's best finished timed attempt of the exam, ranked: one query.

    A live board reads the stored best attempts (one row per member); a frozen
    one ranks the attempts finished before the freeze with a window function."""
    if frozen_at is not None:
        return _ranked_at(team, exam, frozen_at=frozen_at, final_only=final_only)
    return _rows(_live(team, exam, final_only).order_by(*LIVE_ORDER).values_list(*LIVE_FIELDS))


def _ranked_at(team: Team, exam: Exam, *, frozen_at: datetime, final_only: bool) -> list[Row]:
    """The board as it stood at `frozen_at`: each member's best attempt among
    those finished by then. A window function numbers each member's attempts
    best first and keeps the first."""
    time_used = _time_used()
    order = _best_first(time_used)
    scores = AttemptScore.objects.filter(
        attempt__exam=exam,
        attempt__mode=Attempt.Mode.TIMED,
        attempt__user__memberships__team=team,
        attempt__finalized_at__lte=frozen_at,
    ).exclude(attempt__status=Attempt.Status.IN_PROGRESS)
    if final_only:
        scores = scores.filter(is_final=True)
    best = (
        scores.annotate(
            time_used=time_used,
            pick=Window(RowNumber(), partition_by=[F("attempt__user_id")], order_by=order),
            hide_name=F("attempt__user__memberships__hide_name"),
        )
        .filter(pick=1)
        .order_by(*order)
        .values_list(*ROW_FIELDS)
    )
    return _rows(best)


@dataclass(frozen=True)
class Board:
    """One page of a board, and the viewer's own row wherever it is."""

    count: int
    number: int
    rows: list[Row]
    mine: Row | None
    key: str  # the cache key of this page of this version of the board

    @property
    def num_pages(self) -> int:
        return _pages(self.count)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def mine_on_page(self) -> bool:
        return self.mine is not None and any(row.user_id == self.mine.user_id for row in self.rows)


def _pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


class _LiveBoard:
    """A live board, asked of the database a page at a time: the page's rows,
    the count and the viewer's place are each a query over one row per member."""

    def __init__(self, team: Team, exam: Exam, final_only: bool):
        self.rows = _live(team, exam, final_only)

    def count(self) -> int:
        return self.rows.count()

    def page(self, number: int) -> list[Row]:
        start = (number - 1) * PAGE_SIZE
        values = list(self.rows.order_by(*LIVE_ORDER).values_list(*LIVE_FIELDS)[start : start + PAGE_SIZE])
        if not values:
            return []
        first = _rows(values[:1])[0]
        rank = 1 + self.rows.filter(_ahead_of(first, ties=False)).count() if start else 1
        return _rows(values, first_position=start + 1, first_rank=rank)

    def place(self, user_id: int) -> tuple[Row | None, int]:
        """The member's row and its position (0-based) on the board."""
        values = list(self.rows.filter(user_id=user_id).values_list(*LIVE_FIELDS)[:1])
        if not values:
            return None, -1
        row = _rows(values)[0]
        ahead = self.rows.aggregate(
            position=Count("pk", filter=_ahead_of(row, ties=True)),
            better=Count("pk", filter=_ahead_of(row, ties=False)),
        )
        return replace(row, rank=1 + ahead["better"]), ahead["position"]


def board(
    team: Team, exam: Exam, *, frozen_at: datetime | None, final_only: bool, page: int = 1, viewer_id: int = 0
) -> Board:
    """A page of the board and the viewer's own row, from the cache when
    nothing changed since they were ranked.

    A live board is ranked in the database a page at a time (the count, the
    page, the viewer's place: each a small query over the stored best
    attempts), so a cold request never reads every member. A frozen board is
    ranked whole, once, and cached in pages with an index of places."""
    frozen = frozen_at.isoformat() if frozen_at else "live"
    base = f"leaderboard:{team.pk}:{exam.pk}:{_version(team.pk)}:{frozen}:{int(final_only)}"
    if frozen_at is not None:
        return _frozen(
            base, page, viewer_id, lambda: _ranked_at(team, exam, frozen_at=frozen_at, final_only=final_only)
        )
    live = _LiveBoard(team, exam, final_only)

    def cached(key: str, compute):
        value = cache.get(key)
        if value is None:
            value = compute()
            cache.set(key, value, timeout=CACHE_SECONDS)
        return value

    count = cached(f"{base}:count", live.count)
    number = min(max(1, page), _pages(count))
    rows = cached(f"{base}:page:{number}", lambda: live.page(number)) if count else []
    mine = cached(f"{base}:user:{viewer_id}", lambda: live.place(viewer_id))[0] if viewer_id else None
    return Board(count, number, rows, mine, f"{base}:page:{number}")


def _frozen(base: str, page: int, viewer_id: int, rank) -> Board:
    """A frozen board from its cached pages and index of places; ranked whole
    again when any of them is missing (never ranked, or evicted)."""
    places = cache.get(f"{base}:places")
    rows = None
    if places is not None:
        number = min(max(1, page), _pages(len(places)))
        rows = cache.get(f"{base}:page:{number}") if places else []
    if rows is None:
        ranked = rank()
        places = {row.user_id: position for position, row in enumerate(ranked)}
        entries = {f"{base}:places": places}
        for n in range(0, len(ranked), PAGE_SIZE):
            entries[f"{base}:page:{n // PAGE_SIZE + 1}"] = ranked[n : n + PAGE_SIZE]
        cache.set_many(entries, timeout=CACHE_SECONDS)
        number = min(max(1, page), _pages(len(ranked)))
        rows = ranked[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    else:
        ranked = None
    mine = None
    position = places.get(viewer_id)
    if position is not None:
        own_page = position // PAGE_SIZE + 1
        if own_page == number:
            own_rows = rows
        else:
            own_rows = ranked[(own_page - 1) * PAGE_SIZE : own_page * PAGE_SIZE] if ranked else None
            own_rows = own_rows or cache.get(f"{base}:page:{own_page}")
        if own_rows is None:  # that page alone was evicted
            cache.delete(f"{base}:places")
            return _frozen(base, page, viewer_id, rank)
        mine = own_rows[position % PAGE_SIZE]
    return Board(len(places), number, rows, mine, f"{base}:page:{number}")


def rows_html(page: Board, viewer_id: int, render: Callable[[Row, bool], str]) -> list[str]:
    """The page's rows as HTML: rendered once per board version and cached,
    but for the viewer's own row, rendered for them (highlighted, their name)."""
    key = f"{page.key}:html"
    shared = cache.get(key)
    if shared is None:
        shared = [render(row, False) for row in page.rows]
        cache.set(key, shared, timeout=CACHE_SECONDS)
    pairs = zip(page.rows, shared, strict=True)
    return [render(row, True) if row.user_id == viewer_id else html for row, html in pairs]
