"""An indicator's own page: its definition and reference sheet, its numbers by period, municipality
and disaggregation, its evidence, its history and alignments, its trend; who may open it and
what each sees; Arabic; a fixed number of queries."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from lxml import html

from indicators.models import DisaggregationOption, Indicator, Result
from reporting import reports
from tests import factories as f
from tests.roles import Q1, Q2

from .conftest import recompute

pytestmark = pytest.mark.django_db

EVIDENCE_X = "https://evidence.example.org/ghadames-q1.pdf"
EVIDENCE_Y = "https://evidence.example.org/tinley-park-q1.pdf"
EVIDENCE_DRAFT = "https://evidence.example.org/draft.pdf"

# The indicator of P1 → status for each role (anonymous: sent to sign in).
P1_PAGE = {
    None: 302,
    "ministry_viewer": 200,
    "ministry_approver": 200,
    "donor_a_viewer": 200,
    "donor_b_viewer": 404,
    "implementer_editor": 200,
    "municipality_x_editor": 200,
    "municipality_y_editor": 200,
    "superuser": 200,
}
P2_PAGE = {
    **dict.fromkeys(P1_PAGE, 404),
    None: 302,
    "ministry_viewer": 200,
    "ministry_approver": 200,
    "donor_b_viewer": 200,
    "superuser": 200,
}


def url_of(indicator, language="en"):
    with translation.override(language):
        return reverse("indicator_detail", args=[indicator.pk])


def open_page(client, indicator, language="en"):
    response = client.get(url_of(indicator, language))
    assert response.status_code == 200, response.status_code
    return html.fromstring(response.content.decode())


def texts(tree, xpath):
    return [" ".join(node.text_content().split()) for node in tree.xpath(xpath)]


def rows_of(tree, table_id):
    """Each row of a table as its cells' texts, spaces collapsed."""
    return [
        " ".join(" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td"))
        for row in tree.xpath(f'//table[@id="{table_id}"]/tbody/tr')
    ]


@pytest.fixture
def detailed(world):
    """P1-1 with its reference sheet, evidence on approved and draft results, a disaggregated
    actual, and a change made by the implementer's editor."""
    indicator = world.indicators["p1"]
    Indicator.objects.filter(pk=indicator.pk).update(
        definition_en="",
        definition_ar="عدد الموظفين المدربين على التحصيل",
        data_source_en="Municipal training registers",
        known_limitations_en="Self-reported attendance",
    )
    Result.objects.filter(pk=world.results["x"].pk).update(evidence_url=EVIDENCE_X)
    Result.objects.filter(pk=world.results["y"].pk).update(evidence_url=EVIDENCE_Y)
    Result.objects.filter(pk=world.results["x_draft"].pk).update(evidence_url=EVIDENCE_DRAFT)
    f.ResultFactory(
        indicator=indicator,
        municipality=world.orgs["x"],
        value=Decimal(25),
        status=Result.Status.APPROVED,
        disaggregation_category="sex",
        disaggregation_option="female",
    )
    indicator.refresh_from_db()
    indicator.name_en = "Staff trained in revenue collection"
    indicator._history_user = world.users["implementer_editor"]
    indicator.save()
    draft = Result.objects.get(pk=world.results["x_draft"].pk)
    draft.value = Decimal(4)
    draft._history_user = world.users["municipality_x_editor"]
    draft.save()
    recompute()
    return indicator


@pytest.mark.parametrize(("role", "status"), P1_PAGE.items())
def test_who_opens_the_page_of_p1s_indicator(world, client_for, role, status):
    assert client_for(role).get(url_of(world.indicators["p1"])).status_code == status


@pytest.mark.parametrize(("role", "status"), P2_PAGE.items())
def test_who_opens_the_page_of_p2s_indicator(world, client_for, role, status):
    assert client_for(role).get(url_of(world.indicators["p2"])).status_code == status


