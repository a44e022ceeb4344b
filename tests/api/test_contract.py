"""The REST API v1 read as a client author reads docs/design.md §4, §5, §6 and §7: everything below is built
and read THROUGH THE API (the project's real URLs), then checked against numbers worked out by hand
from the contract tables. One test per contract clause where practical.

The scenario (`contract` fixture), all quarterly, fiscal year from January, programme P in 2025
with a twinning of municipalities M1 and M2:

| indicator | measure / aggregation / direction | approved results                  | targets                         |
|-----------|-----------------------------------|-----------------------------------|---------------------------------|
| SUM       | number / sum / increase           | Q1 M1 40, M2 7 (F 25); Q2 M1 30  | Q1 prog 100; Q2 M1 30, M2 20    |
| CUM       | number / cumulative / increase    | Q1 M1 10; Q2 M1 5; Q4 M2 5        | Q2 prog 20; Q4 prog 40          |
| LATEST    | number / latest / decrease        | Q1 M1 10, M2 10; Q2 M1 8          | Q1 prog 20; Q2 prog 10; lop 9.2 |
| PCT       | percentage / sum (acts as latest) | Q1 M1 30/100, M2 10/20; Q2 M1 45/100 | Q1 M1 40, M2 60; Q2 prog 50  |
| SCORE     | score / cumulative (acts latest)  | Q1 M1 3, M2 4                     | Q1 prog 4                       |
| ZERO      | number / sum / increase           | Q1 M1 0; Q3 M1 5                  | Q1 10; Q2 10; Q3 0 (all prog)   |
| NODATA    | number / sum / increase           | none (a draft only)               | Q1 prog 10                      |
"""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from lxml import etree
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reporting.reports import clear_local_cache
from rollups.alignment import force_global_snapshot
from rollups.engine import recompute_all
from tests.roles import disaggregation_categories

pytestmark = pytest.mark.django_db

API = "/api/v1/"
Q1 = ("2025-01-01", "2025-03-31")
Q2 = ("2025-04-01", "2025-06-30")
Q3 = ("2025-07-01", "2025-09-30")
Q4 = ("2025-10-01", "2025-12-31")


@pytest.fixture(autouse=True)
def _real_urls(settings):
    """The project's own URLs (not the API-only test urlconf): what a client really reaches."""
    settings.ROOT_URLCONF = "twinning.urls"


class Client:
    """An APIClient that fails loudly on an unexpected status and answers JSON."""

    def __init__(self, user=None):
        self.api = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            self.api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    def get(self, path, params=None, expect=200, **extra):
        response = self.api.get(API + path, params or {}, **extra)
        assert response.status_code == expect, (path, response.status_code, response.content[:2000])
        return response

    def json(self, path, params=None, **extra):
        return self.get(path, params, **extra).json()

    def post(self, path, data=None, expect=201):
        response = self.api.post(API + path, data if data is not None else {}, format="json")
        assert response.status_code == expect, (path, data, response.status_code, response.content[:2000])
        return response.json() if response.content else None

    def patch(self, path, data, expect=200):
        response = self.api.patch(API + path, data, format="json")
        assert response.status_code == expect, (path, data, response.status_code, response.content[:2000])
        return response.json() if response.content else None

    def put(self, path, data, expect=200):
        response = self.api.put(API + path, data, format="json")
        assert response.status_code == expect, (path, data, response.status_code, response.content[:2000])
        return response.json() if response.content else None

    def delete(self, path, expect=204):
        response = self.api.delete(API + path)
        assert response.status_code == expect, (path, response.status_code, response.content[:2000])


def make_user(username, superuser=False):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.org", "pw")
    return User.objects.create_user(username, f"{username}@example.org", "pw")


def recompute():
    recompute_all()
    force_global_snapshot()
    forget_cached_reports()


def forget_cached_reports():
    clear_local_cache()
    cache.clear()


class Scenario:
    pass


def org(root, kind, name, **extra):
    body = {"kind": kind, "name_en": name, "name_ar": f"{name} ع", "country": "LY", **extra}
    return root.post("organisations/", body)["id"]


def programme(root, code, donors, implementer, start, end, **extra):
    return root.post(
        "programmes/",
        {
            "code": code,
            "name_en": f"Programme {code}",
            "name_ar": f"برنامج {code}",
            "description_en": "About",
            "donors": donors,
            "implementer": implementer,
            "start_date": start,
            "end_date": end,
            "budget": "1000000.00",
            "currency": "USD",
            "status": "active",
            **extra,
        },
    )


def indicator(root, programme_id, code, measure="number", aggregation="sum", direction="increase", **extra):
    return root.post(
        "indicators/",
        {
            "programme": programme_id,
            "code": code,
            "name_en": f"Indicator {code}",
            "name_ar": f"مؤشر {code}",
            "level": "output",
            "measure": measure,
            "time_aggregation": aggregation,
            "direction": direction,
            "frequency": "quarterly",
            **extra,
        },
    )["id"]


def target(root, indicator_id, period, value, municipality=None):
    return root.post(
        "targets/",
        {
            "indicator": indicator_id,
            "municipality": municipality,
            "period_start": period[0],
            "period_end": period[1],
            "value": str(value),
        },
    )


def approved(root, indicator_id, municipality, period, value=None, **extra):
    """A result taken through the whole workflow: created as draft, submitted, approved."""
    body = {
        "indicator": indicator_id,
        "municipality": municipality,
        "period_start": period[0],
        "period_end": period[1],
        **extra,
    }
    if value is not None:
        body["value"] = str(value)
    result = root.post("results/", body)
    assert result["status"] == "draft"
    assert root.post(f"results/{result['id']}/submit/", {}, expect=200)["status"] == "submitted"
    assert root.post(f"results/{result['id']}/approve/", {}, expect=200)["status"] == "approved"
    return result["id"]


