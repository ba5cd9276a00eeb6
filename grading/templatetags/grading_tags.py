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
}


@register.filter
def reason_label(code: str) -> str:
    return REASONS.get(code, code.replace("_", " "))


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
def failure_summary(category: dict) -> list[str]:
    """Counts of a category's failures by reason (and exception type), from
    what the grader allowed to be shown: "2 x wrong answer"."""
    counts: dict[str, int] = {}
    for failure in category.get("failures", []):
        label = reason_label(failure["reason"])
        if failure.get("exception"):
            label += f" ({failure['exception']})"
        counts[label] = counts.get(label, 0) + 1
    return [f"{count} × {label}" for label, count in counts.items()]  # noqa: RUF001 (the sign is meant)
