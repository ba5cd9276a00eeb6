"""Line comments on a drill's code: the rules (a comment is part of its
review: revisions, drafts, stale tabs), who may write them (persona by
persona), bad input refused with a message and nothing changed, blindness
of double marking, and what the candidate's results page shows."""

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from exams.models import Answer, Attempt
from exams.taking import Refused
from grading import line_comments, reviewing
from grading.models import LineComment, Review
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
    texts,
)

pytestmark = pytest.mark.django_db
ANSWERS = {"first": "The latency 99% of requests beat.", "add": "Zero and negatives."}
NUL_REFUSED = "The text contains a NUL character (\\0), which cannot be stored; nothing was saved."
CODE = "def add(a, b):\n    total = a + b  # <sum>\n    return total\n"


@pytest.fixture
def exam(tmp_path):
    return import_pack(review_pack(tmp_path))


def with_code(attempt: Attempt, code: str = CODE) -> Attempt:
    """The drill's saved code (written after the attempt ended: no final run is queued)."""
    drill = parts(attempt).drill
    Answer.objects.create(attempt=attempt, item=drill, part=Answer.Part.CODE, content=code, revision=1)
    return attempt


@pytest.fixture
def attempt(exam, people) -> Attempt:
    return with_code(finished_attempt(people.candidate, exam, ANSWERS))


@pytest.fixture
def p(attempt):
    return parts(attempt)


def as_user(client, user):
    client.force_login(user)
    return client


def add_url(attempt, item) -> str:
    return f"/review/attempts/{attempt.pk}/items/{item.pk}/comments/"


def edit_url(attempt, comment) -> str:
    return f"/review/attempts/{attempt.pk}/comments/{comment.pk}/edit/"


def delete_url(attempt, comment) -> str:
    return f"/review/attempts/{attempt.pk}/comments/{comment.pk}/delete/"


def everything() -> dict:
    return {**snapshot(), "comments": [model_to_dict(c) for c in LineComment.objects.order_by("pk")]}


def revision_of(attempt, user) -> int:
    review = Review.objects.filter(attempt=attempt, reviewer=user).first()
    return review.revision if review else 0


# The code's lines.


@pytest.mark.parametrize(
    ("code", "lines"),
    [
        ("", []),
        ("   \n", []),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\n\n", ["a", ""]),
        ("\n\na\r\nb\rc", ["", "", "a", "b", "c"]),
    ],
)
def test_lines_are_numbered_as_the_listing_shows_them(code, lines):
    assert line_comments.code_lines(code) == lines
    assert len(line_comments.highlighted_lines(code)) == len(lines)


def test_each_highlighted_line_is_escaped_and_leading_blank_lines_keep_their_numbers():
    code = '\n\ndef f():\n    """two\n    lines"""\n    return "<b>"\n'
    html = line_comments.highlighted_lines(code)
    assert html[:2] == ["", ""]
    assert "def" in html[2] and "&lt;b&gt;" in html[5] and "<b>" not in html[5]
    # A token across two lines is closed and reopened: every line is balanced.
    assert all(line.count("<span") == line.count("</span>") for line in html)


# The rules.


def test_a_first_comment_starts_the_review_and_each_one_moves_its_revision_on(attempt, people, p):
    first = line_comments.add(attempt, people.reviewer_t, p.drill, line=2, body="  Why a temporary?  ", revision=0)
    review = Review.objects.get(attempt=attempt, reviewer=people.reviewer_t)
    assert (review.status, review.revision) == (Review.Status.DRAFT, 1)
    assert (first.review_id, first.line, first.body) == (review.pk, 2, "Why a temporary?")
    assert first.line_text == "    total = a + b  # <sum>"
    assert first.code_sha256 == line_comments.code_hash(CODE)
    line_comments.add(attempt, people.reviewer_t, p.drill, line=3, body="Fine.", revision=1)
    # A mark after a comment carries the comment's revision, and the other way round.
    reviewing.mark(
        attempt, people.reviewer_t, p.drill, criteria_ids=[], adjustment=Decimal(0), reason="", comment="", revision=2
    )
    line_comments.edit(attempt, people.reviewer_t, first, body="Inline it.", revision=3)
    line_comments.delete(attempt, people.reviewer_t, LineComment.objects.get(line=3), revision=4)
    review.refresh_from_db()
    assert review.revision == 5
    assert list(LineComment.objects.values_list("line", "body")) == [(2, "Inline it.")]


