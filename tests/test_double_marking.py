"""Double marking: two reviewers mark blind, the score is the mean of the
two, or an adjudicator's decisions where they disagree too much; every
refusal is a clear 4xx that changes nothing, and the audit log keeps each
action.

The pack (tests.review_support) with `reviews: 2`: a question worth 4
(+2 defines, +2 example, -1 mean), a drill worth 10 (tests) + 2 (written,
one +2 criterion), Overall +2 / -1. The exam's maximum is 18, so the
default threshold (15 %) is 2.7 points."""

import csv
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from exams.models import Item
from exams.taking import Refused
from grading import adjudicating, reviewing, scoring
from grading.adjudicating import PartDecision
from grading.models import Adjudication, AttemptScore, AuditEvent, ItemScore, Membership, Review
from tests.review_support import (
    HTMX,
    finished_attempt,
    import_pack,
    mark_fields,
    mark_url,
    page_text,
    parts,
    review_pack,
    snapshot,
    team_people,
)

pytestmark = pytest.mark.django_db
D = Decimal
# What the first reviewer writes: none of it may reach the second before both are final.
SECRET_COMMENT = "first-reviewer-secret-comment"
SECRET_REASON = "first-reviewer-secret-reason"


@pytest.fixture
def exam(tmp_path):
    pack = review_pack(tmp_path)
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", "reveal_policy: on_demand\nreviews: 2")
    pack.path("exam.md").write_text(text)
    exam = import_pack(pack)
    assert exam.current_version.reviews_required == 2
    return exam


@pytest.fixture
def people(db):
    """team_people plus a third reviewer of T (victor), who may adjudicate."""
    people = team_people()
    people.third = get_user_model().objects.create_user("victor", password="pw")
    Membership.objects.create(team=people.t, user=people.third, role=Membership.Role.REVIEWER)
    return people


@pytest.fixture
def attempt(exam, people):
    return finished_attempt(people.candidate, exam, {"first": "A p99 is a tail percentile."})


@pytest.fixture
def p(attempt):
    return parts(attempt)


def review(attempt, reviewer, marks: dict, finalize: bool = True) -> Review:
    """`reviewer`'s review: marks by item (None: Overall) as (criteria, adjustment, reason, comment)."""
    revision = 0
    result = None
    for item, (criteria, adjustment, reason, comment) in marks.items():
        result = reviewing.mark(
            attempt,
            reviewer,
            item,
            criteria_ids=[c.pk for c in criteria],
            adjustment=D(adjustment),
            reason=reason,
            comment=comment,
            revision=revision,
        )
        revision = result.revision
    if finalize:
        result = reviewing.finalize(attempt, reviewer, revision)
    return result


def secret_first(attempt, people, p, finalize=True) -> Review:
    """Rita's review: the question 2 + 2 + adjustment 1 = 4 (clamped), a comment and a reason."""
    return review(
        attempt,
        people.reviewer_t,
        {
            p.question: ([p.defines, p.example], "1", SECRET_REASON, SECRET_COMMENT),
            None: ([p.strong], "0", "", SECRET_COMMENT + "-overall"),
        },
        finalize,
    )


def as_user(client, user):
    client.force_login(user)
    return client


# The pure rules.


def results(first_marks: dict, second_marks: dict):
    """Two computed results over a small exam: a question worth 4, a drill 10 + written 2, Overall max 2."""
    items = [scoring.ItemFacts(1, 1, "question", 4), scoring.ItemFacts(2, 1, "drill", 10, 2)]
    criteria = [
        scoring.CriterionFacts(11, 1, "strong", "a", 2),
        scoring.CriterionFacts(12, 1, "strong", "b", 2),
        scoring.CriterionFacts(21, 2, "strong", "c", 2),
        scoring.CriterionFacts(31, None, "strong", "d", 2),
    ]
    runs = {2: scoring.RunFacts("graded", 5.0)}

    def marks(spec):
        return {part: scoring.MarkFacts(frozenset(ticks), D(adj)) for part, (ticks, adj) in spec.items()}

    first = scoring.compute(items, criteria, runs, marks(first_marks))
    second = scoring.compute(items, criteria, runs, marks(second_marks))
    return first, second, criteria


