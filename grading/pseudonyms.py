"""Anonymous marking: who the review flow names, and the pseudonym it shows instead.

A candidate is hidden from a reviewer when the attempt's exam version asks
for anonymous marking (pack key `anonymous_marking`) or the reviewer turned
the option on in their queue (kept in the session), until the review is
final: the reviewer's own review of the attempt, or every review the
attempt takes. The pseudonym is an HMAC of (exam, candidate) under
SECRET_KEY: the same candidate is the same "Candidate 4F7KQ" on every page
and every attempt of one exam, a different one in another exam, and the
page holds nothing that leads back to the user (no id, no username).
Rotating SECRET_KEY changes every pseudonym.
"""

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest

from exams.models import Attempt
from grading.models import Review

SESSION_KEY = "review_anonymous"
# No 0/O, 1/I/L, so a pseudonym read aloud or copied by hand stays one.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Five characters: 31**5 (28 million) keeps two candidates of one exam from
# sharing a pseudonym (about 1 in 5,000 for a hundred candidates; four
# characters would make it 1 in 200).
LENGTH = 5


def pseudonym(exam_id: int, user_id: int) -> str:
    """The stable, non-reversible name of a candidate in one exam."""
    message = f"anonymous-marking:{exam_id}:{user_id}".encode()
    number = int.from_bytes(hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()[:8], "big")
    code = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        code.append(ALPHABET[index])
    return "Candidate " + "".join(code)


def queue_option(request: HttpRequest) -> bool:
    """The reviewer turned on anonymous marking in their queue (this session)."""
    return bool(request.session.get(SESSION_KEY, False))


def set_queue_option(request: HttpRequest, on: bool) -> None:
    request.session[SESSION_KEY] = on


def names_hidden(request: HttpRequest, anonymous_version: bool, *, own_final: bool, complete: bool) -> bool:
    """Whether to show a pseudonym: anonymity is on (the version's default or
    the queue option) and the review is not final yet, neither the viewer's
    own nor every review the attempt takes."""
    return (anonymous_version or queue_option(request)) and not (own_final or complete)


def candidate_label(attempt: Attempt, hidden: bool) -> str:
    return pseudonym(attempt.exam_id, attempt.user_id) if hidden else attempt.user.get_username()


def label_for(request: HttpRequest, attempt: Attempt, own: Review | None = None, *, own_known=True) -> tuple[str, bool]:
    """(what to call the candidate, whether that is a pseudonym) on a page
    about one attempt; `own` is the viewer's review of it, if any (looked
    up when `own_known` is False)."""
    on = attempt.version.anonymous_marking or queue_option(request)
    if not on:
        return attempt.user.get_username(), False
    if not own_known:
        own = Review.objects.filter(attempt_id=attempt.pk, reviewer_id=request.user.pk).first()
    own_final = own is not None and own.is_final
    complete = (
        not own_final
        and Review.objects.filter(attempt_id=attempt.pk, status=Review.Status.FINAL).count()
        >= attempt.version.reviews_required
    )
    hidden = names_hidden(request, attempt.version.anonymous_marking, own_final=own_final, complete=complete)
    return candidate_label(attempt, hidden), hidden