def test_a_stale_revision_is_refused_and_changes_nothing(attempt, people, p):
    line_comments.add(attempt, people.reviewer_t, p.drill, line=1, body="One.", revision=0)
    before = everything()
    for revision in (0, 2, 7):
        with pytest.raises(Refused) as refused:
            line_comments.add(attempt, people.reviewer_t, p.drill, line=1, body="Two.", revision=revision)
        assert refused.value.status == 409
        assert refused.value.current_revision == 1
    assert everything() == before


def test_a_final_review_takes_no_comment_until_reopened(attempt, people, p):
    comment = line_comments.add(attempt, people.reviewer_t, p.drill, line=1, body="One.", revision=0)
    reviewing.finalize(attempt, people.reviewer_t, 1)
    before = everything()
    for write in (
        lambda: line_comments.add(attempt, people.reviewer_t, p.drill, line=1, body="Two.", revision=2),
        lambda: line_comments.edit(attempt, people.reviewer_t, comment, body="Changed.", revision=2),
        lambda: line_comments.delete(attempt, people.reviewer_t, comment, revision=2),
    ):
        with pytest.raises(Refused, match=r"This review is final; reopen it to change it\."):
            write()
    assert everything() == before
    reviewing.reopen(Review.objects.get(), people.reviewer_t, "One more line to comment.")
    line_comments.add(attempt, people.reviewer_t, p.drill, line=3, body="Two.", revision=3)
    assert LineComment.objects.count() == 2


def test_the_rules_refuse_what_is_not_a_drill_of_this_attempt_and_others_comments(exam, attempt, people, p):
    other = with_code(finished_attempt(people.candidate, exam, ANSWERS))
    theirs = line_comments.add(other, people.reviewer_t, parts(other).drill, line=1, body="Theirs.", revision=0)
    before = everything()
    refusals = {
        "question": lambda: line_comments.add(attempt, people.staff, p.question, line=1, body="x", revision=0),
        "other comment": lambda: line_comments.edit(attempt, people.staff, theirs, body="x", revision=0),
        "not yours": lambda: line_comments.delete(other, people.staff, theirs, revision=0),
        "outsider": lambda: line_comments.add(attempt, people.reviewer_u, p.drill, line=1, body="x", revision=0),
        "own attempt": lambda: line_comments.add(attempt, people.candidate, p.drill, line=1, body="x", revision=0),
        "nul": lambda: line_comments.add(attempt, people.staff, p.drill, line=1, body="a\x00", revision=0),
        "not text": lambda: line_comments.add(attempt, people.staff, p.drill, line=1, body=None, revision=0),
        "line as text": lambda: line_comments.add(attempt, people.staff, p.drill, line="1", body="x", revision=0),
    }
    statuses = {}
    for name, write in refusals.items():
        with pytest.raises(Refused) as refused:
            write()
        statuses[name] = refused.value.status
    assert statuses == {
        "question": 400,
        "other comment": 400,
        "not yours": 403,
        "outsider": 403,
        "own attempt": 403,
        "nul": 400,
        "not text": 400,
        "line as text": 400,
    }
    assert everything() == before


# Over HTTP: who may do what. "saved": the comment was stored; a number is
# the status of a refusal, and a refusal changes nothing. Edit and delete
# act on a comment the reviewer of T wrote: only they may touch it. Sent
# through htmx, which answers a refusal with its status (the plain form
# redirects back with the message).
ACTIONS = ("add", "edit_theirs", "delete_theirs", "review_page")
# fmt: off
MATRIX = {
    #              add      edit_theirs  delete_theirs  review_page
    "candidate":  (404,     404,         404,           404),
    "member_u":   (404,     404,         404,           404),
    "reviewer_u": (404,     404,         404,           404),
    "owner_t":    (409,     404,         404,           200),  # rita holds the attempt (one review)
    "staff":      (409,     404,         404,           200),
    "reviewer_t": ("saved", "saved",     "saved",       200),
}
# fmt: on


