"""The reporting cycle in headless Chromium, in Arabic: the approver ticks two blocks of the queue
and approves them together (the checkboxes belong to the bulk form through their `form`
attribute, which only a browser proves); the editor's bell then counts the news, and the
notifications page marks it read."""

from decimal import Decimal

import pytest

from indicators.models import Result
from indicators.services import ResultRow, result_submit, results_create
from tests.roles import Q2

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_blocks_approved_together_and_the_editors_bell(site, sign_in, artifacts):
    base, world = site
    indicator = world.indicators["p1"]
    result_submit(result=world.results["x_draft"], user=world.users["municipality_x_editor"])
    (y_total,) = results_create(
        rows=[ResultRow(indicator.pk, world.orgs["y"].pk, Q2[0], Q2[1], {}, value=Decimal(6))],
        user=world.users["municipality_y_editor"],
    )
    result_submit(result=y_total, user=world.users["municipality_y_editor"])

    approver = sign_in("ministry_approver", "ar")
    assert approver.inner_text("a.bell .badge") == "2"  # two submissions wait for the ministry
    approver.goto(f"{base}/ar/results/approvals/")
    blocks = approver.locator("section.queue-group")
    assert blocks.count() == 2
    for index in range(2):
        blocks.nth(index).locator("input[name=selected]").check()
    approver.screenshot(path=str(artifacts / "queue-ar-selected.png"), full_page=True)
    with approver.expect_navigation():
        approver.click("#bulk-review button[value=approve]")
    assert "اعتُمدت نتيجتان." in approver.inner_text(".messages")
    assert set(Result.objects.filter(period_start=Q2[0]).values_list("status", flat=True)) == {"approved"}

    editor = sign_in("municipality_x_editor", "ar")
    assert editor.inner_text("a.bell .badge") == "1"
    with editor.expect_navigation():
        editor.click("a.bell")
    assert "اعتمد ministry_approver نتائج المؤشر P1-1" in editor.inner_text("main")
    editor.screenshot(path=str(artifacts / "notifications-ar.png"), full_page=True)
    with editor.expect_navigation():
        editor.click("button[value=read-all]")
    assert editor.locator("a.bell .badge").count() == 0