def test_definition_and_reference_sheet_in_the_pages_language(detailed, client_for):
    tree = open_page(client_for("donor_a_viewer"), detailed)
    assert texts(tree, "//h1") == ["P1-1 Staff trained in revenue collection"]
    pirs = tree.xpath('//dl[@id="pirs"]')[0]
    (definition,) = pirs.xpath('.//span[@lang="ar"]')  # given in Arabic only: shown, marked as Arabic
    assert definition.text_content() == "عدد الموظفين المدربين على التحصيل" and definition.get("dir") == "rtl"
    assert "Municipal training registers" in pirs.text_content()
    assert "Self-reported attendance" in pirs.text_content()
    facts = " ".join(texts(tree, '//dl[@id="indicator-facts"]'))
    for fact in ("Output", "Number (people)", "Sum of periods", "Increase is better", "Quarterly", "Sex"):
        assert fact in facts, fact
    assert texts(tree, '//*[@id="bounds"]') == ["0 – no upper bound"]


def test_numbers_by_period_municipality_and_disaggregation(detailed, client_for):
    tree = open_page(client_for("ministry_viewer"), detailed)
    # Programme-wide Q1 2025: target 100, actual 40 + 7 = 47.
    rows = rows_of(tree, "programme-periods")
    assert rows[0] == "Q1 FY25 100 47 47.0 % Below target"
    assert rows[-1] == "Life of programme 100 47 47.0 % Below target"
    by_town = {
        row.get("data-municipality"): [" ".join(td.text_content().split()) for td in row.xpath("./td")]
        for row in tree.xpath('//table[@id="municipality-periods"]/tbody/tr')
    }
    x, y = detailed.programme.twinnings.get().municipalities.order_by("pk")
    # No municipality targets: each cell is the actual over "—"; then the life of programme.
    assert by_town[str(x.pk)][0].startswith("40") and by_town[str(y.pk)][0].startswith("7")
    female = DisaggregationOption.objects.select_related("category").get(category__code="sex", code="female")
    assert rows_of(tree, "breakdowns") == [f"{female.category.name}: {female.name} 25 25"]
    assert texts(tree, '//*[@id="progress-to-date"]//span[@class="value"]') == ["47.0 %"]


def test_the_trend_follows_the_progress_to_date_period_by_period(detailed, client_for):
    """A second quarter with a target of 100 and an approved 53: 47 % at the end of Q1, 50 % at
    the end of Q2 ((47 + 53) / 200), then unchanged in the quarters without a target."""
    f.TargetFactory(indicator=detailed, period_start=Q2[0], period_end=Q2[1], value=Decimal(100))
    Result.objects.filter(pk=detailed.results.get(status=Result.Status.DRAFT).pk).update(
        value=Decimal(53), status=Result.Status.APPROVED
    )
    recompute()
    tree = open_page(client_for("donor_a_viewer"), detailed)
    rows = [
        [" ".join(cell.text_content().split()) for cell in row.xpath("./td")]
        for row in tree.xpath('//table[@id="trend-numbers"]/tbody/tr')
    ]
    assert [row[0] for row in rows[:2]] == ["Q1 FY25", "Q2 FY25"]
    assert [(row[2], row[3], row[4]) for row in rows[:2]] == [("100", "47", "47.0 %"), ("200", "100", "50.0 %")]
    assert all(row[4] == "50.0 %" for row in rows[2:])
    today = timezone.localdate()
    assert len(rows) == (today.year - 2025) * 4 + (today.month - 1) // 3
    circles = tree.xpath('//figure[contains(@class, "trend")]//svg[@role="img"]//circle')
    assert len(circles) == len(rows)


def test_evidence_is_of_approved_results_the_user_sees(detailed, client_for):
    ministry = open_page(client_for("ministry_viewer"), detailed)
    links = ministry.xpath('//table[@id="evidence"]//a/@href')
    assert sorted(links) == sorted([EVIDENCE_X, EVIDENCE_Y])  # the draft's link is not evidence yet
    twinned = open_page(client_for("municipality_y_editor"), detailed)
    assert twinned.xpath('//table[@id="evidence"]//a/@href') == [EVIDENCE_Y]
    towns = twinned.xpath('//table[@id="municipality-periods"]/tbody/tr/@data-municipality')
    assert towns == [str(detailed.programme.twinnings.get().municipalities.get(name_en="Tinley Park").pk)]