@pytest.fixture(scope="module")
def _scenario(django_db_setup, django_db_blocker):
    """The scenario, built through the API once for the whole module (about 150 requests) in a
    transaction rolled back when the module ends. Each test runs inside it in a savepoint of its
    own (pytest-django's `db`), so what one test writes is gone before the next one starts."""
    with django_db_blocker.unblock(), override_settings(ROOT_URLCONF="twinning.urls"):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_scenario()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def contract(_scenario, db):
    # The cache is not rolled back with the database: each test starts from no cached report, as
    # it would right after `recompute()`.
    forget_cached_reports()
    return _scenario


def build_scenario():
    disaggregation_categories()
    s = Scenario()
    s.root_user = make_user("root", superuser=True)
    root = s.root = Client(s.root_user)
    s.ministry = org(root, "ministry", "Ministry")
    s.d1 = org(root, "donor", "Donor One", iati_ref="XM-D1")
    s.d2 = org(root, "donor", "Donor Two")
    s.imp = org(root, "implementer", "Implementer")
    s.m1 = org(root, "municipality", "Ghadames", country="LY", population=10000)
    s.m2 = org(root, "municipality", "Tinley Park", country="US")
    s.p = programme(root, "P", [s.d1], s.imp, "2025-01-01", "2025-12-31", counterpart=s.ministry)["id"]
    s.twinning = root.post(
        "twinnings/",
        {"programme": s.p, "municipalities": [s.m1, s.m2], "name_en": "G–TP", "name_ar": "غ", "status": "active"},
    )["id"]
    s.theme = root.post("themes/", {"code": "revenue", "name_en": "Local revenue", "name_ar": "الإيرادات"})["id"]
    s.workstream = root.post(
        "workstreams/",
        {
            "programme": s.p,
            "twinning": s.twinning,
            "theme": s.theme,
            "name_en": "Revenue",
            "lead": s.imp,
            "municipalities": [s.m1, s.m2],
        },
    )["id"]

    s.sum = indicator(root, s.p, "SUM", disaggregations=["sex"])
    target(root, s.sum, Q1, 100)
    target(root, s.sum, Q2, 30, s.m1)
    target(root, s.sum, Q2, 20, s.m2)
    approved(root, s.sum, s.m1, Q1, 40)
    approved(root, s.sum, s.m2, Q1, 7)
    approved(root, s.sum, s.m1, Q2, 30)
    approved(root, s.sum, s.m1, Q1, 25, disaggregation={"sex": "female"})
    root.post("results/", {"indicator": s.sum, "municipality": s.m1, "period_start": Q3[0], "period_end": Q3[1],
                           "value": "1000"})  # fmt: skip  # a draft: never counted

    s.cum = indicator(root, s.p, "CUM", aggregation="cumulative")
    target(root, s.cum, Q2, 20)
    target(root, s.cum, Q4, 40)
    approved(root, s.cum, s.m1, Q1, 10)
    approved(root, s.cum, s.m1, Q2, 5)
    approved(root, s.cum, s.m2, Q4, 5)

    s.latest = indicator(root, s.p, "LATEST", aggregation="latest", direction="decrease", lop_target="9.2")
    target(root, s.latest, Q1, 20)
    target(root, s.latest, Q2, 10)
    approved(root, s.latest, s.m1, Q1, 10)
    approved(root, s.latest, s.m2, Q1, 10)
    approved(root, s.latest, s.m1, Q2, 8)

    s.pct = indicator(root, s.p, "PCT", measure="percentage", aggregation="sum", unit_en="%")
    target(root, s.pct, Q1, 40, s.m1)
    target(root, s.pct, Q1, 60, s.m2)
    target(root, s.pct, Q2, 50)
    approved(root, s.pct, s.m1, Q1, numerator="30", denominator="100")
    approved(root, s.pct, s.m2, Q1, numerator="10", denominator="20")
    approved(root, s.pct, s.m1, Q2, numerator="45", denominator="100")

    s.score = indicator(root, s.p, "SCORE", measure="score", aggregation="cumulative")
    target(root, s.score, Q1, 4)
    approved(root, s.score, s.m1, Q1, 3)
    approved(root, s.score, s.m2, Q1, 4)

    s.zero = indicator(root, s.p, "ZERO")
    for period, value in ((Q1, 10), (Q2, 10), (Q3, 0)):
        target(root, s.zero, period, value)
    approved(root, s.zero, s.m1, Q1, 0)
    approved(root, s.zero, s.m1, Q3, 5)

    s.nodata = indicator(root, s.p, "NODATA")
    target(root, s.nodata, Q1, 10)

    # Alignment: NT1 ← SUM (w 1), LATEST (w 3), NODATA (w 5); NT2 has nothing (a gap).
    s.nt1 = root.post("national-targets/", {"code": "NT1", "title_en": "Services", "title_ar": "الخدمات",
                                            "owner": s.ministry, "deadline": "2030-12-31",
                                            "sdg_targets": ["11.3", "16.7"]})["id"]  # fmt: skip
    s.nt2 = root.post("national-targets/", {"code": "NT2", "title_en": "Unaligned"})["id"]
    root.post("alignments/", {"indicator": s.sum, "national_target": s.nt1})
    root.post("alignments/", {"indicator": s.latest, "national_target": s.nt1, "weight": "3"})
    root.post("alignments/", {"indicator": s.nodata, "national_target": s.nt1, "weight": "5"})
    # Donor One's goals: G ⊃ G1; G ← PCT, G1 ← SUM; G2 ← SCORE (on no national target: a gap).
    s.g = root.post("funder-goals/", {"donor": s.d1, "code": "G", "title_en": "Governance"})["id"]
    s.g1 = root.post("funder-goals/", {"donor": s.d1, "code": "G.1", "title_en": "Revenue", "parent": s.g,
                                       "sdg_targets": ["17.1"]})["id"]  # fmt: skip
    s.g2 = root.post("funder-goals/", {"donor": s.d1, "code": "G2", "title_en": "Scores"})["id"]
    root.post("alignments/", {"indicator": s.pct, "funder_goal": s.g})
    root.post("alignments/", {"indicator": s.sum, "funder_goal": s.g1})
    root.post("alignments/", {"indicator": s.score, "funder_goal": s.g2})

    # Other programmes on the same theme, for overlaps and for what a donor may see.
    s.p2 = programme(root, "P2", [s.d2], s.imp, "2025-06-01", "2026-06-30")["id"]
    root.post("workstreams/", {"programme": s.p2, "theme": s.theme, "name_en": "P2 revenue",
                               "municipalities": [s.m1]})  # fmt: skip
    s.p3 = programme(root, "P3", [s.d1], s.imp, "2025-01-01", "2025-12-31")["id"]  # same donors as P
    root.post("workstreams/", {"programme": s.p3, "theme": s.theme, "name_en": "P3", "municipalities": [s.m2]})
    s.p4 = programme(root, "P4", [s.d2], s.imp, "2027-01-01", "2027-12-31")["id"]  # no date overlap
    root.post("workstreams/", {"programme": s.p4, "theme": s.theme, "name_en": "P4", "municipalities": [s.m2]})
    # P2's indicator (fully on target) also counts towards NT1, but Donor One does not see P2.
    s.x2 = indicator(root, s.p2, "X2")
    target(root, s.x2, Q3, 10)
    approved(root, s.x2, s.m1, Q3, 10)
    root.post("alignments/", {"indicator": s.x2, "national_target": s.nt1})

    recompute()
    return s


