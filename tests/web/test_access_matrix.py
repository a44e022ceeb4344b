"""Who sees which page, and which numbers, for every role of docs/design.md §7 (tests/roles.py)."""

import pytest
from django.urls import reverse

from projects.models import Activity

pytestmark = pytest.mark.django_db

ROLES = [
    None,
    "ministry_viewer",
    "ministry_approver",
    "donor_a_viewer",
    "donor_b_viewer",
    "implementer_editor",
    "municipality_x_editor",
    "municipality_y_editor",
]


def url(world, page):
    w = world
    return {
        "ministry": reverse("ministry_dashboard"),
        "donor": reverse("donor_dashboard"),
        "programmes": reverse("programme_list"),
        "programme_p1": reverse("programme_detail", args=[w.programmes["p1"].pk]),
        "programme_p2": reverse("programme_detail", args=[w.programmes["p2"].pk]),
        "municipalities": reverse("municipality_list"),
        "municipality_x": reverse("municipality_detail", args=[w.orgs["x"].pk]),
        "municipality_z": reverse("municipality_detail", args=[w.orgs["z"].pk]),
        "activities": reverse("activity_list"),
        "activity_new": reverse("activity_create"),
        "activity_edit_p1": reverse("activity_update", args=[Activity.objects.get(workstream=w.workstreams["p1"]).pk]),
        "activity_edit_p2": reverse("activity_update", args=[Activity.objects.get(workstream=w.workstreams["p2"]).pk]),
        "entry": reverse("result_entry"),
        "approvals": reverse("approval_queue"),
        "history_x": reverse("result_history", args=[w.results["x"].pk]),
        "history_z": reverse("result_history", args=[w.results["z"].pk]),
        "spreadsheet": reverse("spreadsheet"),
    }[page]


# page → status for each role in ROLES order (anonymous first; 302 = sent to the login page).
EXPECTED = {
    "ministry": [302, 200, 200, 403, 403, 403, 403, 403],
    "donor": [302, 200, 200, 200, 200, 403, 403, 403],
    "programmes": [302, 200, 200, 200, 200, 200, 200, 200],
    "programme_p1": [302, 200, 200, 200, 404, 200, 200, 200],
    "programme_p2": [302, 200, 200, 404, 200, 404, 404, 404],
    "municipalities": [302, 200, 200, 200, 200, 200, 200, 200],
    "municipality_x": [302, 200, 200, 200, 404, 200, 200, 200],
    "municipality_z": [302, 200, 200, 404, 200, 404, 404, 404],
    "activities": [302, 200, 200, 200, 200, 200, 200, 200],
    "activity_new": [302, 403, 403, 403, 403, 200, 200, 200],
    # P1's activity is municipality X's: Y's editor sees it but may not edit it.
    "activity_edit_p1": [302, 403, 403, 403, 404, 200, 200, 403],
    "activity_edit_p2": [302, 403, 403, 404, 403, 404, 404, 404],
    "entry": [302, 403, 403, 403, 403, 200, 200, 200],
    "approvals": [302, 403, 200, 403, 403, 403, 403, 403],
    "history_x": [302, 200, 200, 200, 404, 200, 200, 404],
    "history_z": [302, 200, 200, 404, 200, 404, 404, 404],
    "spreadsheet": [302, 403, 403, 403, 403, 200, 200, 200],
}


@pytest.mark.parametrize("page", sorted(EXPECTED))
@pytest.mark.parametrize("language", ["en", "ar"])
def test_who_sees_which_page(world, client_for, page, language):
    from django.utils import translation

    with translation.override(language):
        target = url(world, page)
    assert target.startswith(f"/{language}/")
    for role, expected in zip(ROLES, EXPECTED[page], strict=True):
        response = client_for(role).get(target)
        assert response.status_code == expected, (page, role, response.status_code)
        if expected == 302:
            assert "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("ministry_viewer", "ministry_dashboard"),
        ("ministry_approver", "ministry_dashboard"),
        ("donor_a_viewer", "donor_dashboard"),
        ("implementer_editor", "programme_list"),
    ],
)
def test_home_sends_each_role_to_its_page(world, client_for, role, landing):
    response = client_for(role).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(landing)


