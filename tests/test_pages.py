"""The catalogue and the exam overview: content, hidden answers absent, query bounds."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.models import Exam, Item
from tests.conftest import HIDDEN_MARKER, PackBuilder

pytestmark = pytest.mark.django_db


def import_pack(root) -> None:
    call_command("import_exams", str(root), stdout=StringIO())


def test_the_catalogue_lists_each_exam_with_its_facts(client, shipped_packs):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for exam in Exam.objects.select_related("current_version"):
        assert exam.current_version.title in page
        assert exam.current_version.summary in page
    assert "120 min" in page
    assert "90 min" in page
    assert "Coding drills" in page


def test_the_catalogue_says_how_to_import_when_empty(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "import_exams" in response.content.decode()


def test_the_exam_page_shows_intro_structure_and_points(client, pack):
    import_pack(pack.root)
    response = client.get("/exams/mini-exam/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Read each item carefully." in page
    assert "Basics" in page and "Coding" in page
    assert "First question" in page and "Add two numbers" in page
    assert "4 pts" in page  # the question
    assert "12 pts" in page  # the drill: 10 for tests + 2 for the written part
    assert "Names the metric" in page  # exam-wide rubric


def test_the_exam_page_never_shows_prompts_answers_or_solutions(client, pack):
    import_pack(pack.root)
    page = client.get("/exams/mini-exam/").content.decode()
    assert HIDDEN_MARKER not in page
    assert "What is a p99?" not in page  # prompts are for inside an attempt
    assert "return a + b" not in page
    assert "Which cases would you test?" not in page
    assert "Some <strong>reading</strong>" not in page
    assert "Tests negative numbers" not in page  # item rubrics are for reviewers
    catalogue = client.get("/").content.decode()
    assert HIDDEN_MARKER not in catalogue


def test_the_shipped_exam_pages_show_every_item_and_no_model_answer(client, shipped_packs):
    for item in Item.objects.select_related("version__exam"):
        page = client.get(f"/exams/{item.version.exam.slug}/").content.decode()
        assert item.title.replace("&", "&amp;").replace("'", "&#x27;").replace('"', "&quot;") in page
        for paragraph in item.answer_md.split("\n\n"):
            if len(paragraph) > 40:
                assert paragraph.strip() not in page


def test_an_unknown_exam_is_a_404(client):
    assert client.get("/exams/no-such-exam/").status_code == 404


def test_pages_send_a_self_only_content_security_policy(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def grow(pack: PackBuilder, extra_items: int) -> None:
    for n in range(extra_items):
        pack.write(f"01-basics/{n + 10:02d}-extra-{n}.md", f"---\ntitle: Extra {n}\nkind: prompt\n---\nDesign {n}.\n")
        pack.write(f"03-more-{n}/section.md", f"---\ntitle: More {n}\n---\n")


@pytest.mark.parametrize("url", ["/", "/exams/mini-exam/"])
def test_page_queries_do_not_grow_with_the_number_of_items(client, tmp_path, url):
    small = PackBuilder(tmp_path / "small")
    import_pack(small.root)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    big = PackBuilder(tmp_path / "big")
    grow(big, 25)
    import_pack(big.root)
    assert Exam.objects.get(slug="mini-exam").current_version.items.count() == 27
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 4
