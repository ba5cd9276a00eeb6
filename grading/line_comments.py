"""The rules of line comments: a reviewer's remark on one line of a drill's
code, and who sees which.

A comment is part of its reviewer's review, like a mark: writing one
starts the review if needed, is allowed only while the review is a draft,
and moves the review's revision on through `grading.reviewing`, so a stale
tab is refused in the same way. Every check runs before anything is
written, and a refusal (`Refused`, with a message for the reviewer)
changes nothing.

Comments anchor to a line of the attempt's saved code of the drill, the
code the review page and the results page show (it no longer changes once
the attempt has ended); each keeps that code's hash and the line's text.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from exams.models import Answer, Attempt, Item
from exams.taking import Refused
from grading import reviewing
from grading.access import may_review
from grading.models import LineComment, Review

NOT_YOURS = "You may change only your own comments."
GONE = "This comment was deleted in another tab or window; reload to see the latest."


# The code and its lines.


def code_of(attempt: Attempt, item: Item) -> str:
    """The attempt's saved code of the drill ("" when it has none)."""
    answers = Answer.objects.filter(attempt_id=attempt.pk, item_id=item.pk, part=Answer.Part.CODE)
    return answers.values_list("content", flat=True).first() or ""


def code_lines(code: str) -> list[str]:
    """The lines of `code` as its listing numbers them (1 is the first):
    line breaks are \\n, \\r\\n or \\r, and a final break ends the last line
    rather than starting an empty one."""
    text = code.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


# stripnl=False: Pygments would otherwise drop leading blank lines and shift
# every number after them.
_LEXER = PythonLexer(stripnl=False, ensurenl=True)
_FORMATTER = HtmlFormatter(nowrap=True)


def highlighted_lines(code: str) -> list[SafeString]:
    """Each line of `code` as highlighted HTML, one entry per line of
    `code_lines` (Pygments closes and reopens its spans at each line end,
    so every entry is balanced)."""
    lines = code_lines(code)
    if not lines:
        return []
    html = highlight("\n".join(lines) + "\n", _LEXER, _FORMATTER).split("\n")
    if html and html[-1] == "":
        html.pop()
    if len(html) != len(lines):  # never seen; plain lines keep the numbers right
        return [escape(line) for line in lines]
    return [mark_safe(line) for line in html]  # noqa: S308 - Pygments escapes the code


# Who sees which comments.


def review_flow_comments(attempt: Attempt, viewer) -> list[LineComment]:
    """The comments `viewer` sees on the review page: those of the reviews
    `reviewing.visible_reviews` shows them (their own, others' once every
    review the attempt takes is final)."""
    return _comments_of(reviewing.visible_reviews(attempt, viewer))


def results_comments(attempt: Attempt, *, score_final: bool) -> list[LineComment]:
    """The comments the results page shows: only once the attempt's score is
    final, and then those of final reviews, once every review the attempt
    takes is final (so never a draft, and never one review of two early)."""
    if not score_final:
        return []
    reviews = list(Review.objects.filter(attempt_id=attempt.pk, status=Review.Status.FINAL).select_related("reviewer"))
    if len(reviews) < attempt.version.reviews_required:
        return []
    return _comments_of(reviews)


def _comments_of(reviews: Iterable[Review]) -> list[LineComment]:
    by_pk = {review.pk: review for review in reviews}
    if not by_pk:
        return []
    comments = list(LineComment.objects.filter(review_id__in=by_pk).order_by("item_id", "line", "created_at", "pk"))
    for comment in comments:
        comment.review = by_pk[comment.review_id]  # with its reviewer, loaded once
    return comments


@dataclass
class Line:
    number: int
    html: SafeString
    comments: list[LineComment] = field(default_factory=list)


@dataclass
class Listing:
    """A drill's code as numbered lines, each with the comments on it."""

    lines: list[Line]
    # Comments whose line the code no longer has, or made on other code.
    elsewhere: list[LineComment] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(line.comments) for line in self.lines) + len(self.elsewhere)


def listing(code: str, comments: Iterable[LineComment]) -> Listing:
    lines = [Line(n, html) for n, html in enumerate(highlighted_lines(code), start=1)]
    digest = code_hash(code)
    elsewhere = []
    for comment in comments:
        if comment.code_sha256 == digest and comment.line <= len(lines):
            lines[comment.line - 1].comments.append(comment)
        else:
            elsewhere.append(comment)
    return Listing(lines, elsewhere)


