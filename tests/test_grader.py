"""The trusted grader: scores, categories, failure reasons, and what it shows."""

import json

import pytest

from exams.models import Item
from grading import grader
from grading.grader import grade
from grading.sandbox import runner
from grading.templatetags.grading_tags import failure_summary
from tests.sandbox_support import ADD_CASES, CORRECT_ADD, TIGHT_LIMITS, make_drill, need_bubblewrap

pytestmark = pytest.mark.django_db


def shipped_drill(entry_point: str) -> Item:
    return Item.objects.get(kind=Item.Kind.DRILL, entry_point=entry_point, version__exam__current_version__isnull=False)


def category(result, name: str):
    return next(c for c in result.categories if c.name == name)


def test_every_reference_solution_of_the_shipped_packs_scores_full_marks(shipped_packs):
    need_bubblewrap()
    drills = list(Item.objects.filter(kind=Item.Kind.DRILL))
    assert len(drills) == 5
    for item in drills:
        result = grade(item, item.reference_solution)
        assert (item.slug, result.status, result.passed, result.score) == (
            item.slug,
            "graded",
            result.total,
            item.points,
        )


# The mistake each drill's source warns about, and the category that must catch it.
PEAK_STARTS_FIRST = """
def peak_concurrent_streams(intervals):
    events = sorted([(s, 0) for s, _ in intervals] + [(e, 1) for _, e in intervals])  # starts before ends
    live = best = 0
    for _, kind in events:
        live += 1 if kind == 0 else -1
        best = max(best, live)
    return best
"""
ROLLBACK_NO_MIN_CALLS = """
def rollback_blockers(old, new, min_calls=200):
    out = []
    for name, after in new.items():
        if name not in old:
            continue
        before = old[name]
        reasons = []
        if after["wer"] - before["wer"] > 0.015:
            reasons.append("quality")
        if after["p95_ms"] - before["p95_ms"] > 250:
            reasons.append("latency")
        if after["cost_per_min"] / max(before["cost_per_min"], 0.01) > 1.2:
            reasons.append("cost")
        if reasons:
            out.append({"slice": name, "reasons": reasons})
    return out
"""
ROLLBACK_DIVIDES_BY_ZERO = ROLLBACK_NO_MIN_CALLS.replace(
    'max(before["cost_per_min"], 0.01)', 'before["cost_per_min"]'
).replace("        if name not in old:", '        if name not in old or after["calls"] < min_calls:')
BURN_PARTIAL_WINDOWS = """
def burn_windows(points, window_size=5, budget_rate=0.01):
    alerts = []
    for i, current in enumerate(points):
        window = points[max(0, i - window_size + 1): i + 1]  # alerts on partial windows too
        bad = sum(p["bad"] for p in window)
        total = sum(p["total"] for p in window)
        if total and bad / total > budget_rate:
            alerts.append({"ending_minute": current["minute"], "error_rate": bad / total, "window_size": window_size})
    return alerts
"""
BURN_ZERO_TRAFFIC = """
def burn_windows(points, window_size=5, budget_rate=0.01):
    alerts = []
    for i in range(window_size - 1, len(points)):
        window = points[i - window_size + 1: i + 1]
        rate = sum(p["bad"] for p in window) / sum(p["total"] for p in window)  # zero traffic divides by zero
        if rate > budget_rate:
            alerts.append({"ending_minute": points[i]["minute"], "error_rate": rate, "window_size": window_size})
    return alerts
"""
CHURN_COUNTS_REPEATS = """
def partial_churn_rate(partials):
    if len(partials) < 2:
        return 0.0
    return float(len(partials) - 1) / (len(partials) - 1)  # every step counted as a rewrite
"""
LATENCY_EMPTY_AS_ZERO = """
def latency_by_duration(records):
    buckets = {"short": [], "medium": [], "long": []}
    for r in records:
        s = r["audio_seconds"]
        buckets["short" if s < 5 else "medium" if s < 30 else "long"].append(r["latency_ms"])
    return {k: (sum(v) / len(v) if v else 0.0) for k, v in buckets.items()}  # empty bucket reads as 0
"""