def test_two_reviews_within_the_threshold_score_their_mean_to_the_cent():
    # Question 4 and 2 (differs by 2: half its points, not more); drill written 2 and 2; Overall 0 and 0.33.
    first, second, criteria = results(
        {1: ((11, 12), "0"), 2: ((21,), "0")},
        {1: ((11,), "0"), 2: ((21,), "0"), None: ((), "0.33")},
    )
    gap = scoring.disagreement(first, second, 15)
    assert (gap.total_difference, gap.total_limit, gap.parts) == (D("1.67"), D("2.7"), ())
    assert not gap.needs_adjudication
    combined = scoring.combine([first, second], criteria)
    assert combined.items[1].rubric == D("3.00")
    assert combined.overall.rubric == D("0.17")  # 0.165 rounds half up
    assert combined.items[2].score == D("7.00")  # tests 5 (common) + written 2
    assert combined.total == D("10.17")
    assert combined.shares == {11: D(1), 12: D("0.5"), 21: D(1)}


def test_the_totals_beyond_the_threshold_need_adjudication():
    # No part differs by more than half, but the totals differ by 3 > 2.7 (15 % of 18).
    first, second, _ = results(
        {1: ((11, 12), "0"), 2: ((21,), "0"), None: ((31,), "0")},
        {1: ((11,), "0"), 2: ((), "2"), None: ((), "1")},
    )
    gap = scoring.disagreement(first, second, 15)
    assert (gap.total_difference, gap.parts, gap.needs_adjudication) == (D("3.00"), (), True)
    assert not scoring.disagreement(first, second, 17).needs_adjudication  # 3.06 allowed


def test_one_part_beyond_half_its_points_needs_adjudication_whatever_the_totals():
    # The drill's written part: 2 and 0 differ by 2 > 1; totals differ by 2 only.
    first, second, _ = results({2: ((21,), "0")}, {2: ((), "0")})
    gap = scoring.disagreement(first, second, 50)
    assert (gap.total_difference, gap.parts, gap.needs_adjudication) == (D("2.00"), (2,), True)


def test_an_adjudication_decides_per_part_and_its_ticks_count():
    first, second, criteria = results({1: ((11, 12), "0"), 2: ((21,), "0")}, {1: ((), "0"), 2: ((), "0")})
    decisions = {1: scoring.Decision(D("0.00"), 1), 2: scoring.Decision(D("1.50"))}
    combined = scoring.combine([first, second], criteria, decisions=decisions)
    assert (combined.items[1].rubric, combined.items[2].rubric, combined.overall.rubric) == (D(0), D("1.50"), D(0))
    assert combined.total == D("6.50")  # tests 5 + 1.5
    # The question took the second review's mark (nothing ticked); the drill's own points keep both shares.
    assert combined.shares == {21: D("0.5")}


# Marking blind.


def test_a_second_reviewer_may_start_and_a_third_is_refused(attempt, people, p):
    secret_first(attempt, people, p, finalize=False)
    review(attempt, people.owner_t, {p.question: ([p.defines], "0", "", "")}, finalize=False)
    before = snapshot()
    with pytest.raises(Refused) as caught:
        review(attempt, people.third, {p.question: ([], "0", "", "")}, finalize=False)
    assert (caught.value.status, caught.value.message) == (409, "rita is already reviewing this attempt.")
    assert snapshot() == before


def test_a_reviewer_opening_a_second_review_of_the_same_attempt_gets_409(client, attempt, people, p):
    secret_first(attempt, people, p)
    before = snapshot()
    # A first mark (revision 0) again, as a new review would start.
    response = as_user(client, people.reviewer_t).post(mark_url(attempt, p.drill), mark_fields([p.drill_criterion]))
    assert response.status_code == 302
    response = client.post(mark_url(attempt, p.drill), mark_fields([p.drill_criterion]), **HTMX)
    assert response.status_code == 409
    assert "This review is final; reopen it to change it." in page_text(response.content.decode())
    assert snapshot() == before
    assert Review.objects.filter(reviewer=people.reviewer_t).count() == 1


