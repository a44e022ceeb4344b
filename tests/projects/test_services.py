"""Programme, twinning, workstream and activity rules, checked by the services."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from indicators.services import target_set
from partners.services import organisation_create
from projects import services
from projects.models import Activity, Twinning, Workstream
from projects.selectors import programme_municipality_ids
from tests.factories import (
    ActivityFactory,
    DonorFactory,
    IndicatorFactory,
    MunicipalityFactory,
    ProgrammeFactory,
    ThemeFactory,
    TwinningFactory,
    WorkstreamFactory,
)

pytestmark = pytest.mark.django_db


def test_a_twinning_needs_two_different_municipalities():
    programme, ghadames = ProgrammeFactory(), MunicipalityFactory()
    with pytest.raises(ValidationError) as raised:
        services.twinning_create(programme=programme, name_en="Alone", municipalities=[ghadames, ghadames])
    assert "at least two different municipalities" in " ".join(raised.value.message_dict["municipalities"])
    assert not Twinning.objects.exists()


def test_a_twinning_is_made_of_municipalities():
    with pytest.raises(ValidationError) as raised:
        services.twinning_create(
            programme=ProgrammeFactory(), name_en="Odd", municipalities=[MunicipalityFactory(), DonorFactory()]
        )
    assert "is not of kind Municipality" in " ".join(raised.value.message_dict["municipalities"])
    assert not Twinning.objects.exists()


def test_municipalities_take_part_through_twinnings_and_workstreams():
    programme = ProgrammeFactory()
    a, b, c = MunicipalityFactory(), MunicipalityFactory(), MunicipalityFactory()
    services.twinning_create(programme=programme, name_en="A–B", municipalities=[a, b])
    services.workstream_create(programme=programme, theme=ThemeFactory(), name_en="Waste", municipalities=[c])
    assert programme_municipality_ids(programme) == {a.pk, b.pk, c.pk}


def test_programme_donors_must_be_donors():
    with pytest.raises(ValidationError) as raised:
        services.programme_create(
            code="X",
            name_en="X",
            start_date=datetime.date(2025, 1, 1),
            end_date=datetime.date(2025, 12, 31),
            donors=[MunicipalityFactory()],
        )
    assert "donors" in raised.value.message_dict


def test_programme_dates_are_checked_with_a_message():
    with pytest.raises(ValidationError) as raised:
        services.programme_create(
            code="X", name_en="X", start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2024, 1, 1)
        )
    assert "end date must not be before the start date" in " ".join(raised.value.messages)


def test_the_fiscal_year_cannot_move_under_existing_periods():
    indicator = IndicatorFactory()
    target_set(
        indicator=indicator, period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 3, 31), value=5
    )
    with pytest.raises(ValidationError) as raised:
        services.programme_update(programme=indicator.programme, fiscal_year_start_month=10)
    assert "fiscal_year_start_month" in raised.value.message_dict
    indicator.programme.refresh_from_db()
    assert indicator.programme.fiscal_year_start_month == 1


def test_a_workstreams_twinning_belongs_to_its_programme():
    with pytest.raises(ValidationError) as raised:
        services.workstream_create(
            programme=ProgrammeFactory(),
            theme=ThemeFactory(),
            name_en="Mixed",
            twinning=TwinningFactory(municipalities=[MunicipalityFactory(), MunicipalityFactory()]),
        )
    assert "another programme" in " ".join(raised.value.message_dict["twinning"])


def test_activity_participants_add_up():
    workstream = WorkstreamFactory()
    with pytest.raises(ValidationError) as raised:
        services.activity_create(
            workstream=workstream,
            title_en="Training",
            start_date=datetime.date(2025, 3, 1),
            end_date=datetime.date(2025, 3, 2),
            participants_female=3,
            participants_male=2,
            participants_youth=6,
        )
    assert "participants_youth" in raised.value.message_dict


def test_organisation_country_is_an_iso_code():
    with pytest.raises(ValidationError) as raised:
        organisation_create(kind="municipality", name_en="Ghadames", country="Libya")
    assert "country" in raised.value.message_dict
    assert organisation_create(kind="municipality", name_en="Ghadames", country="ly").country == "LY"


def test_a_broken_check_constraint_names_its_field():
    with pytest.raises(ValidationError) as raised:
        services.programme_create(
            code="Y", name_en="Y", start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2024, 6, 1)
        )
    assert raised.value.message_dict["end_date"] == ["The end date must not be before the start date."]


def test_twinnings_and_workstreams_stay_in_their_programme():
    twinning = TwinningFactory(municipalities=[MunicipalityFactory(), MunicipalityFactory()])
    workstream = WorkstreamFactory()
    other = ProgrammeFactory()
    with pytest.raises(ValidationError) as raised:
        services.twinning_update(twinning=twinning, programme=other, name_en="Moved")
    assert raised.value.message_dict["programme"] == ["A twinning cannot move to another programme."]
    with pytest.raises(ValidationError) as raised:
        services.workstream_update(workstream=workstream, programme=other)
    assert raised.value.message_dict["programme"] == ["A workstream cannot move to another programme."]
    assert Twinning.objects.get(pk=twinning.pk).programme_id == twinning.programme_id
    assert Workstream.objects.get(pk=workstream.pk).programme_id == workstream.programme_id
    # Sent back unchanged with the rest of the object, the programme is accepted.
    assert services.twinning_update(twinning=twinning, programme=twinning.programme, name_en="Kept").name_en == "Kept"
    assert services.workstream_update(workstream=workstream, programme=workstream.programme).pk == workstream.pk


def test_an_activity_moves_between_workstreams_of_its_programme_only():
    activity = ActivityFactory()
    sibling = WorkstreamFactory(programme=activity.workstream.programme)
    with pytest.raises(ValidationError) as raised:
        services.activity_update(activity=activity, workstream=WorkstreamFactory(), title_en="Moved")
    assert raised.value.message_dict["workstream"] == ["An activity cannot move to another programme."]
    stored = Activity.objects.get(pk=activity.pk)
    assert (stored.workstream_id, stored.title_en) == (activity.workstream_id, activity.title_en)
    assert services.activity_update(activity=activity, workstream=sibling).workstream_id == sibling.pk
