import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_ACCOUNTS = [
    # username, role, is_staff, is_superuser
    ("candidate", "candidate", False, False),
    ("reviewer", "reviewer", False, False),
    ("admin", "administrator", True, True),
]


class Command(BaseCommand):
    help = "Create the demo accounts that are missing and print their passwords once."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, role, is_staff, is_superuser in DEMO_ACCOUNTS:
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"{role}: '{username}' already exists (password unchanged)")
                continue
            password = secrets.token_urlsafe(12)
            User.objects.create_user(
                username=username,
                email=f"{username}@example.com",
                password=password,
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
            self.stdout.write(self.style.SUCCESS(f"{role}: username '{username}', password '{password}'"))
        self.stdout.write("Passwords are shown only when an account is created; keep them.")