@pytest.mark.parametrize("persona", MATRIX)
def test_each_persona_may_do_what_the_matrix_says_and_a_refusal_changes_nothing(client, attempt, people, p, persona):
    as_user(client, people.reviewer_t).post(add_url(attempt, p.drill), {"line": 1, "body": "Rita's.", "revision": 0})
    theirs = LineComment.objects.get()
    user = getattr(people, persona)
    as_user(client, user)
    outcome, changed_by_refusal = {}, []

    def write(name, post, happened):
        before = everything()
        response = post()
        if happened():
            outcome[name] = "saved"
        else:
            outcome[name] = response.status_code
            if everything() != before:
                changed_by_refusal.append(name)

    revision = revision_of(attempt, user)
    write(
        "add",
        lambda: client.post(add_url(attempt, p.drill), {"line": 2, "body": "Mine.", "revision": revision}, **HTMX),
        lambda: LineComment.objects.filter(body="Mine.").exists(),
    )
    write(
        "edit_theirs",
        lambda: client.post(
            edit_url(attempt, theirs), {"body": "Edited.", "revision": revision_of(attempt, user)}, **HTMX
        ),
        lambda: LineComment.objects.filter(body="Edited.").exists(),
    )
    write(
        "delete_theirs",
        lambda: client.post(delete_url(attempt, theirs), {"revision": revision_of(attempt, user)}, **HTMX),
        lambda: not LineComment.objects.filter(pk=theirs.pk).exists(),
    )
    outcome["review_page"] = client.get(f"/review/attempts/{attempt.pk}/").status_code
    assert outcome == dict(zip(ACTIONS, MATRIX[persona], strict=True))
    assert changed_by_refusal == []


def test_an_open_attempt_takes_no_comment(client, exam, people):
    attempt, _ = Attempt.start(people.candidate, exam, Attempt.Mode.PRACTICE)
    with_code(attempt)
    response = as_user(client, people.reviewer_t).post(
        add_url(attempt, parts(attempt).drill), {"line": 1, "body": "Early.", "revision": 0}
    )
    assert response.status_code == 404
    assert not Review.objects.exists() and not LineComment.objects.exists()


# Bad input: a clear 4xx, and nothing changed.


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"line": "4"}, 400, "Line 4 does not exist: this code has 3 lines (1 to 3)."),
        ({"line": "0"}, 400, "Line 0 does not exist: this code has 3 lines (1 to 3)."),
        ({"line": "99999999999"}, 400, "The line number must be a whole number."),
        ({"line": "-1"}, 400, "The line number must be a whole number."),
        ({"line": "two"}, 400, "The line number must be a whole number."),
        ({"line": ""}, 400, "The line number must be a whole number."),
        ({"body": "   "}, 400, "Write the comment first: it is empty."),
        ({"body": "x" * 2001}, 413, "This comment is 2,001 characters long; the limit is 2,000. Nothing was saved."),
        ({"body": "a\x00b"}, 400, NUL_REFUSED),  # refused by strict_post, before the rules
        ({"revision": "x"}, 400, "The request was missing the review's revision; reload the page."),
        ({"revision": "5"}, 409, reviewing.STALE),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_bad_input_gets_a_clear_refusal_and_changes_nothing(client, attempt, people, p, fields, status, message, htmx):
    as_user(client, people.reviewer_t)
    before = everything()
    data = {"line": "2", "body": "A comment.", "revision": "0", **fields}
    if htmx:
        response = client.post(add_url(attempt, p.drill), data, **HTMX)
        assert response.status_code == status
        assert response["HX-Retarget"] == f"#line-comment-status-{p.drill.pk}"
        assert page_text(response.content.decode()) == message
    else:
        response = client.post(add_url(attempt, p.drill), data, follow=True)
        assert response.redirect_chain[0][1] == 302
        assert message in page_text(response.content.decode())
    assert everything() == before


def test_a_drill_without_code_takes_no_comment(client, exam, people):
    attempt = finished_attempt(people.candidate, exam, ANSWERS)
    response = as_user(client, people.reviewer_t).post(
        add_url(attempt, parts(attempt).drill), {"line": 1, "body": "x", "revision": 0}, **HTMX
    )
    assert response.status_code == 400
    assert "There is no code to comment on" in response.content.decode()
    assert not Review.objects.exists()


def test_items_that_are_not_drills_of_this_attempt_are_404(client, tmp_path, attempt, people, p):
    other_exam = import_pack(review_pack(tmp_path / "other", slug="other-exam"))
    other = with_code(finished_attempt(people.candidate, other_exam, ANSWERS))
    as_user(client, people.reviewer_t)
    for item in (p.question, parts(other).drill):
        assert client.post(add_url(attempt, item), {"line": 1, "body": "x", "revision": 0}).status_code == 404
    assert client.post(f"/review/attempts/{attempt.pk}/items/999999/comments/", {"line": 1}).status_code == 404
    assert not Review.objects.exists()


# The page and the htmx flow.


