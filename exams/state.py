"""What a page may show of an attempt's items, built in one place.

Pages never get `Item` instances: they get `ItemState`s, copied from the
public fields of each item, with the candidate's answers and reveals. The
model answer and reference solution are loaded, in their own query, only for
the items whose answer the rules let this viewer see, and copied into
`ItemState.model`; for every other item they are never read from the
database, so no template, fragment or later change can print them
(invariant 1).

Two rules of exams.taking apply here too: a practice attempt shows no model
answer while its owner has a timed attempt of the exam in progress
(`answers_withheld`), and a timed attempt's items whose answer the candidate
saw in an earlier attempt are marked (`ItemState.seen_before`).

Higher layers add per-item panels (a drill's test runs) through
`register_panels`, so this module never imports them.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from exams.models import Answer, AnswerOpening, Attempt, Item, Reveal
from exams.taking import answers_withheld, seen_before

# Every field a page may show before the reveal rules allow more.
PUBLIC_FIELDS = (
    "id",
    "version_id",
    "section_id",
    "position",
    "slug",
    "kind",
    "title",
    "prompt_html",
    "points",
    "written_prompt_html",
    "written_points",
    "entry_point",
    "starter_code",
)
HIDDEN_FIELDS = ("id", "answer_html", "reference_solution")


@dataclass(frozen=True)
class ModelAnswer:
    answer_html: str
    reference_solution: str


@dataclass(frozen=True)
class Panel:
    """A block a higher layer shows with an item: `template` below a drill's
    code form, `actions` (optional) as buttons inside it, `after_answer`
    (optional, any answerable item) below the model answer; each gets `item`
    and `panel`.

    `answered`: the panel's own activity counts as answering the item (a
    drill with a test run). `tests`: (passed, total) of the latest graded
    run, for the question navigator."""

    template: str = ""
    actions: str = ""
    after_answer: str = ""
    data: Any = None
    answered: bool = False
    tests: tuple[int, int] | None = None


@dataclass
class ItemState:
    pk: int
    section_id: int
    position: int
    slug: str
    kind: str
    kind_label: str
    title: str
    prompt_html: str
    points: int
    written_prompt_html: str
    written_points: int
    entry_point: str
    starter_code: str
    text_answer: Answer | None = None
    code_answer: Answer | None = None
    reveal: Reveal | None = None
    locked: bool = False
    # A timed attempt's item whose model answer the candidate saw in an
    # earlier attempt of the same content (exams.taking.seen_before).
    seen_before: bool = False
    # Its model answer opened on the results page after the attempt ended.
    opened: bool = False
    model: ModelAnswer | None = None  # None: not to be shown to this viewer
    panels: list[Panel] = field(default_factory=list)

    @property
    def max_points(self) -> int:
        return self.points + self.written_points

    @property
    def is_drill(self) -> bool:
        return self.kind == Item.Kind.DRILL

    @property
    def answerable(self) -> bool:
        return self.kind != Item.Kind.TEXT

    @property
    def answered(self) -> bool:
        """A written answer that is not blank; for a drill, code that differs
        from the starter code (an untouched starter answers nothing) or a run."""
        if self.text_answer is not None and self.text_answer.content.strip():
            return True
        code = self.code_answer.content.strip() if self.code_answer is not None else ""
        if code and code != self.starter_code.strip():
            return True
        return any(panel.answered for panel in self.panels)

    @property
    def revealed(self) -> bool:
        return self.reveal is not None

    @property
    def tests(self) -> tuple[int, int] | None:
        """(passed, total) of the latest graded run, if a panel reports one."""
        return next((panel.tests for panel in self.panels if panel.tests is not None), None)

    @property
    def revealed_first(self) -> bool:
        """Revealed before any answer was written."""
        return self.reveal is not None and not self.reveal.had_answer


@dataclass
class SectionState:
    pk: int
    slug: str
    title: str
    body_html: str
    items: list[ItemState]

    @property
    def answerable(self) -> list[ItemState]:
        return [item for item in self.items if item.answerable]


@dataclass
class AttemptState:
    attempt: Attempt
    sections: list[SectionState]
    items: list[ItemState]
    # A practice attempt held back by a timed attempt in progress (exams.taking.answers_withheld).
    answers_withheld: bool = False

    @property
    def answerable(self) -> list[ItemState]:
        return [item for item in self.items if item.answerable]

    @property
    def answered_count(self) -> int:
        return sum(1 for item in self.answerable if item.answered)

    @property
    def unanswered(self) -> list[ItemState]:
        return [item for item in self.answerable if not item.answered]

    @property
    def answers_open_on_request(self) -> bool:
        """The candidate may open model answers one at a time on the results page."""
        return not self.attempt.is_open and self.attempt.reveal_allowed() and not self.answers_withheld

    @property
    def seen_count(self) -> int:
        return sum(1 for item in self.items if item.seen_before)

    def item(self, pk: int) -> ItemState:
        return next(item for item in self.items if item.pk == pk)


PanelProvider = Callable[[Attempt, list[ItemState]], None]
_panel_providers: list[PanelProvider] = []


def register_panels(provider: PanelProvider) -> None:
    """A higher layer's function that appends `Panel`s to the items it concerns."""
    if provider not in _panel_providers:
        _panel_providers.append(provider)


