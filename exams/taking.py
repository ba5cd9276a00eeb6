"""The rules of taking an exam: saving answers and revealing model answers.

Both run inside a transaction that locks the attempt row, so a save and a
reveal of the same item (or a save and the deadline's finalization) cannot
interleave: whichever comes second sees what the first did.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Q
from django.utils import timezone

from exams.models import Answer, AnswerOpening, Attempt, Item, Reveal


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


def check_writable(attempt: Attempt, now: datetime, refused: str = "this change was not saved") -> None:
    """Refuse (403) once the deadline has passed or the attempt has ended;
    `refused` says what did not happen."""
    if attempt.status == Attempt.Status.EXPIRED or (attempt.is_open and not attempt.accepts_writes(now)):
        raise Refused(f"Time is up: the deadline has passed, so {refused}.", status=403)
    if not attempt.is_open:
        raise Refused(f"This attempt has been submitted, so {refused}.", status=403)


LOCKED_BY_REVEAL = "You revealed the model answer for this item, so its answer is locked."
WITHHELD = (
    "Your timed attempt of this exam is in progress: until it ends, your practice attempts of this exam "
    "neither show nor reveal model answers."
)


def answers_withheld(attempt: Attempt, now: datetime | None = None) -> bool:
    """True for a practice attempt whose owner has a timed attempt of the same
    exam in progress: until that ends, the practice attempt neither reveals
    nor shows model answers, so none can be copied into the timed one.
    A timed attempt past its deadline is finalized here, and then holds
    nothing back."""
    if attempt.is_timed:
        return False
    timed = Attempt.objects.filter(
        user_id=attempt.user_id, exam_id=attempt.exam_id, mode=Attempt.Mode.TIMED, status=Attempt.Status.IN_PROGRESS
    ).only("pk", "status", "deadline")
    return any(not other.finalize_if_expired(now) for other in timed)


def seen_before(user, item_hashes: Iterable[str], *, before: Attempt | None = None) -> set[str]:
    """The content hashes (`Item.content_hash`) among `item_hashes` whose
    model answer `user` saw in an attempt other than `before`.

    Seen means revealed during an attempt (a `Reveal`) or opened on an ended
    attempt's results page (an `AnswerOpening`); for attempts that ended
    before answers were opened one at a time, a results page that showed
    them all (`Attempt.answers_shown_at`). Hashes are equal for the same item
    in every exam version and exam, so an answer seen in one version counts
    in the next. With `before`, only what was seen before `before` ended
    counts (anything until now while it is open), so a timed attempt's marks
    never change once it is over; without it, everything ever seen counts.

    The timed attempt page and its results mark these items "seen before";
    leaderboards score them zero. One query: a union of the three sources.
    """
    hashes = {h for h in item_hashes if h}
    if not hashes:
        return set()
    reveals = Reveal.objects.filter(attempt__user=user, item__content_hash__in=hashes)
    openings = AnswerOpening.objects.filter(attempt__user=user, item__content_hash__in=hashes)
    shown_in = Attempt.objects.filter(user=user, answers_shown_at__isnull=False)
    if before is not None:
        reveals = reveals.exclude(attempt_id=before.pk)
        openings = openings.exclude(attempt_id=before.pk)
        shown_in = shown_in.exclude(pk=before.pk)
        if before.finalized_at is not None:
            reveals = reveals.filter(revealed_at__lt=before.finalized_at)
            openings = openings.filter(opened_at__lt=before.finalized_at)
            shown_in = shown_in.filter(answers_shown_at__lt=before.finalized_at)
    shown = Item.objects.filter(content_hash__in=hashes, version_id__in=shown_in.values("version_id"))
    revealed = reveals.order_by().values_list("item__content_hash", flat=True)
    opened = openings.order_by().values_list("item__content_hash", flat=True)
    return set(revealed.union(opened, shown.order_by().values_list("content_hash", flat=True)))


def open_answer(attempt: Attempt, item: Item, now: datetime | None = None) -> AnswerOpening:
    """Record that the candidate opened `item`'s model answer on the results
    page of their ended attempt (once per item): what later timed attempts
    count as seen. Allowed where the exam's policy shows answers after the
    attempt, and not while a timed attempt of the exam is in progress."""
    now = now or timezone.now()
    attempt.finalize_if_expired(now)
    if attempt.is_open:
        raise Refused("Model answers open on the results page once the attempt has ended.", status=409)
    if item.kind == Item.Kind.TEXT:
        raise Refused("Reading items have no model answer.", status=400)
    if not attempt.reveal_allowed():
        policy = attempt.version.get_reveal_policy_display().lower()
        raise Refused(f"Model answers for this exam are shown {policy}.", status=403)
    if answers_withheld(attempt, now):
        raise Refused(WITHHELD, status=403)
    opening, _ = AnswerOpening.objects.get_or_create(attempt=attempt, item=item, defaults={"opened_at": now})
    return opening


@contextmanager
def writing(attempt: Attempt, item: Item, now: datetime, locked: str = LOCKED_BY_REVEAL) -> Iterator[Attempt]:
    """A transaction in which `item`'s answers may change: the attempt row is
    locked (so saves, reveals, runs and the deadline's finalization of one
    attempt happen one after another), the deadline has not passed and no
    reveal locks the item. Yields the locked attempt."""
    # Outside the transaction below, so a refusal does not roll it back.
    attempt.finalize_if_expired(now)
    with transaction.atomic():
        attempt = _lock(attempt)
        check_writable(attempt, now)
        if is_locked(attempt, item):
            raise Refused(locked, status=403)
        yield attempt


def check_length(content: str) -> None:
    """Refuse (413) an answer part over `Answer.MAX_BYTES` bytes of UTF-8."""
    size = len(content.encode("utf-8", errors="surrogatepass"))
    if size > Answer.MAX_BYTES:
        raise Refused(
            f"This answer is {size:,} bytes long (in UTF-8; accented letters and symbols take 2 to 4 bytes each); "
            f"the limit is {Answer.MAX_BYTES:,} bytes. Nothing was saved.",
            status=413,
        )


def save_answer(
    attempt: Attempt, item: Item, part: str, content: str, base_revision: int, now: datetime | None = None
) -> Saved:
    """Store `content` if the candidate's copy was based on the latest revision.

    A stale `base_revision` means another tab saved in between: refuse rather
    than overwrite what the server already accepted.
    """
    now = now or timezone.now()
    check_length(content)
    with writing(attempt, item, now) as attempt:
        return store_answer(attempt, item, part, content, base_revision, now)


def quick_save(
    attempt_pk: int, user_id: int, item_pk: int, part: str, content: str, base_revision: int, *, now=None
) -> Saved | None:
    """The common autosave, of an answer already stored, in two statements:
    lock the attempt if it is `user_id`'s, open and before its deadline (with
    the grace); write if `base_revision` is the stored one and no reveal locks
    the item. The same conditions as `save_answer`, under the same row lock,
    without first loading the attempt and the item; that an answer row exists
    already says its item and part are valid. None when any of it does not
    hold, having written nothing: `save_answer` then finds which, and says so
    (and ends an attempt past its deadline)."""
    if base_revision < 1 or len(content.encode("utf-8", errors="surrogatepass")) > Answer.MAX_BYTES:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        writable = Q(deadline__isnull=True) | Q(deadline__gte=now - Attempt.GRACE)
        # Two columns rather than two whole rows: this is the hottest query of an exam.
        locked = (
            Attempt.objects.select_for_update(of=("self",))
            .filter(writable, pk=attempt_pk, user_id=user_id, status=Attempt.Status.IN_PROGRESS)
            .values_list("mode", "version__reveal_policy")
            .first()
        )
        if locked is None:
            return None
        answers = Answer.objects.filter(attempt_id=attempt_pk, item_id=item_pk, part=part, revision=base_revision)
        if Attempt.reveal_locks_in(*locked):
            answers = answers.filter(~Exists(Reveal.objects.filter(attempt_id=attempt_pk, item_id=item_pk)))
        if not answers.update(content=content, revision=F("revision") + 1, saved_at=now):
            return None
    return Saved(base_revision + 1, now)


def store_answer(attempt: Attempt, item: Item, part: str, content: str, base_revision: int, now: datetime) -> Saved:
    """The conditional write of an answer; call it inside `writing`."""
    if base_revision == 0:
        try:
            with transaction.atomic():
                Answer.objects.create(attempt=attempt, item=item, part=part, content=content, revision=1, saved_at=now)
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
    """Record that `user` revealed `item`'s model answer (once per item).

    Like a save, only while the attempt is open and before its deadline: a
    reveal record is what reviewers read as "saw the answer while answering".
    Once an attempt has ended, the answers its policy shows are on its
    results page, which records no reveal.
    """
    now = now or timezone.now()
    attempt.finalize_if_expired(now)
    with transaction.atomic():
        attempt = _lock(attempt)
        check_writable(attempt, now, refused="the model answer was not revealed")
        if not attempt.reveal_allowed():
            policy = attempt.version.get_reveal_policy_display().lower()
            raise Refused(f"Model answers for this exam are shown {policy}; not now.", status=403)
        if answers_withheld(attempt, now):
            raise Refused(WITHHELD, status=403)
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