def test_the_review_page_numbers_each_line_with_a_button_and_shows_comments_under_it(client, attempt, people, p):
    as_user(client, people.reviewer_t)
    page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    for n in (1, 2, 3):
        assert f'aria-label="Comment on line {n}"' in page
    assert 'aria-label="Comment on line 4"' not in page
    assert "&lt;sum&gt;" in page and "<sum>" not in page
    response = client.post(add_url(attempt, p.drill), {"line": 2, "body": "Why <b>total</b>?", "revision": 0}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    comment = LineComment.objects.get()
    assert texts(html, id=f"line-comment-{comment.pk}")[0].startswith("rita draft Why <b>total</b>?")
    assert "Why &lt;b&gt;total&lt;/b&gt;?" in html
    assert f'data-focus="line-comment-{comment.pk}"' in html
    assert 'id="review-revision" value="1" hx-swap-oob="true"' in html
    assert 'id="review-state" hx-swap-oob="true">in review<' in html
    page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    row = texts(page, id=f"line-{p.drill.pk}-2")[0]
    assert "total = a + b" in row and "Why <b>total</b>?" in row
    assert f'action="/review/attempts/{attempt.pk}/comments/{comment.pk}/edit/"' in page


def test_edit_and_delete_through_the_plain_forms(client, attempt, people, p):
    as_user(client, people.reviewer_t)
    client.post(add_url(attempt, p.drill), {"line": 3, "body": "First.", "revision": 0})
    comment = LineComment.objects.get()
    response = client.post(edit_url(attempt, comment), {"body": "Second.", "revision": 1})
    assert response.status_code == 302
    assert response["Location"] == f"/review/attempts/{attempt.pk}/#line-comment-{comment.pk}"
    comment.refresh_from_db()
    assert comment.body == "Second."
    assert client.post(delete_url(attempt, comment), {"revision": 1}).status_code == 302  # stale: refused
    assert LineComment.objects.exists()
    assert client.post(delete_url(attempt, comment), {"revision": 2}).status_code == 302
    assert not LineComment.objects.exists()
    assert revision_of(attempt, people.reviewer_t) == 3


# Blindness of double marking.


@pytest.fixture
def double(attempt):
    """The version takes two reviews (double marking)."""
    version = attempt.version
    version.reviews_required = 2
    version.save(update_fields=["reviews_required"])
    attempt.refresh_from_db()
    return attempt


def test_no_response_to_a_second_reviewer_holds_the_firsts_comments_before_both_are_final(client, double, people):
    attempt, p = double, parts(double)
    rita = as_user(client, people.reviewer_t)
    rita.post(add_url(attempt, p.drill), {"line": 2, "body": "RITA-SECRET-NOTE", "revision": 0})
    rita.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 1})
    assert Review.objects.get(reviewer=people.reviewer_t).is_final

    responses = []
    otto = as_user(client, people.owner_t)
    responses.append(otto.get(f"/review/attempts/{attempt.pk}/"))
    responses.append(otto.post(add_url(attempt, p.drill), {"line": 2, "body": "Otto's.", "revision": 0}, **HTMX))
    mine = LineComment.objects.get(body="Otto's.")
    responses.append(otto.post(edit_url(attempt, mine), {"body": "Otto's, again.", "revision": 1}, **HTMX))
    responses.append(otto.post(add_url(attempt, p.drill), {"line": 9, "body": "x", "revision": 2}, **HTMX))
    responses.append(otto.post(add_url(attempt, p.drill), {"line": 1, "body": "x", "revision": 0}, **HTMX))
    responses.append(otto.get(f"/review/attempts/{attempt.pk}/"))
    responses.append(otto.get(f"/attempts/{attempt.pk}/results/"))
    responses.append(as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/"))
    assert [r.status_code for r in responses] == [200, 200, 200, 400, 409, 200, 200, 200]
    assert [i for i, r in enumerate(responses) if "RITA-SECRET-NOTE" in r.content.decode()] == []

    # Once both are final, each reviewer sees the other's comments, and the candidate both.
    otto = as_user(client, people.owner_t)
    otto.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 2})
    page = otto.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert "RITA-SECRET-NOTE" in page and "Otto&#x27;s, again." in page
    results = as_user(client, people.candidate).get(f"/attempts/{attempt.pk}/results/").content.decode()
    row = texts(results, id=f"line-{p.drill.pk}-2")[0]
    assert "rita RITA-SECRET-NOTE" in row and "otto Otto's, again." in row


# The candidate.


