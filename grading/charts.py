"""Charts as server-rendered SVG: pure functions from numbers to markup.

No JavaScript and no style attributes (the CSP refuses inline styles):
shapes carry classes that `static/css/charts.css` styles, plus the few SVG
presentation attributes (fill="none", a dash pattern) that make a chart
readable without that file. Every text that came from a person (an exam's
title, a section's name) is escaped by `format_html`.

Each chart is an `<svg role="img">` named by its `<title>` and described by
its `<desc>`, which says in words what the chart shows; the page puts a table
of the same numbers after it. Nothing is told by colour alone: final and
provisional scores differ by marker shape, timed and practice attempts by
fill and line dash, the viewer's bar by a hatch and a "You" label.

Sizes are in viewBox units; the SVG scales to its container's width, so a
chart fits a 360 px phone and grows on a desktop up to the width the CSS
allows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 360
BINS = 10  # a histogram of percents: 0-10, 10-20, ... 90-100 (100 counts in the last)
LABEL_CHARS = 40  # a bar's label longer than this is cut (the table has it whole)


@dataclass(frozen=True)
class HistoryPoint:
    """One finished attempt on the score history."""

    when: datetime
    percent: Decimal | float
    final: bool
    timed: bool
    label: str  # what the point's tooltip calls it: "Attempt 3"


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | float
    maximum: Decimal | float


def _n(value: float) -> str:
    """A coordinate with at most one decimal: 12.5, 40, -3."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _num(value: Decimal | float) -> str:
    """A score as people write it: 72.5, 10, 0.25."""
    text = f"{Decimal(str(value)):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _cut(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg(chart_id: str, kind: str, height: float, title: str, desc: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart chart-{kind}" id="{id}" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-labelledby="{id}-title" aria-describedby="{id}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        kind=kind,
        id=chart_id,
        w=WIDTH,
        h=_n(height),
        title=title,
        desc=desc,
        body=body,
    )


def _join(parts: Sequence[str]) -> SafeString:
    """Markup already escaped piece by piece (each part is a SafeString)."""
    return mark_safe("".join(parts))  # noqa: S308 (every part came from format_html)


# Score history.


def _marker(x: float, y: float, point: HistoryPoint) -> SafeString:
    """A circle for a final score, a diamond for a provisional one; filled
    for a timed attempt, hollow for practice."""
    classes = f"marker point {'marker-timed' if point.timed else 'marker-practice'}"
    if point.final:
        shape = format_html('<circle class="{}" cx="{}" cy="{}" r="5"/>', classes, _n(x), _n(y))
    else:
        d = f"M{_n(x)} {_n(y - 6.5)}l6.5 6.5l-6.5 6.5l-6.5 -6.5z"
        shape = format_html('<path class="{}" d="{}"/>', classes, d)
    tooltip = "{}: {}%, {}, {}, {}".format(
        point.label,
        _num(point.percent),
        "final" if point.final else "provisional",
        "timed" if point.timed else "practice",
        point.when.strftime("%Y-%m-%d %H:%M"),
    )
    return format_html("<g>{}<title>{}</title></g>", shape, tooltip)


def _history_legend(y: float) -> SafeString:
    """Four keys on two lines: the marker shapes, then the modes (a sample of
    line and marker each)."""
    return format_html(
        '<g class="legend">'
        '<circle class="marker marker-key" cx="12" cy="{y}" r="5"/><text x="30" y="{t}">Final</text>'
        '<path class="marker marker-key" d="M162 {top}l6.5 6.5l-6.5 6.5l-6.5 -6.5z"/>'
        '<text x="180" y="{t}">Provisional</text>'
        '<line class="series-timed" x1="0" y1="{y2}" x2="24" y2="{y2}"/>'
        '<circle class="marker marker-timed" cx="12" cy="{y2}" r="4"/><text x="30" y="{t2}">Timed</text>'
        '<line class="series-practice" x1="150" y1="{y2}" x2="174" y2="{y2}" stroke-dasharray="5 4"/>'
        '<circle class="marker marker-practice" cx="162" cy="{y2}" r="4"/><text x="180" y="{t2}">Practice</text>'
        "</g>",
        y=_n(y),
        t=_n(y + 4),
        top=_n(y - 6.5),
        y2=_n(y + 20),
        t2=_n(y + 24),
    )