@pytest.mark.parametrize(
    ("entry_point", "code", "failing", "reason", "passing"),
    [
        ("peak_concurrent_streams", PEAK_STARTS_FIRST, "touching intervals", "wrong_answer", "nested intervals"),
        ("rollback_blockers", ROLLBACK_NO_MIN_CALLS, "low-volume slices", "wrong_answer", "single reason"),
        ("rollback_blockers", ROLLBACK_DIVIDES_BY_ZERO, "zero old cost", "exception", "low-volume slices"),
        ("burn_windows", BURN_PARTIAL_WINDOWS, "window larger than input", "wrong_answer", "all-good traffic"),
        ("burn_windows", BURN_ZERO_TRAFFIC, "zero traffic", "exception", "all-bad traffic"),
        ("partial_churn_rate", CHURN_COUNTS_REPEATS, "repeated identical partials", "wrong_answer", "all different"),
        (
            "latency_by_duration",
            LATENCY_EMPTY_AS_ZERO,
            "missing buckets return None",
            "wrong_answer",
            "all buckets",
        ),
    ],
)
def test_the_mistake_each_drill_warns_about_fails_its_category(
    shipped_packs, entry_point, code, failing, reason, passing
):
    need_bubblewrap()
    result = grade(shipped_drill(entry_point), code)
    assert result.status == "graded"
    assert 0 < result.passed < result.total
    caught = category(result, failing)
    assert caught.passed < caught.total
    assert reason in caught.reasons
    assert category(result, passing).passed == category(result, passing).total


def test_a_divide_by_zero_in_hidden_cases_shows_the_reason_only(shipped_packs):
    need_bubblewrap()
    result = grade(shipped_drill("rollback_blockers"), ROLLBACK_DIVIDES_BY_ZERO)
    failures = category(result, "zero old cost").failures
    assert failures and all(f == {"reason": "exception"} for f in failures)


def test_the_score_is_proportional_to_the_passed_cases():
    need_bubblewrap()
    item = make_drill(ADD_CASES, points=9)
    result = grade(item, "def add(a, b):\n    return a + b if a > 0 else 0\n")
    assert (result.passed, result.total, result.score) == (2, 3, 6.0)
    assert [(c.name, c.passed, c.total) for c in result.categories] == [("basics", 1, 2), ("large", 1, 1)]
    assert category(result, "basics").reasons == {"wrong_answer": 1}


def test_a_sample_case_shows_its_input_expected_actual_and_what_it_printed():
    need_bubblewrap()
    item = make_drill(ADD_CASES)
    result = grade(item, "def add(a, b):\n    print('adding', a, b)\n    return a * b\n")
    (sample,) = result.visible_cases
    assert sample.as_dict() == {
        "category": "basics",
        "visible": True,
        "reason": "wrong_answer",
        "name": "small",
        "input": {"args": [1, 2], "kwargs": {}},
        "expected": 3,
        "actual": 2,
        "message": "",
        "stdout": "adding 1 2\n",
    }


def test_a_hidden_case_shows_only_its_category_and_reason():
    need_bubblewrap()
    item = make_drill(ADD_CASES)
    code = "def add(a, b):\n    print('secret', a, b)\n    raise ValueError(f'saw {a} and {b}')\n"
    data = grade(item, code).as_dict()
    text = json.dumps(data)
    assert "-7" not in text
    assert "1000000" not in text
    assert "1000001" not in text
    assert "negative" not in text  # hidden case names describe their inputs
    assert category_dict(data, "large")["failures"] == [{"reason": "exception"}]
    # A sample case saw no hidden input: its type and message may be shown.
    assert data["visible_cases"][0]["exception"] == "ValueError"
    assert data["visible_cases"][0]["message"] == "ValueError: saw 1 and 2"


def category_dict(data: dict, name: str) -> dict:
    return next(c for c in data["categories"] if c["name"] == name)


def test_a_custom_exception_name_from_a_hidden_case_is_not_shown():
    need_bubblewrap()
    item = make_drill(ADD_CASES)
    code = "def add(a, b):\n    raise type(f'Leak_{a}_{b}'.replace('-', 'm'), (Exception,), {})()\n"
    data = grade(item, code).as_dict()
    assert "Leak_m7" not in json.dumps(data)
    assert category_dict(data, "large")["failures"] == [{"reason": "exception"}]


