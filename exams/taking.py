"""The rules of taking an exam: saving answers and revealing model answers.

Both run inside a transaction that locks the attempt row, so a save and a
reveal of the same item (or a save and the deadline's finalization) cannot
interleave: whichever comes second sees what the first did.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from exams.models import Answer, Attempt, Item, Reveal


class Refused(Exception):
    """A write the rules do not allow; `message` is for the candidate."""

    def __init__(self, message: str, status: int = 409, current_revision: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.current_revision = current_revision


@dataclass
class Saved:
    revision: int
    saved_at: datetime


def _lock(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().select_related("version").get(pk=attempt.pk)


def is_locked(attempt: Attempt, item: Item) -> bool:
    return attempt.reveal_locks() and Reveal.objects.filter(attempt=attempt, item=item).exists()


def check_writable(attempt: Attempt, now: datetime) -> None:
    if attempt.status == Attempt.Status.EXPIRED or (attempt.is_open and not attempt.accepts_writes(now)):
        raise Refused("Time is up: the deadline has passed, so this change was not saved.", status=403)
    if not attempt.is_open:
        raise Refused("This attempt has been submitted; answers can no longer change.", status=403)


def save_answer(
    attempt: Attempt, item: Item, part: str, content: str, base_revision: int, now: datetime | None = None
) -> Saved:
    """Store `content` if the candidate's copy was based on the latest revision.

    A stale `base_revision` means another tab saved in between: refuse rather
    than overwrite what the server already accepted.
    """
    now = now or timezone.now()
    if len(content) > Answer.MAX_LENGTH:
        raise Refused(
            f"This answer is {len(content):,} characters long; the limit is {Answer.MAX_LENGTH:,}. Nothing was saved.",
            status=413,
        )
    # Outside the transaction below, so a refusal does not roll it back.
    attempt.finalize_if_expired(now)
    with transaction.atomic():
        attempt = _lock(attempt)
        check_writable(attempt, now)
        if is_locked(attempt, item):
            raise Refused("You revealed the model answer for this item, so its answer is locked.", status=403)
        if base_revision == 0:
            try:
                with transaction.atomic():
                    Answer.objects.create(
                        attempt=attempt, item=item, part=part, content=content, revision=1, saved_at=now
                    )
                return Saved(1, now)
            except IntegrityError:
                pass  # another tab created it first: fall through to the stale check
        updated = Answer.objects.filter(attempt=attempt, item=item, part=part, revision=base_revision).update(
            content=content, revision=F("revision") + 1, saved_at=now
        )
        if not updated:
            current = Answer.objects.filter(attempt=attempt, item=item, part=part).values_list("revision", flat=True)
            raise Refused(
                "This answer was changed in another tab or window since this page loaded. Your text here was "
                "not saved; copy it, then reload to see the latest version.",
                current_revision=current.first() or 0,
            )
        return Saved(base_revision + 1, now)


def reveal(attempt: Attempt, item: Item, user, now: datetime | None = None) -> Reveal:
    """Record that `user` revealed `item`'s model answer (once per item)."""
    now = now or timezone.now()
    attempt.finalize_if_expired(now)
    with transaction.atomic():
        attempt = _lock(attempt)
        if not attempt.reveal_allowed():
            policy = attempt.version.get_reveal_policy_display().lower()
            raise Refused(f"Model answers for this exam are shown {policy}; not now.", status=403)
        existing = Reveal.objects.filter(attempt=attempt, item=item).first()
        if existing is not None:
            return existing
        had_answer = Answer.objects.filter(attempt=attempt, item=item).exclude(content="").exists()
        return Reveal.objects.create(attempt=attempt, item=item, user=user, revealed_at=now, had_answer=had_answer)


def finalize_expired(now: datetime | None = None) -> int:
    """Finalize every open attempt past its deadline; returns how many ended."""
    now = now or timezone.now()
    ended = 0
    expired = Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, deadline__lt=now - Attempt.GRACE)
    for attempt in expired.only("pk", "status", "deadline"):
        ended += attempt.finalize(Attempt.Status.EXPIRED, now=now)
    return ended
