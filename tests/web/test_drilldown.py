"""Drill-down from a national target or a funder goal to its indicators: the progress, what each
programme and each donor contributes, the trend, who may open the pages, and their query counts."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from lxml import html

from indicators.models import Result
from partners.models import Membership
from projects.access import access_for
from reporting import reports
from rollups.alignment import compute_alignment
from tests import factories as f
from tests.roles import Q1, Q2, SIGNED_IN

from .conftest import recompute
from .test_query_counts import grow

pytestmark = pytest.mark.django_db

LATER = (datetime.date(2027, 10, 1), datetime.date(2027, 12, 31))  # not ended on any day these tests run


def tree_of(response):
    assert response.status_code == 200, response.status_code
    return html.fromstring(response.content.decode())


def texts_of(tree, xpath):
    return [" ".join(node.text_content().split()) for node in tree.xpath(xpath)]


def cell_texts(row):
    return [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]


@pytest.fixture
def plan(db):
    """A national target NT-C over four indicators of two programmes, by hand:

    programme PA (donors D1 and D2): I1 weight 2, 50 of 100 by Q1 2025 and a target of 100 in a
    period still to come (LoP 50 of 200 = 25 %, to date 50 %); I2 weight 1, 120 of 100 (120 %, counts
    as 100). Programme PB (donor D2): I3 weight 3, 30 of 60 (50 %); I4 weight 5, no target (not
    measurable). Measurable weight 6.

    To date: (2·50 + 1·100 + 3·50) / 6 = 58.33 %; PA contributes (100 + 100) / 6 = 33.33, PB 150 / 6 = 25.
    Life of programme: (2·25 + 100 + 150) / 6 = 50 %; PA (50 + 100) / 6 = 25, PB 25.
    D1 funds PA only; D2 funds both: 58.33 to date, 50 over the life of the programme.
    The goal G (donor D2) counts I1 (weight 2) itself, and I3 (weight 3) through the goal G.1 below it.
    """
    d1 = f.DonorFactory(name_en="Donor One", name_ar="المانح الأول")
    d2 = f.DonorFactory(name_en="Donor Two", name_ar="المانح الثاني")
    pa = f.ProgrammeFactory(code="PA", name_en="Programme A", donors=[d1, d2])
    pb = f.ProgrammeFactory(code="PB", name_en="Programme B", donors=[d2])
    town = f.MunicipalityFactory(name_en="Sabha")
    for programme in (pa, pb):
        f.WorkstreamFactory(programme=programme, municipalities=[town])
    target = f.NationalTargetFactory(code="NT-C", title_en="Local revenue collected", title_ar="الإيرادات المحلية")
    goal = f.FunderGoalFactory(donor=d2, code="G", title_en="Better services")
    child = f.FunderGoalFactory(donor=d2, code="G.1", parent=goal, title_en="Revenue")
    indicators = {}
    for code, programme, weight, actual, planned in (
        ("I1", pa, "2", "50", "100"),
        ("I2", pa, "1", "120", "100"),
        ("I3", pb, "3", "30", "60"),
        ("I4", pb, "5", "8", None),
    ):
        indicator = f.IndicatorFactory(programme=programme, code=code)
        indicators[code] = indicator
        if planned is not None:
            f.TargetFactory(indicator=indicator, period_start=Q1[0], period_end=Q1[1], value=Decimal(planned))
        f.ResultFactory(indicator=indicator, municipality=town, value=Decimal(actual), status=Result.Status.APPROVED)
        f.AlignmentFactory(indicator=indicator, national_target=target, weight=Decimal(weight))
    f.TargetFactory(indicator=indicators["I1"], period_start=LATER[0], period_end=LATER[1], value=Decimal(100))
    f.AlignmentFactory(indicator=indicators["I1"], national_target=None, funder_goal=goal, weight=Decimal(2))
    f.AlignmentFactory(indicator=indicators["I3"], national_target=None, funder_goal=child, weight=Decimal(3))
    recompute()
    ministry = f.MembershipFactory(organisation=f.MinistryFactory(), role=Membership.Role.VIEWER).user
    d1_viewer = f.MembershipFactory(organisation=d1, role=Membership.Role.VIEWER).user
    d2_viewer = f.MembershipFactory(organisation=d2, role=Membership.Role.VIEWER).user
    return {
        "target": target,
        "goal": goal,
        "child": child,
        "indicators": indicators,
        "programmes": {"PA": pa, "PB": pb},
        "donors": {"D1": d1, "D2": d2},
        "users": {"ministry": ministry, "d1": d1_viewer, "d2": d2_viewer},
    }


def open_page(client, user, name, pk, language="en"):
    client.force_login(user)
    with translation.override(language):
        url = reverse(name, args=[pk])
    return tree_of(client.get(url))


def contribution_rows(tree, table_id):
    return {
        row.get("data-subject"): (
            row.xpath('.//td[contains(@class, "contribution-to-date")]')[0].text_content().strip(),
            row.xpath('.//td[@class="num contribution"]')[0].text_content().strip(),
        )
        for row in tree.xpath(f'//table[@id="{table_id}"]/tbody/tr[@data-subject]')
    }


def test_national_target_progress_and_contributions_by_programme_and_donor(client, plan):
    tree = open_page(client, plan["users"]["ministry"], "national_target_detail", plan["target"].pk)
    assert tree.xpath('//*[@id="progress-to-date"]//span[@class="value"]')[0].text_content().strip() == "58.3\u00a0%"
    assert tree.xpath('//*[@id="progress-lop"]//bdi')[0].text_content().strip() == "50.0\u00a0%"
    pa, pb = plan["programmes"]["PA"], plan["programmes"]["PB"]
    assert contribution_rows(tree, "by-programme") == {
        str(pa.pk): ("33.3\u00a0%", "25.0\u00a0%"),
        str(pb.pk): ("25.0\u00a0%", "25.0\u00a0%"),
    }
    d1, d2 = plan["donors"]["D1"], plan["donors"]["D2"]
    assert contribution_rows(tree, "by-donor") == {
        str(d1.pk): ("33.3\u00a0%", "25.0\u00a0%"),
        str(d2.pk): ("58.3\u00a0%", "50.0\u00a0%"),
    }
    (pb_row,) = tree.xpath(f'//table[@id="by-programme"]/tbody/tr[@data-subject="{pb.pk}"]')
    # PB: two indicators, weight 3 + 5; its own progress is I3's 50 % (I4 is not measurable).
    assert cell_texts(pb_row)[1:4] == ["2", "8", "50.0 %"]  # cell texts: spaces collapsed
    rows = {row.get("data-indicator"): row for row in tree.xpath('//table[@id="aligned-indicators"]/tbody/tr')}
    assert set(rows) == {"I1", "I2", "I3", "I4"}
    assert rows["I1"].xpath('.//td[contains(@class, "weight")]')[0].text_content() == "2"
    link = rows["I1"].xpath(".//th/a")[0].get("href")
    assert link == reverse("indicator_detail", args=[plan["indicators"]["I1"].pk])
    assert "Donor One" in cell_texts(rows["I2"])[2] and "Donor Two" in cell_texts(rows["I2"])[2]
    assert texts_of(tree, '//*[@id="not-measurable"]') == ["1 indicator not measurable yet"]


def test_the_page_agrees_with_the_alignment_report_the_dashboards_show(client, plan):
    """The ministry's stored report and a donor's own report give the page's numbers."""
    for user_key, shown in (("ministry", "58.3\u00a0%"), ("d1", "66.7\u00a0%")):
        user = plan["users"][user_key]
        report = reports.alignment(access=access_for(user))
        (row,) = [row for row in report["national_targets"] if row["id"] == plan["target"].pk]
        tree = open_page(client, user, "national_target_detail", plan["target"].pk)
        value = tree.xpath('//*[@id="progress-to-date"]//span[@class="value"]')[0].text_content().strip()
        assert value == shown
        assert Decimal(value.split("\u00a0")[0]) == row["progress_to_date"].quantize(Decimal("0.1"))


