import os
import textwrap
from pathlib import Path

import pytest
from django.conf import settings as django_settings

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
HIDDEN_MARKER = "zebra-quartz-hidden-marker"


def need_service(name: str, available: bool, why: str) -> None:
    """Skip a test whose service is missing, or fail it under REQUIRE_SERVICES=1 (CI)."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but {why}")
    pytest.skip(f"{name}: {why}")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_throttle_counts(monkeypatch):
    """Each test counts failed log-ins and sign-ups from zero, even in a Redis
    cache that outlives the test (and the run)."""
    from uuid import uuid4

    monkeypatch.setattr("exams.throttle.KEY_PREFIX", f"throttle-test-{uuid4().hex}")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


class PackBuilder:
    """A small valid exam pack in a temporary folder, for tests to break."""

    def __init__(self, root: Path, slug: str = "mini-exam"):
        self.root = root / slug
        write(
            self.root / "exam.md",
            """
            ---
            title: Mini exam
            summary: A small exam used by the tests.
            duration_minutes: 30
            reveal_policy: on_demand
            rubric:
              strong:
                - text: Names the metric
                  points: 2
              weak:
                - text: Ignores the tail
                  points: -1
            ---
            Read each item carefully.
            """,
        )
        write(
            self.root / "01-basics" / "section.md",
            """
            ---
            title: Basics
            ---
            Some **reading** first.
            """,
        )
        write(
            self.root / "01-basics" / "01-first.md",
            f"""
            ---
            title: First question
            kind: question
            points: 4
            ---
            What is a p99?

            ## Model answer

            The 99th percentile. {HIDDEN_MARKER}
            """,
        )
        drill = self.root / "02-coding" / "01-add"
        write(self.root / "02-coding" / "section.md", "---\ntitle: Coding\n---\n")
        write(
            drill / "item.md",
            """
            ---
            title: Add two numbers
            kind: drill
            entry_point: add
            rubric:
              strong:
                - text: Tests negative numbers
                  points: 2
            ---
            Write `add(a, b)`.

            ## Written part

            Which cases would you test?

            ## Model answer

            Negative numbers and zero.
            """,
        )
        write(drill / "starter.py", "def add(a, b):\n    raise NotImplementedError\n")
        write(drill / "solution.py", "def add(a, b):\n    return a + b\n")
        write(
            drill / "cases.jsonl",
            """
            # samples
            {"category": "basics", "args": [1, 2], "expected": 3, "visible": true}
            {"category": "basics", "args": [-1, 1], "expected": 0}
            {"category": "large", "args": [1000000, 1]}
            """,
        )

    @property
    def drill(self) -> Path:
        return self.root / "02-coding" / "01-add"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write(self, relative: str, text: str) -> Path:
        return write(self.root / relative, text)


@pytest.fixture
def people(db):
    """Teams T and U with their members and reviewers, and staff: the cast of
    the review tests (tests/review_support.team_people)."""
    from tests.review_support import team_people  # it imports this module

    return team_people()


@pytest.fixture
def pack(tmp_path) -> PackBuilder:
    return PackBuilder(tmp_path)


@pytest.fixture
def shipped_packs(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("import_exams", stdout=StringIO())


SHIPPED_SLUGS = sorted(p.name for p in Path(django_settings.EXAM_PACKS_DIR).iterdir() if (p / "exam.md").is_file())


@pytest.fixture
def mini_exam(db, pack):
    """The PackBuilder exam, imported; returns the Exam."""
    from io import StringIO

    from django.core.management import call_command

    from exams.models import Exam

    call_command("import_exams", str(pack.root), stdout=StringIO())
    return Exam.objects.select_related("current_version").get(slug="mini-exam")


@pytest.fixture
def personas(db):
    """The candidate, another candidate, and staff."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    User = get_user_model()
    return SimpleNamespace(
        candidate=User.objects.create_user("alice", password="pw"),
        other=User.objects.create_user("mallory", password="pw"),
        staff=User.objects.create_user("sam", password="pw", is_staff=True),
    )


@pytest.fixture
def attempt(mini_exam, personas):
    """The candidate's timed attempt of the mini exam, just started (modules
    that need another attempt define their own)."""
    from exams.models import Attempt

    attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    return attempt


@pytest.fixture
def drill(attempt):
    """The mini exam's drill, `add(a, b)`, in that attempt's version."""
    return attempt.version.items.get(slug="add")


@pytest.fixture
def candidate_client(client, personas):
    client.force_login(personas.candidate)
    return client


@pytest.fixture
def eager_grading():
    """Grading runs in-process through the sandbox, as with no REDIS_URL, even
    where CI has set one (tests that need a real worker start their own)."""
    from examsite.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