# --- helpers over rollups -----------------------------------------------------------------------


def rollups(client, indicator_id, scope="programme", scope_id=None, disaggregation="total"):
    params = {"indicator": indicator_id, "scope": scope, "disaggregation": disaggregation, "page_size": 1000}
    if scope_id is not None:
        params["scope_id"] = scope_id
    rows = client.json("rollups/", params)["results"]
    return {(r["period_start"], r["period_end"]): r for r in rows}


def num(text):
    return None if text is None else Decimal(text)


def cell(row):
    return (num(row["actual"]), num(row["target"]), num(row["percent_of_target"]), row["status"])


LOP = (None, None)


# --- §4 rollups through the API ---------------------------------------------------------------


def test_rollup_fields_and_types(contract):
    row = rollups(contract.root, contract.sum)[Q1]
    assert set(row) >= {"indicator", "scope", "scope_id", "period_start", "period_end", "disaggregation",
                        "actual", "target", "percent_of_target", "status", "computed_at"}  # fmt: skip
    assert row["indicator"] == contract.sum and row["scope"] == "programme" and row["scope_id"] == contract.p
    assert row["disaggregation"] == {}
    for name in ("actual", "target", "percent_of_target"):
        assert isinstance(row[name], str)
    lop = rollups(contract.root, contract.sum)[LOP]
    assert lop["period_start"] is None and lop["period_end"] is None


def test_sum_indicator_periods_and_lop(contract):
    cells = rollups(contract.root, contract.sum)
    assert cell(cells[Q1]) == (47, 100, Decimal("47.00"), "below")  # drafts never count (Q3)
    assert cell(cells[Q2]) == (30, 50, Decimal("60.00"), "below")  # target: sum of municipality targets
    assert cells.get(Q3) is None or cells[Q3]["actual"] is None
    # LoP: sum of A over periods with data; target: sum of period targets
    assert cell(cells[LOP]) == (77, 150, Decimal("51.33"), "below")


def test_municipality_and_twinning_scopes(contract):
    m1 = rollups(contract.root, contract.sum, "municipality", contract.m1)
    assert cell(m1[Q1])[:2] == (40, None) and m1[Q1]["status"] == "no_target"
    assert cell(m1[Q2]) == (30, 30, Decimal("100.00"), "on_track")
    m2 = rollups(contract.root, contract.sum, "municipality", contract.m2)
    assert m2[Q2]["actual"] is None and m2[Q2]["status"] == "no_data"  # no data, not zero
    twinning = rollups(contract.root, contract.sum, "twinning", contract.twinning)
    assert num(twinning[Q1]["actual"]) == 47 and num(twinning[Q2]["actual"]) == 30


def test_disaggregations_roll_up_separately(contract):
    female = rollups(contract.root, contract.sum, disaggregation="sex:female")
    assert num(female[Q1]["actual"]) == 25 and female[Q1]["disaggregation"] == {"sex": "female"}
    assert num(rollups(contract.root, contract.sum)[Q1]["actual"]) == 47  # the total is its own


def test_cumulative_indicator(contract):
    cells = rollups(contract.root, contract.cum)
    assert num(cells[Q1]["actual"]) == 10
    assert cell(cells[Q2]) == (15, 20, Decimal("75.00"), "below")
    assert cell(cells[Q4]) == (20, 40, Decimal("50.00"), "below")
    assert cell(cells[LOP]) == (20, 40, Decimal("50.00"), "below")  # LoP target: the last period's


def test_latest_decrease_and_lop_target(contract):
    cells = rollups(contract.root, contract.latest)
    assert cell(cells[Q1]) == (20, 20, Decimal("100.00"), "on_track")  # 100 × target / actual
    assert cell(cells[Q2]) == (8, 10, Decimal("125.00"), "above")
    # LoP actual: A at the latest period with data; LoP target: lop_target 9.2 → 115.00, inclusive
    assert cell(cells[LOP]) == (8, Decimal("9.2"), Decimal("115.00"), "on_track")
    # lop_target is for the programme scope only: M1's LoP has no target of its own
    m1 = rollups(contract.root, contract.latest, "municipality", contract.m1)
    assert num(m1[LOP]["actual"]) == 8 and m1[LOP]["status"] == "no_target"