# Picks one of many builtin exception types from the hidden input: shown, the
# names would spell out bits of every hidden case, run after run.
CHOOSES_ITS_EXCEPTION = """
TYPES = [ValueError, KeyError, IndexError, TypeError, ZeroDivisionError, LookupError, ArithmeticError,
         OverflowError, AttributeError, NameError, RuntimeError, OSError, EOFError, UnicodeError]

def add(a, b):
    raise TYPES[(a * 7 + b) % len(TYPES)]()
"""


def test_hidden_cases_never_name_the_exception_their_code_chose():
    need_bubblewrap()
    cases = [{"category": "hidden", "name": f"h{n}", "args": [n, n * 3], "expected": n * 4} for n in range(14)]
    item = make_drill([ADD_CASES[0], *cases])
    result = grade(item, CHOOSES_ITS_EXCEPTION)
    data = result.as_dict()
    assert category_dict(data, "hidden")["failures"] == [{"reason": "exception"}] * 14
    assert not any(case.exception for case in result.cases if not case.visible)
    text = json.dumps(data["categories"])
    assert not any(name in text for name in ("ValueError", "KeyError", "IndexError", "ZeroDivisionError"))
    assert data["visible_cases"][0]["exception"] in text  # the sample's own failure keeps its type
    assert "14 × exception" in failure_summary(category_dict(data, "hidden"))  # noqa: RUF001


def test_the_summary_of_a_result_stored_before_never_names_a_hidden_exception():
    # Results graded before hidden exception types were dropped still carry them.
    stored = {"failures": [{"reason": "exception", "exception": "KeyError"}, {"reason": "exception"}]}
    assert failure_summary(stored) == ["2 × exception"]  # noqa: RUF001
    sample = {"failures": [{"reason": "exception", "exception": "KeyError", "case": "small"}]}
    assert failure_summary(sample) == ["1 × exception (KeyError)"]  # noqa: RUF001


def test_a_load_error_only_in_the_hidden_run_does_not_name_its_type():
    need_bubblewrap()
    # Module code can read the harness's request from its caller's frame, so
    # what it raises while loading is as much a choice of the input as a case's.
    code = (
        "import sys\n"
        "if any(c['args'][0] < 0 for c in sys._getframe(1).f_locals['request']['cases']):\n"
        "    raise KeyError('negative')\n"
        "def add(a, b):\n    return a + b\n"
    )
    data = grade(make_drill(ADD_CASES), code).as_dict()
    assert data["load_error"] == ""
    assert "KeyError" not in json.dumps(data)
    assert category_dict(data, "basics")["failures"] == [{"reason": "load_error"}]


def test_a_load_error_fails_every_case_and_its_message_comes_from_the_sample_run():
    need_bubblewrap()
    result = grade(make_drill(ADD_CASES), "def add(a, b)\n    return a + b\n")
    assert result.status == "graded"
    assert result.passed == 0
    assert result.load_error == "SyntaxError"
    assert "expected ':'" in result.load_message
    assert {r for c in result.categories for r in c.reasons} == {"load_error"}


def test_a_missing_entry_point_is_a_load_error():
    need_bubblewrap()
    result = grade(make_drill(ADD_CASES), "def plus(a, b):\n    return a + b\n")
    assert (result.load_error, result.passed) == ("KeyError", 0)


def test_float_comparison_uses_the_items_tolerance():
    need_bubblewrap()
    cases = [{"args": [1, 3], "expected": 0.3333}]
    item = make_drill(cases, compare="float")
    item.tolerance = 1e-3
    item.save(update_fields=["tolerance"])
    assert grade(item, "def add(a, b):\n    return a / b\n").passed == 1
    item.tolerance = 1e-9
    item.save(update_fields=["tolerance"])
    assert grade(item, "def add(a, b):\n    return a / b\n").passed == 0


def test_printing_past_the_output_limit_fails_the_cases_it_would_have_passed():
    need_bubblewrap()
    item = make_drill(ADD_CASES, limits={"output_kb": 1})
    result = grade(item, "def add(a, b):\n    print('x' * 5000)\n    return a + b\n")
    assert result.passed == 0
    assert {r for c in result.categories for r in c.reasons} == {"output_limit"}