def _blind_responses(client, attempt, people, p) -> dict[str, str]:
    """Every response the second reviewer (otto) gets while rita's review is final and his is a draft."""
    as_user(client, people.owner_t)
    responses = {}
    responses["mark"] = client.post(mark_url(attempt, p.question), mark_fields([p.mean]), **HTMX)
    responses["mark plain"] = client.post(mark_url(attempt, None), mark_fields([], revision=1), follow=True)
    responses["review page"] = client.get(f"/review/attempts/{attempt.pk}/")
    responses["finalize stale"] = client.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 1})
    responses["reopen"] = client.post(f"/review/attempts/{attempt.pk}/reopen/", {"reason": "peek"})
    responses["results"] = client.get(f"/attempts/{attempt.pk}/results/")
    responses["queue"] = client.get("/review/")
    responses["adjudicate"] = client.get(f"/review/attempts/{attempt.pk}/adjudicate/")
    responses["adjudicate post"] = client.post(
        f"/review/attempts/{attempt.pk}/adjudicate/", {"choice-overall": "first"}
    )
    export = client.get("/review/export/", {"exam": attempt.exam.slug, "team": "t", "format": "csv"})
    responses["export"] = export
    return responses


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_no_response_to_the_second_reviewer_holds_the_first_reviewers_marks(client, attempt, people, p):
    secret_first(attempt, people, p)
    responses = _blind_responses(client, attempt, people, p)
    bodies = {name: _body(response) for name, response in responses.items()}
    for name, response in responses.items():
        body = bodies[name]
        assert response.status_code < 500, name
        for secret in (SECRET_COMMENT, SECRET_REASON):
            assert secret not in body, name
        # No tick of rita's: the question's criteria are not checked anywhere.
        for criterion in (p.defines, p.example, p.strong):
            assert f'id="criterion-{criterion.pk}" checked' not in body, name
    assert responses["adjudicate"].status_code == 403  # otto marked it: never his to adjudicate
    assert responses["adjudicate post"].status_code == 403
    export = list(csv.reader(io.StringIO(bodies["export"])))
    total = export[0].index("total")
    assert export[1][total] == "0.00"  # tests only: no rubric points of rita's
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.is_final, score.review, score.rubric, score.overall) == (False, None, D(0), D(0))
    assert ItemScore.objects.get(attempt=attempt, item=p.question).rubric is None


def test_before_both_are_final_nobody_adjudicates_and_staff_get_409(client, attempt, people, p):
    secret_first(attempt, people, p)
    review(attempt, people.owner_t, {p.question: ([], "0", "", "")}, finalize=False)
    before = snapshot()
    response = as_user(client, people.staff).get(f"/review/attempts/{attempt.pk}/adjudicate/")
    assert response.status_code == 409
    assert "Both reviews must be final" in page_text(response.content.decode())
    assert SECRET_COMMENT not in response.content.decode()
    assert client.post(f"/review/attempts/{attempt.pk}/adjudicate/", {}).status_code == 409
    assert snapshot() == before
    # Someone who may not review the attempt at all: 404, as for every review URL.
    assert as_user(client, people.reviewer_u).get(f"/review/attempts/{attempt.pk}/adjudicate/").status_code == 404


def test_one_part_apart_by_more_than_half_keeps_the_score_provisional(client, attempt, people, p):
    secret_first(attempt, people, p)  # question 4, Overall 2
    review(attempt, people.owner_t, {p.question: ([p.defines, p.example], "0", "", "Fine."), None: ([], "0", "", "")})
    score = AttemptScore.objects.get(attempt=attempt)
    # Totals 6 and 4 are within 2.7, but Overall's 2 and 0 differ by more than half of 2.
    assert (score.adjudication, score.is_final, score.review) == ("needed", False, None)
    assert score.total == D("5.00")  # the mean, shown as provisional until adjudicated
    page = as_user(client, people.owner_t).get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert "Double marked: rita 6 and otto 4 of 18." in page_text(page)  # both final: each sees the other
    assert "Needs adjudication" in page_text(page)
    assert "Adjudicate" not in page_text(page).replace("Needs adjudication", "")


