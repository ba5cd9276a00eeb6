from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from exams.importer import store_exam
from exams.loader import PackInvalid, load_packs


def pack_folders(paths: list[str]) -> list[Path]:
    """The pack folders named: a pack itself, or a folder of packs."""
    if not paths:
        paths = [str(settings.EXAM_PACKS_DIR)]
    folders = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not (path / "exam.md").exists():
            children = sorted(p for p in path.iterdir() if (p / "exam.md").is_file())
            if children:
                folders.extend(children)
                continue
        folders.append(path)
    return folders


class Command(BaseCommand):
    help = (
        "Validate exam packs and store each as an immutable exam version. Same content is a "
        "no-op; changed content becomes a new version. All packs or none are stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="pack folders (default: the shipped packs)")
        parser.add_argument("--check", action="store_true", help="validate only; write nothing")

    def handle(self, *args, paths: list[str], check: bool, **options):
        try:
            exams = load_packs(pack_folders(paths))
        except PackInvalid as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            count = len(exc.errors)
            raise CommandError(f"{count} problem{'s' if count != 1 else ''} found; nothing was written.") from None
        if check:
            for exam in exams:
                self.stdout.write(f"{exam.slug}: ok ({sum(len(s.items) for s in exam.sections)} items)")
            return
        with transaction.atomic():
            outcomes = [store_exam(exam) for exam in exams]
        for outcome in outcomes:
            version = outcome.version
            if outcome.created:
                state = f"imported as version {version.number}"
            elif outcome.activated:
                state = f"unchanged content; version {version.number} made current again"
            else:
                state = f"unchanged (version {version.number})"
            self.stdout.write(f"{version.exam.slug}: {state} [{version.content_hash[:12]}]")
