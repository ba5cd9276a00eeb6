"""Agreement between double-marking reviewers: percent agreement and Cohen's
kappa on hand-computed examples, the per-exam and per-criterion figures
from real reviews, and the staff-only page."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from grading import agreement, reviewing
from tests.review_support import finished_attempt, import_pack, page_text, parts, review_pack, text

D = Decimal


def test_percent_agreement_and_kappa_on_a_hand_computed_example():
    # 10 pairs: both ticked 4, only the first 1, only the second 2, neither 3.
    pairs = [(True, True)] * 4 + [(True, False)] + [(False, True)] * 2 + [(False, False)] * 3
    # p_o = 7/10; the first ticks 5/10, the second 6/10; p_e = .5 * .6 + .5 * .4 = .5;
    # kappa = (.7 - .5) / (1 - .5) = .4.
    result = agreement.measure(pairs, attempts=5)
    assert (result.attempts, result.pairs, result.percent, result.kappa) == (5, 10, D("70.0"), D("0.400"))
    assert result.enough_data


def test_kappa_below_chance_is_negative():
    # Always opposite: p_o = 0, p_e = .5 * .5 + .5 * .5 = .5, kappa = -1.
    result = agreement.measure([(True, False), (False, True)], attempts=2)
    assert (result.percent, result.kappa) == (D("0.0"), D("-1.000"))


def test_kappa_is_undefined_when_chance_agreement_is_certain_and_nothing_without_pairs():
    everything = agreement.measure([(True, True)] * 3, attempts=3)
    assert (everything.percent, everything.kappa, everything.enough_data) == (D("100.0"), None, False)
    nothing = agreement.measure([], attempts=0)
    assert (nothing.pairs, nothing.percent, nothing.kappa) == (0, None, None)


def test_a_third_of_agreement_rounds_half_up():
    result = agreement.measure([(True, True), (True, False), (False, True)], attempts=1)
    # p_o = 1/3; p1 = p2 = 2/3; p_e = 4/9 + 1/9 = 5/9; kappa = (3/9 - 5/9) / (4/9) = -0.5.
    assert (result.percent, result.kappa) == (D("33.3"), D("-0.500"))


@pytest.fixture
def exam(db, tmp_path):
    pack = review_pack(tmp_path)
    text = pack.path("exam.md").read_text().replace("reveal_policy: on_demand", "reveal_policy: on_demand\nreviews: 2")
    pack.path("exam.md").write_text(text)
    return import_pack(pack)


def both_review(attempt, people, first: list, second: list) -> None:
    """Rita and otto each tick `first` / `second` (criteria of any part) and finalize."""
    for reviewer, ticks in ((people.reviewer_t, first), (people.owner_t, second)):
        revision = 0
        by_part: dict = {}
        for criterion in ticks:
            by_part.setdefault(criterion.item, []).append(criterion.pk)
        for item in [parts(attempt).question, parts(attempt).drill, None]:
            review = reviewing.mark(
                attempt, reviewer, item, criteria_ids=by_part.get(item, []), adjustment=D(0), reason="", comment="",
                revision=revision,
            )  # fmt: skip
            revision = review.revision
        reviewing.finalize(attempt, reviewer, revision)


def test_the_figures_of_an_exam_and_of_each_criterion_from_two_double_marked_attempts(exam, people):
    one, two = (finished_attempt(people.candidate, exam) for _ in range(2))
    p = parts(one)
    q = parts(two)
    # Six criteria an attempt (question 3, drill 1, Overall 2), so 12 pairs.
    # Attempt one: both tick defines and strong; only rita ticks example. 5 of 6 agree.
    both_review(one, people, [p.defines, p.example, p.strong], [p.defines, p.strong])
    # Attempt two: both tick defines; only otto ticks the drill's criterion. 5 of 6 agree.
    both_review(two, people, [q.defines], [q.defines, q.drill_criterion])
    # A third attempt with one final review only: it does not count.
    three = finished_attempt(people.candidate, exam)
    reviewing.mark(three, people.reviewer_t, None, criteria_ids=[], adjustment=D(0), reason="", comment="", revision=0)
    reviewing.finalize(three, people.reviewer_t, 1)

    report = agreement.exam_agreement(exam.current_version)
    # p_o = 10/12; rita ticks 4/12, otto 4/12; p_e = 1/9 + 4/9 = 5/9;
    # kappa = (5/6 - 5/9) / (4/9) = 5/8.
    assert (report.overall.attempts, report.overall.pairs) == (2, 12)
    assert (report.overall.percent, report.overall.kappa) == (D("83.3"), D("0.625"))
    figures = {(row.part, row.criterion.text): row.agreement for row in report.criteria}
    defines = figures[("First question", "Defines the percentile")]
    assert (defines.attempts, defines.percent, defines.kappa) == (2, D("100.0"), None)  # both always tick it
    example = figures[("First question", "Gives a latency example")]
    # Pairs (T, F) and (F, F): p_o = 1/2; p1 = 1/2, p2 = 0; p_e = 1/2; kappa = 0.
    assert (example.percent, example.kappa) == (D("50.0"), D("0.000"))
    assert [row.part for row in report.criteria][-2:] == ["Overall", "Overall"]


def test_staff_read_the_agreement_page_and_others_may_not(client, exam, people):
    attempt = finished_attempt(people.candidate, exam)
    p = parts(attempt)
    both_review(attempt, people, [p.defines, p.example], [p.defines])
    client.force_login(people.staff)
    page = client.get("/review/agreement/", {"exam": exam.slug}).content.decode()
    assert text(page, cls="agreement-attempts") == "1"
    # 6 pairs, 5 agree: p_o = 5/6; p1 = 2/6, p2 = 1/6; p_e = 2/36 + 20/36 = 22/36; kappa = 8/14 = 0.571.
    assert text(page, cls="agreement-percent") == "83.3 %"
    assert text(page, cls="agreement-kappa") == "0.571"
    assert "not enough data" in page_text(page)  # criteria nobody ticked: kappa undefined
    assert client.get("/review/agreement/").status_code == 200  # the first double-marked exam by default
    assert client.get("/review/agreement/", {"exam": "nope"}).status_code == 404
    assert client.get("/review/agreement/", {"exam": exam.slug, "version": "x"}).status_code == 404
    for user in (people.reviewer_t, people.candidate):
        client.force_login(user)
        assert client.get("/review/agreement/", {"exam": exam.slug}).status_code == 403
    client.logout()
    assert client.get("/review/agreement/").status_code == 302


def test_an_exam_without_double_marked_attempts_says_not_enough_data(client, exam, people):
    User = get_user_model()
    client.force_login(User.objects.create_user("boss", password="pw", is_staff=True))
    page = client.get("/review/agreement/", {"exam": exam.slug}).content.decode()
    assert text(page, cls="agreement-attempts") == "0"
    assert text(page, cls="agreement-kappa") == "not enough data"
