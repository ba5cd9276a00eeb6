"""Exports of an exam's scores as CSV or JSON, one row per finished attempt.

An export covers one version of one exam (the current one unless asked):
its item columns are that version's scored items in exam order, headed by
their slugs, so a column always means the same item with the same points.
Attempts of another version are exported by asking for that version.

Rows are produced a chunk at a time: the attempts come from one query read
through `.iterator(chunk_size=CHUNK_SIZE)`, and each chunk costs two more
queries (its item scores and its reviews), so memory stays flat and the
query count grows with the number of chunks only, however many attempts.

Who may export: staff (any team, or every finished attempt), and a team's
owners and reviewers (for the attempts of that team's members). Every check
raises `Refused` before anything is read or recorded.
"""

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice

from django.db.models import QuerySet, Subquery
from django.utils import timezone

from exams.models import Attempt, Exam, ExamVersion, Item
from exams.taking import Refused
from grading.models import ItemScore, Membership, Review, Team

CHUNK_SIZE = 500
FORMATS = ("csv", "json")
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]{1,50}")  # checked before any query: a NUL must not reach PostgreSQL
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
VERSION_RE = re.compile(r"[0-9]{1,9}")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NO_TEAM = "No such team among those you review."


class Status:
    """What the review status column says."""

    NONE = "none"
    IN_REVIEW = "in review"
    FINAL = "final"


@dataclass(frozen=True)
class Column:
    """A scored item of the exported version."""

    pk: int
    slug: str
    title: str
    max_points: int


@dataclass(frozen=True)
class Export:
    version: ExamVersion
    team: Team | None
    start: date | None  # finished on or after this day (the site's time zone)
    end: date | None  # finished on or before this day
    format: str
    items: tuple[Column, ...]  # the version's scored items, in exam order

    @property
    def filename(self) -> str:
        who = self.team.slug if self.team else "all"
        return f"{self.version.exam.slug}-v{self.version.number}-{who}-scores.{self.format}"

    def describe(self) -> dict:
        """What was asked for, as the audit log keeps it."""
        return {
            "exam": self.version.exam.slug,
            "version": self.version.number,
            "team_slug": self.team.slug if self.team else None,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "format": self.format,
        }


def exporting_teams(user) -> QuerySet:
    """The teams whose scores `user` may export (for staff, every team)."""
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user, memberships__role__in=Membership.REVIEWING_ROLES)


def may_export(user) -> bool:
    return user.is_authenticated and (user.is_staff or exporting_teams(user).exists())


def prepare(user, params: Mapping[str, str]) -> Export:
    """Check an export request (query parameters exam, version, team, from,
    to, format) and say what it covers, or raise Refused: 403 for a user
    who may export nothing, 404 for an exam, version or team they cannot
    export, 400 for anything malformed."""
    if not may_export(user):
        raise Refused("You do not review any team's attempts, so there are no scores to export.", status=403)
    fmt = params.get("format", "") or "csv"
    if fmt not in FORMATS:
        raise Refused("Choose the format csv or json.", status=400)
    version = _version(params.get("exam", ""), params.get("version", ""))
    team = _team(user, params.get("team", ""))
    start, end = _day(params.get("from", ""), "from"), _day(params.get("to", ""), "to", last=True)
    if start and end and start > end:
        raise Refused("The date `from` must be on or before the date `to`.", status=400)
    items = Item.objects.filter(version=version).exclude(kind=Item.Kind.TEXT).order_by("position")
    rows = items.values_list("pk", "slug", "title", "points", "written_points")
    columns = tuple(Column(pk, slug, title, points + written) for pk, slug, title, points, written in rows)
    return Export(version, team, start, end, fmt, columns)


def _version(exam_slug: str, number: str) -> ExamVersion:
    if not exam_slug:
        raise Refused("Choose an exam to export.", status=400)
    exam = Exam.objects.filter(slug=exam_slug).first() if SLUG_RE.fullmatch(exam_slug) else None
    if exam is None:
        raise Refused("There is no exam by that name.", status=404)
    versions = ExamVersion.objects.select_related("exam")
    if not number:
        version = versions.filter(pk=exam.current_version_id).first()
    elif VERSION_RE.fullmatch(number):
        version = versions.filter(exam=exam, number=int(number)).first()
    else:
        raise Refused("A version is a number, like 2.", status=400)
    if version is None:
        raise Refused("This exam has no such version.", status=404)
    return version


def _team(user, slug: str) -> Team | None:
    if not slug:
        if user.is_staff:
            return None
        raise Refused("Choose one of your teams: you export the scores of a team you review.", status=400)
    team = exporting_teams(user).filter(slug=slug).first() if SLUG_RE.fullmatch(slug) else None
    if team is None:
        raise Refused(NO_TEAM, status=404)
    return team


def _day(value: str, name: str, last: bool = False) -> date | None:
    if not value:
        return None
    try:
        if not DATE_RE.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
        # The bound must be a datetime in UTC too (year 1 east of Greenwich is not).
        if not last:
            _bound(day)
        elif day < date.max:
            _bound(day + timedelta(days=1))
    except (ValueError, OverflowError):
        raise Refused(f"The date `{name}` must be a day written YYYY-MM-DD, like 2026-03-31.", status=400) from None
    return day