def score_history(points: Sequence[HistoryPoint], *, chart_id: str, title: str) -> SafeString:
    """Each attempt's percent in the order it finished, one line per mode.

    Attempts are spaced evenly (several on one day stay apart); dates label
    the horizontal axis, thinned to five."""
    left, right, top, plot_h = 40.0, WIDTH - 10.0, 10.0, 150.0
    bottom = top + plot_h
    n = len(points)
    pad = 12.0

    def x_of(i: int) -> float:
        if n == 1:
            return (left + right) / 2
        return left + pad + i * (right - left - 2 * pad) / (n - 1)

    def y_of(percent) -> float:
        value = min(max(float(percent), 0.0), 100.0)
        return bottom - value * plot_h / 100

    grid = [
        format_html(
            '<line class="grid" x1="{l}" y1="{y}" x2="{r}" y2="{y}"/><text class="tick" x="{tx}" y="{ty}" '
            'text-anchor="end">{v}%</text>',
            l=_n(left),
            r=_n(right),
            y=_n(y_of(v)),
            tx=_n(left - 6),
            ty=_n(y_of(v) + 4),
            v=v,
        )
        for v in (0, 25, 50, 75, 100)
    ]
    step = max(1, -(-n // 5))
    shown = list(range(0, n, step))
    if shown and n - 1 - shown[-1] >= step / 2 + 0.5:
        shown.append(n - 1)  # the latest date, unless it would crowd the last label
    ticks = [
        format_html(
            '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
            _n(x_of(i)),
            _n(bottom + 16),
            points[i].when.strftime("%d %b"),
        )
        for i in shown
    ]
    lines = []
    for timed, css in ((True, "series-timed"), (False, "series-practice")):
        coords = " ".join(f"{_n(x_of(i))},{_n(y_of(p.percent))}" for i, p in enumerate(points) if p.timed == timed)
        if coords.count(",") > 1:
            dash = "none" if timed else "5 4"
            lines.append(
                format_html('<polyline class="{}" points="{}" fill="none" stroke-dasharray="{}"/>', css, coords, dash)
            )
    markers = [_marker(x_of(i), y_of(p.percent), p) for i, p in enumerate(points)]
    finals = sum(1 for p in points if p.final)
    desc = _history_desc(points, finals)
    legend_y = bottom + 40
    body = _join([*grid, *ticks, *lines, *markers, _history_legend(legend_y)])
    return _svg(chart_id, "history", legend_y + 32, title, desc, body)


def _history_desc(points: Sequence[HistoryPoint], finals: int) -> str:
    if not points:
        return "No scored attempt yet."
    first, last = points[0], points[-1]
    best = max(points, key=lambda p: float(p.percent))
    attempts = "attempt" if len(points) == 1 else "attempts"
    return (
        f"{len(points)} scored {attempts} ({finals} final, {len(points) - finals} provisional), "
        f"from {first.when:%Y-%m-%d} to {last.when:%Y-%m-%d}. "
        f"First {_num(first.percent)}%, latest {_num(last.percent)}%, best {_num(best.percent)}%."
    )


# Per-section bars.


def section_bars(bars: Sequence[Bar], *, chart_id: str, title: str) -> SafeString:
    """One horizontal bar per section: the score as a share of its maximum,
    the section's name above the bar and "score of max" at its right."""
    row_h, top = 40.0, 4.0
    left, right = 0.0, float(WIDTH)
    rows = []
    for i, bar in enumerate(bars):
        y = top + i * row_h
        maximum = float(bar.maximum)
        share = min(max(float(bar.value) / maximum, 0.0), 1.0) if maximum > 0 else 0.0
        value = f"{_num(bar.value)} of {_num(bar.maximum)}"
        rows.append(
            format_html(
                '<g class="bar-row"><title>{full}: {value}</title>'
                '<text class="bar-label" x="{l}" y="{ty}">{label}</text>'
                '<text class="bar-value" x="{r}" y="{ty}" text-anchor="end">{value}</text>'
                '<rect class="bar-track" x="{l}" y="{by}" width="{tw}" height="14" rx="2"/>'
                '<rect class="bar-fill" x="{l}" y="{by}" width="{fw}" height="14" rx="2"/></g>',
                full=bar.label,
                label=_cut(bar.label),
                value=value,
                l=_n(left + 0.5),
                r=_n(right - 0.5),
                ty=_n(y + 12),
                by=_n(y + 18),
                tw=_n(right - left - 1),
                fw=_n((right - left - 1) * share),
            )
        )
    if bars:
        parts = "; ".join(f"{bar.label} {_num(bar.value)} of {_num(bar.maximum)}" for bar in bars)
        desc = f"Score per section: {parts}."
    else:
        desc = "No section scored."
    return _svg(chart_id, "bars", top + len(bars) * row_h + 2, title, desc, _join(rows))


# Histogram.


def bin_of(percent: Decimal | float) -> int:
    """The band of a percent: 0 for 0-9.99, ..., 9 for 90-100."""
    value = min(max(float(percent), 0.0), 100.0)
    return min(int(value // (100 / BINS)), BINS - 1)


def bin_label(index: int) -> str:
    width = 100 // BINS
    low = index * width
    return f"{low}–{low + width}%" if index == BINS - 1 else f"{low}–{low + width - 1}%"  # noqa: RUF001


def histogram(counts: Sequence[int], *, own_bin: int | None, chart_id: str, title: str) -> SafeString:
    """How many people fall in each 10-point band, with the viewer's band
    hatched and labelled "You". Only counts go in: nobody's score."""
    if len(counts) != BINS:
        raise ValueError(f"a histogram takes {BINS} counts, not {len(counts)}")
    left, right, plot_h = 12.0, WIDTH - 12.0, 120.0
    slot = (right - left) / BINS
    highest = max(max(counts), 1)
    # Room above the bars for the count labels (16), and for "You" and its
    # arrow (36 above the viewer's bar) when that bar is among the tallest.
    head = 16.0
    if own_bin is not None:
        head = max(head, 36 - (plot_h - counts[own_bin] * plot_h / highest))
    top = head + 6
    bottom = top + plot_h
    hatch_id = f"{chart_id}-hatch"
    defs = format_html(
        '<defs><pattern id="{}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">'
        '<rect class="hatch-bg" width="6" height="6"/><line class="hatch-line" x1="0" y1="0" x2="0" y2="6"/>'
        "</pattern></defs>",
        hatch_id,
    )
    bars = []
    for i, count in enumerate(counts):
        x = left + i * slot + 3
        h = count * plot_h / highest
        own = i == own_bin
        label = f"{bin_label(i)}: {count} {'member' if count == 1 else 'members'}" + (", you" if own else "")
        fill = format_html(' fill="url(#{})"', hatch_id) if own else ""
        bars.append(
            format_html(
                '<g class="{cls}"><title>{label}</title>'
                '<rect class="hist-bar" x="{x}" y="{y}" width="{w}" height="{h}"{fill}/>{count}</g>',
                cls="hist-bin hist-own" if own else "hist-bin",
                label=label,
                x=_n(x),
                y=_n(bottom - h),
                w=_n(slot - 6),
                h=_n(h),
                fill=fill,
                count=format_html(
                    '<text class="hist-count" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(x + (slot - 6) / 2),
                    _n(bottom - h - 4),
                    count,
                )
                if count
                else "",
            )
        )
    you = ""
    if own_bin is not None:
        cx = left + own_bin * slot + slot / 2
        y = bottom - counts[own_bin] * plot_h / highest - (20 if counts[own_bin] else 6)
        you = format_html(
            '<g class="hist-you"><text x="{x}" y="{y}" text-anchor="middle">You</text>'
            '<path d="M{x} {ay}l-4 -6h8z"/></g>',
            x=_n(cx),
            y=_n(y - 8),
            ay=_n(y),
        )
    ticks = [
        format_html(
            '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
            _n(left + i * slot),
            _n(bottom + 16),
            i * 100 // BINS,
        )
        for i in range(0, BINS + 1, 2)
    ]
    axis = format_html(
        '<line class="axis" x1="{l}" y1="{y}" x2="{r}" y2="{y}"/>'
        '<text class="axis-title" x="{cx}" y="{ty}" text-anchor="middle">Best timed score (%)</text>',
        l=_n(left),
        r=_n(right),
        y=_n(bottom),
        cx=_n((left + right) / 2),
        ty=_n(bottom + 34),
    )
    body = _join([defs, *bars, axis, *ticks, you])
    return _svg(chart_id, "histogram", bottom + 42, title, _histogram_desc(counts, own_bin), body)


def _histogram_desc(counts: Sequence[int], own_bin: int | None) -> str:
    total = sum(counts)
    people = "member" if total == 1 else "members"
    bands = "; ".join(f"{bin_label(i)}: {count}" for i, count in enumerate(counts) if count)
    where = f" You are in {bin_label(own_bin)}." if own_bin is not None else " You have no finished timed attempt."
    return f"{total} {people} with a finished timed attempt. " + (f"{bands}." if bands else "") + where


# Self-assessment calibration.


@dataclass(frozen=True)
class CalibrationPoint:
    """One reviewed attempt the candidate rated: their rating against the review's."""

    label: str  # "Attempt 3"
    short: str  # the axis label: "3"
    yours: Decimal
    reviewers: Decimal
    maximum: int  # the rubric points of the parts rated

    @property
    def difference(self) -> Decimal:
        return self.yours - self.reviewers

    @property
    def percent(self) -> Decimal:
        """The difference as a share of the points rated, so attempts that
        rated more or fewer parts compare."""
        if not self.maximum:
            return Decimal(0)
        return (self.difference * 100 / self.maximum).quantize(Decimal("0.1"))


def _signed(value: Decimal | float) -> str:
    text = _num(value)
    return text if text.startswith("-") or text == "0" else f"+{text}"


TICK = '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>'


def calibration_bars(points: Sequence[CalibrationPoint], *, chart_id: str, title: str) -> SafeString:
    """One bar per rated attempt, in the order they finished: how far the
    candidate's rating was above (up, solid) or below (down, hatched) the
    review's, as a percent of the points rated. A match is a ring on the
    zero line. Each bar says its value in words too (its tooltip, and a
    label while there are few)."""
    left, right, top, plot_h = 44.0, WIDTH - 8.0, 14.0, 160.0
    zero = top + plot_h / 2
    n = len(points)
    largest = max([abs(float(p.percent)) for p in points] + [10.0])
    scale = min(100, -(-int(largest) // 10) * 10)  # the axis reaches the next ten up
    half = plot_h / 2

    def y_of(percent: Decimal) -> float:
        value = max(-scale, min(scale, float(percent)))
        return zero - value * half / scale

    slot = (right - left) / max(n, 1)
    width = min(28.0, slot * 0.6)
    hatch_id = f"{chart_id}-hatch"
    parts = [
        format_html(
            '<defs><pattern id="{}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">'
            '<rect class="hatch-bg cal-hatch-bg" width="6" height="6"/>'
            '<line class="hatch-line cal-hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>',
            hatch_id,
        )
    ]
    for value in (scale, scale // 2, 0, -scale // 2, -scale):
        y = y_of(Decimal(value))
        parts.append(
            format_html(
                '<line class="{cls}" x1="{l}" y1="{y}" x2="{r}" y2="{y}"/>'
                '<text class="tick" x="{tx}" y="{ty}" text-anchor="end">{v}%</text>',
                cls="axis" if value == 0 else "grid",
                l=_n(left),
                r=_n(right),
                y=_n(y),
                tx=_n(left - 6),
                ty=_n(y + 4),
                v=_signed(value),
            )
        )
    labelled = n <= 10
    step = max(1, -(-n // 8))
    for i, point in enumerate(points):
        cx = left + slot * i + slot / 2
        y = y_of(point.percent)
        words = (
            f"{point.label}: you {_num(point.yours)}, the review {_num(point.reviewers)} of {point.maximum} "
            f"rated ({_signed(point.difference)} points, {_signed(point.percent)}%)"
        )
        if point.percent > 0:
            shape = format_html(
                '<rect class="cal-bar cal-over" x="{}" y="{}" width="{}" height="{}"/>',
                _n(cx - width / 2), _n(y), _n(width), _n(zero - y),
            )  # fmt: skip
            label_y = y - 4
        elif point.percent < 0:
            shape = format_html(
                '<rect class="cal-bar cal-under" x="{}" y="{}" width="{}" height="{}" fill="url(#{})"/>',
                _n(cx - width / 2), _n(zero), _n(width), _n(y - zero), hatch_id,
            )  # fmt: skip
            label_y = y + 12
        else:
            shape = format_html('<circle class="cal-match" cx="{}" cy="{}" r="5" fill="none"/>', _n(cx), _n(zero))
            label_y = zero - 9
        value = (
            format_html(
                '<text class="cal-value" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(cx),
                _n(label_y),
                f"{_signed(point.percent)}%",
            )
            if labelled
            else ""
        )
        tick = ""
        if i % step == 0 or i == n - 1:
            tick_y = _n(top + plot_h + 16)
            tick = format_html(TICK, _n(cx), tick_y, point.short)
        parts.append(format_html('<g class="cal-point"><title>{}</title>{}{}</g>{}', words, shape, value, tick))
    bottom = top + plot_h
    legend_y = bottom + 56
    parts.append(
        format_html(
            '<text class="axis-title" x="{cx}" y="{ay}" text-anchor="middle">Attempt</text>'
            '<g class="legend"><rect class="cal-bar cal-over" x="0" y="{ky}" width="14" height="12"/>'
            '<text x="20" y="{ty}">You above the review</text>'
            '<rect class="cal-bar cal-under" x="180" y="{ky}" width="14" height="12" fill="url(#{hatch})"/>'
            '<text x="200" y="{ty}">Below it</text>'
            '<circle class="cal-match" cx="290" cy="{my}" r="5" fill="none"/><text x="300" y="{ty}">Same</text></g>',
            cx=_n((left + right) / 2),
            ay=_n(bottom + 30),
            ky=_n(legend_y - 10),
            ty=_n(legend_y),
            my=_n(legend_y - 4),
            hatch=hatch_id,
        )
    )
    return _svg(chart_id, "calibration", legend_y + 8, title, _calibration_desc(points), _join(parts))


def _calibration_desc(points: Sequence[CalibrationPoint]) -> str:
    if not points:
        return "No reviewed attempt you rated yet."
    above = sum(1 for p in points if p.percent > 0)
    below = sum(1 for p in points if p.percent < 0)
    mean = sum((abs(p.percent) for p in points), Decimal(0)) / len(points)
    attempts = "attempt" if len(points) == 1 else "attempts"
    return (
        f"{len(points)} reviewed {attempts} you rated: above the review in {above}, below it in {below}, "
        f"the same in {len(points) - above - below}. Latest {_signed(points[-1].percent)}% of the points rated; "
        f"on average {_num(mean.quantize(Decimal('0.1')))}% away."
    )
