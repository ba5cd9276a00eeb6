import time

from django.core.management.base import BaseCommand, CommandError

from exams.models import Exam
from grading.models import Submission
from grading.submitting import regrade


class Command(BaseCommand):
    help = (
        "Grade every finished submission of an exam again, on the bulk (low-priority) queue. "
        "Each submission keeps its earlier results for comparison."
    )

    def add_arguments(self, parser):
        parser.add_argument("--exam", required=True, help="exam slug")
        parser.add_argument("--drill", help="only this drill's submissions (slug)")
        parser.add_argument(
            "--wait", type=int, default=0, metavar="SECONDS", help="wait up to this long, then compare old and new"
        )

    def handle(self, *args, exam: str, drill: str | None, wait: int, **options):
        if not Exam.objects.filter(slug=exam).exists():
            known = ", ".join(Exam.objects.values_list("slug", flat=True)) or "none (run import_exams)"
            raise CommandError(f"unknown exam {exam!r} (known: {known})")
        submissions = Submission.objects.filter(attempt__exam__slug=exam)
        if drill:
            submissions = submissions.filter(item__slug=drill)
        queued = regrade(submissions)
        self.stdout.write(
            f"{len(queued)} submission(s) of {exam} queued for regrading on the {Submission.REGRADE_QUEUE!r} queue."
        )
        if wait and queued:
            self._compare(queued, wait)

    def _compare(self, pks: list[int], wait: int) -> None:
        rows = Submission.objects.filter(pk__in=pks)
        deadline = time.monotonic() + wait
        pending = rows.filter(status__in=Submission.PENDING)
        while pending.exists():
            if time.monotonic() > deadline:
                raise CommandError(f"{pending.count()} submission(s) still being regraded after {wait} s")
            time.sleep(0.5)
        changed = 0
        for submission in rows.select_related("item", "attempt__user").order_by("pk"):
            before = submission.earlier_results[-1]
            if (before["passed"], before["score"], before["status"]) != (
                submission.passed,
                submission.score,
                submission.status,
            ):
                changed += 1
                self.stdout.write(
                    f"  submission {submission.pk} ({submission.attempt.user}, {submission.item.slug}): "
                    f"{before['passed']}/{before['total']} {before['score']} -> "
                    f"{submission.passed}/{submission.total} {submission.score}"
                )
        self.stdout.write(f"{len(pks)} regraded: {len(pks) - changed} unchanged, {changed} changed.")