def test_percentage_is_pooled_and_latest(contract):
    cells = rollups(contract.root, contract.pct)
    # 100 × (30 + 10) / (100 + 20) = 33.33…, never the mean of 30 % and 50 %
    actual, target_, percent, status = cell(cells[Q1])
    assert actual.quantize(Decimal("0.01")) == Decimal("33.33") and target_ == 50  # mean of 40 and 60
    assert percent == Decimal("66.67") and status == "below"
    assert cell(cells[Q2]) == (45, 50, Decimal("90.00"), "on_track")
    assert cell(cells[LOP]) == (45, 50, Decimal("90.00"), "on_track")  # latest, not a sum


def test_score_is_a_mean_and_latest(contract):
    cells = rollups(contract.root, contract.score)
    assert cell(cells[Q1]) == (Decimal("3.5"), 4, Decimal("87.50"), "on_track")
    assert cell(cells[LOP]) == (Decimal("3.5"), 4, Decimal("87.50"), "on_track")


def test_zero_is_data_and_zero_target_is_no_target(contract):
    cells = rollups(contract.root, contract.zero)
    assert cell(cells[Q1]) == (0, 10, Decimal("0.00"), "below")
    assert cells[Q2]["actual"] is None and cells[Q2]["status"] == "no_data"
    assert cell(cells[Q3]) == (5, 0, None, "no_target")


def test_no_result_is_no_data(contract):
    cells = rollups(contract.root, contract.nodata)
    assert cells[Q1]["actual"] is None and cells[Q1]["status"] == "no_data"
    assert cells[LOP]["actual"] is None and cells[LOP]["status"] == "no_data"


# --- §5 alignment through reports/alignment/ --------------------------------------------------


def by_id(rows):
    return {row["id"]: row for row in rows}


def test_alignment_report_shape(contract):
    report = contract.root.json("reports/alignment/")
    assert set(report) >= {"national_targets", "funder_goals", "matrix", "gaps", "overlaps", "computed_at", "pending"}
    nt1 = by_id(report["national_targets"])[contract.nt1]
    assert set(nt1) >= {"id", "code", "title", "progress", "indicators", "not_measurable", "programmes", "donors",
                        "municipalities"}  # fmt: skip
    goal = by_id(report["funder_goals"])[contract.g]
    assert set(goal) >= set(nt1)
    assert set(report["gaps"]) == {"national_targets", "funder_goals"}
    assert report["pending"] is False and report["computed_at"]


def test_national_target_progress_is_weighted_mean_of_capped_pi(contract):
    nt1 = by_id(contract.root.json("reports/alignment/")["national_targets"])[contract.nt1]
    # π(SUM) = 51.33, π(LATEST) = min(115, 100) = 100, π(X2) = 100; NODATA not measurable
    # (1 × 51.33 + 3 × 100 + 1 × 100) / 5 = 90.27
    assert Decimal(nt1["progress"]) == Decimal("90.27")
    assert sorted(nt1["indicators"]) == sorted([contract.sum, contract.latest, contract.nodata, contract.x2])
    assert nt1["not_measurable"] == [contract.nodata]
    assert sorted(nt1["programmes"]) == sorted([contract.p, contract.p2])
    assert sorted(nt1["donors"]) == sorted([contract.d1, contract.d2])
    assert sorted(nt1["municipalities"]) == sorted([contract.m1, contract.m2])


def test_funder_goal_progress_includes_descendants(contract):
    goals = by_id(contract.root.json("reports/alignment/")["funder_goals"])
    # G: own PCT (π 90) and G.1's SUM (π 51.33): (90 + 51.33) / 2 = 70.67 (half-up)
    assert Decimal(goals[contract.g]["progress"]) == Decimal("70.67")
    assert sorted(goals[contract.g]["indicators"]) == sorted([contract.pct, contract.sum])
    assert Decimal(goals[contract.g1]["progress"]) == Decimal("51.33")
    assert Decimal(goals[contract.g2]["progress"]) == Decimal("87.50")


def test_matrix_and_gaps(contract):
    report = contract.root.json("reports/alignment/")
    matrix = {(c["national_target"], c["funder_goal"]): c for c in report["matrix"]}
    assert set(matrix) == {(contract.nt1, contract.g), (contract.nt1, contract.g1)}
    for key in matrix:
        assert Decimal(matrix[key]["progress"]) == Decimal("51.33")
        assert matrix[key]["indicators"] == [contract.sum]
    assert contract.nt2 in report["gaps"]["national_targets"] and contract.nt1 not in report["gaps"]["national_targets"]
    assert contract.g2 in report["gaps"]["funder_goals"]
    assert contract.g not in report["gaps"]["funder_goals"] and contract.g1 not in report["gaps"]["funder_goals"]


def test_overlaps_need_differing_donors_and_overlapping_dates(contract):
    overlaps = contract.root.json("reports/alignment/")["overlaps"]
    assert overlaps == [
        {
            "municipality": contract.m1,
            "theme": contract.theme,
            "programmes": sorted([contract.p, contract.p2]),
            "donors": sorted([contract.d1, contract.d2]),
        }
    ]


def test_alignment_report_for_one_programme(contract):
    report = contract.root.json("reports/alignment/", {"programme": contract.p})
    nt1 = by_id(report["national_targets"])[contract.nt1]
    assert contract.x2 not in nt1["indicators"]
    assert Decimal(nt1["progress"]) == Decimal("87.83")  # (51.33 + 3 × 100) / 4


