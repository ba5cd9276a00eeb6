"""Demo accounts, a team and one finished attempt, so a newcomer can try the
whole loop at once: the candidate's answers, the reviewer's queue, the score."""

import random
import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from exams.models import Accommodation, Answer, Attempt, Exam, Item, Reveal, RubricCriterion
from grading import reviewing, self_assessment
from grading.models import Membership, Team

DEMO_ACCOUNTS = [
    # username, role, is_staff, is_superuser
    ("candidate", "candidate", False, False),
    ("reviewer", "reviewer", False, False),
    ("admin", "administrator", True, True),
]
DEMO_TEAM = ("demo-team", "Demo team")
DEMO_EXAM = "serving-reliability"
# Demo peers for the leaderboard and the charts: name, how likely they meet a strong signal.
DEMO_PEER_PREFIX = "demo-"
DEMO_PEERS = [("avery", 0.75), ("blake", 0.6), ("casey", 0.5), ("drew", 0.4), ("emery", 0.3), ("quinn", 0.55)]
DEMO_EXTRA_TIME = {"emery": Decimal("1.50")}  # an accommodation: marked on the leaderboard, not penalized
DEMO_PEEKS = {"drew"}  # reveals one model answer before answering: that item counts zero on the leaderboard
DEMO_SEED = 20261121
# Double marking: an exam whose pack takes two reviews, a second demo reviewer,
# and two attempts they both mark (one small disagreement: the mean counts;
# one large: it waits for an adjudicator, such as 'admin').
DEMO_DOUBLE_EXAM = "production-debugging"
DEMO_SECOND_REVIEWER = "demo-rowan"

# The demo candidate's answers, by item slug: a mixed attempt, some parts
# strong and some weak, so a review has something to tell apart.
DEMO_ANSWERS = {
    "readiness": (
        "Accuracy readiness asks whether the model is good enough on the slices we expect: languages, accents, "
        "noisy rooms, cheap microphones. Serving readiness asks whether the whole service can deliver that "
        "quality to live users within its latency and availability targets, at a cost we can pay, with a way "
        "back when a release goes wrong. A model can win offline and still not be ready, for example when it "
        "needs more GPU memory per stream than the fleet has at peak."
    ),
    "tail-latency-regression": (
        "First I would check what changed: the last deploys, config pushes and traffic mix. Then compare p50 "
        "with p99 by stage to see where the tail comes from. I would roll back the most recent release if it "
        "lines up with the start of the regression."
    ),
    "closing-summary": "I would restate the SLOs, the main risks and the rollback plan in two minutes.",
}
DEMO_CODE = {
    "peak-streams": (
        "def peak_concurrent_streams(intervals):\n"
        "    events = []\n"
        "    for start, end in intervals:\n"
        "        events.append((start, 1))\n"
        "        events.append((end, -1))\n"
        "    # At equal times the -1 (an end) sorts before the +1 (a start).\n"
        "    events.sort()\n"
        "    active = peak = 0\n"
        "    for _, change in events:\n"
        "        active += change\n"
        "        peak = max(peak, active)\n"
        "    return peak\n"
    ),
}
DEMO_WRITTEN = {
    "peak-streams": (
        "Sweep over start and end events in time order; ends come first at equal times so touching calls do "
        "not overlap. Tests: empty list, touching intervals, nested ones. O(n log n) for the sort."
    ),
}