def test_history_of_its_results_and_of_itself_says_who(detailed, client_for, world):
    tree = open_page(client_for("implementer_editor"), detailed)
    (latest,) = tree.xpath('//table[@id="result-changes"]/tbody/tr[1]')
    cells = [" ".join(td.text_content().split()) for td in latest.xpath("./td")]
    assert cells[1] == "Ghadames"  # the municipality X editor, named by their organisation
    assert "Changed" in cells[3] and "Draft" in cells[3] and "4" in cells[3]
    assert latest.xpath(".//a/@href") == [reverse("result_history", args=[world.results["x_draft"].pk])]
    changes = rows_of(tree, "indicator-changes")
    assert changes[0].startswith(tuple("0123456789")) and "Implementer 1" in changes[0]
    assert "name in English:" in changes[0] and "→ Staff trained in revenue collection" in changes[0]
    # A municipality member does not see the other municipality's entries in the history either.
    other = open_page(client_for("municipality_y_editor"), detailed)
    assert "Ghadames" not in " ".join(rows_of(other, "result-changes"))


def test_alignments_link_to_the_drill_down(world, client_for):
    tree = open_page(client_for("donor_a_viewer"), world.indicators["p1"])
    links = tree.xpath('//table[@id="alignments"]//a/@href')
    assert links == [
        reverse("national_target_detail", args=[world.national_target.pk]),
        reverse("funder_goal_detail", args=[world.funder_goals["a"].pk]),
    ]
    assert texts(tree, '//table[@id="alignments"]//td') == ["1", "1"]


def test_arabic_page_is_right_to_left_with_arabic_labels(detailed, client_for):
    page = client_for("ministry_viewer").get(url_of(detailed, "ar")).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    for label in ("بطاقة المرجع", "حسب البلدية", "المتحقق حسب التصنيف", "رابط وسيلة التحقق", "الربع الأول 2025"):
        assert label in page, label
    assert "Reference sheet" not in page and "By municipality" not in page


def grow_indicator(world, towns: int, periods: list[tuple]) -> None:
    """More of everything the page lists for P1-1: municipalities taking part, approved results
    with evidence and a breakdown in more periods, targets, and changes."""
    indicator = world.indicators["p1"]
    workstream = world.workstreams["p1"]
    for n in range(towns):
        town = f.MunicipalityFactory()
        workstream.municipalities.add(town)
        for start, end in periods:
            f.TargetFactory(indicator=indicator, municipality=town, period_start=start, period_end=end)
            result = f.ResultFactory(
                indicator=indicator,
                municipality=town,
                period_start=start,
                period_end=end,
                value=Decimal(n + 1),
                status=Result.Status.APPROVED,
                evidence_url=f"https://evidence.example.org/{n}-{start}.pdf",
            )
            result.value += 1
            result.save()
            f.ResultFactory(
                indicator=indicator,
                municipality=town,
                period_start=start,
                period_end=end,
                value=Decimal(1),
                status=Result.Status.APPROVED,
                disaggregation_category="sex",
                disaggregation_option="male",
            )
    for n in range(3):
        indicator.refresh_from_db()
        indicator.lop_target = Decimal(500 + n)
        indicator.save()
    recompute()


def count_queries(client, url):
    cache.clear()
    reports.clear_local_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["ministry_viewer", "municipality_x_editor"])
def test_the_page_runs_the_same_number_of_queries_with_more_towns_periods_and_results(world, client_for, role):
    grow_indicator(world, 1, [Q1])
    client = client_for(role)
    url = url_of(world.indicators["p1"])
    before = count_queries(client, url)
    grow_indicator(world, 10, [Q1, Q2, (Q2[1].replace(month=7, day=1), Q2[1].replace(month=9, day=30))])
    assert count_queries(client, url) == before
    assert before <= 30
