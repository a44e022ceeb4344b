"""reports/completeness/ against numbers worked out by hand (docs/reporting-cycle.md).

Programme P (2025, calendar fiscal year, due 30 days after a period ends) has a quarterly
indicator and an annual one, in municipalities X and Y (a twinning) and Z (a workstream).
Programme Q (15 Sep 2025 – Jun 2026, fiscal year from October, due after 10 days) has a monthly
and a semi-annual indicator, in municipality W. As of 15 Nov 2025:

P quarterly: Q1 (due 30 Apr), Q2 (due 30 Jul), Q3 (due 30 Oct) are expected; Q4 is not; the
annual indicator's year is not due yet.
    X: Q1 approved, first sent 20 Apr → on time; Q2 sent 30 Jul at 23:30 Tripoli → on time (the
       due date itself); Q3 sent 1 Nov → late.
    Y: Q1 first sent 29 Apr, returned and sent again 1 Jun → on time (the first submission
       counts); Q2 returned now → missing; Q3 a draft → missing.
    Z: Q1 sent 2 May, approved → late; Q2 only a disaggregated value → missing; Q3 sent 20 Nov,
       after as_of → missing.
Q monthly: Sep 2025 (the month of the start; due 10 Oct) and Oct (due 10 Nov) are expected.
    W: Sep sent 10 Oct → on time; Oct nothing → missing.
Q semi-annual: Apr–Sep 2025 (contains the start; due 10 Oct) is expected. W: nothing → missing.
"""

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from rest_framework.test import APIClient

from indicators.models import Indicator, Result
from indicators.services import result_create, result_submit
from partners.models import Membership
from reporting import completeness
from reporting.completeness import Scope
from reporting.reports import clear_local_cache
from tests import factories as f

pytestmark = pytest.mark.django_db

TRIPOLI = ZoneInfo("Africa/Tripoli")
AS_OF = "2025-11-15"


def at(day: str, time: str = "10:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TRIPOLI)


QUARTERS = [
    (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)),
    (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)),
    (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30)),
]


class Data:
    pass


@pytest.fixture
def data():
    d = Data()
    d.x = f.MunicipalityFactory(name_en="X town", name_ar="بلدة س")
    d.y = f.MunicipalityFactory(name_en="Y town")
    d.z = f.MunicipalityFactory(name_en="Z town")
    d.w = f.MunicipalityFactory(name_en="W town")
    d.donor_p = f.DonorFactory()
    d.p = f.ProgrammeFactory(
        code="P",
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 12, 31),
        reporting_due_days=30,
        donors=[d.donor_p],
    )
    d.q = f.ProgrammeFactory(
        code="Q",
        start_date=datetime.date(2025, 9, 15),
        end_date=datetime.date(2026, 6, 30),
        fiscal_year_start_month=10,
        reporting_due_days=10,
    )
    f.TwinningFactory(programme=d.p, municipalities=[d.x, d.y])
    f.WorkstreamFactory(programme=d.p, municipalities=[d.z])
    f.WorkstreamFactory(programme=d.q, municipalities=[d.w])
    d.quarterly = f.IndicatorFactory(programme=d.p, code="P-Q", frequency=Indicator.Frequency.QUARTERLY)
    d.annual = f.IndicatorFactory(programme=d.p, code="P-A", frequency=Indicator.Frequency.ANNUAL)
    d.monthly = f.IndicatorFactory(programme=d.q, code="Q-M", frequency=Indicator.Frequency.MONTHLY)
    d.semiannual = f.IndicatorFactory(programme=d.q, code="Q-S", frequency=Indicator.Frequency.SEMIANNUAL)

    def result(indicator, town, period, status, first=None, **extra):
        return f.ResultFactory(
            indicator=indicator,
            municipality=town,
            period_start=period[0],
            period_end=period[1],
            status=status,
            first_submitted_at=first,
            submitted_at=extra.pop("last", first),
            **extra,
        )

    S, A, R, D = (Result.Status.SUBMITTED, Result.Status.APPROVED, Result.Status.RETURNED, Result.Status.DRAFT)
    q1, q2, q3 = QUARTERS
    result(d.quarterly, d.x, q1, A, at("2025-04-20"))
    result(d.quarterly, d.x, q2, S, at("2025-07-30", "23:30"))
    result(d.quarterly, d.x, q3, S, at("2025-11-01"))
    result(d.quarterly, d.y, q1, S, at("2025-04-29"), last=at("2025-06-01"))
    result(d.quarterly, d.y, q2, R, at("2025-07-01"))
    result(d.quarterly, d.y, q3, D)
    result(d.quarterly, d.z, q1, A, at("2025-05-02"))
    result(d.quarterly, d.z, q2, S, at("2025-07-02"), disaggregation_category="sex", disaggregation_option="female")
    result(d.quarterly, d.z, q3, S, at("2025-11-20"))
    september = (datetime.date(2025, 9, 1), datetime.date(2025, 9, 30))
    result(d.monthly, d.w, september, S, at("2025-10-10", "20:00"))
    return d