def test_printing_past_the_output_limit_fails_only_the_case_that_printed():
    need_bubblewrap()
    item = make_drill(ADD_CASES, limits={"output_kb": 1})
    code = "def add(a, b):\n    print('x' * (5000 if a == 1000000 else 10))\n    return a + b\n"
    result = grade(item, code)
    assert result.passed == 2
    assert (category(result, "basics").reasons, category(result, "large").reasons) == ({}, {"output_limit": 1})


def test_cases_that_each_print_under_the_limit_pass_even_when_together_they_print_more():
    need_bubblewrap()
    cases = [{"category": "many", "args": [n, 1], "expected": n + 1} for n in range(8)]
    item = make_drill([ADD_CASES[0], *cases], limits={"output_kb": 1})
    result = grade(item, "def add(a, b):\n    print('y' * 600)\n    return a + b\n")
    assert (result.passed, result.total) == (9, 9)
    assert result.visible_cases[0].stdout == "y" * 600 + "\n"


def test_printing_past_the_output_limit_while_loading_fails_every_case():
    need_bubblewrap()
    item = make_drill(ADD_CASES, limits={"output_kb": 1})
    result = grade(item, "print('z' * 5000)\n\ndef add(a, b):\n    return a + b\n")
    assert result.passed == 0
    assert {r for c in result.categories for r in c.reasons} == {"output_limit"}


def test_a_timeout_in_one_case_leaves_the_others_graded():
    need_bubblewrap()
    item = make_drill(ADD_CASES, limits=TIGHT_LIMITS)
    code = "def add(a, b):\n    while a < 0:\n        pass\n    return a + b\n"
    result = grade(item, code)
    assert (result.passed, category(result, "basics").reasons) == (2, {"time_limit": 1})


def test_the_result_is_json_and_the_same_for_the_same_code():
    need_bubblewrap()
    item = make_drill(ADD_CASES)
    code = "def add(a, b):\n    return a + b if a != 1 else sorted({'x', 'y', 'z'})\n"
    first, second = grade(item, code).as_dict(), grade(item, code).as_dict()
    for data in (first, second):
        for key in ("cpu_ms", "wall_ms", "peak_rss_kb"):
            assert isinstance(data.pop(key), int)
    assert json.loads(json.dumps(first)) == first
    assert first == second
    assert first["status"] == "graded"


def test_no_expected_value_enters_the_sandbox(monkeypatch):
    need_bubblewrap()
    requests = []
    real_execute = runner._execute

    def spy(argv, request, *args, **kwargs):
        requests.append(request)
        return real_execute(argv, request, *args, **kwargs)

    monkeypatch.setattr(runner, "_execute", spy)
    marker = "expected-marker-7f3a"
    cases = [
        {"category": "c", "args": ["a"], "expected": f"{marker}-visible", "visible": True},
        {"category": "c", "args": ["b"], "kwargs": {"k": 1}, "expected": f"{marker}-hidden"},
    ]
    item = make_drill(cases, entry_point="echo")
    grade(item, "def echo(x, k=0):\n    return x\n")
    assert len(requests) == 2
    assert all(marker.encode() not in request for request in requests)
    assert all(b'"expected"' not in request for request in requests)
    assert [json.loads(r)["cases"] for r in requests] == [
        [{"args": ["a"], "kwargs": {}}],
        [{"args": ["b"], "kwargs": {"k": 1}}],
    ]


def test_it_reports_an_error_when_the_sandbox_is_unavailable(settings):
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    result = grade(make_drill(ADD_CASES), CORRECT_ADD)
    assert result.status == "error"
    assert "bubblewrap was not found" in result.error
    assert result.as_dict()["status"] == "error"


def test_code_over_the_size_limit_is_not_run(monkeypatch):
    monkeypatch.setattr(runner, "run", lambda *args: pytest.fail("ran oversized code"))
    result = grade(make_drill(ADD_CASES), "#" * (grader.MAX_CODE_BYTES + 1))
    assert result.status == "error"
    assert "64 KB" in result.error
