"""The approval queue: filters, sort, several blocks reviewed at once through the services (each
refusal shown on its block), and what an approver needs beside each block, in a fixed number of
queries."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators.models import Result
from indicators.services import ResultRow, result_return, result_submit, result_update, results_create
from tests import factories as f
from tests.roles import Q2

pytestmark = pytest.mark.django_db


def url(language="en", **query):
    with translation.override(language):
        base = reverse("approval_queue")
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def submit_grid(world, town, values, user, period=Q2):
    """Create and submit a grid (total plus breakdowns) for P1-1 in `town`."""
    indicator = world.indicators["p1"]
    rows = [
        ResultRow(indicator.pk, world.orgs[town].pk, period[0], period[1], {"sex": option} if option else {}, value=v)
        for option, v in values.items()
    ]
    created = results_create(rows=rows, user=user)
    return [result_submit(result=r, user=user) for r in created]


@pytest.fixture
def queue(world):
    """X's Q2 grid (its draft total, returned once with a comment and resubmitted, with
    breakdowns that do not add up and an evidence link) and Y's Q2 total."""
    x_editor, y_editor = world.users["municipality_x_editor"], world.users["municipality_y_editor"]
    draft = result_update(
        result=world.results["x_draft"],
        user=x_editor,
        value=Decimal(10),
        comment="From the training register",
        evidence_url="https://example.org/register.pdf",
    )
    draft = result_submit(result=draft, user=x_editor)
    draft = result_return(result=draft, user=world.users["ministry_approver"], comment="Add the attendance list")
    draft = result_update(result=draft, user=x_editor, comment="Attendance list attached")
    result_submit(result=draft, user=x_editor)
    submit_grid(world, "x", {"female": Decimal(2), "male": Decimal(3)}, x_editor)
    submit_grid(world, "y", {"": Decimal(6)}, y_editor)
    f.TargetFactory(
        indicator=world.indicators["p1"], municipality=world.orgs["x"], period_start=Q2[0], period_end=Q2[1], value=50
    )
    return world


def groups(html):
    return re.findall(r'data-group="([^"]+)"', html)


def key(world, town, period=Q2):
    return f"{world.indicators['p1'].pk}-{world.orgs[town].pk}-{period[0].isoformat()}"


def tokens(world, town, period=Q2):
    results = Result.objects.filter(
        indicator=world.indicators["p1"], municipality=world.orgs[town], period_start=period[0], status="submitted"
    ).order_by("id")
    return ",".join(f"{r.pk}:{r.version}" for r in results)


def test_each_block_shows_target_previous_value_evidence_check_and_comments(queue, client_for):
    html = client_for("ministry_approver").get(url()).content.decode()
    assert groups(html) == [key(queue, "x"), key(queue, "y")]  # oldest submission first
    x_block = html[html.index(f'data-group="{key(queue, "x")}"') : html.index(f'data-group="{key(queue, "y")}"')]
    assert "Target for this period: <bdi>50</bdi>" in x_block
    assert "Previous period (01/01/2025 – 31/03/2025):" in x_block and "<bdi>40</bdi>" in x_block
    assert 'href="https://example.org/register.pdf"' in x_block
    assert "values add up to 5, not the total 10." in x_block
    comments = re.findall(r"<li>([^<]+) <span", x_block)
    assert comments == ["From the training register", "Add the attendance list", "Attendance list attached"]
    y_block = html[html.index(f'data-group="{key(queue, "y")}"') :]
    assert "(programme-wide)" not in y_block and "Target for this period: <span" in y_block
    assert "nothing reported" not in y_block  # Y approved 7 in Q1
    arabic = client_for("ministry_approver").get(url("ar")).content.decode()
    assert "المستهدف لهذه الفترة:" in arabic and "الفترة السابقة" in arabic


