"""Logging activities through projects.services.activity_create, editing them through
activity_update, and listing them."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation

from projects.models import Activity

pytestmark = pytest.mark.django_db


def form(world, **overrides):
    data = {
        "workstream": world.workstreams["p1"].pk,
        "kind": "study_visit",
        "title_en": "Study visit to Tinley Park",
        "title_ar": "زيارة دراسية إلى تينلي بارك",
        "start_date": "2025-05-01",
        "end_date": "2025-05-03",
        "municipality": world.orgs["x"].pk,
        "status": "done",
        "participants_female": "6",
        "participants_male": "4",
        "participants_youth": "3",
        "participants_with_disability": "1",
        "lessons_learned_en": "Revenue data must be digitised first.",
        "lessons_learned_ar": "",
    }
    data.update(overrides)
    return data


def test_editor_logs_an_activity_with_participants_and_lessons(world, client_for):
    client = client_for("municipality_x_editor")
    response = client.post(reverse("activity_create"), form(world))
    assert response.status_code == 302
    activity = Activity.objects.get(title_en="Study visit to Tinley Park")
    assert (activity.participants_female, activity.participants_youth) == (6, 3)
    listing = client.get(response["Location"]).content.decode()
    assert "Study visit to Tinley Park" in listing
    assert "Revenue data must be digitised first." in listing


def test_bad_input_is_answered_next_to_the_field_and_nothing_is_written(world, client_for):
    client = client_for("municipality_x_editor")
    before = Activity.objects.count()
    response = client.post(
        reverse("activity_create"),
        form(world, participants_youth="50", end_date="2025-04-01", title_en="Kept title"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The end date must not be before the start date." in html
    assert 'value="Kept title"' in html
    assert Activity.objects.count() == before
    response = client.post(reverse("activity_create"), form(world, participants_youth="50"))
    assert "There cannot be more young participants" in response.content.decode()
    assert Activity.objects.count() == before


def test_editor_cannot_log_in_a_workstream_outside_their_reach(world, client_for):
    response = client_for("municipality_x_editor").post(
        reverse("activity_create"), form(world, workstream=world.workstreams["p2"].pk)
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_list_filters_by_twinning_and_workstream(world, client_for):
    client = client_for("ministry_viewer")
    html = client.get(reverse("activity_list"), {"twinning": world.twinnings["p1"].pk}).content.decode()
    p1, p2 = (f"<h3>{world.workstreams[k].name} " for k in ("p1", "p2"))
    assert p1 in html and p2 not in html
    html = client.get(reverse("activity_list"), {"workstream": world.workstreams["p2"].pk}).content.decode()
    assert p2 in html and p1 not in html


# Editing ------------------------------------------------------------------------------------


@pytest.fixture
def p1_activity(world):
    """The roles world's activity in P1's workstream, for municipality X."""
    return Activity.objects.get(workstream=world.workstreams["p1"])


def edit_url(activity, language="en"):
    with translation.override(language):
        return reverse("activity_update", args=[activity.pk])


def stored(activity):
    """What the database holds for the activity, to compare before and after a refused edit."""
    return Activity.objects.filter(pk=activity.pk).values().get()


@pytest.mark.parametrize("role", ["municipality_x_editor", "implementer_editor"])
def test_editor_edits_an_activity_and_the_change_is_stored(world, client_for, p1_activity, role):
    client = client_for(role)
    html = client.get(edit_url(p1_activity)).content.decode()
    assert "Edit activity" in html
    assert f'value="{p1_activity.title_en}"' in html
    assert 'value="01/03/2025"' in html  # day first, as the pages write dates
    assert f'<option value="{world.orgs["x"].pk}" selected>' in html
    response = client.post(
        edit_url(p1_activity),
        form(world, title_en="Revenue workshop, second day", start_date="2025-03-01", end_date="2025-03-04"),
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?workstream={world.workstreams['p1'].pk}")
    p1_activity.refresh_from_db()
    assert p1_activity.title_en == "Revenue workshop, second day"
    assert p1_activity.end_date == datetime.date(2025, 3, 4)
    assert (p1_activity.kind, p1_activity.participants_female) == ("study_visit", 6)
    assert p1_activity.municipality_id == world.orgs["x"].pk
    assert Activity.objects.count() == 2
    listing = client.get(response["Location"]).content.decode()
    assert "The activity “Revenue workshop, second day” was saved." in listing


@pytest.mark.parametrize(
    ("role", "status"),
    [
        # Sees P1 through municipality Y, but the activity is municipality X's.
        ("municipality_y_editor", 403),
        ("ministry_approver", 403),
        ("donor_a_viewer", 403),
        # Does not see P1 at all.
        ("donor_b_viewer", 404),
    ],
)
def test_others_cannot_edit_and_nothing_changes(world, client_for, p1_activity, role, status):
    client = client_for(role)
    before = stored(p1_activity)
    assert client.get(edit_url(p1_activity)).status_code == status
    assert client.post(edit_url(p1_activity), form(world, title_en="Taken over")).status_code == status
    assert stored(p1_activity) == before


def test_implementer_cannot_edit_another_implementers_activity(world, client_for):
    activity = Activity.objects.get(workstream=world.workstreams["p2"])
    response = client_for("implementer_editor").post(edit_url(activity), form(world, title_en="Taken over"))
    assert response.status_code == 404
    assert Activity.objects.get(pk=activity.pk).title_en != "Taken over"


def test_bad_edit_is_answered_next_to_the_field_and_nothing_changes(world, client_for, p1_activity):
    client = client_for("municipality_x_editor")
    before = stored(p1_activity)
    response = client.post(edit_url(p1_activity), form(world, end_date="2025-04-01", start_date="2025-05-01"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_end_date_error"><li>The end date must not be before the start date.' in html
    assert 'value="Study visit to Tinley Park"' in html
    assert stored(p1_activity) == before
    # A rule of the service, not of the form: answered at its field too, and the page still
    # names the activity as stored.
    response = client.post(edit_url(p1_activity), form(world, participants_youth="50", title_en="Not kept"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There cannot be more young participants" in html
    assert f'<p class="muted">{p1_activity.title_en}</p>' in html
    assert stored(p1_activity) == before
    response = client.post(edit_url(p1_activity), form(world, workstream=world.workstreams["p2"].pk))
    assert "Select a valid choice" in response.content.decode()
    assert stored(p1_activity) == before


def test_arabic_edit_page_is_right_to_left(world, client_for, p1_activity):
    html = client_for("municipality_x_editor").get(edit_url(p1_activity, "ar")).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "<h1>تعديل النشاط</h1>" in html
    assert "تاريخ الانتهاء" in html
    assert f'value="{p1_activity.title_ar}"' in html
    # The Arabic boxes come first and are typed right to left, the English ones left to right.
    arabic, english = html.index('name="lessons_learned_ar"'), html.index('name="lessons_learned_en"')
    assert arabic < english
    assert html.index('name="title_ar"') < html.index('name="title_en"')
    box = re.compile(r'<textarea name="lessons_learned_(\w\w)"[^>]*\bdir="(\w+)"')
    assert dict(box.findall(html)) == {"ar": "rtl", "en": "ltr"}


@pytest.mark.parametrize(
    ("role", "linked"),
    [
        ("municipality_x_editor", True),
        ("implementer_editor", True),
        ("municipality_y_editor", False),
        ("ministry_viewer", False),
        ("donor_a_viewer", False),
    ],
)
def test_list_links_edit_for_those_who_may_edit(world, client_for, p1_activity, role, linked):
    html = client_for(role).get(reverse("activity_list")).content.decode()
    assert p1_activity.title_en in html
    assert (edit_url(p1_activity) in html) is linked
