"""The arguments a candidate types to run a drill on their own input.

They are Python literals, as between the parentheses of a call:
`[3, 1, 2], k=2`. They are parsed here, on the host and never in the
sandbox, with `ast.literal_eval` on each argument of a call expression, so
nothing the candidate types is ever executed outside the sandbox; the values
then travel to the harness as JSON, like the drill's own cases.
"""

import ast
import json
import math

from exams.taking import Refused

MAX_INPUT_CHARS = 10_000
MAX_DEPTH = 50
_CALLEE = "__call__"

HELP = (
    "Type the arguments as Python literals, as inside the call's parentheses: "
    "numbers, strings, True, False, None, lists, tuples and dicts, and name=value for keywords."
)


def parse_arguments(text: str) -> dict:
    """`{"args": [...], "kwargs": {...}}` from the candidate's text, or Refused
    (400) saying what is wrong. Tuples become lists, as in the drill's tests."""
    if len(text) > MAX_INPUT_CHARS:
        raise Refused(
            f"These arguments are {len(text):,} characters; at most {MAX_INPUT_CHARS:,} are allowed.", status=413
        )
    if "\x00" in text:
        raise Refused("The arguments contain a NUL character.", status=400)
    source = f"{_CALLEE}(\n{text}\n)"
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise Refused(f"These arguments are not valid Python: {exc.msg}. {HELP}", status=400) from None
    except (RecursionError, MemoryError, ValueError):
        raise Refused(f"These arguments are nested too deeply or too large. {HELP}", status=400) from None
    call = tree.body
    # `1), print(2` would close the call early: the whole text must be its arguments.
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == _CALLEE):
        raise Refused(f"These are not arguments of one call. {HELP}", status=400)
    args, kwargs = [], {}
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise Refused("*arguments are not supported: write each argument out.", status=400)
        args.append(_literal(node, f"argument {len(args) + 1}"))
    for keyword in call.keywords:
        if keyword.arg is None:
            raise Refused("**arguments are not supported: write name=value for each keyword.", status=400)
        kwargs[keyword.arg] = _literal(keyword.value, keyword.arg)
    inputs = {"args": args, "kwargs": kwargs}
    try:
        json.dumps(inputs)
    except (ValueError, RecursionError):  # an integer too long to write out
        raise Refused("These arguments are too large.", status=400) from None
    return inputs


def _literal(node: ast.AST, name: str):
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        segment = type(node).__name__
        if isinstance(node, ast.Name):
            segment = f"the name {node.id!r}"
        elif isinstance(node, ast.Call):
            segment = "a call"
        raise Refused(f"The {name} is not a literal ({segment} is not allowed). {HELP}", status=400) from None
    return _plain(value, name, 0)


def _plain(value, name: str, depth: int):
    """`value` as JSON-compatible data, or Refused naming what cannot be."""
    if depth > MAX_DEPTH:
        raise Refused(f"The {name} is nested more than {MAX_DEPTH} levels deep.", status=400)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Refused(f"The {name} holds {value!r}, which the tests cannot pass.", status=400)
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item, name, depth + 1) for item in value]
    if isinstance(value, dict):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise Refused(f"The {name} has a dict key {key!r}: keys must be strings.", status=400)
            plain[key] = _plain(item, name, depth + 1)
        return plain
    raise Refused(
        f"The {name} is a {type(value).__name__}; use numbers, strings, True, False, None, lists and dicts.",
        status=400,
    )
