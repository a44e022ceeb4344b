"""Programme set-up pages: a programme created and edited through the pages (projects.services),
its twinnings and workstreams, bad input answered next to the field with nothing written, who may
do what, its history, and a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.models import Membership
from projects.models import Programme, Twinning, Workstream
from tests import factories as f
from tests.roles import ROLE_NAMES

pytestmark = pytest.mark.django_db


def edit_url(programme) -> str:
    return reverse("setup_programme_edit", kwargs={"programme_id": programme.pk})


def programme_data(world, **changes) -> dict:
    data = {
        "code": "P9",
        "status": "active",
        "name_en": "",
        "name_ar": "برنامج التوأمة الجديد",
        "description_en": "",
        "description_ar": "",
        "implementer": world.orgs["implementer"].pk,
        "counterpart": world.orgs["ministry"].pk,
        "donors": [world.orgs["donor_a"].pk],
        "start_date": "2026-01-01",
        "end_date": "2028-12-31",
        "fiscal_year_start_month": "10",
        "budget": "250000",
        "currency": "usd",
        "reporting_due_days": "45",
        "iati_identifier": "",
    }
    data.update(changes)
    return data


def test_the_implementer_creates_a_programme_in_arabic_and_then_edits_it(world, client_for):
    client = client_for("implementer_editor")
    response = client.post(reverse("setup_programme_create"), programme_data(world))
    programme = Programme.objects.get(code="P9")
    assert response.status_code == 302 and response["Location"] == edit_url(programme)
    assert (programme.name_ar, programme.name_en, programme.currency) == ("برنامج التوأمة الجديد", "", "USD")
    assert (programme.fiscal_year_start_month, programme.reporting_due_days) == (10, 45)
    assert list(programme.donors.all()) == [world.orgs["donor_a"]]

    page = client.get(edit_url(programme))
    assert page.status_code == 200
    data = programme_data(world, name_en="New twinning programme", reporting_due_days="60")
    assert client.post(edit_url(programme), data).status_code == 302
    programme.refresh_from_db()
    assert (programme.name_en, programme.reporting_due_days) == ("New twinning programme", 60)

    history = client.get(edit_url(programme)).context["history"]
    assert history[0]["record"].history_user == world.users["implementer_editor"]
    changed = {str(label): (old, new) for label, old, new in history[0]["changes"]}
    assert changed["Name (English)"] == ("", "New twinning programme")
    assert changed["Reporting due (days)"] == (45, 60)


def test_the_history_names_only_what_changed(world, client_for):
    p1 = world.programmes["p1"]
    client = client_for("implementer_editor")
    form = client.get(edit_url(p1)).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    data["donors"] = [donor.pk for donor in p1.donors.all()]
    data["implementer"], data["counterpart"] = p1.implementer_id, p1.counterpart_id
    data["reporting_due_days"] = "21"
    assert client.post(edit_url(p1), data).status_code == 302
    newest = client.get(edit_url(p1)).context["history"][0]
    assert [(str(label), old, new) for label, old, new in newest["changes"]] == [("Reporting due (days)", 30, 21)]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name_ar": ""}, "name_en", "in English or in Arabic"),  # no name in either language
        ({"end_date": "2025-01-01"}, "end_date", "The end date must not be before the start date."),
        ({"currency": "dollars"}, "currency", "at most 3 characters"),
        ({"budget": "-5"}, "budget", "The budget cannot be negative."),
        ({"reporting_due_days": "400"}, "reporting_due_days", "366"),
        ({"code": "P1"}, "code", "already exists"),
        ({"implementer": ""}, None, None),  # allowed: no implementer yet
    ],
)
def test_bad_programme_input_is_answered_next_to_the_field_and_nothing_is_written(
    world, client_for, changes, field, message
):
    client = client_for("ministry_viewer")
    editor = f.UserFactory()
    f.MembershipFactory(user=editor, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)
    client.force_login(editor)
    before = Programme.objects.count()
    response = client.post(reverse("setup_programme_create"), programme_data(world, **changes))
    if field is None:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert Programme.objects.count() == before
    form = response.context["form"]
    assert any(message in str(error) for error in form.errors[field]), form.errors
    assert "nothing was saved" in response.content.decode()


def test_dates_out_of_order_are_answered_with_the_other_mistakes_on_the_first_save(world, client_for):
    client = client_for("implementer_editor")
    response = client.post(reverse("setup_programme_create"), programme_data(world, code="", end_date="2025-01-01"))
    errors = response.context["form"].errors
    assert set(errors) == {"code", "end_date"}
    assert errors["end_date"] == ["The end date must not be before the start date."]


def test_an_edit_ending_before_the_start_is_answered_at_the_end_date_and_nothing_changes(world, client_for):
    """The dates' rule is the model's, answered by the service on update as on create."""
    p1 = world.programmes["p1"]
    client = client_for("implementer_editor")
    form = client.get(edit_url(p1)).context["form"]
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data["donors"] = [donor.pk for donor in p1.donors.all()]
    data["implementer"], data["counterpart"] = p1.implementer_id, p1.counterpart_id
    data["end_date"] = "01/01/2000"
    end_date = p1.end_date
    response = client.post(edit_url(p1), data)
    assert response.status_code == 200
    assert response.context["form"].errors["end_date"] == ["The end date must not be before the start date."]
    p1.refresh_from_db()
    assert p1.end_date == end_date


def test_an_implementer_names_only_its_own_implementer(world, client_for):
    client = client_for("implementer_editor")
    response = client.post(
        reverse("setup_programme_create"), programme_data(world, implementer=world.orgs["implementer_2"].pk)
    )
    assert response.status_code == 200
    assert "implementer" in response.context["form"].errors
    assert not Programme.objects.filter(code="P9").exists()


def test_twinnings_and_workstreams_are_added_and_edited(world, client_for):
    p1 = world.programmes["p1"]
    client = client_for("implementer_editor")
    x, y, z = world.orgs["x"], world.orgs["y"], world.orgs["z"]
    create = reverse("setup_twinning_create", kwargs={"programme_id": p1.pk})
    bad = client.post(create, {"name_en": "Solo", "municipalities": [x.pk], "status": "proposed"})
    assert bad.status_code == 200 and "municipalities" in bad.context["form"].errors
    assert p1.twinnings.count() == 1
    good = {"name_en": "", "name_ar": "غدامس - زد", "municipalities": [x.pk, z.pk], "status": "active"}
    assert client.post(create, {**good, "signed_on": "2026-02-01"}).status_code == 302
    twinning = Twinning.objects.get(name_ar="غدامس - زد")
    assert set(twinning.municipalities.all()) == {x, z}
    edit = reverse("setup_twinning_edit", kwargs={"programme_id": p1.pk, "twinning_id": twinning.pk})
    assert client.post(edit, {**good, "municipalities": [x.pk, y.pk, z.pk]}).status_code == 302
    assert twinning.municipalities.count() == 3

    theme = f.ThemeFactory(code="disaster", name_en="Disaster preparedness")
    create = reverse("setup_workstream_create", kwargs={"programme_id": p1.pk})
    missing = client.post(create, {"name_en": "Flood plans", "municipalities": [x.pk]})
    assert missing.status_code == 200 and "theme" in missing.context["form"].errors
    data = {"name_en": "Flood plans", "theme": theme.pk, "twinning": twinning.pk, "municipalities": [x.pk, z.pk]}
    assert client.post(create, data).status_code == 302
    workstream = Workstream.objects.get(name_en="Flood plans")
    assert (workstream.programme, workstream.twinning, workstream.theme) == (p1, twinning, theme)
    edit = reverse("setup_workstream_edit", kwargs={"programme_id": p1.pk, "workstream_id": workstream.pk})
    assert client.post(edit, {**data, "name_ar": "خطط الفيضانات", "municipalities": [z.pk]}).status_code == 302
    workstream.refresh_from_db()
    assert workstream.name_ar == "خطط الفيضانات" and list(workstream.municipalities.all()) == [z]
    # another programme's twinning is not offered
    other = f.TwinningFactory(programme=world.programmes["p2"], municipalities=[z, y])
    refused = client.post(edit, {**data, "twinning": other.pk})
    assert refused.status_code == 200 and "twinning" in refused.context["form"].errors


# Who sees and changes it ---------------------------------------------------------------------

EDIT = {  # role → GET of P1's and P2's set-up pages (details, twinnings, workstreams)
    "ministry_viewer": (403, 403),
    "ministry_approver": (403, 403),
    "donor_a_viewer": (403, 404),
    "donor_b_viewer": (404, 403),
    "implementer_editor": (200, 404),
    "municipality_x_editor": (403, 404),
    "municipality_y_editor": (403, 404),
}
CREATE = {  # role → GET of the new-programme page; the list answers 200 to every signed-in user
    "ministry_viewer": 403,
    "ministry_approver": 200,  # ministry editors create programmes and align every one
    "donor_a_viewer": 403,
    "donor_b_viewer": 403,
    "implementer_editor": 200,
    "municipality_x_editor": 403,
    "municipality_y_editor": 403,
}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_access_matrix(world, client_for, role):
    client = client_for(role)
    create = CREATE[role]
    assert client.get(reverse("setup_programme_list")).status_code == 200
    assert client.get(reverse("setup_programme_create")).status_code == create
    if create == 403:
        assert client.post(reverse("setup_programme_create"), programme_data(world)).status_code == 403
    for key, expected in zip(("p1", "p2"), EDIT[role], strict=True):
        programme = world.programmes[key]
        # A twinning of two new municipalities, so that no role starts to see P2 through it.
        twinning = programme.twinnings.first() or f.TwinningFactory(
            programme=programme, municipalities=[f.MunicipalityFactory(), f.MunicipalityFactory()]
        )
        workstream = world.workstreams[key]
        kwargs = {"programme_id": programme.pk}
        urls = [
            edit_url(programme),
            reverse("setup_twinning_create", kwargs=kwargs),
            reverse("setup_twinning_edit", kwargs={**kwargs, "twinning_id": twinning.pk}),
            reverse("setup_workstream_create", kwargs=kwargs),
            reverse("setup_workstream_edit", kwargs={**kwargs, "workstream_id": workstream.pk}),
        ]
        for address in urls:
            assert client.get(address).status_code == expected, (role, address)
            if expected != 200:
                assert client.post(address, {"name_en": "Changed"}).status_code == expected, (role, address)
    assert not Programme.objects.filter(name_en="Changed").exists()
    assert not Twinning.objects.filter(name_en="Changed").exists()
    anonymous = client_for(None).get(reverse("setup_programme_list"))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_list_shows_the_programmes_one_may_set_up(world, client_for):
    listed = client_for("implementer_editor").get(reverse("setup_programme_list")).context["rows"]
    assert [(row["programme"].code, row["editable"]) for row in listed] == [("P1", True)]
    listed = client_for("ministry_approver").get(reverse("setup_programme_list")).context["rows"]
    assert [(row["programme"].code, row["editable"]) for row in listed] == [("P1", False), ("P2", False)]
    listed = client_for("donor_a_viewer").get(reverse("setup_programme_list")).context["rows"]
    assert [(row["programme"].code, row["editable"]) for row in listed] == [("P1", False)]  # to read its alignment
    listed = client_for("ministry_approver").get(reverse("setup_programme_list")).context["rows"]
    first = listed[0]["programme"].pk
    assert listed[0]["links"] == {
        "indicators": reverse("setup_indicator_list", kwargs={"programme_id": first}),
        "targets": reverse("setup_target_grid", kwargs={"programme_id": first}),
        "alignment": reverse("setup_alignment", kwargs={"programme_id": first}),
    }


def count_queries(client, address) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_pages_run_the_same_number_of_queries_with_more_data(world, client_for):
    client = client_for("implementer_editor")
    p1 = world.programmes["p1"]
    addresses = [reverse("setup_programme_list"), edit_url(p1)]
    p1._history_user = world.users["implementer_editor"]  # a history row naming a person: counted from the start
    p1.save()
    before = [count_queries(client, address) for address in addresses]
    for n in range(5):
        f.ProgrammeFactory(implementer=world.orgs["implementer"], donors=[world.orgs["donor_a"], world.orgs["donor_b"]])
        f.TwinningFactory(programme=p1, municipalities=[world.orgs["x"], world.orgs["z"]])
        f.WorkstreamFactory(programme=p1, municipalities=[world.orgs["x"], world.orgs["y"]])
        p1.name_en = f"Renamed {n}"
        p1._history_user = world.users["implementer_editor"]
        p1.save()
    assert [count_queries(client, address) for address in addresses] == before
