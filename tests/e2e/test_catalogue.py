"""What a person sees: the catalogue and an exam page in headless Chromium."""

import pytest

from exams.models import Exam

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_visitor_browses_the_catalogue_and_opens_an_exam(page, live_server, shipped_packs, artifacts):
    page.goto(live_server.url + "/")
    titles = page.locator(".exam-card h2").all_inner_texts()
    expected = sorted(e.current_version.title for e in Exam.objects.select_related("current_version"))
    assert sorted(titles) == expected
    card = page.locator(".exam-card", has_text="Production Debugging")
    assert "90 min" in card.inner_text()
    assert "coding drills\n2" in card.inner_text().lower()  # the label is shown in capitals
    # The page is styled by the vendored Bootstrap: the navbar is dark, not default.
    navbar_bg = page.eval_on_selector("nav.navbar", "el => getComputedStyle(el).backgroundColor")
    assert navbar_bg != "rgba(0, 0, 0, 0)"
    page.screenshot(path=str(artifacts / "catalogue.png"), full_page=True)

    card.locator("a").click()
    page.wait_for_url("**/exams/production-debugging/")
    assert page.locator("h1").inner_text().startswith("Production Debugging")
    assert page.locator(".exam-structure > li").count() == 5
    assert page.locator(".badge.kind-drill").count() == 2
    page.screenshot(path=str(artifacts / "exam-overview.png"), full_page=True)
    assert page.console_errors == []