def test_the_candidate_sees_comments_beside_the_code_only_once_the_review_is_final(client, attempt, people, p):
    results = f"/attempts/{attempt.pk}/results/"
    rita = as_user(client, people.reviewer_t)
    rita.post(add_url(attempt, p.drill), {"line": 3, "body": "Return it directly.", "revision": 0})
    rita.post(mark_url(attempt, p.drill), mark_fields(revision=1))
    candidate = as_user(client, people.candidate)
    draft = candidate.get(results).content.decode()
    assert "Return it directly." not in draft
    assert "total = a + b" in page_text(draft)  # the code itself shows as before

    rita = as_user(client, people.reviewer_t)
    rita.post(f"/review/attempts/{attempt.pk}/finalize/", {"revision": 2})
    final = as_user(client, people.candidate).get(results).content.decode()
    row = texts(final, id=f"line-{p.drill.pk}-3")[0]
    assert row == "3 return total rita Return it directly."
    assert "Comment on line" not in final and "/comments/" not in final  # no controls for the candidate

    as_user(client, people.reviewer_t).post(f"/review/attempts/{attempt.pk}/reopen/", {"reason": "Look again."})
    reopened = as_user(client, people.candidate).get(results).content.decode()
    assert "Return it directly." not in reopened


def test_the_review_page_loads_comments_in_a_fixed_number_of_queries(
    client, attempt, people, p, django_assert_max_num_queries
):
    as_user(client, people.reviewer_t)
    for line in (1, 2, 3):
        client.post(add_url(attempt, p.drill), {"line": line, "body": f"On {line}.", "revision": line - 1})
    with django_assert_max_num_queries(60):
        page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert all(f"On {line}." in page for line in (1, 2, 3))


def test_a_comment_on_code_that_changed_since_shows_with_its_line_apart(client, attempt, people, p):
    as_user(client, people.reviewer_t).post(add_url(attempt, p.drill), {"line": 3, "body": "Hmm.", "revision": 0})
    Answer.objects.filter(attempt=attempt, part=Answer.Part.CODE).update(content="x = 1\n")
    page = client.get(f"/review/attempts/{attempt.pk}/").content.decode()
    assert texts(page, cls="line-comments-elsewhere")[0].startswith("rita draft · line 3: return total Hmm.")


def test_edit_and_delete_through_htmx_answer_with_the_listing_and_a_stale_tab_is_told_where(client, attempt, people, p):
    as_user(client, people.reviewer_t)
    client.post(add_url(attempt, p.drill), {"line": 1, "body": "First.", "revision": 0}, **HTMX)
    comment = LineComment.objects.get()
    response = client.post(edit_url(attempt, comment), {"body": "Second.", "revision": 1}, **HTMX)
    assert response.status_code == 200
    assert texts(response.content.decode(), cls="line-comment-body") == ["Second."]
    assert 'id="review-revision" value="2" hx-swap-oob="true"' in response.content.decode()
    before = everything()
    stale = client.post(delete_url(attempt, comment), {"revision": 1}, **HTMX)
    assert stale.status_code == 409
    assert stale["HX-Retarget"] == f"#line-comment-status-{p.drill.pk}-{comment.pk}"
    assert page_text(stale.content.decode()) == reviewing.STALE
    assert everything() == before
    response = client.post(delete_url(attempt, comment), {"revision": 2}, **HTMX)
    assert response.status_code == 200
    assert texts(response.content.decode(), cls="line-comment") == []
    assert f'data-focus="line-{p.drill.pk}-1-open"' in response.content.decode()
    assert not LineComment.objects.exists()


def test_nobody_else_sees_a_draft_comment(client, attempt, people, p):
    as_user(client, people.reviewer_t).post(add_url(attempt, p.drill), {"line": 2, "body": "DRAFT-NOTE", "revision": 0})
    for persona in ("owner_t", "staff", "candidate"):
        as_user(client, getattr(people, persona))
        for url in (f"/review/attempts/{attempt.pk}/", f"/attempts/{attempt.pk}/results/"):
            response = client.get(url)
            assert "DRAFT-NOTE" not in response.content.decode(), (persona, url)


def test_a_comment_deleted_meanwhile_is_not_edited_and_the_revision_stays(attempt, people, p):
    comment = line_comments.add(attempt, people.reviewer_t, p.drill, line=1, body="One.", revision=0)
    LineComment.objects.filter(pk=comment.pk).delete()  # another tab, between the lookup and the write
    for write in (
        lambda: line_comments.edit(attempt, people.reviewer_t, comment, body="Two.", revision=1),
        lambda: line_comments.delete(attempt, people.reviewer_t, comment, revision=1),
    ):
        with pytest.raises(Refused, match="deleted in another tab"):
            write()
    assert revision_of(attempt, people.reviewer_t) == 1
