"""The review pages over HTTP: who may do what (one table, persona by
persona), bad input refused with a message and nothing changed, the plain
form and the htmx flows, finalize and reopen, and what the candidate's
results page shows before and after a final review."""

import re
from decimal import Decimal

import pytest

from exams.models import Attempt
from grading.models import AttemptScore, Mark, Review, ReviewEvent
from tests.conftest import HIDDEN_MARKER
from tests.review_support import (
    HTMX,
    finished_attempt,
    import_pack,
    mark_fields,
    mark_url,
    page_text,
    parts,
    review_pack,
    set_policy,
    snapshot,
    text,
    texts,
)

pytestmark = pytest.mark.django_db
ANSWERS = {"first": "The latency 99% of requests beat.", "add": "Zero and negatives."}


@pytest.fixture
def pack(tmp_path):
    return review_pack(tmp_path)


@pytest.fixture
def exam(pack):
    return import_pack(pack)


@pytest.fixture
def attempt(exam, people) -> Attempt:
    return finished_attempt(people.candidate, exam, ANSWERS)


@pytest.fixture
def p(attempt):
    return parts(attempt)


def as_user(client, user):
    client.force_login(user)
    return client


def review_of(attempt, user) -> Review | None:
    return Review.objects.filter(attempt=attempt, reviewer=user).first()


def mark_and_finalize(client, attempt, p):
    """The reviewer's whole review through the plain forms: three parts marked, then finalized."""
    fields = [
        (p.question, mark_fields([p.defines, p.example], "-1", "Skipped the tail latency", "Good definition.", 0)),
        (p.drill, mark_fields([p.drill_criterion], comment="Test zero too.", revision=1)),
        (None, mark_fields([p.strong], comment="Solid work overall.", revision=2)),
    ]
    for item, data in fields:
        assert client.post(mark_url(attempt, item), data).status_code == 302
    assert client.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 3}).status_code == 302


# Who may do what, on a finished attempt of the candidate (a plain member
# of team T). "listed"/"absent": the queue answers 200 and shows the attempt
# or not; "saved", "final", "reopened": the write happened (reopen acts on a
# review the reviewer of T finalized). A number is the status of a refusal,
# and a refusal changes nothing.
ACTIONS = ("queue", "review", "mark", "finalize", "reopen", "results")
# fmt: off
MATRIX = {
    #              queue     review  mark     finalize  reopen      results
    "candidate":  (403,      404,    404,     404,      404,        200),
    "member_u":   (403,      404,    404,     404,      404,        404),
    "reviewer_u": ("absent", 404,    404,     404,      404,        404),
    "reviewer_t": ("listed", 200,    "saved", "final",  "reopened", 200),
    "owner_t":    ("listed", 200,    "saved", "final",  403,        200),  # reopens only their own reviews
    "staff":      ("listed", 200,    "saved", "final",  "reopened", 200),
}
# fmt: on


@pytest.mark.parametrize("persona", MATRIX)
def test_each_persona_may_do_what_the_matrix_says_and_a_refusal_changes_nothing(client, exam, people, persona):
    fresh = finished_attempt(people.candidate, exam, ANSWERS)
    held = finished_attempt(people.candidate, exam, ANSWERS)
    mark_and_finalize(as_user(client, people.reviewer_t), held, parts(held))
    p = parts(fresh)
    user = getattr(people, persona)
    as_user(client, user)
    outcome, changed_by_refusal = {}, []

    def write(name, post, happened, result):
        """Record `result` if the write happened, else the status it answered; a refusal must change nothing."""
        before = snapshot()
        response = post()
        if happened():
            outcome[name] = result
        else:
            outcome[name] = response.status_code
            if snapshot() != before:
                changed_by_refusal.append(name)

    response = client.get("/review/")
    listed = f'href="/review/attempts/{fresh.pk}/"' in response.content.decode()
    outcome["queue"] = response.status_code if response.status_code != 200 else ("listed" if listed else "absent")
    outcome["review"] = client.get(f"/review/attempts/{fresh.pk}/").status_code

    def marked():
        stored = Mark.objects.filter(review__attempt=fresh, review__reviewer=user, item=p.question).first()
        return stored is not None and list(stored.criteria.all()) == [p.defines]

    write(
        "mark",
        lambda: client.post(mark_url(fresh, p.question), mark_fields([p.defines], comment="Clear.")),
        marked,
        "saved",
    )
    write(
        "finalize",
        lambda: client.post(f"/review/attempts/{fresh.pk}/finalize/", {"revision": 1}),
        lambda: Review.objects.filter(attempt=fresh, reviewer=user, status=Review.Status.FINAL).exists(),
        "final",
    )
    write(
        "reopen",
        lambda: client.post(f"/review/attempts/{held.pk}/reopen/", {"reason": "A second look at the drill."}),
        lambda: review_of(held, people.reviewer_t).status == Review.Status.DRAFT,
        "reopened",
    )
    outcome["results"] = client.get(f"/attempts/{fresh.pk}/results/").status_code
    assert outcome == dict(zip(ACTIONS, MATRIX[persona], strict=True))
    assert changed_by_refusal == []