def counts(expected, on_time, late, missing, rate):
    return {"expected": expected, "on_time": on_time, "late": late, "missing": missing, "rate": rate}


def user_in(organisation, role=Membership.Role.VIEWER, name=None):
    user = f.UserFactory(username=name) if name else f.UserFactory()
    f.MembershipFactory(user=user, organisation=organisation, role=role)
    return user


def get(user, **params):
    client = APIClient()
    client.force_authenticate(user)
    return client.get("/api/v1/reports/completeness/", {"as_of": AS_OF, **params})


@pytest.fixture
def ministry_user():
    return user_in(f.MinistryFactory())


def test_rows_and_every_total_match_the_hand_computed_numbers(data, ministry_user):
    report = get(ministry_user).json()
    rows = {(r["indicator_code"], r["municipality_name"]): {k: r[k] for k in counts(*[0] * 5)} for r in report["rows"]}
    assert rows == {
        ("P-Q", "X town"): counts(3, 2, 1, 0, "1"),
        ("P-Q", "Y town"): counts(3, 1, 0, 2, "0.3333"),
        ("P-Q", "Z town"): counts(3, 0, 1, 2, "0.3333"),
        ("Q-M", "W town"): counts(2, 1, 0, 1, "0.5"),
        ("Q-S", "W town"): counts(1, 0, 0, 1, "0"),
    }
    first = report["rows"][0]
    assert (first["programme"], first["indicator"], first["municipality"]) == (data.p.pk, data.quarterly.pk, data.x.pk)
    totals = report["totals"]
    by_municipality = {t["name"]: {k: t[k] for k in counts(*[0] * 5)} for t in totals["by_municipality"]}
    assert by_municipality == {
        "W town": counts(3, 1, 0, 2, "0.3333"),
        "X town": counts(3, 2, 1, 0, "1"),
        "Y town": counts(3, 1, 0, 2, "0.3333"),
        "Z town": counts(3, 0, 1, 2, "0.3333"),
    }
    by_programme = {t["code"]: {k: t[k] for k in counts(*[0] * 5)} for t in totals["by_programme"]}
    assert by_programme == {"P": counts(9, 3, 2, 4, "0.5556"), "Q": counts(3, 1, 0, 2, "0.3333")}
    assert totals["national"] == counts(12, 4, 2, 6, "0.5")
    assert report["as_of"] == AS_OF


def test_a_day_earlier_or_later_moves_the_cells_that_fall_due(data, ministry_user):
    # 29 Oct: Q3 of P (due 30 Oct) is not expected yet, nor Q's October (due 10 Nov). Left:
    # X Q1, Q2, Y Q1, W Sep on time; Z Q1 late; Y Q2, Z Q2, W's half-year missing.
    national = get(ministry_user, as_of="2025-10-29").json()["totals"]["national"]
    assert national == counts(8, 4, 1, 3, "0.625")
    # 20 Nov: Z's Q3, sent that day, now counts as late.
    z = next(r for r in get(ministry_user, as_of="2025-11-20").json()["rows"] if r["municipality_name"] == "Z town")
    assert (z["on_time"], z["late"], z["missing"]) == (0, 2, 1)


