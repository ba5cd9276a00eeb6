"""The trusted comparison of a program's return values with expected ones.

Runs outside the sandbox, on values that came back as JSON.
"""

import json
import math
from typing import Any

DEFAULT_TOLERANCE = 1e-6


def _close(a: float, b: float, tol: float) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _float_equal(expected: Any, actual: Any, tol: float) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return _close(float(expected), float(actual), tol)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _float_equal(e, a, tol) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(_float_equal(expected[k], actual[k], tol) for k in expected)
    return expected == actual and type(expected) is type(actual)


def _exact_equal(expected: Any, actual: Any) -> bool:
    # Equal as JSON values: 1 equals 1.0, but True does not equal 1.
    return _float_equal(expected, actual, 0.0)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def outputs_match(mode: str, expected: Any, actual: Any, tolerance: float | None = None) -> bool:
    """Whether `actual` is an acceptable answer for `expected` under `mode`.

    exact: equal as JSON values; float: numbers within tolerance (absolute or
    relative), recursively; unordered: the top-level list as a multiset.
    """
    if mode == "float":
        return _float_equal(expected, actual, DEFAULT_TOLERANCE if tolerance is None else tolerance)
    if mode == "unordered":
        if not isinstance(expected, list) or not isinstance(actual, list):
            return _exact_equal(expected, actual)
        return sorted(map(_canonical, expected)) == sorted(map(_canonical, actual))
    return _exact_equal(expected, actual)
