"""My progress: a candidate's own scores over time, per exam.

Built from the stored scores only (`AttemptScore`, written by
`scoring.recompute`), so the page costs a fixed number of queries however
many attempts there are: the user's finished attempts with their scores in
one, their teams in one, the best timed score of every member of those
teams on those exams in one, and their self-assessments of reviewed
attempts, each with the review's score of the same part, in one. Only the viewer's own attempts are read as
rows; of other members the page keeps counts per 10-point band, never a
name or a score.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Max, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exams.models import Attempt, RubricCriterion
from grading import charts
from grading.models import AttemptScore, ItemScore, Membership, SelfAssessment, Team

FINISHED = (Attempt.Status.SUBMITTED, Attempt.Status.EXPIRED)


@dataclass
class AttemptRow:
    attempt: Attempt
    number: int  # 1-based, in the order the user finished this exam's attempts
    score: AttemptScore | None  # None: ended before scores were stored (its results page stores it)

    @property
    def reviewed(self) -> bool:
        """A final review scored it: its signals say something."""
        return self.score is not None and self.score.review_id is not None


@dataclass
class SignalRow:
    text: str
    points: int
    hits: int = 0


# A team's distribution is shown only with at least this many other members
# in it: with one or two, a band is as good as their score.
MIN_OTHERS = 3


@dataclass
class TeamDistribution:
    team: Team
    counts: list[int]
    own_bin: int | None
    svg: str = ""

    @property
    def members(self) -> int:
        return sum(self.counts)

    @property
    def others(self) -> int:
        return self.members - (self.own_bin is not None)

    @property
    def shown(self) -> bool:
        """Too few others, and a band would tell someone's score: show nothing."""
        return self.others >= MIN_OTHERS

    @property
    def bins(self) -> list[tuple[str, int, bool]]:
        return [(charts.bin_label(i), count, i == self.own_bin) for i, count in enumerate(self.counts)]


@dataclass
class ExamProgress:
    exam_id: int
    anchor: str  # the section's id on the page
    title: str
    rows: list[AttemptRow] = field(default_factory=list)
    chosen: AttemptRow | None = None  # whose sections the bars show
    strong: list[SignalRow] = field(default_factory=list)
    weak: list[SignalRow] = field(default_factory=list)
    teams: list[TeamDistribution] = field(default_factory=list)
    history_svg: str = ""
    sections_svg: str = ""
    calibration: list["CalibrationRow"] = field(default_factory=list)
    calibration_svg: str = ""

    @property
    def scored(self) -> list[AttemptRow]:
        return [row for row in self.rows if row.score is not None]

    @property
    def reviewed(self) -> int:
        return sum(1 for row in self.rows if row.reviewed)

    @property
    def unscored(self) -> int:
        return sum(1 for row in self.rows if row.score is None)


@dataclass
class CalibrationRow:
    """A reviewed attempt the user rated: their self-assessment's total against
    the review's, over the parts they rated (grading.self_assessment)."""

    row: AttemptRow
    parts: int = 0
    yours: Decimal = Decimal(0)
    reviewers: Decimal = Decimal(0)
    maximum: int = 0

    @property
    def difference(self) -> Decimal:
        return self.yours - self.reviewers

    @property
    def point(self) -> charts.CalibrationPoint:
        number = self.row.number
        return charts.CalibrationPoint(f"Attempt {number}", str(number), self.yours, self.reviewers, self.maximum)


def finished_attempts(user) -> list[Attempt]:
    """The user's finished attempts with their stored scores (one query,
    oldest finish first), without the versions' long texts."""
    return list(
        Attempt.objects.filter(user=user, status__in=FINISHED)
        .select_related("version", "score")
        .defer("version__summary", "version__intro_md", "version__intro_html", "version__source")
        .order_by("finalized_at", "pk")
    )


def exams_of(attempts: list[Attempt]) -> list[ExamProgress]:
    """One ExamProgress per exam, titled after its latest attempt's version,
    the exam finished most recently first."""
    by_exam: dict[int, ExamProgress] = {}
    for attempt in attempts:
        progress = by_exam.setdefault(attempt.exam_id, ExamProgress(attempt.exam_id, "", ""))
        progress.rows.append(AttemptRow(attempt, len(progress.rows) + 1, getattr(attempt, "score", None)))
    for progress in by_exam.values():
        latest = progress.rows[-1].attempt
        progress.title = latest.version.title
        progress.anchor = f"exam-{progress.exam_id}"
    return sorted(by_exam.values(), key=lambda p: p.rows[-1].attempt.finalized_at, reverse=True)


def signal_rows(progress: ExamProgress) -> None:
    """How many reviewed attempts hit each exam-wide signal. A signal is
    known by its kind and text, so the same signal in two versions of the
    exam counts as one; the latest wording's points are shown."""
    found: dict[tuple[str, str], SignalRow] = {}
    for row in reversed(progress.rows):  # latest first: its order and points win
        if not row.reviewed:
            continue
        for signal in row.score.signals:
            key = (signal["signal"], signal["text"])
            line = found.setdefault(key, SignalRow(signal["text"], signal["points"]))
            line.hits += bool(signal["hit"])
    for (kind, _), line in found.items():
        (progress.strong if kind == RubricCriterion.Signal.STRONG else progress.weak).append(line)