def test_agreeing_reviews_make_the_mean_final(client, attempt, people, p):
    secret_first(attempt, people, p)  # question 4 (2 + 2 + 1, clamped), Overall 2
    review(attempt, people.owner_t, {p.question: ([p.defines], "0", "", "Fine."), None: ([p.strong], "0", "", "")})
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.total, score.is_final, score.adjudication) == (D("5.00"), True, "")  # question 3 + Overall 2
    assert ItemScore.objects.get(attempt=attempt, item=p.question).rubric == D("3.00")
    assert scoring.reviewer_ticks(attempt) == {p.defines.pk: D(1), p.example.pk: D("0.5"), p.strong.pk: D(1)}
    page = as_user(client, people.owner_t).get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert "The score is their mean, 5" in page_text(page)
    results = as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/").content.decode()
    assert "Final" in page_text(results)


# Adjudication.


@pytest.fixture
def disputed(attempt, people, p):
    """Rita: question 4, Overall 2 (6). Otto: question 0, Overall 0 (0). Needs adjudication."""
    first = secret_first(attempt, people, p)
    second = review(attempt, people.owner_t, {p.question: ([p.mean], "0", "", "Weak."), None: ([], "0", "", "")})
    return SimpleNamespace(first=first, second=second)


def test_a_disputed_attempt_is_listed_as_needing_adjudication(client, attempt, people, disputed):
    page = as_user(client, people.third).get("/review/?status=needs_adjudication").content.decode()
    assert f'href="/review/attempts/{attempt.pk}/"' in page
    assert "Needs adjudication" in page_text(page)
    assert scoring.reviewer_ticks(attempt) == {}  # not settled yet


@pytest.mark.parametrize("who", ["reviewer_t", "owner_t"])
def test_someone_who_marked_the_attempt_may_not_adjudicate_it(client, attempt, people, p, disputed, who):
    before = snapshot()
    as_user(client, getattr(people, who))
    page = client.get(f"/review/attempts/{attempt.pk}/adjudicate/")
    assert page.status_code == 403
    assert "You marked this attempt" in page_text(page.content.decode())
    response = client.post(
        f"/review/attempts/{attempt.pk}/adjudicate/",
        {"choice-overall": "first", f"choice-{p.question.pk}": "first", f"choice-{p.drill.pk}": "first",
         "first_revision": disputed.first.revision, "second_revision": disputed.second.revision},
    )  # fmt: skip
    assert response.status_code == 403
    assert snapshot() == before
    assert not Adjudication.objects.exists()


def test_the_adjudication_page_shows_both_reviews_side_by_side(client, attempt, people, p, disputed):
    page = as_user(client, people.third).get(f"/review/attempts/{attempt.pk}/adjudicate/").content.decode()
    text = page_text(page)
    assert "First review: rita (6)" in text and "Second review: otto (0)" in text
    assert SECRET_COMMENT in page and SECRET_REASON in page and "Weak." in page
    assert "differs by more than half" in text
    assert 'name="first_revision" value="3"' in page


def decide(client, attempt, disputed, fields: dict, **headers):
    data = {"first_revision": disputed.first.revision, "second_revision": disputed.second.revision, **fields}
    return client.post(f"/review/attempts/{attempt.pk}/adjudicate/", data, **headers)


