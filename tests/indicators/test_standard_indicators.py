"""The ministry's standard indicators, and copies of an indicator into a programme: the same national
measure counted the same way everywhere (indicators.services), and read through the API."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from indicators import services
from indicators.models import Indicator, StandardIndicator
from partners.models import Membership
from tests import factories as f
from tests.roles import disaggregation_categories

pytestmark = pytest.mark.django_db

# Every field a standard indicator keeps, as the set-up page would send them.
EVERY_FIELD = {
    "code": "NAT-1.1",
    "name_en": "Households connected to clean water",
    "name_ar": "الأسر الموصولة بمياه نظيفة",
    "definition_en": "Households with a metered connection.",
    "definition_ar": "الأسر التي لديها توصيل بعداد.",
    "level": StandardIndicator.Level.OUTCOME,
    "unit_en": "households",
    "unit_ar": "أسر",
    "measure": StandardIndicator.Measure.NUMBER,
    "time_aggregation": StandardIndicator.TimeAggregation.CUMULATIVE,
    "direction": StandardIndicator.Direction.INCREASE,
    "frequency": StandardIndicator.Frequency.SEMIANNUAL,
    "value_min": Decimal("0"),
    "value_max": Decimal("50000"),
    "whole_numbers": True,
    "data_source_en": "Water utility billing records",
    "data_source_ar": "سجلات فواتير مرفق المياه",
    "collection_method_en": "Quarterly extract",
    "collection_method_ar": "استخراج ربع سنوي",
    "responsible_en": "Municipal M&E officer",
    "responsible_ar": "مسؤول المتابعة والتقييم في البلدية",
    "known_limitations_en": "Informal connections are not counted.",
    "known_limitations_ar": "لا تُحتسب التوصيلات غير الرسمية.",
}
DEFINITION = [name for name in EVERY_FIELD if name != "code"]


def make_standard(**changes) -> StandardIndicator:
    disaggregation_categories()
    return services.standard_indicator_create(**{**EVERY_FIELD, **changes}, disaggregations=["sex", "disability"])


def test_a_standard_indicator_keeps_every_definition_field_and_its_history():
    standard = make_standard()

    standard.refresh_from_db()
    assert {name: getattr(standard, name) for name in EVERY_FIELD} == EVERY_FIELD
    assert sorted(c.code for c in standard.disaggregations.all()) == ["disability", "sex"]
    services.standard_indicator_update(standard_indicator=standard, name_ar="الأسر الموصولة بشبكة المياه")
    newest, oldest = standard.history.order_by("-history_id")
    assert (oldest.history_type, oldest.name_ar) == ("+", "الأسر الموصولة بمياه نظيفة")
    assert (newest.history_type, newest.name_ar) == ("~", "الأسر الموصولة بشبكة المياه")


def test_one_language_is_enough_and_none_is_refused():
    standard = services.standard_indicator_create(code="AR-ONLY", name_ar="عدد الموظفين المدربين")
    assert standard.name_en in ("", None) and standard.name_ar == "عدد الموظفين المدربين"
    with pytest.raises(ValidationError) as raised:
        services.standard_indicator_create(code="NO-NAME")
    assert set(raised.value.message_dict) >= {"name_en", "name_ar"}
    assert not StandardIndicator.objects.filter(code="NO-NAME").exists()


def test_a_code_is_used_once_and_bounds_stay_in_order():
    make_standard()
    with pytest.raises(ValidationError) as raised:
        services.standard_indicator_create(code="NAT-1.1", name_en="Again")
    assert raised.value.message_dict["code"] == ["The standard list already has an indicator with this code."]
    with pytest.raises(ValidationError) as raised:
        services.standard_indicator_create(
            code="NAT-2", name_en="Bounds", value_min=Decimal("10"), value_max=Decimal("5")
        )
    assert "value_min" in raised.value.message_dict
    assert StandardIndicator.objects.count() == 1


def test_a_programme_copies_a_standard_and_keeps_the_link():
    standard = make_standard()
    programme = f.ProgrammeFactory()

    copy = services.indicator_copy(source=standard, programme=programme, code="W-1", user=None)

    copy.refresh_from_db()
    assert copy.programme == programme and copy.code == "W-1" and copy.standard == standard
    assert {name: getattr(copy, name) for name in DEFINITION} == {name: EVERY_FIELD[name] for name in DEFINITION}
    assert sorted(c.code for c in copy.disaggregations.all()) == ["disability", "sex"]
    assert list(standard.indicators.all()) == [copy]


def test_a_copy_from_another_programme_takes_the_definition_not_the_programme_s_own_data():
    standard = make_standard()
    source_programme = f.ProgrammeFactory()
    source = services.indicator_copy(source=standard, programme=source_programme, code="SRC", user=None)
    workstream = f.WorkstreamFactory(programme=source_programme)
    services.indicator_update(
        indicator=source,
        workstream=workstream,
        baseline_value=Decimal("120"),
        baseline_date=datetime.date(2024, 12, 31),
        lop_target=Decimal("900"),
        definition_en="Households with a metered connection, counted at year end.",
    )
    f.TargetFactory(indicator=source, period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 6, 30))
    f.AlignmentFactory(indicator=source)
    f.ResultFactory(indicator=source, period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 6, 30))
    programme = f.ProgrammeFactory()

    copy = services.indicator_copy(source=source, programme=programme, code="SRC", user=None)

    source.refresh_from_db()
    assert {name: getattr(copy, name) for name in DEFINITION} == {name: getattr(source, name) for name in DEFINITION}
    assert copy.definition_en == "Households with a metered connection, counted at year end."
    assert copy.standard_id == standard.pk  # the standard the source follows
    assert (copy.workstream, copy.baseline_value, copy.baseline_date, copy.lop_target) == (None, None, None, None)
    assert (copy.targets.count(), copy.results.count(), copy.alignments.count()) == (0, 0, 0)
    assert sorted(c.code for c in copy.disaggregations.all()) == ["disability", "sex"]


def test_a_copy_asks_for_a_new_code_when_the_code_is_taken():
    standard = make_standard()
    programme = f.ProgrammeFactory()
    f.IndicatorFactory(programme=programme, code="NAT-1.1")

    with pytest.raises(ValidationError) as raised:
        services.indicator_copy(source=standard, programme=programme, code="NAT-1.1", user=None)

    assert "Choose a new code" in " ".join(raised.value.message_dict["code"])
    assert programme.indicators.count() == 1


def test_a_copy_checks_who_asks():
    disaggregation_categories()
    seen = f.IndicatorFactory()
    unseen = f.IndicatorFactory()
    implementer = f.ImplementerFactory()
    programme = f.ProgrammeFactory(implementer=implementer, donors=[f.DonorFactory()])
    seen.programme.implementer = implementer
    seen.programme.save()
    editor = f.UserFactory()
    f.MembershipFactory(user=editor, organisation=implementer, role=Membership.Role.EDITOR)
    viewer = f.UserFactory()
    f.MembershipFactory(user=viewer, organisation=implementer, role=Membership.Role.VIEWER)

    with pytest.raises(ValidationError) as raised:
        services.indicator_copy(source=unseen, programme=programme, code="X", user=editor)
    assert raised.value.message_dict == {"source": ["Unknown indicator."]}
    with pytest.raises(services.IndicatorCopyRefused):
        services.indicator_copy(source=seen, programme=programme, code="X", user=viewer)
    copy = services.indicator_copy(source=seen, programme=programme, code="X", user=editor)
    assert copy.history.get().history_user == editor


def test_a_standard_that_programmes_follow_is_not_deleted():
    standard = make_standard()
    copy = services.indicator_copy(source=standard, programme=f.ProgrammeFactory(), code="W-1", user=None)

    assert services.standard_indicator_delete_refusal(standard) is not None
    with pytest.raises(ValidationError):
        services.standard_indicator_delete(standard_indicator=standard)
    assert StandardIndicator.objects.filter(pk=standard.pk).exists()

    services.indicator_delete(indicator=copy)
    services.standard_indicator_delete(standard_indicator=standard)
    assert not StandardIndicator.objects.filter(pk=standard.pk).exists()


# The API: read-only, for every signed-in user -------------------------------------------------


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_api_lists_standard_indicators_read_only():
    standard = make_standard()
    municipality_member = f.MembershipFactory(organisation=f.MunicipalityFactory()).user
    client = api_client(municipality_member)

    listed = client.get("/api/v1/standard-indicators/", HTTP_ACCEPT_LANGUAGE="ar")
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["id"] == standard.pk and row["code"] == "NAT-1.1"
    assert row["name"] == "الأسر الموصولة بمياه نظيفة" and row["name_en"] == EVERY_FIELD["name_en"]
    assert row["disaggregations"] == ["disability", "sex"]
    assert (row["value_min"], row["value_max"], row["whole_numbers"]) == ("0.000000", "50000.000000", True)
    assert client.get(f"/api/v1/standard-indicators/{standard.pk}/").json()["code"] == "NAT-1.1"

    assert client.post("/api/v1/standard-indicators/", {"code": "X", "name_en": "X"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/standard-indicators/{standard.pk}/").status_code == 405
    assert api_client().get("/api/v1/standard-indicators/").status_code in (401, 403)


def test_an_indicator_says_which_standard_it_follows_and_the_api_cannot_change_it():
    standard = make_standard()
    implementer = f.ImplementerFactory()
    programme = f.ProgrammeFactory(implementer=implementer)
    editor = f.UserFactory()
    f.MembershipFactory(user=editor, organisation=implementer, role=Membership.Role.EDITOR)
    copy = services.indicator_copy(source=standard, programme=programme, code="W-1", user=editor)
    other = f.StandardIndicatorFactory()
    client = api_client(editor)

    body = client.get(f"/api/v1/indicators/{copy.pk}/").json()
    assert body["standard"] == standard.pk
    assert {"programme", "code", "measure", "value_min", "value_max", "whole_numbers", "disaggregations"} <= set(body)

    response = client.patch(f"/api/v1/indicators/{copy.pk}/", {"standard": other.pk, "unit_en": "homes"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["standard"] == standard.pk
    created = client.post(
        "/api/v1/indicators/", {"programme": programme.pk, "code": "NEW", "name_en": "New"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["standard"] is None
    assert Indicator.objects.get(pk=created.json()["id"]).standard is None


def test_the_standard_list_costs_the_same_for_one_and_for_thirty():
    categories = list(disaggregation_categories().values())
    client = api_client(f.MembershipFactory(organisation=f.DonorFactory()).user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/standard-indicators/", {"page_size": 50})
        assert response.status_code == 200
        return len(captured)

    f.StandardIndicatorFactory().disaggregations.set(categories)
    one = queries()
    for _n in range(29):
        f.StandardIndicatorFactory().disaggregations.set(categories)
    assert queries() == one
