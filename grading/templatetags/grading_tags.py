from decimal import Decimal

from django import template

register = template.Library()

REASONS = {
    "passed": "passed",
    "wrong_answer": "wrong answer",
    "exception": "exception",
    "time_limit": "time limit",
    "memory_limit": "memory limit",
    "output_limit": "output limit",
    "not_serializable": "result not serializable",
    "crashed": "crashed",
    "load_error": "code did not load",
    "returned": "returned a value",
}


@register.filter
def reason_label(code: str) -> str:
    return REASONS.get(code, code.replace("_", " "))


def _number(value) -> str:
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


@register.filter
def reason_text(code: str, limits: dict | None = None) -> str:
    """A failure reason with the limit it hit, as the run had it:
    "time limit (2 s per case)". Results stored before runs kept their
    limits get the bare reason."""
    label = reason_label(code)
    limits = limits or {}
    if code == "time_limit" and limits.get("case_seconds"):
        return f"{label} ({_number(limits['case_seconds'])} s per case)"
    if code == "memory_limit" and limits.get("memory_mb"):
        return f"{label} ({_number(limits['memory_mb'])} MB)"
    if code == "output_limit" and limits.get("output_kb"):
        return f"{label} ({_number(limits['output_kb'])} KB printed per case)"
    return label


@register.filter
def exception_line(case: dict) -> str:
    """An exception as Python ends a traceback, its type named once:
    "ValueError: bad input". The harness's message already starts with the
    type (format_exception_only), so it is not prefixed again."""
    name = case.get("exception") or case.get("load_error") or ""
    message = case.get("message", case.get("load_message", "")) or ""
    if not message:
        return name
    if not name or message == name or message.startswith(f"{name}: ") or message.startswith(f"{name}:"):
        return message
    return f"{name}: {message}"


SHOWN_CHARS = 4000


@register.filter
def as_python(value) -> str:
    """A sample case's value as the Python literal the candidate's function
    sees or returns (escaped by the template)."""
    if isinstance(value, str) and value.endswith("... (truncated)"):
        return value  # the grader already cut it short
    return _capped(repr(value))


@register.filter
def as_call(case_input: dict, entry_point: str) -> str:
    """A sample case's input as the call the harness made: `add(1, 2)`."""
    args = [repr(arg) for arg in case_input.get("args", [])]
    args += [f"{name}={value!r}" for name, value in (case_input.get("kwargs") or {}).items()]
    return _capped(f"{entry_point}({', '.join(args)})")


def _capped(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "... (truncated)"


@register.filter
def failure_summary(category: dict, limits: dict | None = None) -> list[str]:
    """Counts of a category's failures by reason (and a sample case's exception
    type), from what the grader allowed to be shown: "2 x wrong answer".

    A hidden case's failure (no "case" name) never shows a type, even in a
    result stored before the grader stopped recording it."""
    counts: dict[str, int] = {}
    for failure in category.get("failures", []):
        label = reason_text(failure["reason"], limits)
        if failure.get("exception") and failure.get("case"):
            label += f" ({failure['exception']})"
        counts[label] = counts.get(label, 0) + 1
    return [f"{count} × {label}" for label, count in counts.items()]  # noqa: RUF001 (the sign is meant)


@register.filter
def signed(value) -> str:
    """A number of points with its sign: +1.5, -2, 0."""
    text = f"{value:+.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("+0", "-0") else text


@register.filter
def points(value) -> str:
    """A score as people write it: 3.5, 10, 0.25 (no trailing zeros)."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(str(value)):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
