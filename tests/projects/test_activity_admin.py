"""The admin edits an activity as the signed-in user: a staff member who is a municipality
editor may change their municipality's activities there, not turn one into an activity of the
whole programme (projects.services.activity_update, docs/design.md §7)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from partners.models import Membership
from projects.models import Activity
from tests.factories import (
    ActivityFactory,
    MembershipFactory,
    MunicipalityFactory,
    TwinningFactory,
    UserFactory,
    WorkstreamFactory,
)

pytestmark = pytest.mark.django_db

REFUSAL = "Only the implementer's editors change an activity of the whole programme"


@pytest.fixture
def activity():
    ghadames, tinley = MunicipalityFactory(), MunicipalityFactory(country="US")
    twinning = TwinningFactory(municipalities=[ghadames, tinley])
    workstream = WorkstreamFactory(programme=twinning.programme, twinning=twinning, municipalities=[ghadames])
    return ActivityFactory(workstream=workstream, municipality=ghadames)


@pytest.fixture
def staff_editor(client, activity):
    """A staff member allowed the admin's activity pages, an editor of the activity's municipality."""
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=("view_activity", "change_activity")))
    MembershipFactory(user=user, organisation=activity.municipality, role=Membership.Role.EDITOR)
    client.force_login(user)
    return client


def activity_form(activity: Activity, **changes):
    form = {
        "workstream": activity.workstream_id,
        "kind": activity.kind,
        "title_en": activity.title_en,
        "title_ar": activity.title_ar,
        "description_en": "",
        "description_ar": "",
        "start_date": activity.start_date.isoformat(),
        "end_date": activity.end_date.isoformat(),
        "municipality": activity.municipality_id or "",
        "status": activity.status,
        "participants_female": 0,
        "participants_male": 0,
        "participants_youth": 0,
        "participants_with_disability": 0,
        "lessons_learned_en": "",
        "lessons_learned_ar": "",
    }
    form.update(changes)
    return form


def test_a_municipality_editor_changes_their_own_activity_in_the_admin(staff_editor, activity):
    url = reverse("admin:projects_activity_change", args=[activity.pk])
    response = staff_editor.post(url, activity_form(activity, title_en="Revenue workshop, second day"))
    assert response.status_code == 302
    assert Activity.objects.get(pk=activity.pk).title_en == "Revenue workshop, second day"


def test_a_municipality_editor_cannot_make_it_an_activity_of_the_whole_programme_in_the_admin(staff_editor, activity):
    url = reverse("admin:projects_activity_change", args=[activity.pk])
    response = staff_editor.post(url, activity_form(activity, municipality="", title_en="Moved"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert any(message.startswith(REFUSAL) for message in errors), errors
    kept = Activity.objects.get(pk=activity.pk)
    assert (kept.municipality_id, kept.title_en) == (activity.municipality_id, activity.title_en)


def test_a_superuser_still_makes_it_an_activity_of_the_whole_programme(client, activity):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:projects_activity_change", args=[activity.pk])
    assert client.post(url, activity_form(activity, municipality="")).status_code == 302
    assert Activity.objects.get(pk=activity.pk).municipality_id is None
