"""Autosave: accepted before the deadline and its grace, refused after, on a
locked item, or from a stale revision; nothing accepted is ever overwritten."""

import base64
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from exams.models import Answer, Attempt, Item, Reveal

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def attempt(mini_exam, personas):
    with time_machine.travel("2026-03-01 10:00:00+00:00", tick=False):
        attempt, _ = Attempt.start(personas.candidate, mini_exam, Attempt.Mode.TIMED)
    return attempt


@pytest.fixture
def question(attempt):
    return attempt.version.items.get(slug="first")


def save(client, attempt, item, content, revision=0, part="text", **extra):
    return client.post(
        f"/attempts/{attempt.pk}/items/{item.pk}/save/",
        {"part": part, "revision": revision, "content": content},
        **{**HTMX, **extra},
    )


def test_a_save_is_stored_and_says_when(candidate_client, attempt, question):
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = save(candidate_client, attempt, question, "The 99th percentile")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Saved at" in page and "10:05:00" in page
    assert 'name="revision" value="1"' in page
    assert f'data-answered-item="{question.pk}"' in page  # the page marks its navigator entry answered
    answer = Answer.objects.get()
    assert (answer.content, answer.revision) == ("The 99th percentile", 1)


def test_successive_saves_move_the_revision(candidate_client, attempt, question):
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        save(candidate_client, attempt, question, "one", 0)
        save(candidate_client, attempt, question, "one two", 1)
    assert Answer.objects.get().content == "one two"
    assert Answer.objects.get().revision == 2


@pytest.mark.parametrize(
    ("moment", "accepted"),
    [
        ("2026-03-01 10:29:59+00:00", True),  # before the deadline
        ("2026-03-01 10:30:04+00:00", True),  # inside the 5 s grace
        ("2026-03-01 10:30:06+00:00", False),  # after it
    ],
)
def test_the_deadline_is_the_servers(candidate_client, attempt, question, moment, accepted):
    with time_machine.travel(moment, tick=False):
        response = save(candidate_client, attempt, question, "late words")
    attempt.refresh_from_db()
    if accepted:
        assert response.status_code == 200
        assert Answer.objects.get().content == "late words"
        assert attempt.is_open
    else:
        assert response.status_code == 403
        assert "Time is up" in response.content.decode()
        assert not Answer.objects.exists()
        assert attempt.status == Attempt.Status.EXPIRED


def test_a_late_save_does_not_overwrite_the_last_accepted_one(candidate_client, attempt, question):
    with time_machine.travel("2026-03-01 10:10:00+00:00", tick=False):
        save(candidate_client, attempt, question, "kept", 0)
    with time_machine.travel("2026-03-01 11:00:00+00:00", tick=False):
        assert save(candidate_client, attempt, question, "too late", 1).status_code == 403
    assert Answer.objects.get().content == "kept"


def test_a_stale_revision_is_refused_and_changes_nothing(candidate_client, attempt, question):
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        save(candidate_client, attempt, question, "from tab one", 0)
        response = save(candidate_client, attempt, question, "from tab two", 0)
    assert response.status_code == 409
    assert "another tab" in response.content.decode()
    assert Answer.objects.get().content == "from tab one"


def test_a_locked_item_refuses_saves(candidate_client, attempt, question, personas):
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        save(candidate_client, attempt, question, "first try", 0)
        Reveal.objects.create(
            attempt=attempt, item=question, user=personas.candidate, revealed_at=attempt.started_at, had_answer=True
        )
        response = save(candidate_client, attempt, question, "copied from the answer", 1)
    assert response.status_code == 403
    assert "locked" in response.content.decode()
    assert Answer.objects.get().content == "first try"


def test_a_huge_paste_is_refused_with_a_clear_message(candidate_client, attempt, question):
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = save(candidate_client, attempt, question, "x" * 5_000_000)
    assert response.status_code == 413
    assert "the limit is 65,536" in response.content.decode()
    assert not Answer.objects.exists()


@pytest.mark.parametrize("part", ["text", "code"])
def test_the_limit_is_in_bytes_of_utf8(candidate_client, attempt, part):
    item = attempt.version.items.get(slug="add")
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = save(candidate_client, attempt, item, "é" * 40_000, part=part)  # 80,000 bytes
    assert response.status_code == 413
    assert "80,000 bytes" in response.content.decode()
    assert "the limit is 65,536 bytes" in response.content.decode()
    assert not Answer.objects.exists()


