from django.core.management.base import BaseCommand

from exams.taking import finalize_expired


class Command(BaseCommand):
    help = "End every attempt past its deadline (for deployments without Celery beat; run from cron)."

    def handle(self, *args, **options):
        ended = finalize_expired()
        self.stdout.write(f"{ended} attempt{'s' if ended != 1 else ''} ended at the deadline.")