def test_the_sql_and_the_python_rules_agree(data):
    everything = Scope(None, frozenset(), frozenset())
    for as_of in (datetime.date(2025, 10, 10), datetime.date(2025, 11, 15), datetime.date(2026, 8, 1)):
        sql = completeness._tally_sql(everything, None, as_of)
        python = completeness._tally_python(everything, None, as_of)
        assert sql.rows == python.rows, as_of
        assert dict(python.municipalities) == sql.municipalities
        assert dict(python.programmes) == sql.programmes
        assert python.national == sql.national


def test_one_programme_and_what_each_user_sees(data):
    donor = user_in(data.donor_p)
    report = get(donor).json()
    assert {r["programme_code"] for r in report["rows"]} == {"P"}
    assert report["totals"]["national"] == counts(9, 3, 2, 4, "0.5556")
    # A member of X sees P only through X: X's rows and totals, nothing of Y or Z.
    x_member = user_in(data.x, Membership.Role.EDITOR)
    report = get(x_member).json()
    assert {r["municipality_name"] for r in report["rows"]} == {"X town"}
    assert report["totals"]["national"] == counts(3, 2, 1, 0, "1")
    # ?programme= narrows; a programme the user does not see is a 404.
    assert get(donor, programme=data.p.pk).json()["totals"]["by_programme"][0]["code"] == "P"
    assert get(donor, programme=data.q.pk).status_code == 404
    assert get(user_in(f.MunicipalityFactory())).json()["rows"] == []


def test_bad_parameters_name_the_parameter(data, ministry_user):
    response = get(ministry_user, as_of="15/11/2025")
    assert response.status_code == 400 and "as_of" in response.json()
    response = get(ministry_user, format="pdf")
    assert response.status_code == 400 and "format" in response.json()


def test_csv_and_xlsx_carry_the_rows_and_the_totals(data, ministry_user):
    response = get(ministry_user, format="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["Programme", "Indicator code", "Indicator", "Municipality", "Expected", "On time", "Late",
                        "Missing", "Rate"]  # fmt: skip
    assert ["P", "P-Q", data.quarterly.name_en, "Y town", "3", "1", "0", "2", "0.3333"] in lines
    assert lines[-1] == ["All", "", "National total", "All", "12", "4", "2", "6", "0.5"]
    response = get(ministry_user, format="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[-1][:8] == ["All", None, "National total", "All", 12, 4, 2, 6]
    assert float(values[-1][8]) == 0.5
    assert "attachment" in response["Content-Disposition"]


def test_arabic_names_follow_the_request_language(data, ministry_user):
    client = APIClient()
    client.force_authenticate(ministry_user)
    report = client.get("/api/v1/reports/completeness/", {"as_of": AS_OF}, HTTP_ACCEPT_LANGUAGE="ar").json()
    assert "بلدة س" in {r["municipality_name"] for r in report["rows"]}


def test_a_submission_shows_within_the_cache_and_a_hit_costs_a_fixed_number_of_queries(data, ministry_user):
    cache.clear()
    clear_local_cache()
    client = APIClient()
    client.force_authenticate(ministry_user)
    url = "/api/v1/reports/completeness/"
    before = client.get(url).json()["totals"]["national"]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).json()["totals"]["national"] == before
    hit_queries = len(queries)
    # Y's Q3 draft is submitted today, long after its due date: late instead of missing, at once.
    draft = Result.objects.get(indicator=data.quarterly, municipality=data.y, period_start=QUARTERS[2][0])
    result_submit(result=draft, user=ministry_user)
    after = client.get(url).json()["totals"]["national"]
    assert (after["late"], after["missing"]) == (before["late"] + 1, before["missing"] - 1)
    # A new total for W's October, created submitted, counts the same way.
    result_create(
        indicator=data.monthly,
        municipality=data.w,
        period_start=datetime.date(2025, 10, 1),
        period_end=datetime.date(2025, 10, 31),
        value=Decimal(3),
        user=ministry_user,
        status=Result.Status.SUBMITTED,
    )
    again = client.get(url).json()["totals"]["national"]
    assert again["late"] == after["late"] + 1
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) == hit_queries <= 3
