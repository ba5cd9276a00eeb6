import json

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


@register.filter
def as_json(value) -> str:
    """A value as compact JSON text, for showing a sample case's data (escaped by the template)."""
    if isinstance(value, str) and value.endswith("... (truncated)"):
        return value
    return json.dumps(value, ensure_ascii=False)


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