def test_the_adjudicators_decisions_are_the_final_score_and_are_audited(client, attempt, people, p, disputed):
    as_user(client, people.third)
    response = decide(
        client,
        attempt,
        disputed,
        {
            f"choice-{p.question.pk}": "points",
            f"points-{p.question.pk}": "2.5",
            f"reason-{p.question.pk}": "Defined, no example",
            f"choice-{p.drill.pk}": "first",
            "choice-overall": "second",
        },
    )
    assert response.status_code == 302
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.total, score.is_final, score.adjudication) == (D("2.50"), True, "decided")
    question = ItemScore.objects.get(attempt=attempt, item=p.question)
    assert (question.rubric, question.scored_by) == (D("2.50"), people.third)
    adjudication = Adjudication.objects.get(attempt=attempt)
    assert (adjudication.adjudicator, adjudication.status) == (people.third, "final")
    event = AuditEvent.objects.get(action=AuditEvent.Action.ADJUDICATION)
    assert (event.actor, event.attempt_id, event.details["total"]) == (people.third, attempt.pk, "2.50")
    assert event.details["decisions"]["first"] == {
        "choice": "points",
        "points": "2.50",
        "reason": "Defined, no example",
    }
    assert event.details["decisions"]["overall"]["choice"] == "second"
    # The question's own points keep both reviews' shares; Overall took otto's (nothing ticked).
    assert scoring.reviewer_ticks(attempt) == {p.defines.pk: D("0.5"), p.example.pk: D("0.5"), p.mean.pk: D("0.5")}
    queue = client.get("/review/?status=done").content.decode()
    assert f'href="/review/attempts/{attempt.pk}/"' in queue


BAD_DECISIONS = {
    "a part left undecided": ({"choice-overall": "first"}, 400, "choose the first review's mark"),
    "points without a reason": ({"points": "2", "reason": ""}, 400, "a reason is needed"),
    "points beyond the rubric": ({"points": "4.5", "reason": "x"}, 400, "between 0 and 4"),
    "points below zero": ({"points": "-1", "reason": "x"}, 400, "between 0 and 4"),
    "points that are not a number": ({"points": "lots", "reason": "x"}, 400, "must be a number"),
    "an unknown choice": ({"choice": "both"}, 400, "choose the first review's mark"),
}


@pytest.mark.parametrize("case", BAD_DECISIONS)
def test_a_bad_decision_is_refused_with_a_message_and_changes_nothing(client, attempt, people, p, disputed, case):
    override, status, message = BAD_DECISIONS[case]
    key = p.question.pk
    fields = {f"choice-{key}": "points", f"choice-{p.drill.pk}": "first", "choice-overall": "first"}
    if "choice-overall" in override:
        fields = dict(override)
    else:
        fields.update({f"{name}-{key}": value for name, value in override.items()})
    before = snapshot()
    response = decide(as_user(client, people.third), attempt, disputed, fields)
    assert response.status_code == status
    assert message in page_text(response.content.decode())
    assert snapshot() == before
    assert not Adjudication.objects.exists()


def test_a_decision_from_a_stale_page_is_refused(client, attempt, people, p, disputed):
    seen = {"first_revision": disputed.first.revision, "second_revision": disputed.second.revision}
    reopened = reviewing.reopen(disputed.second, people.owner_t, "Reconsider")
    reviewing.finalize(attempt, people.owner_t, reopened.revision)
    before = snapshot()
    fields = {f"choice-{p.question.pk}": "first", f"choice-{p.drill.pk}": "first", "choice-overall": "first", **seen}
    response = as_user(client, people.third).post(f"/review/attempts/{attempt.pk}/adjudicate/", fields)
    assert response.status_code == 409
    assert "A review changed since this page was loaded" in page_text(response.content.decode())
    assert snapshot() == before


def test_reopening_a_review_voids_the_adjudication_until_it_is_decided_again(client, attempt, people, p, disputed):
    adjudicating.decide(
        attempt,
        people.staff,
        {p.question.pk: PartDecision("first"), p.drill.pk: PartDecision("first"), None: PartDecision("first")},
        revisions=(disputed.first.revision, disputed.second.revision),
    )
    assert AttemptScore.objects.get(attempt=attempt).total == D("6.00")
    reviewing.reopen(disputed.first, people.reviewer_t, "Too generous")
    assert Adjudication.objects.get(attempt=attempt).status == Adjudication.Status.REOPENED
    score = AttemptScore.objects.get(attempt=attempt)
    assert (score.is_final, score.review, score.adjudication) == (False, None, "")
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "review_finalized", "adjudication", "review_reopened", "adjustment",
    }  # fmt: skip


