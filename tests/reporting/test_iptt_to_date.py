"""The IPTT and the alignment report with progress to date (docs/design.md §4, §6): stored values
as of today, or computed for `?as_of=` from the stored period rows (no query more), per
municipality and twinning, with disaggregated rows, its columns in period order."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from indicators.models import Result, Target
from partners.models import Membership
from projects.access import access_for
from reporting import reports
from reporting.reports import IPTTOptions, clear_local_cache
from rollups import engine
from rollups.alignment import force_global_snapshot
from rollups.models import Rollup
from tests import factories as f
from tests.roles import disaggregation_categories

pytestmark = pytest.mark.django_db

MIDWAY = date(2025, 6, 30)  # the day the third quarter (April–June 2025) and the first half end
TO_DATE = ("target_to_date", "percent_to_date", "status_to_date")


@pytest.fixture
def programme():
    """An October fiscal year programme: Ghadames and Tinley Park twinned, Nalut in a workstream;
    a quarterly `sum` indicator with a sex breakdown and a half-yearly percentage, both reported
    in every period up to March 2026 and targeted to September 2026."""
    categories = disaggregation_categories()
    donor = f.DonorFactory()
    programme = f.ProgrammeFactory(
        code="TQ", donors=[donor], start_date=date(2024, 10, 1), end_date=date(2026, 9, 30), fiscal_year_start_month=10
    )
    ghadames, tinley, nalut = f.MunicipalityFactory.create_batch(3)
    twinning = f.TwinningFactory(programme=programme, municipalities=[ghadames, tinley])
    f.WorkstreamFactory(programme=programme, municipalities=[nalut])
    trained = f.IndicatorFactory(programme=programme, code="A-TRAINED", frequency="quarterly", lop_target=Decimal(500))
    trained.disaggregations.set([categories["sex"]])
    share = f.IndicatorFactory(
        programme=programme, code="B-SHARE", measure="percentage", time_aggregation="latest", frequency="semiannual"
    )
    quarters = [
        (date(2024, 10, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 3, 31)),
        (date(2025, 4, 1), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 9, 30)),
    ]
    halves = [(date(2024, 10, 1), date(2025, 3, 31)), (date(2025, 4, 1), date(2025, 9, 30))]
    halves += [(date(2025, 10, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 9, 30))]
    results, targets = [], []
    for index, (start, end) in enumerate(quarters):
        targets.append(Target(indicator=trained, period_start=start, period_end=end, value=Decimal(40)))
        for town in (ghadames, tinley, nalut):
            targets.append(Target(indicator=trained, municipality=town, period_start=start, period_end=end, value=12))
            if index < 6:
                value = 10 + index + town.pk % 3
                results += [
                    Result(indicator=trained, municipality=town, period_start=start, period_end=end, value=value,
                           status="approved"),
                    Result(indicator=trained, municipality=town, period_start=start, period_end=end, value=value // 2,
                           disaggregation_category="sex", disaggregation_option="female", status="approved"),
                ]  # fmt: skip
    for index, (start, end) in enumerate(halves):
        for town, base in ((ghadames, 40), (tinley, 55)):
            targets.append(
                Target(indicator=share, municipality=town, period_start=start, period_end=end, value=base + 5 * index)
            )
            if index < 3:
                results.append(
                    Result(indicator=share, municipality=town, period_start=start, period_end=end,
                           value=Decimal(base + 4 * index), numerator=base + 4 * index, denominator=100,
                           status="approved")
                )  # fmt: skip
    Result.objects.bulk_create(results)
    Target.objects.bulk_create(targets)
    engine.recompute_indicators([trained.pk, share.pk])
    force_global_snapshot()
    cache.clear()
    clear_local_cache()
    superuser = f.UserFactory(is_superuser=True, is_staff=True)
    ghadames_editor = f.MembershipFactory(organisation=ghadames, role=Membership.Role.EDITOR).user
    return {
        "programme": programme,
        "twinning": twinning,
        "towns": (ghadames, tinley, nalut),
        "indicators": (trained, share),
        "users": {"superuser": superuser, "ghadames": ghadames_editor},
        "other_twinning": f.TwinningFactory(),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def iptt(world, **options):
    return reports.iptt(
        programme=world["programme"], access=access_for(world["users"]["superuser"]), options=IPTTOptions(**options)
    )


def to_date(report) -> dict:
    return {
        (row["indicator"], tuple(row["disaggregation"].items())): tuple(row[name] for name in TO_DATE)
        for row in report["rows"]
    }


def stored_to_date(world, scope, scope_id) -> dict:
    found = {}
    for row in Rollup.objects.filter(
        indicator__programme=world["programme"], scope=scope, scope_id=scope_id, period_start__isnull=True
    ):
        breakdown = ((row.disaggregation_category, row.disaggregation_option),) if row.disaggregation_category else ()
        found[(row.indicator_id, breakdown)] = (row.target_to_date, row.percent_to_date, row.status_to_date)
    return found


def scopes(world):
    ghadames = world["towns"][0]
    return [
        {"scope": "programme", "scope_id": world["programme"].pk},
        {"scope": "twinning", "scope_id": world["twinning"].pk},
        {"scope": "municipality", "scope_id": ghadames.pk},
    ]


def test_without_as_of_the_stored_values_are_shown_and_as_of_today_computes_the_same(programme):
    world = programme
    for scope in scopes(world):
        stored = iptt(world, disaggregated=True, **scope)
        assert stored["as_of"] == timezone.localdate()
        assert to_date(stored) == stored_to_date(world, **scope)
        assert to_date(iptt(world, disaggregated=True, as_of=timezone.localdate(), **scope)) == to_date(stored)
    statuses = {row["code"]: row["status_to_date"] for row in iptt(world)["rows"]}
    # Every period has ended: trained has nothing since March 2026 against targets to September;
    # the share's last target, (55 + 70) / 2 = 62.5, against its latest half, 111 / 200 = 55.5 %: 88.8 %.
    assert statuses == {"A-TRAINED": "below", "B-SHARE": "on_track"}


@pytest.mark.parametrize("as_of", [date(2024, 12, 30), MIDWAY, date(2025, 9, 29), date(2030, 1, 1)])
def test_as_of_a_date_gives_what_a_recompute_as_of_that_date_stores(programme, as_of):
    world = programme
    asked = {str(scope): to_date(iptt(world, disaggregated=True, as_of=as_of, **scope)) for scope in scopes(world)}
    engine.recompute_indicators([indicator.pk for indicator in world["indicators"]], as_of=as_of)
    for scope in scopes(world):
        assert asked[str(scope)] == stored_to_date(world, **scope), scope


def test_midway_by_hand(programme):
    """As of 30 June 2025 the first three quarters and the first half have ended. Trained: the
    programme-wide targets 40 + 40 + 40 = 120 against what the three towns reported; share: the
    first half's mean target (40 + 55) / 2 = 47.5 against 95 / 200 = 47.5 %: 100 %."""
    world = programme
    ghadames, tinley, nalut = world["towns"]
    reported = sum(10 + index + town.pk % 3 for index in range(3) for town in (ghadames, tinley, nalut))
    rows = {row["code"]: row for row in iptt(world, as_of=MIDWAY)["rows"]}
    trained = rows["A-TRAINED"]
    assert trained["target_to_date"] == Decimal(120)
    assert trained["percent_to_date"] == (Decimal(100) * reported / 120).quantize(Decimal("0.01"))
    assert (rows["B-SHARE"]["target_to_date"], rows["B-SHARE"]["percent_to_date"]) == (Decimal("47.5"), Decimal(100))
    assert rows["B-SHARE"]["status_to_date"] == "on_track"
    assert trained["lop_target"] == Decimal(500)  # the LoP figures do not move with as_of