def test_municipality_editor_lands_on_their_municipality(world, client_for):
    response = client_for("municipality_x_editor").get(reverse("home"))
    assert response["Location"] == reverse("municipality_detail", args=[world.orgs["x"].pk])


def test_ministry_dashboard_numbers(world, client_for):
    html = client_for("ministry_viewer").get(reverse("ministry_dashboard")).content.decode()
    # NT-1: P1-1 at 47 % (40 + 7 of 100) and P2-1 capped at 100 % → (47 + 100) / 2.
    assert "73.5\u00a0%" in html
    assert "Donor A" in html and "Donor B" in html
    assert 'id="matrix"' in html
    assert "Ghadames" in html  # municipality overview


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("donor_a_viewer", ["P1-1", "47.0\u00a0%"], ["P2-1", "Donor B"]),
        ("donor_b_viewer", ["P2-1", "900.0\u00a0%"], ["P1-1", "Donor A"]),
    ],
)
def test_donor_dashboard_shows_only_the_donors_programmes(world, client_for, role, shown, hidden):
    html = client_for(role).get(reverse("donor_dashboard")).content.decode()
    for text in shown:
        assert text in html, text
    for text in hidden:
        assert text not in html, text


def test_donor_cannot_open_another_donors_dashboard(world, client_for):
    response = client_for("donor_a_viewer").get(reverse("donor_dashboard"), {"donor": world.orgs["donor_b"].pk})
    assert response.status_code == 404


def test_programme_page_shows_iptt_and_downloads(world, client_for):
    p1 = world.programmes["p1"]
    html = client_for("donor_a_viewer").get(reverse("programme_detail", args=[p1.pk])).content.decode()
    assert 'data-indicator="P1-1"' in html
    assert '<td class="num lop-actual">47</td>' in html
    assert f"/api/v1/reports/iptt/?programme={p1.pk}&amp;format=csv" in html
    assert f"/api/v1/reports/iptt/?programme={p1.pk}&amp;format=xlsx" in html
    assert f"/api/v1/exports/iati/?programme={p1.pk}" in html
    assert world.twinnings["p1"].name in html
    assert world.workstreams["p1"].name in html


def test_twinned_municipality_sees_shared_totals_not_the_others_entries(world, client_for):
    x = world.orgs["x"]
    own = client_for("municipality_x_editor").get(reverse("municipality_detail", args=[x.pk])).content.decode()
    other = client_for("municipality_y_editor").get(reverse("municipality_detail", args=[x.pk])).content.decode()
    assert reverse("result_history", args=[world.results["x"].pk]) in own
    assert reverse("result_history", args=[world.results["x"].pk]) not in other
    assert '<td class="num">40</td>' in own
    assert '<td class="num">40</td>' not in other


def test_activities_are_scoped(world, client_for):
    html = client_for("municipality_x_editor").get(reverse("activity_list")).content.decode()
    assert world.workstreams["p1"].name in html
    assert world.workstreams["p2"].name not in html


def test_arabic_pages_are_right_to_left(world, client_for):
    from django.utils import translation

    with translation.override("ar"):
        target = reverse("ministry_dashboard")
    html = client_for("ministry_viewer").get(target).content.decode()
    assert '<html lang="ar" dir="rtl">' in html


def test_refusals_are_pages_in_the_users_language(world, client_for):
    from django.utils import translation

    with translation.override("ar"):
        forbidden, missing = (
            reverse("ministry_dashboard"),
            reverse("programme_detail", args=[world.programmes["p2"].pk]),
        )
    html = client_for("donor_a_viewer").get(forbidden).content.decode()
    assert '<html lang="ar" dir="rtl">' in html and "غير مسموح" in html
    html = client_for("donor_a_viewer").get(missing).content.decode()
    assert "غير موجود" in html


def test_language_switch_keeps_the_page(world, client_for):
    client = client_for("ministry_viewer")
    html = client.get("/en/ministry/").content.decode()
    assert 'name="language" value="ar"' in html and 'name="next" type="hidden" value="/ministry/"' in html
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/ministry/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/ar/ministry/"
    assert '<html lang="ar" dir="rtl">' in response.content.decode()