# Writes.


def add(
    attempt: Attempt,
    reviewer,
    item: Item,
    *,
    line: int,
    body: str,
    revision: int,
    now: datetime | None = None,
) -> LineComment:
    """Add `reviewer`'s comment on `line` of the drill's code. The first
    write of a review starts it (send revision 0); each later one sends
    the review's current revision, which moves on by one."""
    now = now or timezone.now()
    _check_reviewer(attempt, reviewer)
    _check_drill(attempt, item)
    body = _check_body(body)
    code = code_of(attempt, item)
    lines = code_lines(code)
    _check_line(line, len(lines))
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        review = reviewing._writable_review(attempt, reviewer, revision, now)
        return LineComment.objects.create(
            review=review,
            item=item,
            code_sha256=code_hash(code),
            line=line,
            line_text=lines[line - 1],
            body=body,
            created_at=now,
            updated_at=now,
        )


def edit(attempt: Attempt, reviewer, comment: LineComment, *, body: str, revision: int, now=None) -> LineComment:
    """Change the text of one of `reviewer`'s comments, in their draft."""
    now = now or timezone.now()
    _check_reviewer(attempt, reviewer)
    _check_own(attempt, reviewer, comment)
    body = _check_body(body)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        reviewing._writable_review(attempt, reviewer, revision, now)
        if not LineComment.objects.filter(pk=comment.pk).update(body=body, updated_at=now):
            raise Refused(GONE)  # deleted meanwhile: the revision moved on above is rolled back
    comment.body, comment.updated_at = body, now
    return comment


def delete(attempt: Attempt, reviewer, comment: LineComment, *, revision: int, now=None) -> Review:
    """Remove one of `reviewer`'s comments from their draft."""
    now = now or timezone.now()
    _check_reviewer(attempt, reviewer)
    _check_own(attempt, reviewer, comment)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        review = reviewing._writable_review(attempt, reviewer, revision, now)
        deleted, _ = LineComment.objects.filter(pk=comment.pk).delete()
        if not deleted:
            raise Refused(GONE)  # deleted meanwhile: the revision moved on above is rolled back
    return review


# Checks: each raises Refused and writes nothing.


def _check_reviewer(attempt: Attempt, reviewer) -> None:
    if not may_review(reviewer, attempt):
        raise Refused("You may not review this attempt.", status=403)


def _check_drill(attempt: Attempt, item: Item) -> None:
    if item.version_id != attempt.version_id:
        raise Refused("This item is not part of the exam this attempt took.", status=400)
    if not item.is_drill:
        raise Refused("Only a coding drill's code takes line comments.", status=400)


def _check_own(attempt: Attempt, reviewer, comment: LineComment) -> None:
    if comment.review.attempt_id != attempt.pk:
        raise Refused("This comment is not on this attempt.", status=400)
    if comment.review.reviewer_id != reviewer.pk:
        raise Refused(NOT_YOURS, status=403)


def _check_line(line: int, count: int) -> None:
    if isinstance(line, bool) or not isinstance(line, int):
        raise Refused("Say which line the comment is on, by its number.", status=400)
    if count == 0:
        raise Refused("There is no code to comment on: the candidate saved none for this drill.", status=400)
    if not 1 <= line <= count:
        raise Refused(
            f"Line {line} does not exist: this code has {count} line{'s' if count != 1 else ''} (1 to {count}).",
            status=400,
        )


def _check_body(body: str) -> str:
    if not isinstance(body, str):
        raise Refused("A comment is text.", status=400)
    if len(body) > LineComment.MAX_BODY:
        raise Refused(
            f"This comment is {len(body):,} characters long; the limit is {LineComment.MAX_BODY:,}. Nothing was saved.",
            status=413,
        )
    if "\x00" in body:
        # PostgreSQL refuses NUL in text columns: a message instead of a database error.
        raise Refused("This text contains a NUL character, which cannot be stored.", status=400)
    body = body.strip()
    if not body:
        raise Refused("Write the comment first: it is empty.", status=400)
    return body
