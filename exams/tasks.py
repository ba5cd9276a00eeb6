from celery import shared_task

from exams.taking import finalize_expired


@shared_task(name="exams.finalize_expired_attempts", ignore_result=True)
def finalize_expired_attempts() -> int:
    """End every attempt past its deadline, so abandoned attempts still end."""
    return finalize_expired()
