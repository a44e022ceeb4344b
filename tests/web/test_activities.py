"""Logging activities through projects.services.activity_create, and listing them."""

import pytest
from django.urls import reverse

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
