"""The code of a drill as numbered lines with their comments, for the
review page and the results page (templates/grading/_line_comments.html)."""

from django import template

from grading import line_comments

register = template.Library()


@register.simple_tag(takes_context=True)
def code_listing(context, attempt, item, mode: str) -> line_comments.Listing:
    """`item`'s code with the comments this page's viewer may see on it:
    `mode` "review" (the review flow's rules) or "results" (final reviews
    only, once the score is final). The attempt's comments are loaded once
    per page, whatever the number of drills."""
    viewer = context["request"].user
    key = (mode, viewer.pk)
    cache = attempt.__dict__.setdefault("_line_comments", {})
    if key not in cache:
        if mode == "review":
            cache[key] = line_comments.review_flow_comments(attempt, viewer)
        else:
            cache[key] = line_comments.results_comments(attempt, score_final=bool(context.get("review_final")))
    code = item.code_answer.content if getattr(item, "code_answer", None) is not None else ""
    return line_comments.listing(code, [c for c in cache[key] if c.item_id == item.pk])
