"""Who may edit an activity (docs/design.md §7): a programme-wide activity, logged without a
municipality, is the implementer's; municipality editors edit their own municipality's."""

import pytest
from django.urls import reverse

from projects.models import Activity
from projects.services import ActivityRefused, activity_update
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def test_a_municipality_editor_cannot_edit_a_programme_wide_activity_of_the_implementer(world, client_for):
    activity = ActivityFactory(workstream=world.workstreams["p1"], municipality=None, participants_female=9)
    url = reverse("activity_update", args=[activity.pk])
    editor = client_for("municipality_x_editor")
    assert editor.get(url).status_code == 403
    data = {
        "workstream": world.workstreams["p1"].pk, "kind": "workshop", "title_en": "Renamed", "title_ar": "",
        "start_date": "2025-05-01", "end_date": "2025-05-03", "municipality": "", "status": "cancelled",
        "participants_female": "0", "participants_male": "0", "participants_youth": "0",
        "participants_with_disability": "0", "lessons_learned_en": "", "lessons_learned_ar": "",
    }  # fmt: skip
    assert editor.post(url, data).status_code == 403
    activity.refresh_from_db()
    assert (activity.title_en, activity.participants_female) != ("Renamed", 0)
    assert client_for("implementer_editor").post(url, data).status_code == 302
    activity.refresh_from_db()
    assert (activity.title_en, activity.status) == ("Renamed", "cancelled")


def test_the_activity_service_holds_the_same_rule(world):
    editor = world.users["municipality_x_editor"]
    programme_wide = ActivityFactory(workstream=world.workstreams["p1"], municipality=None)
    with pytest.raises(ActivityRefused):
        activity_update(activity=programme_wide, user=editor, title_en="Renamed")
    own = Activity.objects.get(workstream=world.workstreams["p1"], municipality=world.orgs["x"])
    with pytest.raises(ActivityRefused):  # nor turn their own into one of the whole programme
        activity_update(activity=own, user=editor, municipality=None)
    assert activity_update(activity=own, user=editor, title_en="Own").title_en == "Own"
