"""Errors a candidate can act on (issue 11, point 5): for sample cases and
own-input runs, a traceback of the candidate's own code with the editor's
line numbers and the exception named once; limits named with their value;
hidden cases still only a category and a reason."""

import json

import pytest

from grading import grader
from grading.grader import grade, run_own_input
from grading.sandbox.protocol import parse_output
from grading.templatetags.grading_tags import exception_line, failure_summary, reason_text
from tests.sandbox_support import ADD_CASES, TIGHT_LIMITS, make_drill, need_bubblewrap

pytestmark = pytest.mark.django_db

# Line numbers as in the editor: the helper raises on line 3, called from line 7.
HELPER = """import math

def check(x):
    raise ValueError(f"saw {x}")


def add(a, b):
    return check(a) + b
"""


def test_a_sample_case_shows_the_traceback_of_its_own_code_with_editor_lines():
    need_bubblewrap()
    result = grade(make_drill(ADD_CASES), HELPER)
    (sample,) = result.visible_cases
    assert sample.reason == "exception"
    assert sample.trace == [[8, "add", "return check(a) + b"], [4, "check", 'raise ValueError(f"saw {x}")']]
    # Hidden cases keep a category and a reason, no traceback, no type.
    data = result.as_dict()
    hidden_failures = [f for c in data["categories"] for f in c["failures"] if "case" not in f]
    assert hidden_failures == [{"reason": "exception"}, {"reason": "exception"}]
    text = json.dumps(data)
    assert "saw -7" not in text and "saw 1000000" not in text
    assert [case.get("trace") for case in data["visible_cases"]] == [sample.trace]


def test_a_deep_recursion_keeps_its_first_and_last_frames():
    need_bubblewrap()
    code = "def add(a, b):\n    return go(500)\n\ndef go(n):\n    return go(n - 1) if n else 1 // 0\n"
    (sample,) = grade(make_drill(ADD_CASES), code).visible_cases
    assert sample.exception == "ZeroDivisionError"
    lines = [frame[0] for frame in sample.trace]
    assert len(sample.trace) == 12
    assert lines[:4] == [2, 5, 5, 0]  # 0: the frames left out
    assert sample.trace[3] == [0, "", ""]
    assert set(lines[4:]) == {5}


def test_a_syntax_error_points_at_its_line():
    need_bubblewrap()
    result = grade(make_drill(ADD_CASES), "def add(a, b):\n    x = 1\n    return a +\n")
    assert result.load_error == "SyntaxError"
    assert result.load_trace == [[3, "", "return a +"]]
    assert exception_line({"load_error": result.load_error, "load_message": result.load_message}).startswith(
        "SyntaxError: "
    )


def test_an_error_while_loading_points_at_the_top_level_line():
    need_bubblewrap()
    result = grade(make_drill(ADD_CASES), "import math\nLIMIT = undefined_name\n\ndef add(a, b):\n    return a + b\n")
    assert result.load_error == "NameError"
    assert result.load_trace == [[2, "<module>", "LIMIT = undefined_name"]]


def test_an_own_input_run_shows_the_traceback_and_what_was_printed():
    need_bubblewrap()
    code = "def add(a, b):\n    print('got', a)\n    return [a][b]\n"
    result = run_own_input(make_drill(ADD_CASES), code, {"args": [5, 3], "kwargs": {}})
    custom = result.as_dict()["custom"]
    assert (custom["reason"], custom["exception"]) == ("exception", "IndexError")
    assert custom["trace"] == [[3, "add", "return [a][b]"]]
    assert custom["stdout"] == "got 5\n"
    assert (result.passed, result.total, result.score) == (0, 0, 0)


def test_an_own_input_run_names_the_time_limit_it_hit():
    need_bubblewrap()
    result = run_own_input(
        make_drill(ADD_CASES, limits=TIGHT_LIMITS), "def add(a, b):\n    while True: pass\n", {"args": [1, 2]}
    )
    assert result.custom["reason"] == "time_limit"
    assert reason_text("time_limit", result.limits) == "time limit (0.5 s per case)"


def test_the_limits_are_stored_with_a_result():
    need_bubblewrap()
    data = grade(make_drill(ADD_CASES, limits={"memory_mb": 200}), "def add(a, b):\n    return a + b\n").as_dict()
    assert data["limits"] == {
        "case_seconds": 2.0,
        "wall_seconds": 10.0,
        "cpu_seconds": 5.0,
        "memory_mb": 200,
        "output_kb": 64,
    }


LIMITS = {"case_seconds": 2.0, "memory_mb": 256, "output_kb": 64}


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("time_limit", "time limit (2 s per case)"),
        ("memory_limit", "memory limit (256 MB)"),
        ("output_limit", "output limit (64 KB printed per case)"),
        ("wrong_answer", "wrong answer"),
        ("exception", "exception"),
    ],
)
def test_limits_are_named_with_their_value(reason, text):
    assert reason_text(reason, LIMITS) == text


def test_a_result_without_stored_limits_names_the_bare_reason():
    assert reason_text("time_limit", {}) == "time limit"
    assert reason_text("time_limit", None) == "time limit"
    assert reason_text("time_limit", {"case_seconds": 1.5}) == "time limit (1.5 s per case)"


def test_the_failure_summary_names_limits_too():
    category = {"failures": [{"reason": "time_limit"}, {"reason": "time_limit"}, {"reason": "wrong_answer"}]}
    assert failure_summary(category, LIMITS) == ["2 × time limit (2 s per case)", "1 × wrong answer"]  # noqa: RUF001


@pytest.mark.parametrize(
    ("case", "line"),
    [
        ({"exception": "ValueError", "message": "ValueError: bad"}, "ValueError: bad"),
        ({"exception": "ValueError", "message": "bad"}, "ValueError: bad"),
        ({"exception": "KeyError", "message": "KeyError"}, "KeyError"),
        ({"exception": "KeyError", "message": ""}, "KeyError"),
        ({"load_error": "SyntaxError", "load_message": "SyntaxError: invalid syntax"}, "SyntaxError: invalid syntax"),
    ],
)
def test_the_exception_is_named_once(case, line):
    assert exception_line(case) == line


def test_frames_the_program_writes_itself_are_read_strictly():
    raw = (
        b'{"ready": true}\n'
        b'{"case": 0, "error": "ValueError", "message": "x", "trace": [[3, "f"], ["4", "g"], [true, "h"], [5]]}\n'
    )
    (outcome,) = parse_output(raw, 1).outcomes
    assert outcome.trace == [(3, "f")]


def test_frame_text_comes_from_the_submitted_code():
    assert grader._frames("a\n  b = 1\n", [(2, "f"), (9, "g"), (0, "")]) == [
        [2, "f", "b = 1"],
        [9, "g", ""],
        [0, "", ""],
    ]