class Command(BaseCommand):
    help = (
        "Create the missing demo accounts (printing their passwords once), the demo team and an attempt to review; "
        "--reset-passwords gives the three demo accounts new passwords and prints them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set and print new passwords for the demo accounts (for when the printed ones are lost).",
        )

    def handle(self, *args, reset_passwords: bool = False, **options):
        User = get_user_model()
        for username, role, is_staff, is_superuser in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            user = User.objects.filter(username=username).first()
            if user is None:
                User.objects.create_user(
                    username=username,
                    email=f"{username}@example.com",
                    password=password,
                    is_staff=is_staff,
                    is_superuser=is_superuser,
                )
            elif reset_passwords:
                user.set_password(password)
                user.save(update_fields=["password"])
            else:
                self.stdout.write(f"{role}: '{username}' already exists (password unchanged)")
                continue
            self.stdout.write(self.style.SUCCESS(f"{role}: username '{username}', password '{password}'"))
        if reset_passwords:
            self.stdout.write("New passwords are set; the old ones no longer work.")
        else:
            self.stdout.write(
                "Passwords are shown only when an account is created; keep them "
                "(lost them? run create_demo_accounts --reset-passwords)."
            )
        candidate = User.objects.get(username="candidate")
        reviewer = User.objects.get(username="reviewer")
        team, _ = Team.objects.get_or_create(slug=DEMO_TEAM[0], defaults={"name": DEMO_TEAM[1]})
        Membership.objects.get_or_create(team=team, user=reviewer, defaults={"role": Membership.Role.REVIEWER})
        Membership.objects.get_or_create(team=team, user=candidate, defaults={"role": Membership.Role.MEMBER})
        self.stdout.write(f"team '{team.name}': 'reviewer' reviews the attempts of 'candidate'")
        exam = Exam.objects.filter(slug=DEMO_EXAM, current_version__isnull=False).first()
        if exam is None:
            self.stdout.write(f"no demo attempts: the exam '{DEMO_EXAM}' is not imported (run import_exams)")
            return
        if self._seed_history(exam, team, candidate, reviewer):
            self.stdout.write(
                f"demo history: {len(DEMO_PEERS)} demo users ('{DEMO_PEER_PREFIX}...', no password) and 'candidate' "
                f"have reviewed timed attempts: see the team's leaderboard and 'candidate''s progress page"
            )

        if self._seed_double_marking(team, reviewer):
            self.stdout.write(
                f"double marking: 'reviewer' and '{DEMO_SECOND_REVIEWER}' both marked two attempts of "
                f"'{DEMO_DOUBLE_EXAM}'; staff see their agreement at /review/agreement/ and adjudicate one"
            )
        attempt = self._finished_attempt(exam, candidate)
        if attempt is not None:
            self.stdout.write(f"a finished attempt of '{DEMO_EXAM}' by 'candidate' waits in the review queue: /review/")

    def _seed_history(self, exam: Exam, team: Team, candidate, reviewer) -> bool:
        """Reviewed timed attempts of demo peers and of the candidate, so the
        leaderboard and the progress charts show data. Only in a database
        with no other users than the demo ones, and only once."""
        User = get_user_model()
        demo_names = [name for name, *_ in DEMO_ACCOUNTS]
        if User.objects.exclude(username__in=demo_names).exists():
            return False  # real users, or the peers already seeded
        rng = random.Random(DEMO_SEED)  # noqa: S311 - demo data, the same on every machine
        now = timezone.now()
        items = list(Item.objects.filter(version=exam.current_version).exclude(kind=Item.Kind.TEXT))
        criteria: dict[int | None, list[RubricCriterion]] = {}
        for criterion in RubricCriterion.objects.filter(version=exam.current_version).order_by("position"):
            criteria.setdefault(criterion.item_id, []).append(criterion)
        people = [(candidate, 3, 0.45)]
        for name, skill in DEMO_PEERS:
            peer = User(username=f"{DEMO_PEER_PREFIX}{name}", first_name="Demo", last_name=name.title())
            peer.set_unusable_password()
            peer.save()
            Membership.objects.create(team=team, user=peer, hide_name=name == "quinn")
            if name in DEMO_EXTRA_TIME:
                Accommodation.objects.create(user=peer, time_multiplier=DEMO_EXTRA_TIME[name], reason="Demo")
            people.append((peer, rng.randint(1, 3), skill))
        for user, count, skill in people:
            for k in range(count):
                started = now - timedelta(days=7 * (count - k) + rng.randint(0, 3), hours=rng.randint(0, 8))
                self._reviewed_attempt(exam, user, reviewer, items, criteria, started, min(0.95, skill + 0.1 * k), rng)
        return True

    def _reviewed_attempt(self, exam, user, reviewer, items, criteria, started, skill: float, rng) -> None:
        if user.username.removeprefix(DEMO_PEER_PREFIX) in DEMO_PEEKS:
            # A practice attempt just before, in which the model answer of the first item was opened.
            practice, _ = Attempt.start(user, exam, Attempt.Mode.PRACTICE, now=started - timedelta(hours=1))
            Reveal.objects.create(
                attempt=practice, item=items[0], user=user, revealed_at=practice.started_at, had_answer=False
            )
            practice.finalize(Attempt.Status.SUBMITTED, now=started - timedelta(minutes=30))
        attempt, _ = Attempt.start(user, exam, Attempt.Mode.TIMED, now=started)
        answered = {None}
        for item in items:
            if rng.random() < 0.15:
                continue  # left unanswered
            answered.add(item)
            Answer.objects.create(
                attempt=attempt,
                item=item,
                content=f"(Demo answer to {item.title.lower()}.)",
                revision=1,
                saved_at=started + timedelta(minutes=10),
            )
        attempt.finalize(Attempt.Status.SUBMITTED, now=started + timedelta(minutes=rng.randint(55, 118)))
        if user.username == "candidate":
            # The demo candidate rates the exam-wide signals after each attempt,
            # a little generously: My progress shows their calibration over time.
            ticked = [c.pk for c in criteria.get(None, []) if (c.points > 0) == (rng.random() < skill + 0.25)]
            self_assessment.assess(attempt, user, None, ticked, now=attempt.finalized_at + timedelta(minutes=5))
        revision = 0
        for item in [*items, None]:
            if item not in answered:
                continue
            ticked = [
                c.pk
                for c in criteria.get(item.pk if item else None, [])
                if (c.points > 0 and rng.random() < skill) or (c.points < 0 and rng.random() > skill + 0.3)
            ]
            review = reviewing.mark(
                attempt, reviewer, item, criteria_ids=ticked, adjustment=Decimal(0), reason="", comment="",
                revision=revision,
            )  # fmt: skip
            revision = review.revision
        reviewing.finalize(attempt, reviewer, revision, now=attempt.finalized_at + timedelta(days=1))

    def _seed_double_marking(self, team: Team, reviewer) -> bool:
        """Two attempts of the double-marked exam, each marked by 'reviewer'
        and a second demo reviewer: one differs on one criterion (the score
        is the mean), the other widely (it needs an adjudicator). Only once,
        and only where the demo peers were seeded (so a demo database made
        before double marking gets them too)."""
        User = get_user_model()
        exam = Exam.objects.filter(slug=DEMO_DOUBLE_EXAM, current_version__reviews_required=2).first()
        peer_names = [f"{DEMO_PEER_PREFIX}{name}" for name, _ in DEMO_PEERS[:2]]
        if exam is None or User.objects.filter(username=DEMO_SECOND_REVIEWER).exists():
            return False
        if User.objects.filter(username__in=peer_names).count() < len(peer_names):
            return False
        second = User(username=DEMO_SECOND_REVIEWER, first_name="Demo", last_name="Rowan")
        second.set_unusable_password()
        second.save()
        Membership.objects.create(team=team, user=second, role=Membership.Role.REVIEWER)
        items = list(Item.objects.filter(version=exam.current_version).exclude(kind=Item.Kind.TEXT))
        strong: dict[int | None, list[int]] = {}
        for criterion in RubricCriterion.objects.filter(version=exam.current_version, points__gt=0).order_by(
            "position", "pk"
        ):
            strong.setdefault(criterion.item_id, []).append(criterion.pk)
        # The one criterion the two reviewers disagree on: the last strong signal of the first item with two.
        disputed = next(item.pk for item in items if len(strong.get(item.pk, [])) > 1)
        # Two peers' attempts (the candidate's own attempts stay those the other demos describe).
        peers = [User.objects.get(username=name) for name in peer_names]
        for user, wide in ((peers[0], False), (peers[1], True)):
            started = timezone.now() - timedelta(days=2, hours=3)
            attempt, _ = Attempt.start(user, exam, Attempt.Mode.PRACTICE, now=started)
            for item in items:
                Answer.objects.create(
                    attempt=attempt, item=item, content=f"(Demo answer to {item.title.lower()}.)", revision=1,
                    saved_at=started + timedelta(minutes=20),
                )  # fmt: skip
            attempt.finalize(Attempt.Status.SUBMITTED, now=started + timedelta(minutes=80))
            first_ticks = {part: ids[: max(1, len(ids) - 1)] for part, ids in strong.items()}
            if wide:
                second_ticks = {part: ids[-1:] for part, ids in strong.items()}
            else:
                second_ticks = {**first_ticks, disputed: strong[disputed]}
            for marker, ticks, day in ((reviewer, first_ticks, 1), (second, second_ticks, 2)):
                revision = 0
                for item in [*items, None]:
                    part = item.pk if item else None
                    review = reviewing.mark(
                        attempt, marker, item, criteria_ids=ticks.get(part, []), adjustment=Decimal(0), reason="",
                        comment="", revision=revision, now=attempt.finalized_at + timedelta(hours=day),
                    )  # fmt: skip
                    revision = review.revision
                reviewing.finalize(attempt, marker, revision, now=attempt.finalized_at + timedelta(days=day))
        return True

    def _finished_attempt(self, exam: Exam, candidate) -> Attempt | None:
        """One finished practice attempt to review, made once."""
        if Attempt.objects.filter(user=candidate, exam=exam, mode=Attempt.Mode.PRACTICE).exists():
            return None
        # As if taken over the last 47 minutes, so the results show a real duration.
        started = timezone.now() - timedelta(minutes=47)
        with transaction.atomic():
            attempt, _ = Attempt.start(candidate, exam, Attempt.Mode.PRACTICE, now=started)
            items = {item.slug: item for item in Item.objects.filter(version=attempt.version)}
            for slugs, part in (
                (DEMO_ANSWERS, Answer.Part.TEXT),
                (DEMO_WRITTEN, Answer.Part.TEXT),
                (DEMO_CODE, Answer.Part.CODE),
            ):
                for slug, content in slugs.items():
                    if slug in items:
                        Answer.objects.create(
                            attempt=attempt,
                            item=items[slug],
                            part=part,
                            content=content,
                            revision=1,
                            saved_at=started + timedelta(minutes=5),
                        )
        # Ending it grades the drill's code (in-process without a broker) and stores a provisional score.
        attempt.finalize(Attempt.Status.SUBMITTED)
        return attempt
