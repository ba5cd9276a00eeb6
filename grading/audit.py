"""The one place the audit log is written: `record(actor, action, target, **details)`.

Callers record inside the transaction of the change they log, so an event
is stored exactly when its change commits, and a refused request (which
raises before it writes) leaves no event. Reveals are recorded by a
`post_save` receiver (connected in grading.apps), because exams/ may not
call up into grading/.
"""

from datetime import datetime

from django.db import models

from exams.models import AnswerOpening, Attempt, Reveal
from grading.models import AuditEvent, Team

Action = AuditEvent.Action


def record(
    actor,
    action: str,
    target: models.Model | None,
    *,
    team: Team | int | None = None,
    attempt: Attempt | int | None = None,
    at: datetime | None = None,
    **details,
) -> AuditEvent:
    """Store who (`actor`: a user, or None for the system) did `action` to
    `target` (any model instance), with `details` (JSON: numbers, text,
    dates, decimals). The team and the attempt are taken from the target
    when it is one, or has one, unless given."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    if team is None:
        team = _related_id(target, Team, "team_id")
    if attempt is None:
        attempt = _related_id(target, Attempt, "attempt_id")
    event = AuditEvent(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        details=details,
    )
    event.team_id = team.pk if isinstance(team, Team) else team
    event.attempt_id = attempt.pk if isinstance(attempt, Attempt) else attempt
    if at is not None:
        event.at = at
    event.save()
    return event


def _related_id(target, model: type[models.Model], field: str) -> int | None:
    if isinstance(target, model):
        return target.pk
    return getattr(target, field, None)


def record_reveal(sender, instance: Reveal, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of exams.Reveal: a new reveal is an event (a reveal is
    stored once per item and never updated; fixtures loaded raw are not
    anyone's act)."""
    if not created or raw:
        return
    record(
        instance.user,
        Action.REVEAL,
        instance,
        attempt=instance.attempt_id,
        at=instance.revealed_at,
        item=instance.item.slug,
        had_answer=instance.had_answer,
    )


def record_opening(sender, instance: AnswerOpening, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of exams.AnswerOpening: the candidate opened a model answer
    on the results page of an ended attempt (it counts as seen in later
    timed attempts)."""
    if not created or raw:
        return
    record(
        instance.attempt.user,
        Action.ANSWER_OPENED,
        instance,
        attempt=instance.attempt_id,
        at=instance.opened_at,
        item=instance.item.slug,
    )
