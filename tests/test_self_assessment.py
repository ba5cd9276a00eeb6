"""Self-assessment: the candidate ticks the criteria they believe they met
once they have seen an item's model answer (or the attempt has ended), the
rating shows beside the reviewer's score and never in any stored score, it
locks once a review is final, and then the calibration says where the ticks
and the totals differ."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from exams.models import Attempt
from exams.taking import Refused, open_answer, reveal
from grading import charts, reviewing, scoring
from grading import self_assessment as rules
from grading.models import AttemptScore, SelfAssessment
from tests.conftest import HIDDEN_MARKER
from tests.review_support import (
    HTMX,
    finished_attempt,
    import_pack,
    page_text,
    parts,
    review_pack,
    set_policy,
    snapshot,
    text,
    texts,
)
from tests.test_progress import table_rows

pytestmark = pytest.mark.django_db
ANSWERS = {"first": "The latency 99% of requests beat.", "add": "Zero and negatives."}


@pytest.fixture
def pack(tmp_path):
    return review_pack(tmp_path)


@pytest.fixture
def exam(pack):
    return import_pack(pack)


def seen(attempt: Attempt) -> Attempt:
    """Open the model answer of each item of an ended attempt (what rating an item needs)."""
    for item in attempt.version.items.exclude(kind="text"):
        open_answer(attempt, item)
    return attempt


@pytest.fixture
def attempt(exam, people) -> Attempt:
    return seen(finished_attempt(people.candidate, exam, ANSWERS))


@pytest.fixture
def p(attempt):
    return parts(attempt)


def url(attempt, item=None) -> str:
    if item is None:
        return f"/attempts/{attempt.pk}/overall/self-assessment/"
    return f"/attempts/{attempt.pk}/items/{item.pk}/self-assessment/"


def results(client, attempt) -> str:
    response = client.get(f"/attempts/{attempt.pk}/results/")
    assert response.status_code == 200
    return response.content.decode()


def ticked(attempt, item) -> set[int]:
    assessment = SelfAssessment.objects.get(attempt=attempt, item=item)
    return set(assessment.criteria.values_list("pk", flat=True))


def review(attempt, reviewer, p, question=(), drill=(), overall=(), adjustment="0"):
    """A whole review through the rules, finalized."""
    marks = {"reason": "Because" if adjustment != "0" else "", "comment": ""}
    reviewing.mark(
        attempt, reviewer, p.question, criteria_ids=[c.pk for c in question], adjustment=Decimal(adjustment),
        revision=0, **marks,
    )  # fmt: skip
    marks["reason"] = ""
    for revision, (item, ticked_criteria) in enumerate(((p.drill, drill), (None, overall)), start=1):
        ids = [c.pk for c in ticked_criteria]
        reviewing.mark(attempt, reviewer, item, criteria_ids=ids, adjustment=Decimal(0), revision=revision, **marks)
    return reviewing.finalize(attempt, reviewer, revision=3)


# The rules.


def test_the_candidate_rates_an_item_of_an_ended_attempt_and_gets_the_rubric_score(attempt, people, p):
    saved = rules.assess(attempt, people.candidate, p.question, [p.defines.pk, p.mean.pk])
    assert (saved.score, saved.max_points) == (Decimal("1.00"), 4)
    assert ticked(attempt, p.question) == {p.defines.pk, p.mean.pk}
    # Sending again replaces the ticks (one row per part); weak alone clamps to 0, all strong to the points.
    assert rules.assess(attempt, people.candidate, p.question, [p.mean.pk]).score == Decimal(0)
    assert rules.assess(attempt, people.candidate, p.question, [p.defines.pk, p.example.pk]).score == Decimal(4)
    assert ticked(attempt, p.question) == {p.defines.pk, p.example.pk}
    assert SelfAssessment.objects.filter(attempt=attempt).count() == 1
    # The drill rates its written part; Overall the exam-wide signals (max: their strong points).
    drill = rules.assess(attempt, people.candidate, p.drill, [p.drill_criterion.pk])
    assert (drill.score, drill.max_points) == (Decimal(2), p.drill.written_points)
    overall = rules.assess(attempt, people.candidate, None, [p.strong.pk, p.weak.pk])
    assert (overall.score, overall.max_points) == (Decimal(1), 2)
    assert rules.assess(attempt, people.candidate, None, []).score == Decimal(0)
    assert SelfAssessment.objects.filter(attempt=attempt).count() == 3


def test_in_an_open_attempt_an_item_is_rated_only_after_its_reveal(exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    p = parts(attempt)
    with pytest.raises(Refused, match="once you have revealed its model answer") as refused:
        rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    assert refused.value.status == 403
    with pytest.raises(Refused, match="exam-wide signals once the attempt has ended"):
        rules.assess(attempt, people.candidate, None, [p.strong.pk])
    reveal(attempt, p.question, people.candidate)
    assert rules.assess(attempt, people.candidate, p.question, [p.defines.pk]).score == Decimal(2)
    with pytest.raises(Refused, match="once you have revealed"):  # another item: not revealed
        rules.assess(attempt, people.candidate, p.drill, [p.drill_criterion.pk])
    assert SelfAssessment.objects.filter(attempt=attempt).count() == 1


def test_an_ended_attempts_item_is_rated_once_its_model_answer_is_opened(client, exam, people):
    attempt = finished_attempt(people.candidate, exam, ANSWERS)
    p = parts(attempt)
    with pytest.raises(Refused, match="Open this item's model answer first") as refused:
        rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    assert refused.value.status == 403
    assert rules.assess(attempt, people.candidate, None, [p.strong.pk]).score == Decimal(2)  # generic: no answer
    # The results page shows no rubric of an unopened item: only how to get it.
    client.force_login(people.candidate)
    html = results(client, attempt)
    assert "To rate yourself on this item, show its model answer" in text(html, id=f"self-{p.question.pk}")
    assert "Defines the percentile" not in html and "Tests negative numbers" not in html
    assert "Names the metric" in text(html, id="self-overall")
    client.post(f"/attempts/{attempt.pk}/items/{p.question.pk}/open/")
    html = results(client, attempt)
    assert f'id="self-{p.question.pk}-{p.defines.pk}"' in html
    assert "Tests negative numbers" not in html
    assert rules.assess(attempt, people.candidate, p.question, [p.defines.pk]).score == Decimal(2)


@pytest.mark.parametrize("who", ["member_u", "reviewer_t", "staff"])
def test_nobody_but_the_candidate_rates(attempt, people, p, who):
    with pytest.raises(Refused, match="Only the candidate") as refused:
        rules.assess(attempt, getattr(people, who), p.question, [p.defines.pk])
    assert refused.value.status == 403
    assert not SelfAssessment.objects.exists()


def bad_criteria(p):
    return {
        "another item's": [p.drill_criterion.pk],
        "an exam-wide one": [p.strong.pk],
        "unknown": [10**9],
        "a bool": [True],
        "a string": [str(p.defines.pk)],
        "one good, one bad": [p.defines.pk, p.strong.pk],
    }


@pytest.mark.parametrize(
    "case", ["another item's", "an exam-wide one", "unknown", "a bool", "a string", "one good, one bad"]
)
def test_criteria_must_belong_to_the_parts_rubric(attempt, people, p, case):
    rules.assess(attempt, people.candidate, p.question, [p.example.pk])
    before = list(SelfAssessment.objects.values())
    with pytest.raises(Refused, match="is not part of this item's rubric") as refused:
        rules.assess(attempt, people.candidate, p.question, bad_criteria(p)[case])
    assert refused.value.status == 400
    with pytest.raises(Refused, match="is not part of the exam-wide rubric"):
        rules.assess(attempt, people.candidate, None, [p.defines.pk])
    assert list(SelfAssessment.objects.values()) == before
    assert ticked(attempt, p.question) == {p.example.pk}


def test_criteria_of_the_same_item_in_another_version_are_refused(pack, attempt, people, p):
    newer = set_policy(pack, "after_submit")  # a new version: new criteria rows
    other = parts(seen(finished_attempt(people.candidate, newer)))
    with pytest.raises(Refused, match="not part of this item's rubric"):
        rules.assess(attempt, people.candidate, p.question, [other.defines.pk])
    with pytest.raises(Refused, match="not part of the exam this attempt took"):
        rules.assess(attempt, people.candidate, other.question, [other.defines.pk])


def with_reading(pack, people) -> Attempt:
    pack.write("01-basics/00-intro.md", "---\ntitle: Intro\nkind: text\n---\nRead this first.\n")
    return finished_attempt(people.candidate, import_pack(pack), ANSWERS)


def test_a_reading_has_nothing_to_rate(pack, people):
    attempt = with_reading(pack, people)
    reading = attempt.version.items.get(kind="text")
    with pytest.raises(Refused, match="Reading items have nothing to rate") as refused:
        rules.assess(attempt, people.candidate, reading, [])
    assert refused.value.status == 400


def test_an_exam_that_never_shows_answers_has_no_self_assessment(pack, people):
    attempt = finished_attempt(people.candidate, set_policy(pack, "never"), ANSWERS)
    p = parts(attempt)
    with pytest.raises(Refused, match="does not show its model answers or rubrics"):
        rules.assess(attempt, people.candidate, p.question, [p.defines.pk])


def test_after_submit_rates_once_the_attempt_has_ended(pack, people):
    exam = set_policy(pack, "after_submit")
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    p = parts(attempt)
    with pytest.raises(Refused, match="once you have revealed"):
        rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    attempt.finalize()
    with pytest.raises(Refused, match="Open this item's model answer first"):
        rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    open_answer(attempt, p.question)
    assert rules.assess(attempt, people.candidate, p.question, [p.defines.pk]).score == Decimal(2)


def test_a_practice_attempt_is_not_rated_while_a_timed_attempt_of_the_exam_is_in_progress(attempt, exam, people, p):
    Attempt.start(people.candidate, exam, Attempt.Mode.TIMED)
    with pytest.raises(Refused, match="timed attempt of this exam is in progress") as refused:
        rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    assert refused.value.status == 403
    assert not SelfAssessment.objects.exists()


def test_a_final_review_locks_the_self_assessment_even_after_it_is_reopened(attempt, people, p):
    rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    review(attempt, people.reviewer_t, p, question=[p.defines])
    with pytest.raises(Refused, match="locked") as refused:
        rules.assess(attempt, people.candidate, p.question, [p.example.pk])
    assert refused.value.status == 409
    with pytest.raises(Refused, match="locked"):  # a part never rated is locked too
        rules.assess(attempt, people.candidate, None, [p.strong.pk])
    reviewing.reopen(scoring.final_review(attempt), people.reviewer_t, reason="Looking again")
    with pytest.raises(Refused, match="locked"):
        rules.assess(attempt, people.candidate, p.question, [p.example.pk])
    assert ticked(attempt, p.question) == {p.defines.pk}


def test_an_attempt_holds_one_exam_wide_self_assessment(attempt):
    SelfAssessment.objects.create(attempt=attempt, item=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        SelfAssessment.objects.create(attempt=attempt, item=None)


def test_a_self_assessment_is_never_mixed_into_the_stored_scores(attempt, people, p):
    review_free = snapshot()
    rules.assess(attempt, people.candidate, p.question, [p.defines.pk, p.example.pk])
    rules.assess(attempt, people.candidate, p.drill, [p.drill_criterion.pk])
    rules.assess(attempt, people.candidate, None, [p.strong.pk])
    assert snapshot() == review_free  # no score, review or event written or changed

    review(attempt, people.reviewer_t, p, question=[p.mean])
    stored = attempt.score
    expected = scoring.result_for(attempt, scoring.final_review(attempt))
    assert (stored.total, stored.rubric, stored.overall) == (expected.total, expected.rubric, expected.overall.score)
    assert stored.total == Decimal(0)  # the reviewer ticked only the weak signal; the ratings add nothing
    assert {s.rubric for s in attempt.item_scores.all()} == {Decimal(0)}


def test_exports_are_the_same_with_or_without_ratings(client, attempt, exam, people, p):
    review(attempt, people.reviewer_t, p, question=[p.defines])
    client.force_login(people.reviewer_t)

    def export(fmt):
        response = client.get("/review/export/", {"exam": exam.slug, "team": "t", "format": fmt})
        assert response.status_code == 200
        return b"".join(response.streaming_content)

    before = {fmt: export(fmt) for fmt in ("csv", "json")}
    SelfAssessment.objects.create(attempt=attempt, item=p.question, score=Decimal(4), max_points=4)
    assert {fmt: export(fmt) for fmt in ("csv", "json")} == before


# Calibration, pure.


def criterion(pk, item_id, points, signal="strong"):
    return SimpleNamespace(pk=pk, item_id=item_id, points=points, signal=signal, text=f"criterion {pk}")


def ticks(score, maximum, *ids):
    return rules.Ticks(SimpleNamespace(score=Decimal(score), max_points=maximum), frozenset(ids))


def test_calibration_lists_each_criterion_where_the_ticks_differ_and_the_totals():
    criteria = [criterion(1, 10, 2), criterion(2, 10, 2), criterion(3, 10, -1, "weak"), criterion(4, None, 2)]
    assessed = {10: ticks("3", 4, 1, 2, 3), None: ticks("0", 2)}
    # The reviewers: 1 ticked by both, 2 by one of two, 4 by both; 3 by none.
    reviewer_ticks = {1: Decimal(1), 2: Decimal("0.5"), 4: Decimal(1)}
    cal = rules.calibrate(assessed, criteria, reviewer_ticks, {10: Decimal("2.5"), None: Decimal(2)})
    item = cal.parts[10]
    assert [(g.criterion.pk, g.yours, g.reviewers, g.split) for g in item.gaps] == [
        (2, True, Decimal("0.5"), True),
        (3, True, Decimal(0), False),
    ]
    assert [g.words for g in item.gaps] == [
        "You ticked it; the reviewers were split.",
        "You ticked it; the reviewer did not.",
    ]
    assert (item.yours, item.reviewers, item.difference, item.agreed, item.criteria) == (
        Decimal(3), Decimal("2.5"), Decimal("0.50"), 1, 3,
    )  # fmt: skip
    overall = cal.parts[None]
    assert [(g.criterion.pk, g.words) for g in overall.gaps] == [(4, "The reviewer ticked it; you did not.")]
    assert overall.difference == Decimal(-2)
    assert (cal.yours, cal.reviewers, cal.difference, cal.distance, cal.max_points) == (
        Decimal(3), Decimal("4.5"), Decimal("-1.50"), Decimal("1.50"), 6,
    )  # fmt: skip
    assert (cal.gaps, cal.criteria) == (3, 4)


def test_calibration_covers_only_the_parts_the_candidate_rated():
    criteria = [criterion(1, 10, 2), criterion(2, 20, 2)]
    cal = rules.calibrate({20: ticks("2", 2, 2)}, criteria, {1: Decimal(1), 2: Decimal(1)}, {10: 2, 20: 2})
    assert list(cal.parts) == [20]
    assert (cal.gaps, cal.difference) == (0, Decimal(0))


# Over HTTP.


def test_a_plain_form_saves_the_ticks_and_goes_back_to_the_item_on_the_results_page(client, attempt, people, p):
    client.force_login(people.candidate)
    response = client.post(url(attempt, p.question), {"criteria": [p.defines.pk, p.example.pk]})
    assert response.status_code == 302
    assert response["Location"] == f"/attempts/{attempt.pk}/results/#self-{p.question.pk}"
    assert ticked(attempt, p.question) == {p.defines.pk, p.example.pk}
    page = client.get(response["Location"]).content.decode()
    assert "Your rating of First question was saved." in page
    assert text(page, id=f"self-status-{p.question.pk}") == "Your rating: 4 of 4"


def test_htmx_answers_with_the_status_of_the_rating(client, attempt, people, p):
    client.force_login(people.candidate)
    response = client.post(url(attempt), {"criteria": [p.strong.pk]}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert text(html, id="self-status-overall") == "Your rating: 2 of 2 · saved"
    # Unticking everything is a rating too: nothing met.
    html = client.post(url(attempt), {"from": "results"}, **HTMX).content.decode()
    assert text(html, id="self-status-overall") == "Your rating: 0 of 2 · saved"
    assert ticked(attempt, None) == set()


@pytest.mark.parametrize("who", ["member_u", "reviewer_t", "owner_t", "staff"])
def test_everyone_but_the_candidate_gets_404(client, attempt, people, p, who):
    client.force_login(getattr(people, who))
    assert client.post(url(attempt, p.question), {"criteria": [p.defines.pk]}).status_code == 404
    assert client.post(url(attempt), {"criteria": [p.strong.pk]}).status_code == 404
    assert not SelfAssessment.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in_and_get_is_not_allowed(client, attempt, people, p):
    response = client.post(url(attempt, p.question), {"criteria": [p.defines.pk]})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(people.candidate)
    assert client.get(url(attempt, p.question)).status_code == 405


def test_readings_and_items_of_other_exams_are_404(client, pack, people, tmp_path):
    attempt = with_reading(pack, people)
    client.force_login(people.candidate)
    reading = attempt.version.items.get(kind="text")
    assert client.post(url(attempt, reading), {}).status_code == 404
    other = import_pack(review_pack(tmp_path / "other", slug="other-exam"))
    other_item = other.current_version.items.get(slug="first")
    assert client.post(url(attempt, other_item), {}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"criteria=1x",
        b"criteria=-1",
        b"criteria=%D9%A1",  # an Arabic-Indic digit one
        b"criteria=" + b"9" * 40,
        b"criteria=%FF",  # not UTF-8
        b"criteria=1%00",
    ],
)
def test_malformed_criteria_are_refused_with_a_message_and_change_nothing(client, attempt, people, p, body):
    rules.assess(attempt, people.candidate, p.question, [p.example.pk])
    client.force_login(people.candidate)
    response = client.post(url(attempt, p.question), body, content_type="application/x-www-form-urlencoded", **HTMX)
    assert response.status_code == 400
    assert text(response.content.decode(), id=f"self-status-{p.question.pk}")
    assert ticked(attempt, p.question) == {p.example.pk}


def test_a_refusal_in_a_plain_form_is_a_message_on_the_page(client, attempt, people, p):
    client.force_login(people.candidate)
    response = client.post(url(attempt, p.question), {"criteria": [p.strong.pk]}, follow=True)
    assert "is not part of this item&#x27;s rubric" in response.content.decode()
    assert not SelfAssessment.objects.exists()


def test_a_post_without_csrf_is_refused(attempt, people, p):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.candidate)
    assert client.post(url(attempt, p.question), {"criteria": [p.defines.pk]}).status_code == 403
    assert not SelfAssessment.objects.exists()


def test_the_results_page_offers_a_form_per_part_labelled_by_criterion(client, attempt, people, p):
    client.force_login(people.candidate)
    html = results(client, attempt)
    for part in (p.question.pk, p.drill.pk, "overall"):
        assert f'id="self-{part}"' in html
        assert text(html, id=f"self-status-{part}") == "Not rated yet."
    label = f'<label class="form-check-label" for="self-{p.question.pk}-{p.defines.pk}">'
    assert label in html
    assert "Defines the percentile (+2 points)" in page_text(html.split(label)[1].split("</label>")[0])
    assert "Confuses it with the mean (-1 point)" in page_text(html)
    assert 'hx-post="/attempts/' in html and 'name="csrfmiddlewaretoken"' in html

    rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    html = results(client, attempt)
    assert f'id="self-{p.question.pk}-{p.defines.pk}" checked' in html
    # Beside the score, never in it: the score still awaits review.
    row = text(html, id=f"result-{p.question.pk}")
    assert "Awaiting review" in row and "Your rating: 2 of 4 (not counted)" in row


def test_reviewers_see_no_self_assessment_on_the_results_page(client, attempt, people, p):
    rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    client.force_login(people.reviewer_t)
    html = results(client, attempt)
    assert "self-assessment" not in html and "Your rating" not in html


def test_a_never_policy_results_page_shows_no_form(client, pack, people):
    attempt = finished_attempt(people.candidate, set_policy(pack, "never"), ANSWERS)
    client.force_login(people.candidate)
    assert "self-assessment-form" not in results(client, attempt)


def test_once_final_the_results_page_shows_the_calibration(client, attempt, people, p):
    rules.assess(attempt, people.candidate, p.question, [p.defines.pk, p.example.pk])
    rules.assess(attempt, people.candidate, None, [])
    review(attempt, people.reviewer_t, p, question=[p.defines, p.mean], overall=[p.strong], adjustment="0.5")
    client.force_login(people.candidate)
    html = results(client, attempt)
    # Question: you 4; the review 2 - 1 + 0.5 = 1.5. Overall: you 0, the review 2.
    question = text(html, id=f"self-{p.question.pk}")
    assert "You rated yourself 4 of 4; the review gave 1.5. You were 2.5 points above it." in question
    assert "1 of 3 criteria as the review ticked them" in question
    gaps = texts(html, cls="calibration-gap")
    assert "Strong Gives a latency example (+2): You ticked it; the reviewer did not." in gaps[0]
    assert "Weak Confuses it with the mean (-1): The reviewer ticked it; you did not." in gaps[1]
    overall = text(html, id="self-overall")
    assert "You rated yourself 0 of 2; the review gave 2. You were 2 points below it." in overall
    summary = text(html, cls="calibration-summary")
    assert "Over the 2 parts you rated (6 points of rubric): you gave yourself 4, the review gave 3.5." in summary
    assert "You were 0.5 points above it." in summary
    assert "differ from the review's on 3 of 5 criteria" in summary
    # The drill was never rated: no calibration, and no form either (locked).
    assert "You did not rate yourself on this part before the review was final" in text(html, id=f"self-{p.drill.pk}")
    assert 'hx-post="/attempts/' not in html.split('id="self-')[1]


def test_a_first_final_review_of_two_locks_the_form_before_the_calibration_shows(client, attempt, people, p):
    rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    review(attempt, people.reviewer_t, p, question=[p.defines])
    # As if the attempt took a second review: the score is not final yet, the ratings are locked.
    AttemptScore.objects.filter(attempt=attempt).update(review=None, is_final=False)
    client.force_login(people.candidate)
    html = results(client, attempt)
    assert "calibration-summary" not in html
    question = text(html, id=f"self-{p.question.pk}")
    assert "Locked: a review of this attempt is final. Your calibration shows here once" in question
    assert f'id="self-{p.question.pk}-{p.defines.pk}" checked' in html
    assert "<fieldset disabled" in html


def test_the_plain_form_after_the_review_is_final_says_it_is_locked(client, attempt, people, p):
    review(attempt, people.reviewer_t, p)
    client.force_login(people.candidate)
    response = client.post(url(attempt, p.question), {"criteria": [p.defines.pk]}, follow=True)
    assert "your self-assessment is locked" in response.content.decode()
    response = client.post(url(attempt, p.question), {"criteria": [p.defines.pk]}, **HTMX)
    assert response.status_code == 409
    assert not SelfAssessment.objects.exists()


# The attempt page.


def test_the_attempt_page_offers_rate_yourself_only_below_a_revealed_answer(client, exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    p = parts(attempt)
    client.force_login(people.candidate)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "Rate yourself" not in page and "Defines the percentile" not in page and HIDDEN_MARKER not in page

    response = client.post(f"/attempts/{attempt.pk}/items/{p.question.pk}/reveal/", **HTMX)
    fragment = response.content.decode()
    assert "Rate yourself" in text(fragment, id=f"self-{p.question.pk}")
    assert 'name="from" value="attempt"' in fragment
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert page.count('class="self-assessment ') == 1  # the drill is not revealed
    assert "Tests negative numbers" not in page

    response = client.post(url(attempt, p.question), {"criteria": [p.example.pk], "from": "attempt"})
    assert response["Location"] == f"/attempts/{attempt.pk}/#self-{p.question.pk}"
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert text(page, id=f"self-status-{p.question.pk}") == "Your rating: 2 of 4"


# My progress: calibration over time.


def test_my_progress_shows_each_reviewed_attempt_rated_with_its_gap_in_a_chart_and_a_table(client, exam, people):
    first = seen(finished_attempt(people.candidate, exam, ANSWERS))
    p = parts(first)
    rules.assess(first, people.candidate, p.question, [p.defines.pk, p.example.pk])  # 4 of 4
    rules.assess(first, people.candidate, None, [p.strong.pk])  # 2 of 2
    review(first, people.reviewer_t, p, question=[p.defines], overall=[p.strong])  # 2 and 2
    second = seen(finished_attempt(people.candidate, exam, ANSWERS))
    q = parts(second)
    rules.assess(second, people.candidate, q.drill, [])  # 0 of 2
    review(second, people.reviewer_t, q, drill=[q.drill_criterion])  # 2
    rated_unreviewed = seen(finished_attempt(people.candidate, exam, ANSWERS))
    rules.assess(rated_unreviewed, people.candidate, p.question, [p.defines.pk])
    finished_attempt(people.candidate, exam, ANSWERS)  # neither

    client.force_login(people.candidate)
    html = client.get("/progress/").content.decode()
    rows = table_rows(html, "calibration-table")
    assert [row[:1] + row[2:] for row in rows] == [
        ["#Attempt", "Parts", "You", "Review", "Difference"],
        ["1", "2", "6 of 6", "4 of 6", "+2 (+33.3%)"],
        ["2", "1", "0 of 2", "2 of 2", "-2 (-100%)"],
    ]
    chart = html.split(f'id="calibration-{exam.pk}"')[1].split("</svg>")[0]
    assert "2 reviewed attempts you rated: above the review in 1, below it in 1, the same in 0." in chart
    assert "Attempt 1: you 6, the review 4 of 6 rated (+2 points, +33.3%)" in chart
    assert chart.count('class="cal-bar cal-over"') == 2  # one bar and the legend's key
    assert chart.count('class="cal-bar cal-under"') == 2


def test_my_progress_without_a_rated_reviewed_attempt_says_how_to_get_one(client, attempt, people, p):
    rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
    client.force_login(people.candidate)
    html = client.get("/progress/").content.decode()
    assert "Rate yourself on an attempt's results page" in page_text(html)
    assert "chart-calibration" not in html


def test_another_users_ratings_never_show_on_my_progress(client, exam, people):
    theirs = seen(finished_attempt(people.member_u, exam, ANSWERS))
    p = parts(theirs)
    rules.assess(theirs, people.member_u, p.question, [p.defines.pk])
    review(theirs, people.reviewer_u, p)
    mine = finished_attempt(people.candidate, exam, ANSWERS)
    client.force_login(people.candidate)
    html = client.get("/progress/").content.decode()
    assert "chart-calibration" not in html and f"/attempts/{theirs.pk}/" not in html
    assert f"/attempts/{mine.pk}/results/" in html


def test_the_calibration_chart_marks_a_match_and_escapes_its_title():
    points = [charts.CalibrationPoint("Attempt 1", "1", Decimal(3), Decimal(3), 4)]
    svg = charts.calibration_bars(points, chart_id="c", title="<b>Exam</b>")
    assert "&lt;b&gt;Exam&lt;/b&gt;" in svg and "<b>" not in svg
    assert '<circle class="cal-match"' in svg and "the same in 1" in svg
    assert "Attempt 1: you 3, the review 3 of 4 rated (0 points, 0%)" in svg
    assert "style=" not in svg


def test_my_progress_reads_the_calibration_in_one_query_however_many_attempts(client, exam, people):
    def rated_and_reviewed(n):
        for _ in range(n):
            attempt = seen(finished_attempt(people.candidate, exam, ANSWERS))
            p = parts(attempt)
            rules.assess(attempt, people.candidate, p.question, [p.defines.pk])
            rules.assess(attempt, people.candidate, None, [p.strong.pk])
            review(attempt, people.reviewer_t, p, question=[p.example])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            html = client.get("/progress/").content.decode()
        return len(captured), len(table_rows(html, "calibration-table")) - 1

    client.force_login(people.candidate)
    rated_and_reviewed(1)
    few, rows = queries()
    assert rows == 1
    rated_and_reviewed(4)
    many, rows = queries()
    assert (many, rows) == (few, 5)
