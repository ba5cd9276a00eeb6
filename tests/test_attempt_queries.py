"""The attempt and results pages cost a fixed number of queries, however many items."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.models import Answer, Attempt, Exam, Reveal
from tests.conftest import PackBuilder

pytestmark = pytest.mark.django_db


def exam_with(tmp_path, extra: int) -> Exam:
    pack = PackBuilder(tmp_path / f"n{extra}", slug=f"exam-{extra}")
    for n in range(extra):
        pack.write(
            f"01-basics/{n + 10:02d}-q-{n}.md",
            f"---\ntitle: Q{n}\nkind: question\n---\nWhy {n}?\n\n## Model answer\n\nBecause {n}.\n",
        )
    call_command("import_exams", str(pack.root), stdout=StringIO())
    return Exam.objects.select_related("current_version").get(slug=f"exam-{extra}")


def queries_for(client, user, exam) -> tuple[int, int]:
    attempt, _ = Attempt.start(user, exam, Attempt.Mode.TIMED)
    for item in attempt.version.items.exclude(kind="text"):
        Answer.objects.create(attempt=attempt, item=item, content="an answer", revision=1)
        Reveal.objects.create(attempt=attempt, item=item, user=user, revealed_at=attempt.started_at, had_answer=True)
    with CaptureQueriesContext(connection) as page:
        assert client.get(f"/attempts/{attempt.pk}/").status_code == 200
    attempt.finalize()
    with CaptureQueriesContext(connection) as results:
        assert client.get(f"/attempts/{attempt.pk}/results/").status_code == 200
    return len(page), len(results)


def test_the_attempt_page_with_30_items_costs_what_it_costs_with_2(candidate_client, personas, tmp_path):
    small = queries_for(candidate_client, personas.candidate, exam_with(tmp_path, 0))
    big_exam = exam_with(tmp_path, 28)
    assert big_exam.current_version.items.count() == 30
    big = queries_for(candidate_client, personas.candidate, big_exam)
    assert big == small
    assert big[0] <= 12