def test_filters_and_sort(queue, client_for):
    client = client_for("ministry_approver")
    y = queue.orgs["y"]
    assert groups(client.get(url(municipality=y.pk)).content.decode()) == [key(queue, "y")]
    x_editor = queue.users["municipality_x_editor"]
    assert groups(client.get(url(submitter=x_editor.pk)).content.decode()) == [key(queue, "x")]
    assert groups(client.get(url(sort="newest")).content.decode()) == [key(queue, "y"), key(queue, "x")]
    assert groups(client.get(url(period=Q2[0].isoformat(), indicator=queue.indicators["p1"].pk)).content.decode()) == [
        key(queue, "x"),
        key(queue, "y"),
    ]
    html = client.get(url(programme=queue.programmes["p2"].pk)).content.decode()
    assert groups(html) == [] and "Nothing waiting matches these filters." in html
    # The filters offer only what is waiting.
    html = client.get(url()).content.decode()
    options = re.findall(r'<select id="filter-municipality".*?</select>', html, re.S)[0]
    assert "Ghadames" in options and "Tinley Park" in options and "Municipality Z" not in options


def test_several_blocks_approved_at_once_each_through_the_services(queue, client_for):
    client = client_for("ministry_approver")
    response = client.post(
        url(), {"bulk": "1", "action": "approve", "selected": [tokens(queue, "x"), tokens(queue, "y")]}
    )
    assert response.status_code == 302
    approved = Result.objects.filter(period_start=Q2[0], status="approved")
    assert approved.count() == 4
    assert {r.reviewed_by for r in approved} == {queue.users["ministry_approver"]}
    assert "4 results approved." in client.get(response["Location"]).content.decode()


def test_a_refused_block_stays_with_its_reason_and_the_others_go_ahead(queue, client_for):
    client = client_for("ministry_approver")
    stale_x = ",".join(f"{token.split(':')[0]}:1" for token in tokens(queue, "x").split(","))
    response = client.post(url("ar"), {"bulk": "1", "action": "approve", "selected": [stale_x, tokens(queue, "y")]})
    assert response.status_code == 400
    html = response.content.decode()
    assert groups(html) == [key(queue, "x")]
    block = html[html.index(f'data-group="{key(queue, "x")}"') :]
    assert 'role="alert"' in block and "غيّر شخص آخر هذه النتيجة" in block  # changed meanwhile
    assert "اعتُمدت نتيجة واحدة." in html  # Y's total, told on the same page
    assert not Result.objects.filter(municipality=queue.orgs["x"], period_start=Q2[0], status="approved").exists()
    assert Result.objects.get(municipality=queue.orgs["y"], period_start=Q2[0]).status == "approved"


def test_returning_several_needs_a_comment_and_sends_each_back(queue, client_for):
    client = client_for("ministry_approver")
    selected = [tokens(queue, "x"), tokens(queue, "y")]
    response = client.post(url(), {"bulk": "1", "action": "return", "selected": selected, "comment": " "})
    assert response.status_code == 400
    assert response.content.decode().count("Say what needs to change") == 2
    response = client.post(url(), {"bulk": "1", "action": "return", "selected": selected, "comment": "Recount"})
    assert response.status_code == 302
    returned = Result.objects.filter(period_start=Q2[0], status="returned")
    assert returned.count() == 4 and {r.comment for r in returned} == {"Recount"}


def test_nothing_selected_says_so(queue, client_for):
    response = client_for("ministry_approver").post(url(), {"bulk": "1", "action": "approve"})
    assert response.status_code == 400 and "Choose results to approve or return." in response.content.decode()


def count_queries(client, page):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    return len(queries)


def test_the_queue_costs_the_same_number_of_queries_for_two_blocks_or_twenty(queue, client_for):
    client = client_for("ministry_approver")
    pages = [url(), url(sort="municipality", municipality=queue.orgs["x"].pk)]
    before = [count_queries(client, page) for page in pages]
    # Eighteen more blocks: earlier quarters of a second indicator, with targets and comments.
    indicator = f.IndicatorFactory(programme=queue.programmes["p1"], code="P1-2", frequency="monthly")
    editor = queue.users["municipality_x_editor"]
    for month in range(1, 10):
        start = datetime.date(2025, month, 1)
        end = datetime.date(2025, month + 1, 1) - datetime.timedelta(days=1)
        for town in ("x", "y"):
            f.TargetFactory(indicator=indicator, municipality=queue.orgs[town], period_start=start, period_end=end)
            row = ResultRow(indicator.pk, queue.orgs[town].pk, start, end, {}, value=Decimal(month), comment="ok")
            (created,) = results_create(rows=[row], user=editor)
            result_submit(result=created, user=editor)
    after = [count_queries(client, page) for page in pages]
    assert after == before
    assert len(groups(client.get(url()).content.decode())) == 20