def test_a_donor_sees_only_the_indicators_of_the_programmes_it_funds(client, plan):
    tree = open_page(client, plan["users"]["d1"], "national_target_detail", plan["target"].pk)
    shown = {row.get("data-indicator") for row in tree.xpath('//table[@id="aligned-indicators"]/tbody/tr')}
    assert shown == {"I1", "I2"}
    # Over PA alone: (2·50 + 1·100) / 3 to date, all of it PA's.
    assert contribution_rows(tree, "by-programme") == {str(plan["programmes"]["PA"].pk): ("66.7\u00a0%", "50.0\u00a0%")}


def test_funder_goal_counts_the_goals_below_it_and_links_its_tree(client, plan):
    goal, child = plan["goal"], plan["child"]
    tree = open_page(client, plan["users"]["d2"], "funder_goal_detail", goal.pk)
    # I1 (weight 2, 50 % to date, 25 % LoP) and I3 (weight 3, 50 %): 50 % to date, (50 + 150) / 5 = 40 % LoP.
    assert tree.xpath('//*[@id="progress-to-date"]//span[@class="value"]')[0].text_content().strip() == "50.0\u00a0%"
    assert tree.xpath('//*[@id="progress-lop"]//bdi')[0].text_content().strip() == "40.0\u00a0%"
    shown = {row.get("data-indicator") for row in tree.xpath('//table[@id="aligned-indicators"]/tbody/tr')}
    assert shown == {"I1", "I3"}
    assert contribution_rows(tree, "by-programme") == {
        str(plan["programmes"]["PA"].pk): ("20.0\u00a0%", "10.0\u00a0%"),
        str(plan["programmes"]["PB"].pk): ("30.0\u00a0%", "30.0\u00a0%"),
    }
    (child_link,) = tree.xpath('//ul[@id="child-goals"]//a')
    assert child_link.get("href") == reverse("funder_goal_detail", args=[child.pk])
    assert "50.0\u00a0%" in tree.xpath('//ul[@id="child-goals"]')[0].text_content()
    below = open_page(client, plan["users"]["d2"], "funder_goal_detail", child.pk)
    parent = below.xpath('//*[@id="parent-goal"]//a')[0]
    assert parent.get("href") == reverse("funder_goal_detail", args=[goal.pk])