def test_donor_alignment_report_counts_only_what_the_donor_sees(contract):
    donor = make_user("donor1")
    contract.root.post("memberships/", {"user": "donor1", "organisation": contract.d1, "role": "viewer"})
    report = Client(donor).json("reports/alignment/")
    nt1 = by_id(report["national_targets"])[contract.nt1]
    assert contract.x2 not in nt1["indicators"] and contract.p2 not in nt1["programmes"]
    assert Decimal(nt1["progress"]) == Decimal("87.83")
    assert {g["id"] for g in report["funder_goals"]} == {contract.g, contract.g1, contract.g2}
    other = make_user("donor2")
    contract.root.post("memberships/", {"user": "donor2", "organisation": contract.d2, "role": "viewer"})
    assert Client(other).json("reports/alignment/")["funder_goals"] == []  # Donor One's goals are its own


# --- IPTT and exports ---------------------------------------------------------------------------


def test_iptt_rows(contract):
    report = contract.root.json("reports/iptt/", {"programme": contract.p})
    assert set(report) >= {"rows", "computed_at", "pending"}
    rows = {row["code"]: row for row in report["rows"]}
    assert set(rows) == {"SUM", "CUM", "LATEST", "PCT", "SCORE", "ZERO", "NODATA"}
    row = rows["SUM"]
    assert set(row) >= {"indicator", "code", "name", "unit", "direction", "baseline_value", "periods", "lop_target",
                        "lop_actual", "lop_percent_of_target", "lop_status"}  # fmt: skip
    assert row["indicator"] == contract.sum and row["name"] == "Indicator SUM"
    periods = {(p["period_start"], p["period_end"]): p for p in row["periods"]}
    assert list(periods) == [Q1, Q2, Q3, Q4]
    assert set(periods[Q1]) == {"period_start", "period_end", "target", "actual", "percent_of_target", "status"}
    assert (num(periods[Q1]["actual"]), num(periods[Q1]["target"]), periods[Q1]["status"]) == (47, 100, "below")
    assert periods[Q3]["actual"] is None and periods[Q3]["status"] == "no_data"
    assert (num(row["lop_target"]), num(row["lop_actual"]), num(row["lop_percent_of_target"]), row["lop_status"]) == (
        150, 77, Decimal("51.33"), "below")  # fmt: skip
    latest = rows["LATEST"]
    assert (num(latest["lop_target"]), num(latest["lop_percent_of_target"]), latest["lop_status"]) == (
        Decimal("9.2"), 115, "on_track")  # fmt: skip


def test_iptt_arabic_names(contract):
    report = contract.root.json("reports/iptt/", {"programme": contract.p}, HTTP_ACCEPT_LANGUAGE="ar")
    assert {row["name"] for row in report["rows"]} >= {"مؤشر SUM"}