def test_refused_people_leave_no_review_behind(client, attempt, people, p):
    """Everyone the matrix refuses, posting to every write URL, htmx or not: not one row appears."""
    for persona in ("candidate", "member_u", "reviewer_u"):
        as_user(client, getattr(people, persona))
        for headers in ({}, HTMX):
            client.post(mark_url(attempt, p.question), mark_fields([p.defines]), **headers)
            client.post(mark_url(attempt, None), mark_fields([p.strong]), **headers)
            client.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 0}, **headers)
            client.post(f"/review/attempts/{attempt.pk}/reopen/", {"reason": "x"}, **headers)
    assert (Review.objects.count(), Mark.objects.count(), ReviewEvent.objects.count()) == (0, 0, 0)


def test_an_open_attempt_is_not_reviewable_yet(client, exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    p = parts(attempt)
    as_user(client, people.reviewer_t)
    assert f"/review/attempts/{attempt.pk}/" not in client.get("/review/").content.decode()
    assert client.get(f"/review/attempts/{attempt.pk}/").status_code == 404
    assert client.post(mark_url(attempt, p.question), mark_fields([p.defines])).status_code == 404
    assert client.get(f"/attempts/{attempt.pk}/results/").status_code == 404
    assert not Review.objects.exists()


def test_a_second_reviewer_gets_409_while_another_holds_the_attempt(client, attempt, people, p):
    as_user(client, people.reviewer_t).post(mark_url(attempt, p.question), mark_fields([p.defines]))
    before = snapshot()
    response = as_user(client, people.owner_t).post(mark_url(attempt, p.question), mark_fields([p.example]), **HTMX)
    assert response.status_code == 409
    assert "rita is already reviewing this attempt" in response.content.decode()
    assert snapshot() == before
    page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert "rita is reviewing this attempt" in page_text(page)
    assert "Finalize review" not in page


def test_the_queue_counts_filters_and_lists_oldest_first(client, exam, people, pack, tmp_path):
    other_exam = import_pack(review_pack(tmp_path / "other", slug="other-exam"))
    attempts = [finished_attempt(people.candidate, exam) for _ in range(3)]
    other = finished_attempt(people.candidate, other_exam)
    as_user(client, people.reviewer_t)
    client.post(mark_url(attempts[1], None), mark_fields([parts(attempts[1]).strong]))
    mark_and_finalize(client, attempts[2], parts(attempts[2]))

    page = client.get("/review/").content.decode()
    rows = [a.pk for a in [*attempts, other]]
    assert [page.index(f'href="/review/attempts/{pk}/"') for pk in rows] == sorted(
        page.index(f'href="/review/attempts/{pk}/"') for pk in rows
    )
    counts = {key: text(page, cls=f"count-{key}") for key in ("needs_review", "in_review", "done")}
    assert counts == {"needs_review": "2", "in_review": "1", "done": "1"}

    def listed(query):
        html = client.get("/review/" + query).content.decode()
        return [a.pk for a in [*attempts, other] if f'href="/review/attempts/{a.pk}/"' in html]

    assert listed("?status=needs_review") == [attempts[0].pk, other.pk]
    assert listed("?status=in_review") == [attempts[1].pk]
    assert listed("?status=done") == [attempts[2].pk]
    assert listed("?exam=other-exam") == [other.pk]
    assert listed("?team=t&status=needs_review&exam=mini-exam") == [attempts[0].pk]
    assert client.get("/review/?team=u").status_code == 404  # a team rita does not review


def test_the_queue_shows_25_attempts_a_page(client, exam, people):
    for _ in range(27):
        finished_attempt(people.candidate, exam)
    as_user(client, people.reviewer_t)
    first = client.get("/review/").content.decode()
    second = client.get("/review/?page=2").content.decode()
    assert (len(texts(first, cls="queue-row")), len(texts(second, cls="queue-row"))) == (25, 2)
    assert "Page 2 of 2" in second


# Bad input over HTTP (htmx, as the page sends it): a 4xx with the message, nothing changed.

BAD_MARKS = {
    "a criterion of another item": (
        lambda p: mark_fields([p.drill_criterion]),
        400,
        "is not part of this item's rubric",
    ),
    "a huge negative adjustment": (
        lambda p: mark_fields(adjustment="-1000", reason="Very wrong"),
        400,
        "An adjustment must be between -4 and +4 points.",
    ),
    "a huge adjustment": (
        lambda p: mark_fields(adjustment="1000", reason="Very right"),
        400,
        "An adjustment must be between -4 and +4 points.",
    ),
    "an adjustment without a reason": (
        lambda p: mark_fields(adjustment="1", reason="  "),
        400,
        "an adjustment needs a reason",
    ),
    "an adjustment that is not a number": (
        lambda p: mark_fields(adjustment="a lot", reason="Because"),
        400,
        "must be a number of points",
    ),
    "a criterion that is not a number": (
        lambda p: {**mark_fields(), "criteria": ["first"]},
        400,
        "Criteria are sent by their numbers",
    ),
    "no revision": (lambda p: {"criteria": [p.defines.pk]}, 400, "missing the review's revision"),
    "a NUL character in the comment": (lambda p: mark_fields(comment="a\x00b"), 400, "NUL character"),
    "a reason over 300 characters": (
        lambda p: mark_fields(adjustment="1", reason="r" * 301),
        400,
        "A reason is at most 300 characters long.",
    ),
    "a 5 MB paste in the comment": (lambda p: mark_fields(comment="x" * 5_000_000), 413, "the limit is 10,000"),
}


@pytest.mark.parametrize("case", BAD_MARKS)
def test_a_bad_mark_is_refused_with_a_message_and_changes_nothing(client, attempt, people, p, case):
    fields, status, message = BAD_MARKS[case]
    as_user(client, people.reviewer_t)
    before = snapshot()
    response = client.post(mark_url(attempt, p.question), fields(p), **HTMX)
    assert response.status_code == status
    assert message in page_text(response.content.decode())
    assert f'id="mark-status-{p.question.pk}"' in response.content.decode()
    assert snapshot() == before


def test_a_criterion_of_another_exam_version_is_refused(client, attempt, people, pack):
    pack.write("01-basics/01-first.md", pack.path("01-basics/01-first.md").read_text() + "\nEdited.\n")
    newer = import_pack(pack).current_version
    assert newer.pk != attempt.version_id
    foreign = newer.criteria.get(item__slug="first", position=1)
    as_user(client, people.reviewer_t)
    before = snapshot()
    response = client.post(mark_url(attempt, parts(attempt).question), mark_fields([foreign]), **HTMX)
    assert response.status_code == 400
    assert f"Criterion {foreign.pk} is not part of this item's rubric" in page_text(response.content.decode())
    assert snapshot() == before


def test_a_mark_on_an_item_of_another_version_is_404(client, attempt, people, pack):
    pack.write("01-basics/01-first.md", pack.path("01-basics/01-first.md").read_text() + "\nEdited.\n")
    foreign = import_pack(pack).current_version.items.get(slug="first")
    as_user(client, people.reviewer_t)
    response = client.post(mark_url(attempt, foreign), mark_fields(), **HTMX)
    assert response.status_code == 404
    assert not Review.objects.exists()


def test_a_stale_revision_is_a_409_and_changes_nothing(client, attempt, people, p):
    as_user(client, people.reviewer_t)
    assert client.post(mark_url(attempt, p.question), mark_fields([p.defines]), **HTMX).status_code == 200
    before = snapshot()
    # A second tab, still on revision 0.
    response = client.post(mark_url(attempt, p.question), mark_fields([p.mean]), **HTMX)
    assert response.status_code == 409
    assert "changed in another tab or window" in page_text(response.content.decode())
    assert snapshot() == before
    assert list(Mark.objects.get().criteria.all()) == [p.defines]


@pytest.mark.parametrize(
    "body",
    [b"criteria=%d&comment=caf\xe9&revision=0", b"criteria=%d&comment=caf%%E9&revision=0"],
    ids=["raw byte", "percent-encoded"],
)
def test_a_body_that_is_not_utf8_is_a_400_and_changes_nothing(client, attempt, people, p, body):
    as_user(client, people.reviewer_t)
    response = client.post(
        mark_url(attempt, p.question), body % p.defines.pk, content_type="application/x-www-form-urlencoded", **HTMX
    )
    assert response.status_code == 400
    assert "not valid UTF-8" in page_text(response.content.decode())
    assert not Review.objects.exists()


def test_the_candidate_posting_to_review_urls_gets_404_and_changes_nothing(client, attempt, people, p):
    as_user(client, people.reviewer_t).post(mark_url(attempt, p.question), mark_fields([p.defines]))
    before = snapshot()
    as_user(client, people.candidate)
    for url, data in [
        (mark_url(attempt, p.question), mark_fields([p.defines, p.example], revision=1)),
        (mark_url(attempt, None), mark_fields([p.strong], revision=1)),
        (f"/review/attempts/{attempt.pk}/finalize/", {"revision": 1}),
        (f"/review/attempts/{attempt.pk}/reopen/", {"reason": "I disagree"}),
    ]:
        assert client.post(url, data, **HTMX).status_code == 404, url
    assert snapshot() == before


def test_a_mark_on_a_final_review_is_a_409_until_it_is_reopened(client, attempt, people, p):
    mark_and_finalize(as_user(client, people.reviewer_t), attempt, p)
    before = snapshot()
    response = client.post(mark_url(attempt, p.question), mark_fields([p.mean], revision=4), **HTMX)
    assert response.status_code == 409
    assert "This review is final; reopen it to change it." in page_text(response.content.decode())
    assert snapshot() == before
    page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert "<fieldset disabled>" in page
    assert "Finalize review" not in page


def test_nobody_reviews_their_own_attempt_not_even_staff(client, exam, people):
    for user in (people.reviewer_t, people.staff):
        # A reviewer of T is one of T's members too; staff review every attempt but their own.
        own = finished_attempt(user, exam, ANSWERS)
        as_user(client, user)
        assert f'href="/review/attempts/{own.pk}/"' not in client.get("/review/").content.decode()
        assert client.get(f"/review/attempts/{own.pk}/").status_code == 404
        response = client.post(mark_url(own, parts(own).question), mark_fields(), **HTMX)
        assert response.status_code == 404
    assert not Review.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, attempt, p):
    for method, url in [
        ("get", "/review/"),
        ("get", f"/review/attempts/{attempt.pk}/"),
        ("post", mark_url(attempt, p.question)),
        ("post", mark_url(attempt, None)),
        ("post", f"/review/attempts/{attempt.pk}/finalize/"),
        ("post", f"/review/attempts/{attempt.pk}/reopen/"),
        ("get", f"/attempts/{attempt.pk}/results/"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    assert not Review.objects.exists()


# The two ways of saving a mark.


def test_the_plain_form_saves_and_redirects_back_to_the_item(client, attempt, people, p):
    as_user(client, people.reviewer_t)
    response = client.post(mark_url(attempt, p.question), mark_fields([p.defines], "0.5", "Neat", "Well put."))
    assert response.status_code == 302
    assert response["Location"] == f"/review/attempts/{attempt.pk}/#mark-{p.question.pk}"
    stored = Mark.objects.get(review__reviewer=people.reviewer_t, item=p.question)
    assert (list(stored.criteria.all()), stored.adjustment, stored.reason, stored.comment) == (
        [p.defines],
        Decimal("0.5"),
        "Neat",
        "Well put.",
    )
    page = client.get(response["Location"]).content.decode()
    assert "First question: marks saved." in page_text(page)
    assert f'id="criterion-{p.defines.pk}" checked' in page
    assert 'name="revision" value="1"' in page


def test_the_plain_form_shows_a_refusal_after_the_redirect(client, attempt, people, p):
    as_user(client, people.reviewer_t)
    response = client.post(mark_url(attempt, p.question), mark_fields(adjustment="2"), follow=True)
    assert response.redirect_chain == [(f"/review/attempts/{attempt.pk}/#mark-{p.question.pk}", 302)]
    assert "an adjustment needs a reason" in page_text(response.content.decode())
    assert not Review.objects.exists()


def test_an_htmx_save_answers_the_status_the_total_and_the_revision(client, attempt, people, p):
    as_user(client, people.reviewer_t)
    response = client.post(mark_url(attempt, p.question), mark_fields([p.defines, p.example]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "saved" in text(html, id=f"mark-status-{p.question.pk}")
    assert "Score 4 of 4" in text(html, id=f"mark-status-{p.question.pk}")
    assert re.search(r'<div id="review-total"[^>]* hx-swap-oob="true"', html)
    assert text(html, id="review-total").startswith("Total 4 of")
    assert re.search(r'<input [^>]*id="review-revision" value="1" hx-swap-oob="true"', html)

    response = client.post(mark_url(attempt, None), mark_fields([p.strong], revision=1), **HTMX)
    assert 'id="mark-status-overall"' in response.content.decode()
    assert text(response.content.decode(), id="review-total").startswith("Total 6 of")
    assert 'id="review-revision" value="2"' in response.content.decode()


# Finalize and reopen.


def test_two_finalizes_with_the_same_revision_make_one_final_review(client, attempt, people, p):
    as_user(client, people.reviewer_t).post(mark_url(attempt, p.question), mark_fields([p.defines]))
    first = client.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 1}, follow=True)
    assert "Review finalized" in page_text(first.content.decode())
    before = snapshot()
    second = client.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 1})
    assert second.status_code == 409
    assert "This review is already final." in page_text(second.content.decode())
    assert snapshot() == before
    assert ReviewEvent.objects.filter(action=ReviewEvent.Action.FINALIZED).count() == 1