def test_an_adjudicator_may_not_then_mark_the_attempt(attempt, people, p, disputed):
    adjudicating.decide(
        attempt,
        people.third,
        {p.question.pk: PartDecision("first"), p.drill.pk: PartDecision("first"), None: PartDecision("first")},
        revisions=(disputed.first.revision, disputed.second.revision),
    )
    reviewing.reopen(disputed.second, people.owner_t, "Again")
    with pytest.raises(Refused):  # the two slots are taken anyway; and an adjudicator never marks
        review(attempt, people.third, {p.question: ([], "0", "", "")}, finalize=False)


def test_adjudication_of_agreeing_reviews_is_refused(client, attempt, people, p):
    secret_first(attempt, people, p)
    review(attempt, people.owner_t, {p.question: ([p.defines], "0", "", ""), None: ([p.strong], "0", "", "")})
    response = as_user(client, people.staff).get(f"/review/attempts/{attempt.pk}/adjudicate/")
    assert response.status_code == 409
    assert "agree within the exam's threshold" in page_text(response.content.decode())


def test_a_single_review_exam_has_nothing_to_adjudicate(client, tmp_path, people):
    exam = import_pack(review_pack(tmp_path / "single", slug="single-exam"))
    attempt = finished_attempt(people.candidate, exam)
    response = as_user(client, people.staff).get(f"/review/attempts/{attempt.pk}/adjudicate/")
    assert response.status_code == 409
    assert Item.objects.filter(version=exam.current_version).exists()


# The admin: staff may yet become the second reviewer.