def test_the_trend_is_the_progress_to_date_at_each_quarter_end(client, plan):
    """A second quarter for I1 (40 of 100): at the end of Q1 2025 the target stands where Q1 left
    it (58.3 %); at the end of Q2, I1 is at (50 + 40) / 200 = 45 %. Each point is what the alignment report
    says when asked as of that day."""
    i1 = plan["indicators"]["I1"]
    town = i1.programme.workstreams.get().municipalities.get()
    f.TargetFactory(indicator=i1, period_start=Q2[0], period_end=Q2[1], value=Decimal(100))
    f.ResultFactory(
        indicator=i1,
        municipality=town,
        period_start=Q2[0],
        period_end=Q2[1],
        value=Decimal(40),
        status=Result.Status.APPROVED,
    )
    recompute()
    tree = open_page(client, plan["users"]["ministry"], "national_target_detail", plan["target"].pk)
    rows = [cell_texts(row) for row in tree.xpath('//table[@id="trend-numbers"]/tbody/tr')]
    assert rows[0][0] == "Q1 FY25" and rows[1][0] == "Q2 FY25"
    ids = [plan["programmes"]["PA"].pk, plan["programmes"]["PB"].pk]
    for row, as_of in ((rows[0], Q1[1]), (rows[1], Q2[1])):
        (expected,) = [
            t.progress_to_date
            for t in compute_alignment(ids, as_of=as_of).report.national_targets
            if t.id == plan["target"].pk
        ]
        assert row[2] == f"{expected.quantize(Decimal('0.1'))} %"
    assert rows[1][2] == "56.7 %"  # (2·45 + 100 + 150) / 6
    today = timezone.localdate()
    quarters = (today.year - 2025) * 4 + (today.month - 1) // 3  # every quarter ended since January 2025
    assert len(rows) == quarters
    assert tree.xpath('//figure[contains(@class, "trend")]//svg//polyline[@class="trend-line"]')


