"""What the tests of the team pages and leaderboards share: the people of two
teams, finished timed attempts, final reviews, a snapshot of everything the
team pages may write, and boards of hundreds of members bulk-created."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from exams.models import Answer, Attempt, Exam
from grading import reviewing
from grading.models import AttemptScore, BestAttempt, BoardSettings, Invitation, Membership, Team

START = timezone.make_aware(datetime(2026, 5, 1, 9, 0))
PASSWORD = "pw"


@dataclass
class People:
    """Team T: owner olive, reviewer rhea, members mona and milo. Team U: its
    owner ulla and member umberto. Oscar is in no team."""

    owner: object
    reviewer: object
    member: object
    second: object
    other_owner: object
    other_member: object
    outsider: object
    t: Team
    u: Team

    def membership(self, user, team: Team | None = None) -> Membership:
        return Membership.objects.get(team=team or self.t, user=user)


def user(name: str):
    return get_user_model().objects.create_user(name, password=PASSWORD)


def team_people() -> People:
    Role = Membership.Role
    t = Team.objects.create(name="Team Tangerine", slug="tangerine")
    u = Team.objects.create(name="Team Umber", slug="umber")
    people = People(
        owner=user("olive"),
        reviewer=user("rhea"),
        member=user("mona"),
        second=user("milo"),
        other_owner=user("ulla"),
        other_member=user("umberto"),
        outsider=user("oscar"),
        t=t,
        u=u,
    )
    Membership.objects.create(team=t, user=people.owner, role=Role.OWNER)
    Membership.objects.create(team=t, user=people.reviewer, role=Role.REVIEWER)
    Membership.objects.create(team=t, user=people.member)
    Membership.objects.create(team=t, user=people.second)
    Membership.objects.create(team=u, user=people.other_owner, role=Role.OWNER)
    Membership.objects.create(team=u, user=people.other_member)
    return people


def finish(user, exam: Exam, *, minutes: int, start: datetime = START, answers=("first",), mode=Attempt.Mode.TIMED):
    """A finished attempt that took `minutes`, with a text answer for each item slug in `answers`."""
    attempt, _ = Attempt.start(user, exam, mode, now=start)
    items = {item.slug: item for item in attempt.version.items.all()}
    for slug in answers:
        Answer.objects.create(attempt=attempt, item=items[slug], content="An answer.", revision=1, saved_at=start)
    attempt.finalize(now=start + timedelta(minutes=minutes))
    return attempt


def review(attempt: Attempt, reviewer, ticks: dict[str, list[int]]) -> None:
    """A final review ticking the criteria at these positions (0-based) of each named item."""
    revision = 0
    for slug, positions in ticks.items():
        item = attempt.version.items.get(slug=slug)
        criteria = list(item.criteria.order_by("position").values_list("pk", flat=True))
        revision = reviewing.mark(
            attempt,
            reviewer,
            item,
            criteria_ids=[criteria[i] for i in positions],
            adjustment=Decimal(0),
            reason="",
            comment="",
            revision=revision,
        ).revision
    reviewing.finalize(attempt, reviewer, revision)


def snapshot() -> dict:
    """Everything the team pages may write, to compare before and after a refusal."""
    return {
        "teams": list(Team.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "invitations": list(Invitation.objects.order_by("pk").values()),
        "boards": list(BoardSettings.objects.order_by("pk").values()),
    }


def bulk_members(team: Team, exam: Exam, totals: list[Decimal], *, prefix: str, max_points: int = 200) -> list:
    """One member of the team per total, each with one finished timed attempt
    scored that total (final), in five bulk inserts whatever their number.
    The AttemptScore rows are written directly: recomputing hundreds of
    attempts would test scoring, not the board."""
    User = get_user_model()
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [User(username=f"{prefix}-{n:04d}", password=password) for n in range(len(totals))]
    )
    Membership.objects.bulk_create([Membership(team=team, user=u) for u in users])
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                user=u,
                exam=exam,
                version=exam.current_version,
                mode=Attempt.Mode.TIMED,
                status=Attempt.Status.SUBMITTED,
                started_at=START,
                deadline=START + timedelta(minutes=30),
                finalized_at=START + timedelta(minutes=20),
            )
            for u in users
        ]
    )
    AttemptScore.objects.bulk_create(
        [stored_score(a, total, max_points) for a, total in zip(attempts, totals, strict=True)]
    )
    # What recompute keeps beside each score: the best attempt, overall and among final reviews.
    BestAttempt.objects.bulk_create(
        [
            BestAttempt(
                user=a.user, exam=exam, final_only=final_only, attempt=a, ranked_total=total, total=total,
                max_points=max_points, seen_items=0, is_final=True, time_multiplier=a.time_multiplier,
                time_used=a.finalized_at - a.started_at, finished_at=a.finalized_at,
            )
            for a, total in zip(attempts, totals, strict=True)
            for final_only in (False, True)
        ]
    )  # fmt: skip
    return users


def stored_score(attempt: Attempt, total: Decimal, max_points: int = 200, *, final: bool = True) -> AttemptScore:
    zero = Decimal(0)
    return AttemptScore(
        attempt=attempt,
        total=total,
        max_points=max_points,
        percent=(total * 100 / max_points).quantize(Decimal("0.01")),
        is_final=final,
        tests=zero,
        tests_max=0,
        rubric=total,
        rubric_max=max_points,
        overall=zero,
        overall_max=0,
        strong_points=total,
        weak_points=zero,
        pending_runs=0,
        ranked_total=total,
        seen_items=0,
        computed_at=START + timedelta(minutes=21),
    )


@dataclass
class BoardRow:
    """A leaderboard row as a reader sees it: the text of each cell without
    the marker badges, and the markers once each (phones show them twice)."""

    cells: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    own: bool = False

    @property
    def rank(self) -> str:
        return self.cells[0]

    @property
    def name(self) -> str:
        return self.cells[1]

    @property
    def score(self) -> str:
        return self.cells[2]

    @property
    def time_used(self) -> str:
        return self.cells[3]


class _BoardRows(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[BoardRow] = []
        self.row: BoardRow | None = None
        self.cell: list[str] | None = None
        self.marker: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "tr" and "board-row" in classes:
            self.row = BoardRow(own="own-row" in classes)
            self.rows.append(self.row)
        elif self.row is None:
            return
        elif tag == "td":
            self.cell = []
        elif "marker" in classes:
            self.marker = []

    def handle_endtag(self, tag):
        if self.row is None:
            return
        if self.marker is not None and tag == "span":
            marker = " ".join("".join(self.marker).split())
            if marker not in self.row.markers:
                self.row.markers.append(marker)
            self.marker = None
        elif tag == "td" and self.cell is not None:
            self.row.cells.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.marker is not None:
            self.marker.append(data)
        elif self.cell is not None:
            self.cell.append(data)


def board_rows(html: str) -> list[BoardRow]:
    """The leaderboard's rows: rank, member, score, time used, markers, whether it is the viewer's."""
    parser = _BoardRows()
    parser.feed(html)
    return parser.rows


def board_names(html: str) -> list[str]:
    return [row.name for row in board_rows(html)]
