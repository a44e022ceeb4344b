"""The admin is the first data-entry tool: its forms go through the services, so a broken rule
shows as a form error (never a 500) and nothing is written."""

import pytest
from django.urls import reverse

from indicators.models import Indicator, NationalTarget, Result
from partners.models import Membership
from projects.models import Twinning
from rollups.queue import alignment_pending, pending_indicator_ids
from tests.factories import (
    AlignmentFactory,
    IndicatorFactory,
    MembershipFactory,
    MunicipalityFactory,
    NationalTargetFactory,
    ProgrammeFactory,
    ResultFactory,
    TwinningFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def twinned():
    programme = ProgrammeFactory(fiscal_year_start_month=10)
    ghadames, tinley = MunicipalityFactory(), MunicipalityFactory(country="US")
    TwinningFactory(programme=programme, municipalities=[ghadames, tinley])
    return programme, ghadames, tinley


def test_a_twinning_of_one_municipality_is_a_form_error(admin_client):
    programme, ghadames = ProgrammeFactory(), MunicipalityFactory()
    response = admin_client.post(
        reverse("admin:projects_twinning_add"),
        {
            "programme": programme.pk,
            "name_en": "Alone",
            "name_ar": "وحيدة",
            "municipalities": [ghadames.pk],
            "status": "proposed",
        },
    )
    assert response.status_code == 200
    assert "at least two different municipalities" in response.content.decode()
    assert not Twinning.objects.exists()


def result_form(indicator, municipality, start, end, **extra):
    data = {
        "indicator": indicator.pk,
        "municipality": municipality.pk,
        "period_start": start,
        "period_end": end,
        "disaggregation_category": "",
        "disaggregation_option": "",
        "value": "7",
        "numerator": "",
        "denominator": "",
        "status": "draft",
        "comment": "",
        "evidence_url": "",
    }
    data.update(extra)
    return data


def test_a_result_for_a_wrong_period_is_a_form_error(admin_client, twinned):
    programme, ghadames, _ = twinned
    indicator = IndicatorFactory(programme=programme, frequency="quarterly")
    response = admin_client.post(
        reverse("admin:indicators_result_add"), result_form(indicator, ghadames, "2025-11-01", "2026-01-31")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "is not a quarterly period" in body
    assert "2025-10-01 – 2025-12-31" in body
    assert not Result.objects.exists()


def test_a_duplicate_result_is_a_form_error(admin_client, twinned):
    programme, ghadames, _ = twinned
    indicator = IndicatorFactory(programme=programme)
    url = reverse("admin:indicators_result_add")
    assert admin_client.post(url, result_form(indicator, ghadames, "2025-10-01", "2025-12-31")).status_code == 302
    response = admin_client.post(url, result_form(indicator, ghadames, "2025-10-01", "2025-12-31", value="9"))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert list(Result.objects.values_list("value", flat=True)) == [7]


def test_a_valid_result_is_saved_through_the_service(admin_client, twinned):
    programme, _, tinley = twinned
    indicator = IndicatorFactory(programme=programme)
    response = admin_client.post(
        reverse("admin:indicators_result_add"), result_form(indicator, tinley, "2026-01-01", "2026-03-31")
    )
    assert response.status_code == 302
    result = Result.objects.get()
    assert result.created_by == admin_client.user
    assert result.history.count() == 1


@pytest.mark.parametrize("language", ["en", "ar"])
def test_admin_pages_render_in_both_languages(admin_client, twinned, language):
    response = admin_client.get(f"/{language}/admin/indicators/result/add/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'lang="{language}"' in body
    assert ('dir="rtl"' in body) == (language == "ar")


def test_deleting_a_twinning_in_the_admin_marks_its_programme_stale(admin_client, twinned):
    programme, _, _ = twinned
    indicator = IndicatorFactory(programme=programme)
    twinning = Twinning.objects.get(programme=programme)
    response = admin_client.post(reverse("admin:projects_twinning_delete", args=[twinning.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Twinning.objects.exists()
    assert indicator.pk in pending_indicator_ids([indicator.pk])


def test_approved_results_cannot_be_deleted_in_the_admin(admin_client, twinned):
    programme, ghadames, tinley = twinned
    indicator = IndicatorFactory(programme=programme)
    draft = ResultFactory(
        indicator=indicator, municipality=ghadames, period_start="2025-10-01", period_end="2025-12-31"
    )
    approved = ResultFactory(
        indicator=indicator,
        municipality=tinley,
        period_start="2025-10-01",
        period_end="2025-12-31",
        status=Result.Status.APPROVED,
    )
    changelist = reverse("admin:indicators_result_changelist")
    both = {"action": "delete_selected", "_selected_action": [draft.pk, approved.pk], "post": "yes"}
    assert admin_client.post(changelist, both).status_code == 403
    assert admin_client.get(reverse("admin:indicators_result_delete", args=[approved.pk])).status_code == 403
    assert Result.objects.count() == 2
    only_draft = {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"}
    assert admin_client.post(changelist, only_draft).status_code == 302
    assert list(Result.objects.values_list("pk", flat=True)) == [approved.pk]


def test_an_indicator_is_deleted_in_the_admin_only_without_results(admin_client, twinned):
    programme, ghadames, _ = twinned
    kept, spare = IndicatorFactory(programme=programme), IndicatorFactory(programme=programme)
    ResultFactory(indicator=kept, municipality=ghadames, period_start="2025-10-01", period_end="2025-12-31")
    AlignmentFactory(indicator=spare)
    assert admin_client.get(reverse("admin:indicators_indicator_delete", args=[kept.pk])).status_code == 403
    changelist = reverse("admin:indicators_indicator_changelist")
    both = {"action": "delete_selected", "_selected_action": [kept.pk, spare.pk], "post": "yes"}
    assert admin_client.post(changelist, both).status_code == 403
    assert (
        admin_client.post(reverse("admin:indicators_indicator_delete", args=[spare.pk]), {"post": "yes"}).status_code
        == 302
    )
    assert list(Indicator.objects.values_list("pk", flat=True)) == [kept.pk]
    assert alignment_pending()  # the deleted indicator counted towards a national target


def test_a_national_target_is_deleted_in_the_admin_only_without_alignments(admin_client):
    aligned, unused = AlignmentFactory().national_target, NationalTargetFactory()
    assert admin_client.get(reverse("admin:indicators_nationaltarget_delete", args=[aligned.pk])).status_code == 403
    delete = reverse("admin:indicators_nationaltarget_delete", args=[unused.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert list(NationalTarget.objects.values_list("pk", flat=True)) == [aligned.pk]
    assert alignment_pending()


def test_moving_a_twinning_to_another_programme_is_an_error_on_the_field(admin_client, twinned):
    programme, ghadames, tinley = twinned
    twinning = Twinning.objects.get(programme=programme)
    form = {
        "programme": ProgrammeFactory().pk,
        "name_en": "Moved",
        "name_ar": "منقولة",
        "municipalities": [ghadames.pk, tinley.pk],
        "signed_on": "",
        "status": "active",
    }
    response = admin_client.post(reverse("admin:projects_twinning_change", args=[twinning.pk]), form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["programme"] == ["A twinning cannot move to another programme."]
    assert Twinning.objects.get(pk=twinning.pk).programme_id == programme.pk
    form["programme"] = programme.pk
    assert admin_client.post(reverse("admin:projects_twinning_change", args=[twinning.pk]), form).status_code == 302
    assert Twinning.objects.get(pk=twinning.pk).name_en == "Moved"


def test_a_membership_is_not_moved_to_another_user_in_the_admin(admin_client):
    membership = MembershipFactory()
    other = UserFactory()
    url = reverse("admin:partners_membership_change", args=[membership.pk])
    form = {"user": other.pk, "organisation": membership.organisation_id, "role": "editor"}
    response = admin_client.post(url, form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"] == ["Create a new membership instead of moving this one."]
    assert list(Membership.objects.values_list("pk", "user_id", "role")) == [
        (membership.pk, membership.user_id, "viewer")
    ]


def national_target_form(**overrides):
    return {"code": "NT-9", "title_en": "", "title_ar": "", "description_en": "", "description_ar": "", **overrides}


def test_the_admin_takes_a_name_in_arabic_only_and_refuses_one_in_neither_language(admin_client):
    url = reverse("admin:indicators_nationaltarget_add")
    response = admin_client.post(url, national_target_form())
    assert response.status_code == 200
    assert response.content.decode().count("Enter the title in English or in Arabic.") == 2
    assert not NationalTarget.objects.filter(code="NT-9").exists()
    response = admin_client.post(url, national_target_form(title_ar="تحسين الخدمات"))
    assert response.status_code == 302
    assert NationalTarget.objects.get(code="NT-9").title_ar == "تحسين الخدمات"