def test_an_answer_of_exactly_the_limit_is_saved(candidate_client, attempt, question):
    text = "é" * (Answer.MAX_BYTES // 2)
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        assert save(candidate_client, attempt, question, text).status_code == 200
    assert Answer.objects.get().content == text


def test_invalid_utf8_is_refused(candidate_client, attempt, question):
    body = b"part=text&revision=0&content=caf%C3%A9%FF"
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = candidate_client.post(
            f"/attempts/{attempt.pk}/items/{question.pk}/save/",
            body,
            content_type="application/x-www-form-urlencoded",
            **HTMX,
        )
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert not Answer.objects.exists()


BOUNDARY = "----examsite-test-boundary"


def multipart(fields: dict[str, bytes], headers: dict[str, str] | None = None) -> bytes:
    parts = []
    for name, value in fields.items():
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).get(name, {}).items())
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n{extra}\r\n'.encode()
        parts.append(head + value + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_multipart(client, attempt, item, body, **extra):
    return client.post(
        f"/attempts/{attempt.pk}/items/{item.pk}/save/",
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        **{**HTMX, **extra},
    )


def test_invalid_utf8_is_refused_in_multipart_form_data_too(candidate_client, attempt, question):
    body = multipart({"part": b"text", "revision": b"0", "content": b"caf\xc3\xa9\xff"})
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = post_multipart(candidate_client, attempt, question, body)
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert not Answer.objects.exists()


def test_invalid_utf8_hidden_in_a_base64_part_is_refused(candidate_client, attempt, question):
    body = multipart(
        {"part": b"text", "revision": b"0", "content": base64.b64encode(b"caf\xc3\xa9\xff")},
        headers={"content": {"Content-Transfer-Encoding": "base64"}},
    )
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = post_multipart(candidate_client, attempt, question, body)
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_invalid_utf8_in_multipart_is_refused_when_csrf_reads_the_form_first(attempt, question, personas):
    # The CSRF middleware parses the form (leniently) before the view: the
    # view must still see the bytes that were sent.
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.candidate)
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        page = client.get(f"/attempts/{attempt.pk}/").content.decode()
        token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        body = multipart(
            {"csrfmiddlewaretoken": token.encode(), "part": b"text", "revision": b"0", "content": b"bad \xff"}
        )
        response = post_multipart(client, attempt, question, body)
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert not Answer.objects.exists()


def test_valid_multipart_text_is_stored_exactly(candidate_client, attempt, question):
    text = "café \ufffd ünïcode\r\nsecond line 🚀"  # a real U+FFFD, sent as its UTF-8 bytes, is kept
    body = multipart({"part": b"text", "revision": b"0", "content": text.encode()})
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = post_multipart(candidate_client, attempt, question, body)
    assert response.status_code == 200
    assert Answer.objects.get().content == text


def test_code_goes_only_to_drills(candidate_client, attempt, question):
    drill = attempt.version.items.get(kind=Item.Kind.DRILL)
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        assert save(candidate_client, attempt, question, "print(1)", part="code").status_code == 400
        assert save(candidate_client, attempt, drill, "def add(a, b): return a + b", part="code").status_code == 200
    assert Answer.objects.get().part == "code"


def test_without_javascript_a_save_redirects_back_with_a_message(candidate_client, attempt, question):
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = candidate_client.post(
            f"/attempts/{attempt.pk}/items/{question.pk}/save/",
            {"part": "text", "revision": 0, "content": "plain"},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == f"/attempts/{attempt.pk}/#item-{question.pk}"
    assert "saved." in response.content.decode()
    assert Answer.objects.get().content == "plain"


def test_a_reload_shows_the_saved_text_and_its_revision(candidate_client, attempt, question):
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        save(candidate_client, attempt, question, "resume me", 0)
        page = candidate_client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "resume me</textarea>" in page
    assert 'name="revision" value="1"' in page


def test_saves_need_a_csrf_token(attempt, question, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.candidate)
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        response = save(client, attempt, question, "no token")
    assert response.status_code == 403
    assert not Answer.objects.exists()


def test_the_csrf_token_in_the_page_header_lets_htmx_save(attempt, question, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.candidate)
    with time_machine.travel("2026-03-01 10:05:00+00:00", tick=False):
        page = client.get(f"/attempts/{attempt.pk}/").content.decode()
        token = page.split('"x-csrftoken": "')[1].split('"')[0]
        response = save(client, attempt, question, "with token", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert Answer.objects.get().content == "with token"


def test_timing_out_within_the_page_grace_keeps_the_last_save(candidate_client, attempt, question):
    deadline = attempt.deadline
    with time_machine.travel(deadline + timedelta(seconds=3), tick=False):
        assert save(candidate_client, attempt, question, "just in time").status_code == 200
    with time_machine.travel(deadline + timedelta(seconds=30), tick=False):
        response = candidate_client.get(f"/attempts/{attempt.pk}/")
    assert response["Location"] == f"/attempts/{attempt.pk}/results/"
    assert Answer.objects.get().content == "just in time"
