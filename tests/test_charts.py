"""The SVG charts are pure functions: numbers in, well-formed and escaped
SVG out, readable without colour (shapes, fills, hatching, labels)."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from grading import charts
from grading.charts import Bar, HistoryPoint

NS = {"svg": "http://www.w3.org/2000/svg"}
HOSTILE = "</title><script>alert('x')</script><b onmouseover=\"x\">&"
DAY = datetime(2026, 3, 1, 9, 30)


def parse(svg: str) -> ET.Element:
    """The chart as XML: it must parse, so nothing unescaped broke it."""
    return ET.fromstring(svg)  # noqa: S314 (our own output, parsed to check it)


def point(n: int, percent, *, final=True, timed=True) -> HistoryPoint:
    return HistoryPoint(DAY + timedelta(days=n), Decimal(str(percent)), final, timed, f"Attempt {n + 1}")


def assert_accessible(root: ET.Element, svg: str) -> None:
    """role="img", named by its own title and described by its desc, no style attribute, scales to its container."""
    assert root.get("role") == "img"
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert desc.text
    assert root.get("width") == "100%"
    assert root.get("viewBox").startswith("0 0 360 ")
    assert "style" not in svg


# Score history.


def test_final_scores_are_circles_and_provisional_ones_diamonds():
    svg = charts.score_history([point(0, 40), point(1, 55, final=False), point(2, 70)], chart_id="h", title="History")
    root = parse(svg)
    assert_accessible(root, svg)
    points = root.findall(".//*[@class]")
    circles = [e for e in points if e.tag.endswith("circle") and "point" in e.get("class").split()]
    diamonds = [e for e in points if e.tag.endswith("path") and "point" in e.get("class").split()]
    assert len(circles) == 2 and len(diamonds) == 1
    tips = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")][1:]
    assert tips == [
        "Attempt 1: 40%, final, timed, 2026-03-01 09:30",
        "Attempt 2: 55%, provisional, timed, 2026-03-02 09:30",
        "Attempt 3: 70%, final, timed, 2026-03-03 09:30",
    ]
    # The legend names both shapes in words.
    legend = " ".join(t.text for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Final" in legend and "Provisional" in legend


def test_timed_and_practice_differ_by_fill_and_dash_not_colour_alone():
    svg = charts.score_history(
        [point(0, 30, timed=False), point(1, 50), point(2, 45, timed=False), point(3, 60)],
        chart_id="h",
        title="History",
    )
    root = parse(svg)
    lines = {e.get("class"): e for e in root.iter("{http://www.w3.org/2000/svg}polyline")}
    assert lines["series-timed"].get("stroke-dasharray") == "none"
    assert lines["series-practice"].get("stroke-dasharray") == "5 4"
    markers = [e.get("class") for e in root.iter() if "point" in (e.get("class") or "").split()]
    assert markers == [
        "marker point marker-practice",
        "marker point marker-timed",
        "marker point marker-practice",
        "marker point marker-timed",
    ]


def test_a_mode_with_one_attempt_has_a_marker_but_no_line():
    root = parse(charts.score_history([point(0, 30, timed=False), point(1, 50)], chart_id="h", title="t"))
    assert list(root.iter("{http://www.w3.org/2000/svg}polyline")) == []


def test_percents_map_to_the_plot_top_and_bottom_and_out_of_range_values_are_kept_inside():
    root = parse(charts.score_history([point(0, 0), point(1, 100), point(2, 140)], chart_id="h", title="t"))
    ys = [float(c.get("cy")) for c in root.iter("{http://www.w3.org/2000/svg}circle") if "point" in c.get("class")]
    assert ys[0] > ys[1] == ys[2]


def test_the_history_description_sums_it_up_in_words():
    root = parse(charts.score_history([point(0, 40), point(1, 62.5, final=False)], chart_id="h", title="t"))
    assert root.find("svg:desc", NS).text == (
        "2 scored attempts (1 final, 1 provisional), from 2026-03-01 to 2026-03-02. "
        "First 40%, latest 62.5%, best 62.5%."
    )


def test_dates_on_the_axis_are_thinned_to_about_five():
    root = parse(charts.score_history([point(n, 50) for n in range(20)], chart_id="h", title="t"))
    ticks = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "tick"]
    dates = [t for t in ticks if not t.endswith("%")]
    assert dates[0] == "01 Mar" and dates[-1] == "20 Mar"
    assert len(dates) <= 6


def test_the_history_escapes_its_title():
    svg = charts.score_history([point(0, 50)], chart_id="h", title=HOSTILE)
    assert "<script>" not in svg and "<b " not in svg
    assert parse(svg).find("svg:title", NS).text == HOSTILE


# Per-section bars.


def test_each_section_is_a_bar_as_long_as_its_share_with_its_score_in_words():
    svg = charts.section_bars(
        [Bar("Basics", Decimal("3.5"), 4), Bar("Coding", Decimal("0"), 12), Bar("Empty", 0, 0)],
        chart_id="s",
        title="Sections",
    )
    root = parse(svg)
    assert_accessible(root, svg)
    rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
    tracks = [float(r.get("width")) for r in rects if r.get("class") == "bar-track"]
    fills = [float(r.get("width")) for r in rects if r.get("class") == "bar-fill"]
    assert fills[0] == pytest.approx(tracks[0] * 3.5 / 4, abs=0.1)
    assert fills[1:] == [0, 0]
    values = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "bar-value"]
    assert values == ["3.5 of 4", "0 of 12", "0 of 0"]
    assert root.find("svg:desc", NS).text == "Score per section: Basics 3.5 of 4; Coding 0 of 12; Empty 0 of 0."


def test_a_long_section_name_is_cut_on_the_bar_and_whole_in_its_tooltip():
    name = "A section whose title goes on far longer than any bar can show"
    root = parse(charts.section_bars([Bar(name, 1, 2)], chart_id="s", title="t"))
    label = next(t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "bar-label")
    assert label.endswith("…") and len(label) <= charts.LABEL_CHARS
    tooltip = root.find("svg:g/svg:title", NS).text
    assert tooltip == f"{name}: 1 of 2"


def test_the_bars_escape_section_names():
    svg = charts.section_bars([Bar(HOSTILE, 1, 2)], chart_id="s", title=HOSTILE)
    assert "<script>" not in svg and "<b " not in svg
    parse(svg)


# Histogram.


@pytest.mark.parametrize(
    ("percent", "band"),
    [(0, 0), (9.99, 0), (10, 1), (55, 5), (89.99, 8), (90, 9), (100, 9), (-3, 0), (120, 9), (Decimal("70.00"), 7)],
)
def test_a_percent_falls_in_its_ten_point_band(percent, band):
    assert charts.bin_of(percent) == band


def test_band_labels():
    assert charts.bin_label(0) == "0–9%"  # noqa: RUF001
    assert charts.bin_label(9) == "90–100%"  # noqa: RUF001


def test_the_histogram_draws_counts_and_hatches_and_labels_the_viewers_band():
    counts = [0, 0, 1, 0, 1, 2, 1, 0, 1, 0]
    svg = charts.histogram(counts, own_bin=6, chart_id="team-1", title="Team")
    root = parse(svg)
    assert_accessible(root, svg)
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "hist-bin" in (g.get("class") or "")]
    assert len(groups) == 10
    own = [g for g in groups if "hist-own" in g.get("class")]
    assert len(own) == 1
    assert own[0].find("svg:title", NS).text == "60–69%: 1 member, you"  # noqa: RUF001
    assert own[0].find("svg:rect", NS).get("fill") == "url(#team-1-hatch)"
    assert root.find(".//svg:pattern", NS).get("id") == "team-1-hatch"
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "hist-count"]
    assert labels == ["1", "1", "2", "1", "1"]
    you = root.find(".//svg:g[@class='hist-you']/svg:text", NS)
    assert you.text == "You"
    heights = [float(g.find("svg:rect", NS).get("height")) for g in groups]
    assert heights[5] == 2 * heights[4] > 0 and heights[0] == 0
    desc = root.find("svg:desc", NS).text
    assert desc.startswith("6 members with a finished timed attempt.")
    assert desc.endswith("You are in 60–69%.")  # noqa: RUF001


def test_the_histogram_holds_only_counts():
    """What goes in is ten counts; what comes out has no number but those,
    the axis, and coordinates."""
    svg = charts.histogram([0, 0, 0, 0, 0, 0, 0, 3, 0, 0], own_bin=None, chart_id="t", title="Team")
    texts = [t.text for t in parse(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["3", "Best timed score (%)", "0", "20", "40", "60", "80", "100"]
    assert "You" not in svg.replace("You have", "")
    assert re.search(r"You have no finished timed attempt\.", svg)


def test_the_histogram_takes_exactly_ten_counts():
    with pytest.raises(ValueError, match="10 counts"):
        charts.histogram([1, 2, 3], own_bin=None, chart_id="t", title="t")


def test_the_histogram_escapes_its_title_and_id():
    svg = charts.histogram([1] + [0] * 9, own_bin=0, chart_id='x"><script>', title=HOSTILE)
    assert "<script>" not in svg
    parse(svg)


@pytest.mark.parametrize(
    ("counts", "top"), [([0, 0, 0, 4, 1, 0, 0, 0, 0, 0], 42), ([0, 0, 0, 1, 4, 0, 0, 0, 0, 0], 22)]
)
def test_you_stays_inside_the_chart_whether_or_not_the_viewers_bar_is_the_tallest(counts, top):
    root = parse(charts.histogram(counts, own_bin=3, chart_id="t", title="t"))
    you = root.find(".//svg:g[@class='hist-you']/svg:text", NS)
    assert float(you.get("y")) >= 12  # a 12-unit line of text fits above it
    tallest = min(
        float(r.get("y")) for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "hist-bar"
    )
    assert tallest == top  # room for "You" only where it is needed