def _state(item: Item) -> ItemState:
    return ItemState(
        pk=item.pk,
        section_id=item.section_id,
        position=item.position,
        slug=item.slug,
        kind=item.kind,
        kind_label=item.get_kind_display(),
        title=item.title,
        prompt_html=item.prompt_html,
        points=item.points,
        written_prompt_html=item.written_prompt_html,
        written_points=item.written_points,
        entry_point=item.entry_point,
        starter_code=item.starter_code,
    )


def answers_visible_to_candidate(reveal: Reveal | None, opened: bool) -> bool:
    """The reveal rules: an answer the candidate revealed while answering, or
    opened on the results page once the attempt ended (exams.taking.open_answer:
    one at a time, so only answers actually opened count as seen)."""
    return reveal is not None or opened


def attempt_state(
    attempt: Attempt,
    *,
    item_pks: Iterable[int] | None = None,
    show_answers: bool | None = None,
    panels: bool = True,
    with_seen_before: bool = True,
) -> AttemptState:
    """The state of an attempt's items (or of only `item_pks`), in exam order.

    `show_answers=None` applies the candidate's reveal rules (and records
    that an ended attempt showed its owner answers by the policy); True shows
    every model answer (reviewers and staff, once the attempt is over).
    `with_seen_before=False` leaves out whether items were seen before (an answer
    opened in an earlier attempt), which only pages that show it need.
    """
    version = attempt.version
    withheld = show_answers is None and answers_withheld(attempt)
    items_qs = Item.objects.filter(version_id=version.pk).only(*PUBLIC_FIELDS, "content_hash").order_by("position")
    answers_qs = Answer.objects.filter(attempt=attempt)
    reveals_qs = Reveal.objects.filter(attempt=attempt)
    openings_qs = AnswerOpening.objects.filter(attempt=attempt)
    if item_pks is not None:
        item_pks = list(item_pks)
        items_qs = items_qs.filter(pk__in=item_pks)
        answers_qs = answers_qs.filter(item_id__in=item_pks)
        reveals_qs = reveals_qs.filter(item_id__in=item_pks)
        openings_qs = openings_qs.filter(item_id__in=item_pks)
    loaded = list(items_qs)
    items = [_state(item) for item in loaded]
    answers = {(a.item_id, a.part): a for a in answers_qs}
    reveals = {r.item_id: r for r in reveals_qs}
    opened = set() if attempt.is_open else set(openings_qs.values_list("item_id", flat=True))
    locks = attempt.reveal_locks()
    seen: set[str] = set()
    if attempt.is_timed and with_seen_before:
        hashes = [item.content_hash for item in loaded if item.kind != Item.Kind.TEXT]
        seen = seen_before(attempt.user_id, hashes, before=attempt)
    visible = []
    for item, row in zip(items, loaded, strict=True):
        item.text_answer = answers.get((item.pk, Answer.Part.TEXT))
        item.code_answer = answers.get((item.pk, Answer.Part.CODE))
        item.reveal = reveals.get(item.pk)
        item.locked = locks and item.reveal is not None
        item.seen_before = item.answerable and row.content_hash in seen
        item.opened = item.pk in opened
        if show_answers is not None:
            shown = show_answers
        else:
            shown = not withheld and answers_visible_to_candidate(item.reveal, item.pk in opened)
        if item.answerable and shown:
            visible.append(item.pk)
    if visible:
        hidden = Item.objects.filter(pk__in=visible).values_list(*HIDDEN_FIELDS)
        models = {pk: ModelAnswer(answer_html, solution) for pk, answer_html, solution in hidden}
        for item in items:
            item.model = models.get(item.pk)
    if panels:
        for provider in _panel_providers:
            provider(attempt, items)
    sections = []
    if item_pks is None:
        by_section: dict[int, list[ItemState]] = {}
        for item in items:
            by_section.setdefault(item.section_id, []).append(item)
        for section in version.sections.all():
            sections.append(
                SectionState(section.pk, section.slug, section.title, section.body_html, by_section.get(section.pk, []))
            )
    return AttemptState(attempt, sections, items, answers_withheld=withheld)