def _bound(day: date) -> datetime:
    """Midnight at the start of `day` in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min)).astimezone(UTC)


def attempts(export: Export) -> QuerySet:
    """The finished attempts of the export, oldest finish first, as dicts."""
    rows = Attempt.objects.filter(version=export.version).exclude(status=Attempt.Status.IN_PROGRESS)
    if export.team is not None:
        rows = rows.filter(user_id__in=Subquery(Membership.objects.filter(team=export.team).values("user_id")))
    if export.start:
        rows = rows.filter(finalized_at__gte=_bound(export.start))
    if export.end and export.end < date.max:
        rows = rows.filter(finalized_at__lt=_bound(export.end + timedelta(days=1)))
    return rows.order_by("finalized_at", "pk").values(
        "pk",
        "user__username",
        "mode",
        "started_at",
        "finalized_at",
        "score__total",
        "score__max_points",
        "score__percent",
    )


def chunks(export: Export, size: int | None = None) -> Iterator[list[dict]]:
    """The export's rows, a list of at most `size` at a time: three queries
    for the first chunk's attempts, scores and reviews, two for each next."""
    size = size or CHUNK_SIZE
    found = attempts(export).iterator(chunk_size=size)
    while batch := list(islice(found, size)):
        ids = [row["pk"] for row in batch]
        points: dict[int, dict[int, Decimal]] = defaultdict(dict)
        scores = ItemScore.objects.filter(attempt_id__in=ids).values_list("attempt_id", "item_id", "score")
        for attempt_id, item_id, score in scores:
            points[attempt_id][item_id] = score
        reviews: dict[int, list[tuple[str, str]]] = defaultdict(list)
        given = Review.objects.filter(attempt_id__in=ids).order_by("created_at", "pk")
        for attempt_id, username, status in given.values_list("attempt_id", "reviewer__username", "status"):
            reviews[attempt_id].append((username, status))
        yield [_row(export, row, points[row["pk"]], reviews[row["pk"]]) for row in batch]


def _row(export: Export, attempt: dict, points: dict[int, Decimal], reviews: list[tuple[str, str]]) -> dict:
    status = Status.NONE
    if reviews:
        final = any(state == Review.Status.FINAL for _, state in reviews)
        status = Status.FINAL if final else Status.IN_REVIEW
    return {
        "user": attempt["user__username"],
        "attempt": attempt["pk"],
        "version": export.version.number,
        "mode": attempt["mode"],
        "started": _when(attempt["started_at"]),
        "finished": _when(attempt["finalized_at"]),
        "points": {item.slug: points.get(item.pk) for item in export.items},
        "total": attempt["score__total"],
        "max": attempt["score__max_points"],
        "percent": attempt["score__percent"],
        "reviewers": [username for username, _ in reviews],
        "review_status": status,
    }


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


# Writers: each yields one string per chunk.

CSV_HEAD = ("user", "attempt", "version", "mode", "started", "finished")
CSV_TAIL = ("total", "max", "percent", "reviewers", "review_status")


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not run: one starting like a formula
    (= + - @, or a tab or carriage return) gets a leading apostrophe."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


class _Line:
    """csv.writer's file: writerow returns the line instead of storing it."""

    def write(self, line: str) -> str:
        return line


def as_csv(export: Export, rows: Iterable[list[dict]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    slugs = [item.slug for item in export.items]
    yield writer.writerow([*CSV_HEAD, *(safe_cell(slug) for slug in slugs), *CSV_TAIL])
    for chunk in rows:
        lines = []
        for row in chunk:
            cells = [
                safe_cell(row["user"]),
                row["attempt"],
                row["version"],
                row["mode"],
                row["started"] or "",
                row["finished"] or "",
                *(_number(row["points"][slug]) for slug in slugs),
                _number(row["total"]),
                _number(row["max"]),
                _number(row["percent"]),
                safe_cell("; ".join(row["reviewers"])),
                row["review_status"],
            ]
            lines.append(writer.writerow(cells))
        yield "".join(lines)


def _number(value) -> str:
    # Numbers are written by us ("-1.50" is a number, not a formula): no apostrophe.
    return "" if value is None else str(value)


def as_json(export: Export, rows: Iterable[list[dict]]) -> Iterator[str]:
    """{"exam": ..., "version": ..., "items": [...], "attempts": [...]}, the
    attempts streamed a chunk at a time."""
    asked = export.describe()
    head = {
        "exam": asked["exam"],
        "version": asked["version"],
        "title": export.version.title,
        "team": asked["team_slug"],
        "from": asked["from"],
        "to": asked["to"],
        "items": [{"slug": item.slug, "title": item.title, "max_points": item.max_points} for item in export.items],
    }
    yield json.dumps(head)[:-1] + ', "attempts": ['
    first = True
    for chunk in rows:
        if chunk:
            yield ("" if first else ", ") + ", ".join(json.dumps(row, default=_json_number) for row in chunk)
            first = False
    yield "]}\n"


def _json_number(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
