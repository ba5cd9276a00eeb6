"""Staff read every imported object in the admin; content stays read-only
there, and neither content nor candidates' records can be deleted."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from exams.models import Answer, Attempt, Exam, ExamVersion, Item, Reveal, RubricCriterion, Section, TestCase
from grading.models import AttemptScore, ItemScore, Review, Submission

pytestmark = pytest.mark.django_db

MODELS = [Exam, ExamVersion, Section, Item, TestCase, RubricCriterion]


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_staff_can_list_and_open_every_model(staff_client, shipped_packs, model):
    meta = model._meta
    assert staff_client.get(f"/admin/{meta.app_label}/{meta.model_name}/").status_code == 200
    obj = model.objects.first()
    assert staff_client.get(f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/change/").status_code == 200


def test_a_drill_page_shows_prompt_answer_rubric_and_cases(staff_client, shipped_packs):
    drill = Item.objects.get(entry_point="peak_concurrent_streams")
    page = staff_client.get(f"/admin/exams/item/{drill.pk}/change/").content.decode()
    assert "peak_concurrent_streams" in page
    assert drill.criteria.first().text[:30] in page
    assert drill.cases.first().category in page
    assert "def peak_concurrent_streams" in page


def test_imported_content_cannot_be_edited_in_the_admin(staff_client, shipped_packs):
    item = Item.objects.first()
    response = staff_client.post(f"/admin/exams/item/{item.pk}/change/", {"title": "changed"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.title != "changed"


def test_a_candidate_cannot_open_the_admin(client, shipped_packs):
    user = get_user_model().objects.create_user("cand", password="pw")
    client.force_login(user)
    response = client.get("/admin/exams/item/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# What the admin must never delete: imported content (a deleted hidden case
# would silently change the grading of a version), and the records of what
# candidates did (a deleted reveal would unlock a timed item).
RECORDS = [Attempt, Answer, Reveal, Submission, Review, AttemptScore, ItemScore]


@pytest.fixture
def records(shipped_packs, db):
    """An attempt with an answer, a reveal, a run, a stored score and a review."""
    user = get_user_model().objects.create_user("cand", password="pw")
    reviewer = get_user_model().objects.create_user("rev", password="pw", is_staff=True)
    attempt, _ = Attempt.start(user, Exam.objects.first(), Attempt.Mode.PRACTICE)
    item = attempt.version.items.exclude(kind=Item.Kind.TEXT).first()
    Answer.objects.create(attempt=attempt, item=item, content="mine", revision=1)
    Reveal.objects.create(attempt=attempt, item=item, user=user, revealed_at=timezone.now(), had_answer=True)
    Submission.objects.create(attempt=attempt, item=item, code="pass")
    attempt.finalize()
    Review.objects.create(attempt=attempt, reviewer=reviewer)
    return user


def url(model, suffix: str = "") -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


@pytest.mark.parametrize("model", MODELS + RECORDS, ids=lambda m: m.__name__)
def test_nothing_imported_or_recorded_can_be_deleted(staff_client, records, model):
    obj = model.objects.first()
    assert obj is not None
    assert staff_client.get(url(model, f"{obj.pk}/delete/")).status_code == 403
    assert staff_client.post(url(model, f"{obj.pk}/delete/"), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", MODELS + RECORDS, ids=lambda m: m.__name__)
def test_the_list_offers_no_bulk_delete_and_refuses_one(staff_client, records, model):
    page = staff_client.get(url(model)).content.decode()
    assert "delete_selected" not in page
    count = model.objects.count()
    pks = list(model.objects.values_list("pk", flat=True))
    staff_client.post(url(model), {"action": "delete_selected", "_selected_action": pks, "post": "yes"})
    assert model.objects.count() == count


def test_a_change_page_has_no_delete_link(staff_client, records):
    attempt = Attempt.objects.get()
    page = staff_client.get(url(Attempt, f"{attempt.pk}/change/")).content.decode()
    assert "deletelink" not in page


def test_deleting_a_user_would_delete_their_records_so_it_is_refused(staff_client, shipped_packs):
    user = get_user_model().objects.create_user("leaver", password="pw")
    attempt, _ = Attempt.start(user, Exam.objects.first(), Attempt.Mode.PRACTICE)
    page = staff_client.get(f"/admin/auth/user/{user.pk}/delete/").content.decode()
    assert "permission to delete the following types of objects" in page
    response = staff_client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Attempt.objects.filter(pk=attempt.pk, user=user).exists()