def team_distributions(user, progresses: list[ExamProgress]) -> None:
    """For each team of the user and each exam: the members' best finished
    timed percent, counted per 10-point band. Two queries whatever the
    number of teams, members or attempts; only counts leave this function."""
    memberships = list(Membership.objects.filter(user=user).select_related("team").order_by("team__name", "team_id"))
    if not memberships or not progresses:
        return
    teams = {m.team_id: m.team for m in memberships}
    # One filter() call, so the aggregate reads the same attempts the filter chose.
    best = (
        Membership.objects.filter(
            team_id__in=list(teams),
            user__attempts__mode=Attempt.Mode.TIMED,
            user__attempts__status__in=FINISHED,
            user__attempts__exam_id__in=[p.exam_id for p in progresses],
            user__attempts__score__isnull=False,
        )
        .values_list("team_id", "user_id", "user__attempts__exam_id")
        .annotate(best=Max("user__attempts__score__percent"))
        .order_by()
    )
    counts: dict[tuple[int, int], list[int]] = {}
    own: dict[tuple[int, int], int] = {}
    for team_id, member_id, exam_id, percent in best:
        band = charts.bin_of(percent)
        counts.setdefault((team_id, exam_id), [0] * charts.BINS)[band] += 1
        if member_id == user.pk:
            own[(team_id, exam_id)] = band
    for progress in progresses:
        for team_id, team in teams.items():
            key = (team_id, progress.exam_id)
            progress.teams.append(TeamDistribution(team, counts.get(key, [0] * charts.BINS), own.get(key)))


def calibrations(user, progresses: list[ExamProgress]) -> None:
    """Per reviewed attempt the user rated, the sum of their self-scores and of
    the review's rubric scores over the parts they rated. One query (none when
    no attempt is reviewed): each self-assessment with its item's stored rubric
    score; the exam-wide part's is the attempt score's `overall`, already read."""
    reviewed = {row.attempt.pk: row for progress in progresses for row in progress.rows if row.reviewed}
    if not reviewed:
        return
    rubric = ItemScore.objects.filter(attempt_id=OuterRef("attempt_id"), item_id=OuterRef("item_id")).values("rubric")
    rows = (
        SelfAssessment.objects.filter(
            attempt__user=user, attempt__status__in=FINISHED, attempt__score__review__isnull=False
        )
        .annotate(reviewer=Subquery(rubric[:1]))
        .values_list("attempt_id", "item_id", "score", "max_points", "reviewer")
    )
    found: dict[int, CalibrationRow] = {}
    for attempt_id, item_id, score, max_points, reviewer in rows:
        row = reviewed.get(attempt_id)
        if row is None:
            continue
        line = found.setdefault(attempt_id, CalibrationRow(row))
        if item_id is None:
            reviewer = row.score.overall
        line.parts += 1
        line.yours += score
        line.reviewers += reviewer or 0
        line.maximum += max_points
    for progress in progresses:
        progress.calibration = [found[row.attempt.pk] for row in progress.rows if row.attempt.pk in found]


def draw(progress: ExamProgress) -> None:
    points = [
        charts.HistoryPoint(
            when=row.attempt.finalized_at,
            percent=row.score.percent,
            final=row.score.is_final,
            timed=row.attempt.is_timed,
            label=f"Attempt {row.number}",
        )
        for row in progress.scored
    ]
    progress.history_svg = charts.score_history(
        points, chart_id=f"history-{progress.exam_id}", title=f"{progress.title}: score of each attempt over time"
    )
    chosen = progress.chosen
    if chosen is not None and chosen.score is not None:
        bars = [charts.Bar(s["title"], Decimal(s["score"]), s["max"]) for s in chosen.score.sections]
        progress.sections_svg = charts.section_bars(
            bars,
            chart_id=f"sections-{progress.exam_id}",
            title=f"{progress.title}: score per section, attempt {chosen.number}",
        )
    if progress.calibration:
        progress.calibration_svg = charts.calibration_bars(
            [line.point for line in progress.calibration],
            chart_id=f"calibration-{progress.exam_id}",
            title=f"{progress.title}: your self-assessment against the review, per attempt",
        )
    for distribution in progress.teams:
        if distribution.shown:
            distribution.svg = charts.histogram(
                distribution.counts,
                own_bin=distribution.own_bin,
                chart_id=f"team-{distribution.team.pk}-{progress.exam_id}",
                title=f"{distribution.team.name}: best timed scores on {progress.title}",
            )


def chosen_attempt_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("attempt")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Http404("No such attempt")
    return int(raw)


def build(user, chosen_id: int | None = None) -> list[ExamProgress]:
    """Everything the page shows, per exam. `chosen_id` picks the attempt
    whose sections are drawn (the latest reviewed one otherwise, or the latest
    scored); an id that is
    not one of the user's finished attempts is a 404."""
    progresses = exams_of(finished_attempts(user))
    found = chosen_id is None
    for progress in progresses:
        scored = progress.scored
        # By default the latest reviewed attempt: a provisional one is mostly zeros.
        reviewed = [row for row in scored if row.score.is_final]
        progress.chosen = (reviewed or scored)[-1] if scored else None
        for row in progress.rows:
            if row.attempt.pk == chosen_id:
                progress.chosen, found = row, True
        signal_rows(progress)
    if not found:
        raise Http404("No such attempt")
    team_distributions(user, progresses)
    calibrations(user, progresses)
    for progress in progresses:
        draw(progress)
    return progresses


@require_GET
@login_required
def my_progress(request: HttpRequest) -> HttpResponse:
    progresses = build(request.user, chosen_attempt_id(request))
    return render(request, "grading/progress.html", {"progresses": progresses, "min_others": MIN_OTHERS})