def test_a_goal_names_its_quarters_after_its_programmes_fiscal_year(client, plan):
    """Both programmes follow a US fiscal year (October): January–March 2025 is "Q2 FY25" on the
    donor's goal, and stays "Q1 FY25" on the ministry's national target (calendar year)."""
    for programme in plan["programmes"].values():
        type(programme).objects.filter(pk=programme.pk).update(fiscal_year_start_month=10)
    goal = open_page(client, plan["users"]["d2"], "funder_goal_detail", plan["goal"].pk)
    assert cell_texts(goal.xpath('//table[@id="trend-numbers"]/tbody/tr')[0])[0] == "Q2 FY25"
    target = open_page(client, plan["users"]["ministry"], "national_target_detail", plan["target"].pk)
    assert cell_texts(target.xpath('//table[@id="trend-numbers"]/tbody/tr')[0])[0] == "Q1 FY25"


@pytest.mark.parametrize("role", [None, *SIGNED_IN])
def test_who_opens_a_national_target(world, client_for, role):
    response = client_for(role).get(reverse("national_target_detail", args=[world.national_target.pk]))
    assert response.status_code == (302 if role is None else 200)
    if role is not None:
        shown = {
            row.get("data-indicator") for row in tree_of(response).xpath('//table[@id="aligned-indicators"]/tbody/tr')
        }
        sees = {
            "donor_a_viewer": {"P1-1"},
            "donor_b_viewer": {"P2-1"},
            "implementer_editor": {"P1-1"},
            "municipality_x_editor": {"P1-1"},
            "municipality_y_editor": {"P1-1"},
        }
        assert shown == sees.get(role, {"P1-1", "P2-1"}), role


FUNDER_GOAL_A = {
    None: 302,
    "ministry_viewer": 200,
    "ministry_approver": 200,
    "donor_a_viewer": 200,
    "donor_b_viewer": 404,
    "implementer_editor": 404,
    "municipality_x_editor": 404,
    "municipality_y_editor": 404,
    "superuser": 200,
}


@pytest.mark.parametrize(("role", "status"), FUNDER_GOAL_A.items())
def test_who_opens_a_funder_goal(world, client_for, role, status):
    response = client_for(role).get(reverse("funder_goal_detail", args=[world.funder_goals["a"].pk]))
    assert response.status_code == status


def test_the_ministry_dashboard_links_each_target_and_draws_its_trend(world, client_for):
    tree = tree_of(client_for("ministry_viewer").get(reverse("ministry_dashboard")))
    (row,) = tree.xpath('//table[@id="national-targets"]//tr[@data-national-target="NT-1"]')
    assert row.xpath(".//th/a")[0].get("href") == reverse("national_target_detail", args=[world.national_target.pk])
    (spark,) = row.xpath('.//svg[@class="sparkline"]')
    assert "73.5\u00a0%" in spark.get("aria-label")
    goal_links = {a.get("href") for a in tree.xpath('//table[@id="matrix"]//thead//a')}
    assert reverse("funder_goal_detail", args=[world.funder_goals["a"].pk]) in goal_links


def test_the_donor_dashboard_links_goals_and_indicators_and_draws_their_trends(world, client_for):
    tree = tree_of(client_for("donor_a_viewer").get(reverse("donor_dashboard")))
    goal_link = tree.xpath('//ul[@id="goal-tree"]//a')[0].get("href")
    assert goal_link == reverse("funder_goal_detail", args=[world.funder_goals["a"].pk])
    (row,) = tree.xpath('//table[@id="donor-indicators"]//tr[@data-indicator="P1-1"]')
    assert row.xpath(".//th/a")[0].get("href") == reverse("indicator_detail", args=[world.indicators["p1"].pk])
    (spark,) = row.xpath('.//svg[@class="sparkline"]')
    assert "47.0\u00a0%" in spark.get("aria-label")


