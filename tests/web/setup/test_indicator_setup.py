"""Indicator set-up pages: a programme's editors define its indicators (every field of
docs/design.md §3) or copy them from another programme or the ministry's standard list; ministry
editors keep that list. Bad input is answered next to the field with nothing written; who may see
and change what follows docs/design.md §7."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators import services
from indicators.models import DisaggregationCategory, Indicator, StandardIndicator
from partners.models import Membership
from tests import factories as f
from tests.roles import SIGNED_IN

pytestmark = pytest.mark.django_db

EVERY_FIELD = {
    "code": "W-2.1",
    "name_en": "Households connected to clean water",
    "name_ar": "الأسر الموصولة بمياه نظيفة",
    "definition_en": "Households with a metered connection.",
    "definition_ar": "الأسر التي لديها توصيل بعداد.",
    "level": "outcome",
    "unit_en": "households",
    "unit_ar": "أسر",
    "measure": "number",
    "time_aggregation": "cumulative",
    "direction": "increase",
    "frequency": "semiannual",
    "baseline_value": "120",
    "baseline_date": "2024-12-31",
    "lop_target": "900",
    "value_min": "0",
    "value_max": "50000",
    "data_source_en": "Water utility billing records",
    "data_source_ar": "سجلات فواتير مرفق المياه",
    "collection_method_en": "Semi-annual extract",
    "collection_method_ar": "استخراج نصف سنوي",
    "responsible_en": "Municipal M&E officer",
    "responsible_ar": "مسؤول المتابعة والتقييم في البلدية",
    "known_limitations_en": "Informal connections are not counted.",
    "known_limitations_ar": "لا تُحتسب التوصيلات غير الرسمية.",
}
STANDARD_FIELDS = {k: v for k, v in EVERY_FIELD.items() if k not in ("baseline_value", "baseline_date", "lop_target")}


def field_errors(response, name: str) -> list[str]:
    """The messages shown next to a field (`templates/web/includes/field.html`)."""
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', response.content.decode())
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", found.group(1))] if found else []


def post_data(world, **changes) -> dict:
    data = {
        **EVERY_FIELD,
        "workstream": world.workstreams["p1"].pk,
        "whole_numbers": "on",
        "disaggregations": [c.pk for c in DisaggregationCategory.objects.filter(code__in=["sex", "age"])],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def ministry_editor(world):
    user = f.UserFactory(username="ministry_editor")
    f.MembershipFactory(user=user, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Indicators of a programme: create, edit, delete --------------------------------------------------


def test_an_editor_creates_an_indicator_with_every_field_in_arabic(world, client_for):
    client = client_for("implementer_editor")
    programme = world.programmes["p1"]
    with translation.override("ar"):
        url = reverse("setup_indicator_create", args=[programme.pk])
        page = client.get(url)
        response = client.post(url, post_data(world))
    assert page.status_code == 200
    assert 'lang="ar" dir="rtl"' in page.content.decode() and "الصحيفة المرجعية للمؤشر (PIRS)" in page.content.decode()
    assert response.status_code == 302, field_errors(response, "code")
    indicator = Indicator.objects.get(programme=programme, code="W-2.1")
    texts = {name: value for name, value in EVERY_FIELD.items() if name.endswith(("_en", "_ar")) or name == "code"}
    assert {name: getattr(indicator, name) for name in texts} == texts
    assert (indicator.measure, indicator.time_aggregation, indicator.frequency, indicator.level) == (
        "number",
        "cumulative",
        "semiannual",
        "outcome",
    )
    assert (indicator.baseline_value, indicator.lop_target, indicator.value_max) == (
        Decimal("120"),
        Decimal("900"),
        Decimal("50000"),
    )
    assert indicator.baseline_date == datetime.date(2024, 12, 31) and indicator.whole_numbers is True
    assert indicator.workstream == world.workstreams["p1"]
    assert sorted(c.code for c in indicator.disaggregations.all()) == ["age", "sex"]
    assert indicator.history.get().history_user == world.users["implementer_editor"]


def test_an_indicator_named_in_arabic_only_is_saved(world, client_for):
    data = post_data(world, code="AR-1", name_en="", definition_en="", unit_en="")
    response = client_for("implementer_editor").post(
        reverse("setup_indicator_create", args=[world.programmes["p1"].pk]), data
    )
    assert response.status_code == 302
    indicator = Indicator.objects.get(code="AR-1")
    assert indicator.name_ar == EVERY_FIELD["name_ar"] and not indicator.name_en


def test_an_indicator_without_a_name_is_refused_next_to_the_name(world, client_for):
    response = client_for("implementer_editor").post(
        reverse("setup_indicator_create", args=[world.programmes["p1"].pk]),
        post_data(world, code="NONAME", name_en="", name_ar=""),
    )
    assert response.status_code == 400
    assert field_errors(response, "name_en") == ["Enter the name in English or in Arabic."]
    assert not Indicator.objects.filter(code="NONAME").exists()


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"value_min": "10", "value_max": "5"}, "value_min", "The highest plausible value cannot be below the lowest."),
        ({"code": "P1-1"}, "code", "This programme already has an indicator with this code."),
        ("other workstream", "workstream", "Choose a workstream of this programme."),
        ({"baseline_value": "1.1234567"}, "baseline_value", "decimal places"),
        ({"code": "W 2"}, "code", "Use only letters, digits"),
        ({"measure": "average"}, "measure", "Select a valid choice"),
    ],
)
def test_bad_input_is_answered_next_to_the_field_and_nothing_is_written(world, client_for, changes, field, expected):
    if changes == "other workstream":
        changes = {"workstream": world.workstreams["p2"].pk}
    before = Indicator.objects.count()
    response = client_for("implementer_editor").post(
        reverse("setup_indicator_create", args=[world.programmes["p1"].pk]), post_data(world, **changes)
    )
    assert response.status_code == 400
    assert any(expected in message for message in field_errors(response, field)), field_errors(response, field)
    assert "nothing was saved" in response.content.decode()
    assert Indicator.objects.count() == before
    # What was typed is kept.
    assert EVERY_FIELD["name_ar"] in response.content.decode()


def test_an_editor_changes_every_field_and_the_history_says_who(world, client_for):
    indicator = world.indicators["p1"]
    client = client_for("implementer_editor")
    url = reverse("setup_indicator_edit", args=[indicator.pk])
    # Targets exist in quarters, so the frequency stays; results exist for `sex`, so it stays.
    response = client.post(url, post_data(world, code="P1-1", frequency="quarterly"))
    assert response.status_code == 302, response.content.decode()[:2000]
    indicator.refresh_from_db()
    assert (indicator.name_en, indicator.unit_ar, indicator.lop_target) == (
        EVERY_FIELD["name_en"],
        "أسر",
        Decimal("900"),
    )
    assert indicator.data_source_ar == EVERY_FIELD["data_source_ar"] and indicator.whole_numbers
    page = client.get(url)
    assert 'name="lop_target" value="900"' in page.content.decode()  # as typed, not "900.000000"
    history = page.content.decode().split('id="history"')[1]
    assert "Implementer 1" in history  # named by their organisation
    assert "Lowest plausible value" in history or "lowest plausible value" in history.lower()


def test_a_refusal_of_the_service_is_shown_next_to_the_field(world, client_for):
    indicator = world.indicators["p1"]
    response = client_for("implementer_editor").post(
        reverse("setup_indicator_edit", args=[indicator.pk]), post_data(world, code="P1-1", frequency="annual")
    )
    assert response.status_code == 400
    assert "cannot change while the indicator has targets or results" in " ".join(field_errors(response, "frequency"))
    indicator.refresh_from_db()
    assert indicator.frequency == "quarterly" and indicator.name_en != EVERY_FIELD["name_en"]


def test_those_who_see_but_do_not_edit_read_the_indicator(world, client_for):
    indicator = world.indicators["p1"]
    client = client_for("ministry_viewer")
    url = reverse("setup_indicator_edit", args=[indicator.pk])
    page = client.get(url)
    content = page.content.decode()
    assert page.status_code == 200
    assert 'name="code"' in content and "disabled" in content and "Save the indicator" not in content
    assert client.post(url, post_data(world, code="P1-1")).status_code == 403
    indicator.refresh_from_db()
    assert indicator.name_en != EVERY_FIELD["name_en"]


def test_an_indicator_without_results_is_deleted_one_with_results_is_not(world, client_for):
    client = client_for("implementer_editor")
    spare = f.IndicatorFactory(programme=world.programmes["p1"], code="SPARE")
    f.TargetFactory(indicator=spare)
    assert client.get(reverse("setup_indicator_delete", args=[spare.pk])).status_code == 200
    response = client.post(reverse("setup_indicator_delete", args=[spare.pk]))
    assert response.status_code == 302
    assert not Indicator.objects.filter(pk=spare.pk).exists()

    with_results = world.indicators["p1"]
    page = client.get(reverse("setup_indicator_delete", args=[with_results.pk]))
    assert "This indicator has 3 results" in page.content.decode() and 'id="delete-form"' not in page.content.decode()
    assert client.post(reverse("setup_indicator_delete", args=[with_results.pk])).status_code == 409
    assert Indicator.objects.filter(pk=with_results.pk).exists()


# Copies ---------------------------------------------------------------------------------------------


def test_copy_from_another_programme_of_the_editor(world, client_for):
    source_programme = f.ProgrammeFactory(implementer=world.orgs["implementer"])
    source = f.IndicatorFactory(
        programme=source_programme,
        code="SRC-1",
        definition_en="How it is counted",
        data_source_ar="سجلات البلدية",
        measure="percentage",
        time_aggregation="latest",
        value_max=Decimal("80"),
        whole_numbers=True,
        lop_target=Decimal("70"),
    )
    source.disaggregations.set(DisaggregationCategory.objects.filter(code="sex"))
    f.TargetFactory(indicator=source)
    client = client_for("implementer_editor")
    url = reverse("setup_indicator_copy_programme", args=[world.programmes["p1"].pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "SRC-1" in page.content.decode()
    assert "P2-1" not in page.content.decode()  # a programme the editor does not see
    response = client.post(url, {"source": source.pk, "code": "SRC-1"})

    copy = Indicator.objects.get(programme=world.programmes["p1"], code="SRC-1")
    assert response.status_code == 302 and response["Location"] == reverse("setup_indicator_edit", args=[copy.pk])
    assert (copy.definition_en, copy.data_source_ar, copy.measure, copy.time_aggregation) == (
        "How it is counted",
        "سجلات البلدية",
        "percentage",
        "latest",
    )
    assert (copy.value_max, copy.whole_numbers, copy.lop_target, copy.targets.count()) == (Decimal("80"), True, None, 0)
    assert [c.code for c in copy.disaggregations.all()] == ["sex"]


def test_copy_of_an_unseen_indicator_is_refused(world, client_for):
    response = client_for("implementer_editor").post(
        reverse("setup_indicator_copy_programme", args=[world.programmes["p1"].pk]),
        {"source": world.indicators["p2"].pk, "code": "STOLEN"},
    )
    assert response.status_code == 400
    assert field_errors(response, "source")
    assert not Indicator.objects.filter(code="STOLEN").exists()


def test_copy_from_the_standard_list_keeps_the_link_and_asks_for_a_new_code(world, client_for):
    standard = services.standard_indicator_create(
        **{k: Decimal(v) if k.startswith("value_") else v for k, v in STANDARD_FIELDS.items()},
        whole_numbers=True,
        disaggregations=["sex", "disability"],
    )
    f.IndicatorFactory(programme=world.programmes["p1"], code="W-2.1")
    client = client_for("implementer_editor")
    url = reverse("setup_indicator_copy_standard", args=[world.programmes["p1"].pk])

    page = client.get(url, {"source": standard.pk})
    assert 'value="W-2.1"' in page.content.decode()  # the standard's code, offered
    taken = client.post(url, {"source": standard.pk, "code": "W-2.1"})
    assert taken.status_code == 400
    assert "Choose a new code for the copy" in " ".join(field_errors(taken, "code"))
    assert Indicator.objects.filter(code="W-2.1").count() == 1

    response = client.post(url, {"source": standard.pk, "code": "W-2.1b"})
    copy = Indicator.objects.get(code="W-2.1b")
    assert response.status_code == 302 and copy.standard == standard
    assert {name: getattr(copy, name) for name in services.COPIED_FIELDS} == {
        name: getattr(standard, name) for name in services.COPIED_FIELDS
    }
    assert copy.name_ar == EVERY_FIELD["name_ar"] and copy.value_max == Decimal("50000")
    assert sorted(c.code for c in copy.disaggregations.all()) == ["disability", "sex"]
    edit = client.get(reverse("setup_indicator_edit", args=[copy.pk])).content.decode()
    assert 'id="standard-link"' in edit and reverse("setup_standard_indicator_edit", args=[standard.pk]) in edit
    assert 'id="standard-differences"' not in edit

    services.indicator_update(indicator=copy, measure="score")
    edit = client.get(reverse("setup_indicator_edit", args=[copy.pk])).content.decode()
    assert 'id="standard-differences"' in edit


# The ministry's standard list --------------------------------------------------------------------


def test_a_ministry_editor_keeps_the_standard_list(world, ministry_editor):
    client = signed_in(ministry_editor)
    data = {**STANDARD_FIELDS, "whole_numbers": "on"}
    data["disaggregations"] = [c.pk for c in DisaggregationCategory.objects.filter(code="sex")]
    with translation.override("ar"):
        response = client.post(reverse("setup_standard_indicator_create"), data)
    assert response.status_code == 302
    standard = StandardIndicator.objects.get(code="W-2.1")
    assert standard.name_ar == EVERY_FIELD["name_ar"] and standard.value_max == Decimal("50000")
    assert standard.history.get().history_user == ministry_editor

    duplicate = client.post(reverse("setup_standard_indicator_create"), data)
    assert duplicate.status_code == 400
    assert field_errors(duplicate, "code") == ["The standard list already has an indicator with this code."]

    arabic_only = {**data, "code": "AR-ONLY", "name_en": ""}
    assert client.post(reverse("setup_standard_indicator_create"), arabic_only).status_code == 302

    edit_url = reverse("setup_standard_indicator_edit", args=[standard.pk])
    assert client.post(edit_url, {**data, "unit_en": "homes"}).status_code == 302
    standard.refresh_from_db()
    assert standard.unit_en == "homes"
    assert "homes" in client.get(edit_url).content.decode().split('id="history"')[1]

    services.indicator_copy(source=standard, programme=world.programmes["p1"], code="COPY", user=None)
    page = client.get(reverse("setup_standard_indicator_delete", args=[standard.pk]))
    assert "still follows it" in page.content.decode()
    assert client.post(reverse("setup_standard_indicator_delete", args=[standard.pk])).status_code == 409
    spare = StandardIndicator.objects.get(code="AR-ONLY")
    assert client.post(reverse("setup_standard_indicator_delete", args=[spare.pk])).status_code == 302
    assert not StandardIndicator.objects.filter(pk=spare.pk).exists()


def test_the_standard_list_refuses_bounds_out_of_order(world, ministry_editor):
    response = signed_in(ministry_editor).post(
        reverse("setup_standard_indicator_create"), {**STANDARD_FIELDS, "value_min": "9", "value_max": "1"}
    )
    assert response.status_code == 400
    assert field_errors(response, "value_min") == ["The highest plausible value cannot be below the lowest."]
    assert not StandardIndicator.objects.exists()


# Who may do what: every role × every page ------------------------------------------------------------

SEES_P1 = {
    "ministry_editor",
    "ministry_viewer",
    "ministry_approver",
    "donor_a_viewer",
    "implementer_editor",
    "municipality_x_editor",
    "municipality_y_editor",
    "superuser",
}
EDITS_P1 = {"implementer_editor", "superuser"}
# Roles are ranked (viewer < editor < approver < admin): a ministry approver edits too.
EDITS_STANDARDS = {"ministry_editor", "ministry_approver", "superuser"}


def expected(role, *, sees: bool, may: bool, read_only_ok: bool = False) -> int:
    if role is None:
        return 302
    if not sees:
        return 404
    if may or read_only_ok:
        return 200
    return 403


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("role", [None, *SIGNED_IN, "ministry_editor"])
def test_access_matrix(world, role, ministry_editor, language):
    translation.activate(language)  # the URLs below are the pages in that language
    standard = f.StandardIndicatorFactory()
    client = Client()
    if role == "ministry_editor":
        client.force_login(ministry_editor)
    elif role is not None:
        client.force_login(world.users[role])
    p1, indicator = world.programmes["p1"], world.indicators["p1"]
    sees, edits = role in SEES_P1, role in EDITS_P1
    pages = {
        reverse("setup_indicator_list", args=[p1.pk]): expected(role, sees=sees, may=edits, read_only_ok=True),
        reverse("setup_indicator_create", args=[p1.pk]): expected(role, sees=sees, may=edits),
        reverse("setup_indicator_edit", args=[indicator.pk]): expected(role, sees=sees, may=edits, read_only_ok=True),
        reverse("setup_indicator_delete", args=[indicator.pk]): expected(role, sees=sees, may=edits),
        reverse("setup_indicator_copy_programme", args=[p1.pk]): expected(role, sees=sees, may=edits),
        reverse("setup_indicator_copy_standard", args=[p1.pk]): expected(role, sees=sees, may=edits),
        reverse("setup_standard_indicator_list"): expected(role, sees=True, may=True),
        reverse("setup_standard_indicator_create"): expected(role, sees=True, may=role in EDITS_STANDARDS),
        reverse("setup_standard_indicator_edit", args=[standard.pk]): expected(role, sees=True, may=True),
        reverse("setup_standard_indicator_delete", args=[standard.pk]): expected(
            role, sees=True, may=role in EDITS_STANDARDS
        ),
    }
    got = {url: client.get(url).status_code for url in pages}
    assert got == pages
    # Writes: refused (403) to those who see but may not write, 404 to those who do not see.
    if role is not None and not edits:
        before = Indicator.objects.count()
        status = client.post(reverse("setup_indicator_edit", args=[indicator.pk]), post_data(world)).status_code
        assert status == (403 if sees else 404)
        status = client.post(reverse("setup_indicator_create", args=[p1.pk]), post_data(world)).status_code
        assert status == (403 if sees else 404)
        status = client.post(
            reverse("setup_indicator_copy_standard", args=[p1.pk]), {"source": standard.pk, "code": "C"}
        ).status_code
        assert status == (403 if sees else 404)
        assert Indicator.objects.count() == before
    if role is not None and role not in EDITS_STANDARDS:
        url = reverse("setup_standard_indicator_edit", args=[standard.pk])
        assert client.post(url, {**STANDARD_FIELDS, "code": standard.code}).status_code == 403
        assert client.post(reverse("setup_standard_indicator_delete", args=[standard.pk])).status_code == 403
        assert StandardIndicator.objects.filter(pk=standard.pk, name_en=standard.name_en).exists()


# Query counts: the same for the roles world and for ten times as much ------------------------------


def grow(world, times: int) -> None:
    programme = world.programmes["p1"]
    categories = list(DisaggregationCategory.objects.all())
    for n in range(times):
        standard = f.StandardIndicatorFactory()
        standard.disaggregations.set(categories)
        copy = services.indicator_copy(source=standard, programme=programme, code=f"G-{n}", user=None)
        services.indicator_update(indicator=copy, workstream=world.workstreams["p1"], unit_en=f"unit {n}")
        services.indicator_update(indicator=world.indicators["p1"], unit_en=f"people {n}")
        services.standard_indicator_update(standard_indicator=standard, unit_ar=f"وحدة {n}")
        other = f.IndicatorFactory(programme=f.ProgrammeFactory(implementer=world.orgs["implementer"]))
        other.disaggregations.set(categories)
    first = StandardIndicator.objects.order_by("pk").first()
    for n in range(times):
        services.standard_indicator_update(standard_indicator=first, unit_en=f"unit {n}")
        services.indicator_copy(source=first, programme=programme, code=f"F-{n}", user=None)


def count(client, url) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def test_every_set_up_page_runs_the_same_number_of_queries_at_ten_times_the_data(world, client_for):
    f.StandardIndicatorFactory()
    f.IndicatorFactory(programme=f.ProgrammeFactory(implementer=world.orgs["implementer"]))  # a source to copy
    services.indicator_update(indicator=world.indicators["p1"], unit_en="persons")
    p1, indicator = world.programmes["p1"], world.indicators["p1"]
    editor, viewer = client_for("implementer_editor"), client_for("ministry_viewer")

    def pages():
        first = StandardIndicator.objects.order_by("pk").first()
        return [
            (editor, reverse("setup_indicator_list", args=[p1.pk])),
            (viewer, reverse("setup_indicator_list", args=[p1.pk])),
            (editor, reverse("setup_indicator_create", args=[p1.pk])),
            (editor, reverse("setup_indicator_edit", args=[indicator.pk])),
            (viewer, reverse("setup_indicator_edit", args=[indicator.pk])),
            (editor, reverse("setup_indicator_delete", args=[indicator.pk])),
            (editor, reverse("setup_indicator_copy_programme", args=[p1.pk])),
            (editor, reverse("setup_indicator_copy_standard", args=[p1.pk]) + f"?source={first.pk}"),
            (viewer, reverse("setup_standard_indicator_list")),
            (editor, reverse("setup_standard_indicator_edit", args=[first.pk])),
        ]

    before = [count(client, url) for client, url in pages()]
    grow(world, 10)
    after = [count(client, url) for client, url in pages()]
    assert before == after, list(zip([url for _c, url in pages()], before, after, strict=True))
    assert max(after) <= 25, after