def test_iptt_csv_and_xlsx(contract):
    response = contract.root.get("reports/iptt/", {"programme": contract.p, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert (
        "attachment" in response["Content-Disposition"] and 'filename="iptt-P.csv"' in response["Content-Disposition"]
    )
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(table) == 1 + 7 and any(r[0] == "SUM" for r in table[1:])
    response = contract.root.get("reports/iptt/", {"programme": contract.p, "format": "xlsx"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="iptt-P.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 8


def test_iati_export_is_xml(contract):
    response = contract.root.get("exports/iati/", {"programme": contract.p})
    assert response["Content-Type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert root.tag == "iati-activities" and root.get("version") == "2.03"
    assert root.find("iati-activity/result") is not None


# --- §6 resources: paths, fields, shapes -----------------------------------------------------

FIELDS = {
    "memberships": {"id", "user", "organisation", "role"},
    "organisations": {"id", "kind", "name", "name_en", "name_ar", "acronym", "country", "region", "population",
                      "iati_ref"},
    "programmes": {"id", "code", "name", "name_en", "name_ar", "description", "description_en", "description_ar",
                   "donors", "implementer", "counterpart", "start_date", "end_date", "budget", "currency", "status",
                   "iati_identifier", "fiscal_year_start_month"},
    "twinnings": {"id", "programme", "municipalities", "name", "name_en", "name_ar", "signed_on", "status"},
    "themes": {"id", "code", "name", "name_en", "name_ar"},
    "workstreams": {"id", "programme", "twinning", "theme", "name", "name_en", "name_ar", "lead", "municipalities"},
    "activities": {"id", "workstream", "kind", "title", "title_en", "title_ar", "start_date", "end_date",
                   "municipality", "status", "participants_female", "participants_male", "participants_youth",
                   "participants_with_disability", "lessons_learned"},
    "national-targets": {"id", "code", "title", "title_en", "title_ar", "owner", "deadline", "sdg_targets"},
    "funder-goals": {"id", "donor", "code", "title", "title_en", "title_ar", "parent", "sdg_targets"},
    "indicators": {"id", "programme", "workstream", "code", "name", "name_en", "name_ar", "definition", "level",
                   "unit", "measure", "time_aggregation", "direction", "frequency", "baseline_value", "baseline_date",
                   "lop_target", "disaggregations"},
    "alignments": {"id", "indicator", "national_target", "funder_goal", "weight"},
    "targets": {"id", "indicator", "municipality", "period_start", "period_end", "value"},
    "results": {"id", "indicator", "municipality", "period_start", "period_end", "disaggregation", "value",
                "numerator", "denominator", "status", "comment", "evidence_url", "version"},
    "rollups": {"indicator", "scope", "scope_id", "period_start", "period_end", "disaggregation", "actual", "target",
                "percent_of_target", "status", "computed_at"},
}  # fmt: skip


@pytest.mark.parametrize("resource", sorted(FIELDS))
def test_every_resource_lists_paginated_with_its_fields(contract, resource):
    if resource == "activities":
        contract.root.post("activities/", {"workstream": contract.workstream, "kind": "workshop", "title_en": "W",
                                           "start_date": "2025-02-01", "end_date": "2025-02-02"})  # fmt: skip
    if resource == "memberships":
        make_user("someone")
        contract.root.post("memberships/", {"user": "someone", "organisation": contract.m1, "role": "editor"})
    page = contract.root.json(f"{resource}/")
    assert {"count", "next", "previous", "results"} <= set(page)
    assert page["results"], resource
    first = page["results"][0]
    assert FIELDS[resource] <= set(first), FIELDS[resource] - set(first)
    if "id" in FIELDS[resource]:
        assert contract.root.json(f"{resource}/{first['id']}/")["id"] == first["id"]
    assert contract.root.get(resource, expect=301).status_code == 301  # no trailing slash: a redirect, not 404


def test_list_and_id_shapes(contract):
    root = contract.root
    programme = root.json(f"programmes/{contract.p}/")
    assert programme["donors"] == [contract.d1] and programme["implementer"] == contract.imp
    assert programme["budget"] == "1000000.00" and programme["fiscal_year_start_month"] == 1
    assert root.json(f"twinnings/{contract.twinning}/")["municipalities"] == sorted([contract.m1, contract.m2])
    assert root.json(f"workstreams/{contract.workstream}/")["municipalities"] == sorted([contract.m1, contract.m2])
    assert root.json(f"national-targets/{contract.nt1}/")["sdg_targets"] == ["11.3", "16.7"]
    goal = root.json(f"funder-goals/{contract.g1}/")
    assert goal["parent"] == contract.g and goal["sdg_targets"] == ["17.1"] and goal["donor"] == contract.d1
    assert root.json(f"indicators/{contract.sum}/")["disaggregations"] == ["sex"]
    assert Decimal(root.json(f"indicators/{contract.latest}/")["lop_target"]) == Decimal("9.2")
    results = root.json("results/", {"indicator": contract.sum, "page_size": 100})["results"]
    assert {json_key(r["disaggregation"]) for r in results} == {"{}", "sex=female"}
    pct = root.json("results/", {"indicator": contract.pct})["results"][0]
    assert Decimal(pct["numerator"]) == 30 and Decimal(pct["denominator"]) == 100
    membership = root.json("memberships/", {"organisation": contract.d1})
    assert membership["count"] == 0


def json_key(disaggregation):
    return "{}" if not disaggregation else ",".join(f"{k}={v}" for k, v in disaggregation.items())


def test_translated_fields_follow_accept_language(contract):
    ar = contract.root.json(f"programmes/{contract.p}/", HTTP_ACCEPT_LANGUAGE="ar")
    assert ar["name"] == "برنامج P" and ar["name_en"] == "Programme P" and ar["name_ar"] == "برنامج P"
    en = contract.root.json(f"programmes/{contract.p}/", HTTP_ACCEPT_LANGUAGE="en")
    assert en["name"] == "Programme P"
    nt = contract.root.json(f"national-targets/{contract.nt1}/", HTTP_ACCEPT_LANGUAGE="ar")
    assert nt["title"] == "الخدمات" and nt["title_en"] == "Services"


FILTERS = [
    ("programmes", "donor", "d1", "p"),
    ("programmes", "donors", "d1", "p"),
    ("programmes", "implementer", "imp", "p"),
    ("twinnings", "programme", "p", "twinning"),
    ("twinnings", "municipality", "m2", "twinning"),
    ("twinnings", "municipalities", "m2", "twinning"),
    ("workstreams", "programme", "p", "workstream"),
    ("workstreams", "twinning", "twinning", "workstream"),
    ("workstreams", "theme", "theme", "workstream"),
    ("workstreams", "municipality", "m2", "workstream"),
    ("indicators", "programme", "p", "sum"),
    ("funder-goals", "parent", "g", "g1"),
    ("funder-goals", "donor", "d1", "g"),
    ("national-targets", "owner", "ministry", "nt1"),
    ("alignments", "national_target", "nt1", None),
    ("alignments", "funder_goal", "g1", None),
    ("alignments", "indicator", "sum", None),
    ("targets", "indicator", "sum", None),
    ("targets", "municipality", "m1", None),
    ("results", "indicator", "sum", None),
    ("results", "municipality", "m2", None),
    ("results", "programme", "p2", None),
    ("rollups", "indicator", "sum", None),
    ("rollups", "programme", "p", None),
]


@pytest.mark.parametrize(("resource", "param", "value", "expected"), FILTERS)
def test_lists_filter_by_foreign_keys(contract, resource, param, value, expected):
    everything = contract.root.json(f"{resource}/", {"page_size": 1000})
    filtered = contract.root.json(f"{resource}/", {param: getattr(contract, value), "page_size": 1000})
    assert 0 < filtered["count"] <= everything["count"]
    if expected:
        assert getattr(contract, expected) in [row["id"] for row in filtered["results"]]
    nothing = contract.root.json(f"{resource}/", {param: 987654, "page_size": 1000})
    assert nothing["count"] == 0, (resource, param)


def test_filter_by_foreign_key_narrows(contract):
    root = contract.root
    assert [r["id"] for r in root.json("programmes/", {"donor": contract.d2})["results"]] == sorted(
        [contract.p2, contract.p4]
    )
    assert root.json("twinnings/", {"municipality": contract.m1})["count"] == 1
    assert {w["programme"] for w in root.json("workstreams/", {"municipality": contract.m1})["results"]} == {
        contract.p, contract.p2}  # fmt: skip
    assert root.json("funder-goals/", {"parent": contract.g})["count"] == 1


def test_memberships_filter_by_user_and_organisation(contract):
    make_user("alice")
    created = contract.root.post("memberships/", {"user": "alice", "organisation": contract.m1, "role": "editor"})
    assert created["user"] == "alice"
    from django.contrib.auth import get_user_model

    alice = get_user_model().objects.get(username="alice")
    for value in (alice.pk, "alice"):
        page = contract.root.json("memberships/", {"user": value})
        assert [m["id"] for m in page["results"]] == [created["id"]], value
    assert contract.root.json("memberships/", {"organisation": contract.m1})["count"] == 1


# --- §6 writes -----------------------------------------------------------------------------------


def test_programme_write_with_contract_field_names(contract):
    root = contract.root
    patched = root.patch(f"programmes/{contract.p}/", {"donors": [contract.d1, contract.d2], "name_ar": "جديد"})
    assert sorted(patched["donors"]) == sorted([contract.d1, contract.d2]) and patched["name_ar"] == "جديد"
    full = root.json(f"programmes/{contract.p}/")
    full.update({"budget": "5.50", "description_en": "Changed"})
    put = root.put(f"programmes/{contract.p}/", {k: v for k, v in full.items() if k not in ("name", "description")})
    assert put["budget"] == "5.50" and put["description_en"] == "Changed"
    errors = root.post("programmes/", {"code": "BAD"}, expect=400)
    assert "name_en" in errors and "start_date" in errors


def test_twinning_write_with_municipality_ids(contract):
    m3 = org(contract.root, "municipality", "Third")
    created = contract.root.post(
        "twinnings/", {"programme": contract.p, "municipalities": [contract.m1, m3], "name_en": "Second"}
    )
    assert sorted(created["municipalities"]) == sorted([contract.m1, m3])
    patched = contract.root.patch(f"twinnings/{created['id']}/", {"municipalities": [contract.m2, m3]})
    assert sorted(patched["municipalities"]) == sorted([contract.m2, m3])
    contract.root.delete(f"twinnings/{created['id']}/")


def test_alignment_needs_exactly_one_of_national_target_and_funder_goal(contract):
    both = {"indicator": contract.zero, "national_target": contract.nt2, "funder_goal": contract.g2}
    assert contract.root.post("alignments/", both, expect=400)
    assert contract.root.post("alignments/", {"indicator": contract.zero}, expect=400)
    one = contract.root.post("alignments/", {"indicator": contract.zero, "national_target": contract.nt2})
    assert one["funder_goal"] is None and Decimal(one["weight"]) == 1
    contract.root.delete(f"alignments/{one['id']}/")


def test_result_disaggregation_and_percentage_input(contract):
    root = contract.root
    result = root.post("results/", {"indicator": contract.sum, "municipality": contract.m2, "period_start": Q3[0],
                                    "period_end": Q3[1], "disaggregation": {"sex": "male"}, "value": "4"})  # fmt: skip
    assert result["disaggregation"] == {"sex": "male"} and result["status"] == "draft" and result["version"] >= 1
    bad = root.post("results/", {"indicator": contract.sum, "municipality": contract.m2, "period_start": Q3[0],
                                 "period_end": Q3[1], "disaggregation": {"sex": "other"}, "value": "4"},
                    expect=400)  # fmt: skip
    assert "disaggregation" in bad
    bad = root.post("results/", {"indicator": contract.sum, "municipality": contract.m2, "period_start": Q3[0],
                                 "period_end": Q3[1], "disaggregation": {"age": "youth"}, "value": "4"},
                    expect=400)  # fmt: skip  # the indicator has no age disaggregation
    assert "disaggregation" in bad
    bad = root.post("results/", {"indicator": contract.sum, "municipality": contract.m2, "period_start": "2025-07-02",
                                 "period_end": Q3[1], "value": "4"}, expect=400)  # fmt: skip
    assert "period_start" in bad or "period_end" in bad or "non_field_errors" in bad
    pct = root.post("results/", {"indicator": contract.pct, "municipality": contract.m2, "period_start": Q3[0],
                                 "period_end": Q3[1], "numerator": "3", "denominator": "4"})  # fmt: skip
    assert Decimal(pct["numerator"]) == 3 and Decimal(pct["denominator"]) == 4


def test_result_transitions(contract):
    root = contract.root
    result = root.post("results/", {"indicator": contract.zero, "municipality": contract.m2, "period_start": Q4[0],
                                    "period_end": Q4[1], "value": "1"})  # fmt: skip
    rid = result["id"]
    assert root.post(f"results/{rid}/submit/", {}, expect=200)["status"] == "submitted"
    returned = root.post(f"results/{rid}/return/", {"comment": "Check the register"}, expect=200)
    assert returned["status"] == "returned" and returned["comment"] == "Check the register"
    assert root.post(f"results/{rid}/submit/", {}, expect=200)["status"] == "submitted"
    assert root.post(f"results/{rid}/approve/", {}, expect=200)["status"] == "approved"
    assert root.post(f"results/{rid}/reopen/", {}, expect=200)["status"] == "draft"


def test_bulk_results_all_or_none_with_row_errors(contract):
    rows = [
        {"indicator": contract.zero, "municipality": contract.m1, "period_start": Q4[0], "period_end": Q4[1],
         "value": "1"},
        {"indicator": contract.zero, "municipality": contract.m2, "period_start": "2025-10-02", "period_end": Q4[1],
         "value": "1"},
    ]  # fmt: skip
    before = contract.root.json("results/", {"indicator": contract.zero})["count"]
    errors = contract.root.post("results/", rows, expect=400)
    assert isinstance(errors, list) and errors and set(errors[0]) == {"row", "field", "message"}
    assert [e["row"] for e in errors] == [1]
    assert contract.root.json("results/", {"indicator": contract.zero})["count"] == before  # none created
    rows[1]["period_start"] = Q4[0]
    created = contract.root.post("results/", rows)
    assert len(created) == 2 and all(r["status"] == "draft" for r in created)


def test_creating_approved_results_is_for_superusers(contract):
    editor, approver = make_user("m1_editor"), make_user("m1_approver")
    contract.root.post("memberships/", {"user": "m1_editor", "organisation": contract.m1, "role": "editor"})
    contract.root.post("memberships/", {"user": "m1_approver", "organisation": contract.m1, "role": "approver"})
    body = {"indicator": contract.nodata, "municipality": contract.m1, "period_start": Q2[0], "period_end": Q2[1],
            "value": "3", "status": "approved"}  # fmt: skip
    Client(editor).post("results/", body, expect=403)
    Client(approver).post("results/", body, expect=403)
    assert contract.root.post("results/", body)["status"] == "approved"  # superuser: importing verified data


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("programmes/", {"code": "X", "name_en": "X", "start_date": "2025-12-31", "end_date": "2025-01-01"}),
        ("programmes/", {"code": "X", "name_en": "X", "start_date": "2025-01-01", "end_date": "2025-12-31",
                         "donors": [999999]}),
        ("programmes/", {"code": "P", "name_en": "dup", "start_date": "2025-01-01", "end_date": "2025-12-31"}),
        ("indicators/", {"programme": 999999, "code": "X", "name_en": "X"}),
        ("targets/", {"indicator": 999999, "period_start": Q1[0], "period_end": Q1[1], "value": "x"}),
        ("results/", {"indicator": "x"}),
        ("results/", [{"indicator": "x"}]),
        ("results/", []),
        ("national-targets/", {"code": "NT1", "title_en": "duplicate code"}),
        ("national-targets/", {"code": "N", "title_en": "N", "sdg_targets": "11.3"}),
        ("funder-goals/", {"donor": 999999, "code": "X", "title_en": "X"}),
        ("organisations/", {"kind": "alien", "name_en": "X", "country": "LY"}),
        ("memberships/", {"user": "nobody", "organisation": 999999, "role": "king"}),
    ],
)  # fmt: skip
def test_bad_writes_are_400_with_field_messages(contract, path, body):
    errors = contract.root.post(path, body, expect=400)
    assert errors, (path, errors)


# --- auth, docs, visibility -----------------------------------------------------------------------


def test_anonymous_is_401(contract):
    anonymous = Client()
    for path in ("programmes/", "rollups/", "reports/iptt/?programme=1", "reports/alignment/", "exports/iati/"):
        response = anonymous.api.get(API + path)
        assert response.status_code == 401, path


def test_token_from_drf_create_token_and_session(contract):
    out = io.StringIO()
    call_command("drf_create_token", "root", stdout=out)
    (key,) = re.findall(r"\b[0-9a-f]{40}\b", out.getvalue())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(API + "programmes/").status_code == 200
    session = APIClient()
    assert session.login(username="root", password="pw")
    assert session.get(API + "programmes/").status_code == 200


def test_schema_and_docs(contract):
    schema = contract.root.get("schema/")
    assert b"openapi: 3" in schema.content
    assert contract.root.get("schema/", {"format": "json"}).json()["openapi"].startswith("3.")
    assert contract.root.get("docs/")["Content-Type"].startswith("text/html")


def test_outside_objects_are_404_and_absent(contract):
    viewer = make_user("d2_viewer")
    contract.root.post("memberships/", {"user": "d2_viewer", "organisation": contract.d2, "role": "viewer"})
    client = Client(viewer)
    assert contract.p not in [p["id"] for p in client.json("programmes/")["results"]]
    client.get(f"programmes/{contract.p}/", expect=404)
    client.get(f"indicators/{contract.sum}/", expect=404)
    client.get(f"funder-goals/{contract.g}/", expect=404)
    client.get("reports/iptt/", {"programme": contract.p}, expect=404)
    client.get("exports/iati/", {"programme": contract.p}, expect=404)
    filters = [("indicators/", "programme"), ("results/", "programme"), ("rollups/", "programme")]
    filters += [("targets/", "indicator"), ("alignments/", "indicator"), ("results/", "indicator")]
    for path, param in filters:
        value = contract.p if param == "programme" else contract.sum
        assert client.json(path, {param: value})["count"] == 0, path
    assert client.json("results/", {"programme": contract.p2})["count"] == 1
    assert client.json("national-targets/")["count"] == 2 and client.json("themes/")["count"] == 1


def test_fields_the_contract_names_without_a_language_are_writable(contract):
    """`unit`, `definition` (indicators), `lessons_learned` (activities), `region` (organisations)
    are listed as plain fields: writing them sets the request language's column."""
    created = contract.root.post(
        "indicators/",
        {"programme": contract.p, "code": "U", "name": "Plain name", "unit": "people", "definition": "Counted"},
    )
    assert created["name_en"] == "Plain name" and created["unit"] == "people" and created["definition"] == "Counted"
    patched = contract.root.api.patch(
        f"{API}indicators/{created['id']}/", {"unit": "أشخاص"}, format="json", HTTP_ACCEPT_LANGUAGE="ar"
    ).json()
    assert patched["unit_ar"] == "أشخاص" and patched["unit_en"] == "people"
    activity = contract.root.post(
        "activities/",
        {"workstream": contract.workstream, "kind": "training", "title_en": "T", "lessons_learned": "Start early",
         "start_date": "2025-02-01", "end_date": "2025-02-01"},
    )  # fmt: skip
    assert activity["lessons_learned"] == "Start early"
    region = contract.root.patch(f"organisations/{contract.m1}/", {"region": "Nalut"})
    assert region["region"] == "Nalut" and region["region_en"] == "Nalut"