def test_finalizing_from_a_stale_page_is_refused(client, attempt, people, p):
    as_user(client, people.reviewer_t).post(mark_url(attempt, p.question), mark_fields([p.defines]))
    client.post(mark_url(attempt, p.drill), mark_fields([p.drill_criterion], revision=1))  # another tab
    before = snapshot()
    response = client.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 1})
    assert response.status_code == 409
    assert "changed in another tab or window" in page_text(response.content.decode())
    assert snapshot() == before
    assert review_of(attempt, people.reviewer_t).status == Review.Status.DRAFT


def test_finalizing_with_nothing_marked_is_refused(client, attempt, people):
    response = as_user(client, people.reviewer_t).post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 0})
    assert response.status_code == 400
    assert "There is nothing to finalize yet" in page_text(response.content.decode())
    assert not Review.objects.exists()


def test_reopening_needs_a_reason_and_makes_the_score_provisional_again(client, attempt, people, p):
    mark_and_finalize(as_user(client, people.reviewer_t), attempt, p)
    before = snapshot()
    response = client.post(f"/review/attempts/{attempt.pk}/reopen/", {"reason": "   "})
    assert response.status_code == 400
    assert "Say why the review is reopened" in page_text(response.content.decode())
    assert snapshot() == before
    assert review_of(attempt, people.reviewer_t).is_final

    response = client.post(
        f"/review/attempts/{attempt.pk}/reopen/", {"reason": "Missed the drill's tests"}, follow=True
    )
    assert "Review reopened" in page_text(response.content.decode())
    review = review_of(attempt, people.reviewer_t)
    assert (review.status, review.revision) == (Review.Status.DRAFT, 5)
    event = review.events.get(action=ReviewEvent.Action.REOPENED)
    assert (event.actor, event.reason) == (people.reviewer_t, "Missed the drill's tests")
    assert "reopened by rita: “Missed the drill's tests”" in page_text(response.content.decode())
    assert AttemptScore.objects.get(attempt=attempt).is_final is False

    results = as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/").content.decode()
    assert "Provisional" in text(results, cls="total-score")
    assert "Final" not in text(results, cls="total-score")
    assert "Good definition." not in results  # a draft's comments are the reviewer's alone


