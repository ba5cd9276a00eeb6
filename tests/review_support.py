"""What the tests of the review pages share: an exam whose question has a
rubric, the people of two teams, finished attempts, and a snapshot of
everything reviewing may write."""

import re
from html import unescape
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.forms.models import model_to_dict

from exams.models import Answer, Attempt, Exam, Item, RubricCriterion
from grading.models import AttemptScore, ItemScore, Mark, Membership, Review, ReviewEvent, Team
from tests.conftest import HIDDEN_MARKER, PackBuilder

HTMX = {"HTTP_HX_REQUEST": "true"}

# The PackBuilder question with a rubric of its own, so marks can tick an
# item's criteria (the drill's written part has one criterion, Overall two).
QUESTION_WITH_RUBRIC = f"""
---
title: First question
kind: question
points: 4
rubric:
  strong:
    - text: Defines the percentile
      points: 2
    - text: Gives a latency example
      points: 2
  weak:
    - text: Confuses it with the mean
      points: -1
---
What is a p99?

## Model answer

The 99th percentile. {HIDDEN_MARKER}
"""


def review_pack(root: Path, slug: str = "mini-exam") -> PackBuilder:
    pack = PackBuilder(root, slug=slug)
    pack.write("01-basics/01-first.md", QUESTION_WITH_RUBRIC)
    return pack


def import_pack(pack: PackBuilder) -> Exam:
    call_command("import_exams", str(pack.root), stdout=StringIO())
    return Exam.objects.select_related("current_version").get(slug=pack.root.name)


def set_policy(pack: PackBuilder, policy: str) -> Exam:
    """Re-import the pack with another reveal policy (a new version)."""
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", f"reveal_policy: {policy}")
    pack.path("exam.md").write_text(text)
    return import_pack(pack)


def team_people() -> SimpleNamespace:
    """The candidate is a plain member of team T; U is another team. Staff is in no team."""
    User = get_user_model()
    people = SimpleNamespace(
        candidate=User.objects.create_user("alice", password="pw"),
        member_u=User.objects.create_user("mallory", password="pw"),
        reviewer_u=User.objects.create_user("ursula", password="pw"),
        reviewer_t=User.objects.create_user("rita", password="pw"),
        owner_t=User.objects.create_user("otto", password="pw"),
        staff=User.objects.create_user("sam", password="pw", is_staff=True),
    )
    people.t = Team.objects.create(name="Team T", slug="t")
    people.u = Team.objects.create(name="Team U", slug="u")
    Role = Membership.Role
    Membership.objects.create(team=people.t, user=people.candidate)
    Membership.objects.create(team=people.t, user=people.reviewer_t, role=Role.REVIEWER)
    Membership.objects.create(team=people.t, user=people.owner_t, role=Role.OWNER)
    Membership.objects.create(team=people.u, user=people.member_u)
    Membership.objects.create(team=people.u, user=people.reviewer_u, role=Role.REVIEWER)
    return people


def finished_attempt(user, exam: Exam, answers: dict[str, str] | None = None) -> Attempt:
    """A submitted practice attempt with a text answer per item slug."""
    attempt, _ = Attempt.start(user, exam, Attempt.Mode.PRACTICE)
    for slug, text in (answers or {}).items():
        item = attempt.version.items.get(slug=slug)
        Answer.objects.create(attempt=attempt, item=item, part=Answer.Part.TEXT, content=text, revision=1)
    attempt.finalize()
    return attempt


def parts(attempt: Attempt) -> SimpleNamespace:
    """The attempt's items and criteria by what the tests call them."""
    items = {item.slug: item for item in Item.objects.filter(version_id=attempt.version_id)}
    criteria = RubricCriterion.objects.filter(version_id=attempt.version_id)
    question = items["first"]
    return SimpleNamespace(
        question=question,
        drill=items["add"],
        defines=criteria.get(item=question, position=1),
        example=criteria.get(item=question, position=2),
        mean=criteria.get(item=question, position=3),
        drill_criterion=criteria.get(item=items["add"]),
        strong=criteria.get(item=None, points__gt=0),
        weak=criteria.get(item=None, points__lt=0),
    )


def mark_url(attempt: Attempt, item: Item | None) -> str:
    if item is None:
        return f"/review/attempts/{attempt.pk}/overall/mark/"
    return f"/review/attempts/{attempt.pk}/items/{item.pk}/mark/"


def mark_fields(criteria=(), adjustment="0", reason="", comment="", revision=0) -> dict:
    return {
        "criteria": [c.pk for c in criteria],
        "adjustment": adjustment,
        "reason": reason,
        "comment": comment,
        "revision": revision,
    }


def snapshot() -> dict:
    """Everything reviewing may write, to compare before and after a refusal."""
    return {
        "reviews": [model_to_dict(r) for r in Review.objects.order_by("pk")],
        "marks": [model_to_dict(m) for m in Mark.objects.order_by("pk")],
        "events": list(ReviewEvent.objects.order_by("pk").values()),
        "scores": list(AttemptScore.objects.order_by("pk").values()),
        "item_scores": list(ItemScore.objects.order_by("pk").values()),
    }


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Finder(HTMLParser):
    def __init__(self, match):
        super().__init__(convert_charrefs=True)
        self.match = match
        self.depth = 0
        self.open: list[tuple[int, list[str]]] = []  # (depth it started at, its text)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.depth += 1
        if self.match(dict(attrs)):
            self.open.append((self.depth, []))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.open and self.open[-1][0] == self.depth:
            _, parts = self.open.pop()
            self.found.append(" ".join("".join(parts).split()))
        self.depth -= 1

    def handle_data(self, data):
        for _, parts in self.open:
            parts.append(data)


def texts(html: str, *, id: str | None = None, cls: str | None = None) -> list[str]:
    """The text (whitespace collapsed) of each element with this id or class."""

    def match(attrs: dict) -> bool:
        if id is not None:
            return attrs.get("id") == id
        return cls in (attrs.get("class") or "").split()

    finder = _Finder(match)
    finder.feed(html)
    return finder.found


def text(html: str, **where) -> str:
    """The text of the one element with this id or class (an AssertionError if not exactly one)."""
    found = texts(html, **where)
    assert len(found) == 1, (where, found)
    return found[0]


def page_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
