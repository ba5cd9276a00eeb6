from django import template
from django.utils.safestring import SafeString, mark_safe

from exams.rendering import highlight_code, highlight_numbered

register = template.Library()


@register.filter
def highlight_python(code: str) -> SafeString:
    """Server-side Pygments highlighting; the output is escaped by Pygments."""
    return mark_safe(highlight_code(code, "python"))  # noqa: S308 - Pygments escapes the code


@register.filter
def highlight_python_numbered(code: str) -> SafeString:
    """As highlight_python, with line numbers."""
    return mark_safe(highlight_numbered(code))  # noqa: S308 - Pygments escapes the code


@register.filter
def duration_hms(value) -> str:
    """A timedelta as 1 h 05 min 03 s (no days: attempts are shorter)."""
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {seconds:02d} s"
    return f"{minutes} min {seconds:02d} s"