def queries(world, **options) -> int:
    access_for(world["users"]["superuser"])  # read once per request, cached on the user
    with CaptureQueriesContext(connection) as captured:
        iptt(world, **options)
    return len(captured.captured_queries)


def test_asking_as_of_a_date_costs_no_query_whatever_the_size(programme):
    world = programme
    plain = queries(world)
    assert queries(world, as_of=MIDWAY) == plain
    assert queries(world, as_of=MIDWAY, scope="twinning", scope_id=world["twinning"].pk) == plain
    with_options = queries(world, as_of=MIDWAY, disaggregated=True)
    assert with_options == plain + 1  # the option labels, once
    for n in range(8):  # more indicators, each with targets and results in every period
        indicator = f.IndicatorFactory(programme=world["programme"], code=f"C-{n}", frequency="monthly")
        for month in range(1, 13):
            start = date(2025, month, 1)
            end = date(2025 + month // 12, month % 12 + 1, 1).replace(day=1)
            end = date.fromordinal(end.toordinal() - 1)
            f.TargetFactory(indicator=indicator, period_start=start, period_end=end, value=Decimal(5))
            f.ResultFactory(indicator=indicator, municipality=world["towns"][0], period_start=start, period_end=end,
                            status="approved")  # fmt: skip
    engine.recompute_all()
    assert queries(world) == plain
    assert queries(world, as_of=MIDWAY) == plain
    assert queries(world, as_of=MIDWAY, disaggregated=True) == with_options


def test_disaggregated_rows_come_under_their_total(programme):
    rows = iptt(programme, disaggregated=True, as_of=MIDWAY)["rows"]
    assert [(row["code"], row["disaggregation"]) for row in rows] == [
        ("A-TRAINED", {}),
        ("A-TRAINED", {"sex": "female"}),
        ("B-SHARE", {}),
    ]
    female = rows[1]
    assert female["disaggregation_label"] == "Sex: Female"
    assert (female["target_to_date"], female["status_to_date"], female["baseline_value"]) == (None, "no_target", None)
    assert female["periods"][0]["actual"] is not None


def test_columns_are_in_period_order_quarters_and_halves_on_one_time_line(programme):
    report = iptt(programme)
    columns = reports.iptt_columns(report)
    assert columns == sorted(columns)
    assert columns[:4] == [
        (date(2024, 10, 1), date(2024, 12, 31)),
        (date(2024, 10, 1), date(2025, 3, 31)),  # the first half, after the quarter that starts with it
        (date(2025, 1, 1), date(2025, 3, 31)),
        (date(2025, 4, 1), date(2025, 6, 30)),
    ]
    response = api(programme["users"]["superuser"]).get(
        "/api/v1/reports/iptt/", {"programme": programme["programme"].pk, "format": "csv"}
    )
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    labels = [match[1] for column in header if (match := re.fullmatch(r"(\S+–\S+) target", column))]
    assert labels == [f"{start.isoformat()}–{end.isoformat()}" for start, end in columns]


# --- the API -----------------------------------------------------------------------------------


def test_the_iptt_api_answers_as_of_scope_and_disaggregations(programme):
    world = programme
    client = api(world["users"]["superuser"])
    url = "/api/v1/reports/iptt/"
    base = {"programme": world["programme"].pk}
    report = client.get(url, base).json()
    assert report["as_of"] == timezone.localdate().isoformat() and report["scope"] == "programme"
    assert {row["code"]: row["status_to_date"] for row in report["rows"]} == {
        "A-TRAINED": "below",
        "B-SHARE": "on_track",
    }
    midway = client.get(url, {**base, "as_of": "2025-06-30", "scope": "twinning", "scope_id": world["twinning"].pk})
    assert midway.status_code == 200
    assert (midway.json()["as_of"], midway.json()["scope_id"]) == ("2025-06-30", world["twinning"].pk)
    assert midway.json()["rows"][1]["status_to_date"] == "on_track"

    response = client.get(url, {**base, "format": "csv", "disaggregated": "1", "as_of": "2025-06-30"})
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in table[1:]] == ["A-TRAINED", "A-TRAINED", "B-SHARE"]
    assert table[2][5] == "Sex: Female"
    assert table[0][-3:] == ["Target to date (as of 2025-06-30)", "Percent of target to date", "Status to date"]
    assert table[3][-3:] == ["47.5", "100", "On track"]
    response = client.get(url, {**base, "format": "xlsx", "disaggregated": "1", "as_of": "2025-06-30"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[4]][-3:] == [47.5, 100, "On track"]


@pytest.mark.parametrize("output", ["json", "csv", "xlsx"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"as_of": "2025-13-01"}, "as_of"),
        ({"as_of": "30/06/2025"}, "as_of"),
        ({"scope": "region"}, "scope"),
        ({"scope": "twinning"}, "scope_id"),
        ({"scope": "municipality", "scope_id": "x"}, "scope_id"),
        ({"disaggregated": "yes please"}, "disaggregated"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(programme, output, query, field):
    response = api(programme["users"]["superuser"]).get(
        "/api/v1/reports/iptt/", {"programme": programme["programme"].pk, "format": output, **query}
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_scope_outside_the_programme_or_the_users_view_is_a_404(programme):
    world = programme
    ghadames, tinley, _nalut = world["towns"]

    def status(user, scope, scope_id):
        query = {"programme": world["programme"].pk, "scope": scope, "scope_id": scope_id}
        return api(world["users"][user]).get("/api/v1/reports/iptt/", query).status_code

    assert status("superuser", "twinning", world["other_twinning"].pk) == 404
    assert status("superuser", "municipality", f.MunicipalityFactory().pk) == 404
    # A municipality's member sees its own municipality's rows and the shared twinning totals.
    assert status("ghadames", "municipality", ghadames.pk) == 200
    assert status("ghadames", "municipality", tinley.pk) == 404
    assert status("ghadames", "twinning", world["twinning"].pk) == 200


def test_the_alignment_report_has_progress_to_date_as_of_today_or_a_date(programme):
    world = programme
    target = f.NationalTargetFactory(code="NT-T")
    f.AlignmentFactory(indicator=world["indicators"][1], national_target=target)
    engine.recompute_all()
    force_global_snapshot()
    client = api(world["users"]["superuser"])
    report = client.get("/api/v1/reports/alignment/").json()
    assert report["as_of"] == timezone.localdate().isoformat()
    (row,) = [row for row in report["national_targets"] if row["code"] == "NT-T"]
    share = Rollup.objects.get(indicator=world["indicators"][1], scope="programme", period_start__isnull=True)
    assert Decimal(row["progress_to_date"]) == min(share.percent_to_date, 100)
    assert Decimal(row["progress"]) == min(share.percent_of_target, 100)
    midway = client.get("/api/v1/reports/alignment/", {"as_of": "2025-06-30"}).json()
    assert midway["as_of"] == "2025-06-30"
    assert [row["progress_to_date"] for row in midway["national_targets"] if row["code"] == "NT-T"] == ["100"]
    one = client.get("/api/v1/reports/alignment/", {"as_of": "2025-06-30", "programme": world["programme"].pk})
    assert [row["progress_to_date"] for row in one.json()["national_targets"] if row["code"] == "NT-T"] == ["100"]
    bad = client.get("/api/v1/reports/alignment/", {"as_of": "tomorrow"})
    assert bad.status_code == 400 and list(bad.json()) == ["as_of"]