# What the candidate sees.


def test_the_candidate_sees_provisional_and_awaiting_review_before_a_final_review(client, attempt, people, p):
    as_user(client, people.reviewer_t).post(
        mark_url(attempt, p.question), mark_fields([p.defines], "1", "Kind", "A draft thought.")
    )
    results = as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/").content.decode()
    assert "Provisional" in text(results, cls="total-score")
    assert "Provisional." in text(results, cls="provisional-note")
    assert "Awaiting review" in text(results, id=f"result-{p.question.pk}")
    for draft in ("A draft thought.", "Kind", "Reviewer feedback"):
        assert draft not in results


def test_the_candidate_sees_the_final_score_the_ticked_rubric_and_the_feedback(client, attempt, people, p):
    mark_and_finalize(as_user(client, people.reviewer_t), attempt, p)
    score = AttemptScore.objects.get(attempt=attempt)
    # Question 2 + 2 - 1 = 3, drill: tests 0 (never run) + written 2, Overall 2.
    assert (score.total, score.is_final) == (Decimal(7), True)

    results = as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/").content.decode()
    total = text(results, cls="total-score")
    assert total.startswith(f"7 of {score.max_points}")
    assert "Final" in total and "Provisional" not in total
    assert "provisional-note" not in results
    assert "Awaiting review" not in results
    assert "rita" in text(results, cls="results-facts")

    question = text(results, id=f"review-{p.question.pk}")
    assert "Met: Strong signal Defines the percentile (+2)" in question
    assert "Met: Strong signal Gives a latency example (+2)" in question
    assert "Met: Weak signal Confuses it with the mean" not in question
    assert "Adjustment -1: Skipped the tail latency" in question
    assert "Good definition." in question
    drill = text(results, id=f"review-{p.drill.pk}")
    assert "Met: Strong signal Tests negative numbers (+2)" in drill
    assert "Test zero too." in drill
    feedback = text(results, cls="feedback")
    assert "Solid work overall." in feedback
    assert "Met: Strong signal Names the metric (+2)" in feedback
    assert "<strong>3</strong>" in results.split(f'id="result-{p.question.pk}"')[1].split("</tr>")[0]


def test_the_never_policy_keeps_the_model_answer_from_the_candidate_but_not_from_the_reviewer(client, pack, people):
    exam = set_policy(pack, "never")
    attempt = finished_attempt(people.candidate, exam, ANSWERS)
    mark_and_finalize(as_user(client, people.reviewer_t), attempt, parts(attempt))
    review_page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert HIDDEN_MARKER in review_page
    assert "return a + b" in page_text(review_page)  # the drill's reference solution

    as_user(client, people.candidate)
    candidate_pages = "".join(
        client.get(url).content.decode() for url in (f"/attempts/{attempt.pk}/results/", "/attempts/")
    )
    assert HIDDEN_MARKER not in candidate_pages
    assert "Negative numbers and zero" not in candidate_pages
    assert "return a + b" not in page_text(candidate_pages)