def test_the_admin_hides_a_first_reviews_marks_and_adjustments_until_both_are_final(client, attempt, people, p):
    first = secret_first(attempt, people, p)
    people.staff.is_superuser = True
    people.staff.save(update_fields=["is_superuser"])
    client.force_login(people.staff)
    pages = [
        client.get(f"/admin/grading/review/{first.pk}/change/"),
        client.get("/admin/grading/auditevent/"),
        client.get("/admin/grading/itemscore/"),
        client.get("/admin/grading/attemptscore/"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert SECRET_COMMENT not in response.content.decode()
        assert SECRET_REASON not in response.content.decode()
    assert AuditEvent.objects.filter(action="adjustment", details__reason=SECRET_REASON).exists()
    review(attempt, people.owner_t, {p.question: ([p.defines], "0", "", "")})
    assert SECRET_COMMENT in client.get(f"/admin/grading/review/{first.pk}/change/").content.decode()


def test_adjudications_are_read_only_in_the_admin(client, attempt, people, p, disputed):
    adjudication = adjudicating.decide(
        attempt,
        people.third,
        {p.question.pk: PartDecision("second"), p.drill.pk: PartDecision("first"), None: PartDecision("first")},
        revisions=(disputed.first.revision, disputed.second.revision),
    )
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    page = client.get(f"/admin/grading/adjudication/{adjudication.pk}/change/")
    assert page.status_code == 200
    assert "Second review&#x27;s mark" in page.content.decode() or "Second review's mark" in page.content.decode()
    assert client.post(f"/admin/grading/adjudication/{adjudication.pk}/delete/").status_code == 403
    assert Adjudication.objects.filter(pk=adjudication.pk).exists()


# The queue and the audit log.


def test_the_queue_offers_the_second_slot_to_other_reviewers(client, attempt, people, p):
    secret_first(attempt, people, p, finalize=False)
    row = f'href="/review/attempts/{attempt.pk}/"'
    for user, state in ((people.reviewer_t, "in_review"), (people.owner_t, "needs_review")):
        page = as_user(client, user).get(f"/review/?status={state}").content.decode()
        assert row in page, (user, state)
    reviewing.finalize(attempt, people.reviewer_t, 2)
    review(attempt, people.owner_t, {p.question: ([p.defines], "0", "", ""), None: ([p.strong], "0", "", "")})
    assert row in as_user(client, people.third).get("/review/?status=done").content.decode()


def test_every_action_of_double_marking_is_in_the_audit_log(attempt, people, p, disputed):
    adjudicating.decide(
        attempt,
        people.third,
        {p.question.pk: PartDecision("first"), p.drill.pk: PartDecision("second"), None: PartDecision("first")},
        revisions=(disputed.first.revision, disputed.second.revision),
    )
    reviewing.reopen(disputed.second, people.staff, "Appeal")
    events = list(AuditEvent.objects.order_by("at", "pk").values_list("action", "actor_name"))
    assert events == [
        ("adjustment", "rita"),  # the question's +1, with its reason
        ("review_finalized", "rita"),
        ("review_finalized", "otto"),
        ("adjudication", "victor"),
        ("review_reopened", "sam"),
    ]
    adjustment = AuditEvent.objects.get(action="adjustment")
    assert adjustment.details == {"item": "first", "before": "0.00", "after": "1.00", "reason": SECRET_REASON}


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_taking_the_second_slot_at_once_leave_two_reviews(exam, people):
    import threading

    from django.db import connection

    attempt = finished_attempt(people.candidate, exam)
    p = parts(attempt)
    secret_first(attempt, people, p, finalize=False)
    start = threading.Barrier(2)
    outcomes = []

    def first_mark(reviewer):
        try:
            start.wait()
            review(attempt, reviewer, {p.question: ([p.defines], "0", "", "")}, finalize=False)
            outcomes.append("saved")
        except Refused as error:
            outcomes.append(error.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_mark, args=(user,)) for user in (people.owner_t, people.third)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [409, "saved"]
    assert Review.objects.filter(attempt=attempt).count() == 2


def test_a_decision_body_that_is_not_utf8_or_lacks_revisions_is_a_400(client, attempt, people, p, disputed):
    as_user(client, people.third)
    before = snapshot()
    url = f"/review/attempts/{attempt.pk}/adjudicate/"
    body = "choice-overall=first&reason-overall=caf\xe9&first_revision=3&second_revision=3".encode("latin-1")
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in page_text(response.content.decode())
    fields = {f"choice-{p.question.pk}": "first", f"choice-{p.drill.pk}": "first", "choice-overall": "first"}
    response = client.post(url, fields)
    assert response.status_code == 400
    assert "missing the reviews' revisions" in page_text(response.content.decode())
    assert snapshot() == before
    assert not Adjudication.objects.exists()


# What the candidate sees once a double-marked score is final.


def test_the_candidate_sees_both_reviewers_feedback_and_the_split_ticks(client, attempt, people, p):
    secret_first(attempt, people, p)
    review(
        attempt, people.owner_t, {p.question: ([p.defines], "0", "", "Otto's note."), None: ([p.strong], "0", "", "")}
    )
    page = as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/").content.decode()
    text = page_text(page)
    # Both reviewers, named, with their comments; the score is their mean.
    assert "Reviewed by rita" in text and "otto" in text and "the mean of the two reviews" in text
    assert "rita first-reviewer-secret-comment otto Otto's note." in text
    assert text.count("(one of the two reviewers)") == 1  # only rita ticked the example
    assert "Adjustment +1 (rita): first-reviewer-secret-reason" in text


def test_the_candidate_sees_the_adjudicators_decision_and_its_reason(client, attempt, people, p, disputed):
    as_user(client, people.third)
    fields = {
        f"choice-{p.question.pk}": "points",
        f"points-{p.question.pk}": "2.5",
        f"reason-{p.question.pk}": "Defined, no example",
        f"choice-{p.drill.pk}": "first",
        "choice-overall": "second",
    }
    assert decide(client, attempt, disputed, fields).status_code == 302
    text = page_text(as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/").content.decode())
    assert "(double marked: adjudicated)" in text
    assert "Adjudicated by victor: points of their own: Defined, no example" in text
    assert "Adjudicated by victor: otto's mark" in text