def test_the_programme_page_links_its_indicators(world, client_for):
    p1 = world.programmes["p1"]
    tree = tree_of(client_for("donor_a_viewer").get(reverse("programme_detail", args=[p1.pk])))
    target = reverse("indicator_detail", args=[world.indicators["p1"].pk])
    assert tree.xpath(f'//table[@id="iptt"]//tr[@data-indicator="P1-1"]/th/a[@href="{target}"]')
    assert tree.xpath(f'//table[@id="indicators"]//th/a[@href="{target}"]')


def test_arabic_national_target_and_goal_pages(world, client_for):
    client = client_for("ministry_viewer")
    with translation.override("ar"):
        urls = [
            reverse("national_target_detail", args=[world.national_target.pk]),
            reverse("funder_goal_detail", args=[world.funder_goals["a"].pk]),
        ]
    for url in urls:
        page = client.get(url).content.decode()
        assert '<html lang="ar" dir="rtl">' in page
        for label in ("التقدم حتى تاريخه", "عمر البرنامج", "من يساهم", "حسب البرنامج", "حسب الجهة المانحة"):
            assert label in page, (url, label)
        assert "Who contributes" not in page and "By donor" not in page


def count_queries(client, url):
    cache.clear()
    reports.clear_local_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_pages_run_the_same_number_of_queries_at_ten_times_the_data(world, client_for):
    pages = [
        ("ministry_viewer", reverse("national_target_detail", args=[world.national_target.pk])),
        ("donor_a_viewer", reverse("national_target_detail", args=[world.national_target.pk])),
        ("donor_a_viewer", reverse("funder_goal_detail", args=[world.funder_goals["a"].pk])),
        ("ministry_viewer", reverse("ministry_dashboard")),
        ("donor_a_viewer", reverse("donor_dashboard")),
    ]
    before = [count_queries(client_for(role), url) for role, url in pages]
    grow(world, 10)
    for indicator in list(world.programmes["p1"].indicators.all()):
        for period in (Q2, LATER):
            f.TargetFactory(indicator=indicator, period_start=period[0], period_end=period[1], value=Decimal(10))
    recompute()
    after = [count_queries(client_for(role), url) for role, url in pages]
    assert before == after, list(zip([url for _role, url in pages], before, after, strict=True))
    assert max(after) <= 40


def test_the_trend_line_breaks_where_a_period_has_no_percent_and_runs_right_to_left_in_arabic():
    from web.charts import sparkline, trend_chart

    points = [
        ("Q1", Decimal(40), "below"),
        ("Q2", None, "no_data"),
        ("Q3", Decimal(90), "on_track"),
        ("Q4", Decimal(130), "above"),
    ]
    ltr, rtl = trend_chart(points, rtl=False), trend_chart(points, rtl=True)
    assert len(ltr["lines"]) == 2 and len(ltr["lines"][1].split()) == 2
    assert ltr["points"][0].x < ltr["points"][3].x and rtl["points"][0].x > rtl["points"][3].x
    assert [tick.value for tick in ltr["ticks"]][-1] >= 130  # the axis reaches past 100 when a point does
    assert ltr["band_y"] < ltr["hundred_y"] < ltr["band_y"] + ltr["band_height"]
    assert trend_chart([("Q1", None, "no_target")], rtl=False) is None
    assert sparkline([Decimal(50)], rtl=False) is None  # one point is not a trend
    line = sparkline([Decimal(50), None, Decimal(80)], rtl=True)
    assert (line["first"], line["last"], line["count"]) == (Decimal(50), Decimal(80), 3)
    assert line["last_x"] < float(line["points"].split()[0].split(",")[0])  # the newest point on the left


def test_quarters_run_to_the_last_one_ended():
    from web.selectors import quarter_spans

    spans = quarter_spans(datetime.date(2025, 2, 10), datetime.date(2025, 12, 30))
    assert spans == [
        (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)),
        (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)),
        (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30)),
    ]
    assert quarter_spans(datetime.date(2025, 2, 10), datetime.date(2025, 12, 31))[-1][1] == datetime.date(2025, 12, 31)
