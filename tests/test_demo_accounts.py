from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_creates_the_three_accounts_and_prints_working_passwords():
    out = StringIO()
    call_command("create_demo_accounts", stdout=out)
    passwords = {}
    for line in out.getvalue().splitlines():
        if "password '" in line:
            username = line.split("username '")[1].split("'")[0]
            passwords[username] = line.split("password '")[1].split("'")[0]
    assert set(passwords) == {"candidate", "reviewer", "admin"}
    for username, password in passwords.items():
        assert authenticate(username=username, password=password) is not None
    assert get_user_model().objects.get(username="admin").is_superuser
    assert not get_user_model().objects.get(username="candidate").is_staff


def test_running_it_again_keeps_the_passwords_and_prints_none():
    call_command("create_demo_accounts", stdout=StringIO())
    before = get_user_model().objects.get(username="candidate").password
    out = StringIO()
    call_command("create_demo_accounts", stdout=out)
    assert "password '" not in out.getvalue()
    assert get_user_model().objects.get(username="candidate").password == before


def test_it_gives_the_reviewer_a_team_and_a_finished_attempt_to_review(shipped_packs, eager_grading, client):
    from exams.models import Attempt
    from grading.models import AttemptScore, Membership

    call_command("create_demo_accounts", stdout=StringIO())
    User = get_user_model()
    reviewer, candidate = User.objects.get(username="reviewer"), User.objects.get(username="candidate")
    roles = dict(Membership.objects.filter(team__slug="demo-team").values_list("user__username", "role"))
    assert (roles["reviewer"], roles["candidate"]) == ("reviewer", "member")
    attempt = Attempt.objects.get(user=candidate, mode=Attempt.Mode.PRACTICE)
    assert not attempt.is_open
    assert attempt.answers.exclude(content="").count() >= 4
    assert AttemptScore.objects.filter(attempt=attempt, is_final=False).exists()  # provisional until reviewed
    client.force_login(reviewer)
    assert f"/review/attempts/{attempt.pk}/" in client.get("/review/").content.decode()
    assert client.get(f"/review/attempts/{attempt.pk}/").status_code == 200

    before = Attempt.objects.count()
    call_command("create_demo_accounts", stdout=StringIO())
    assert Attempt.objects.count() == before  # made once


def test_it_seeds_a_leaderboard_and_a_history_only_in_an_empty_database(shipped_packs, client):
    from exams.models import Attempt
    from grading import leaderboard
    from grading.models import AttemptScore, Team

    call_command("create_demo_accounts", stdout=StringIO())
    team = Team.objects.get(slug="demo-team")
    exam = Attempt.objects.filter(user__username="candidate").first().exam
    rows = leaderboard.ranked_rows(team, exam, frozen_at=None, final_only=False)
    names = [row.username for row in rows]
    assert "candidate" in names and len(names) == 7
    assert all(name == "candidate" or name.startswith("demo-") for name in names)
    assert not any(row.provisional for row in rows)
    history = AttemptScore.objects.filter(attempt__user__username="candidate", attempt__mode="timed", is_final=True)
    assert history.count() == 3
    # The candidate rated themselves on each: My progress shows the calibration over time.
    client.force_login(get_user_model().objects.get(username="candidate"))
    progress = client.get("/progress/").content.decode()
    assert "Self-assessment calibration" in progress
    assert progress.count('<g class="cal-point">') == 3
    demo = get_user_model().objects.get(username="demo-avery")
    assert not demo.has_usable_password()


def test_it_seeds_nothing_where_real_users_exist(shipped_packs):
    from exams.models import Attempt

    get_user_model().objects.create_user("real-person")
    call_command("create_demo_accounts", stdout=StringIO())
    assert not get_user_model().objects.filter(username__startswith="demo-").exists()
    assert not Attempt.objects.filter(mode=Attempt.Mode.TIMED).exists()


def test_it_seeds_double_marked_attempts_whose_agreement_staff_can_read(shipped_packs, client):
    from decimal import Decimal

    from exams.models import Attempt
    from grading import scoring
    from grading.models import AttemptScore

    call_command("create_demo_accounts", stdout=StringIO())
    double = Attempt.objects.filter(exam__slug="production-debugging").order_by("pk")
    assert [a.reviews.filter(status="final").count() for a in double] == [2, 2]
    mean, wide = (AttemptScore.objects.get(attempt=a) for a in double)
    assert (mean.is_final, mean.adjudication) == (True, "")
    assert Decimal("0.5") in scoring.reviewer_ticks(double[0]).values()  # the one criterion they disagree on
    assert (wide.is_final, wide.adjudication) == (False, "needed")
    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/review/agreement/", {"exam": "production-debugging"}).content.decode()
    assert '<dd class="agreement-attempts">2</dd>' in page
    assert "not enough data" not in page.split('id="criterion-agreement-title"')[0]
    assert client.get(f"/review/attempts/{double[1].pk}/adjudicate/").status_code == 200
