"""Staff read every imported object in the admin; content stays read-only there."""

import pytest
from django.contrib.auth import get_user_model

from exams.models import Exam, ExamVersion, Item, RubricCriterion, Section, TestCase

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
