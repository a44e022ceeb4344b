"""The funder goal trees' set-up pages: a donor's editors and the ministry's keep the donor's goal
tree (add a goal under another, rename, move, delete a leaf nobody counts towards), through the
services; other donors do not see it (404); read-only roles see it without edit controls (403 on
any write). The API follows the same rule."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators import services
from indicators.models import FunderGoal
from partners.models import Membership
from tests import factories as f

pytestmark = pytest.mark.django_db


def signed_in(world, username, organisation, role=Membership.Role.EDITOR):
    user = f.UserFactory(username=username)
    f.MembershipFactory(user=user, organisation=world.orgs[organisation], role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def donor_a_editor(world):
    return signed_in(world, "donor_a_editor", "donor_a")


@pytest.fixture
def ministry_editor(world):
    return signed_in(world, "ministry_editor", "ministry")


def url(name, *args, language="en"):
    with translation.override(language):
        return reverse(name, args=args)


def goal_data(**overrides):
    data = {
        "code": "A-1.1",
        "title_en": "Local revenue grows",
        "title_ar": "نمو الإيرادات المحلية",
        "description_en": "",
        "description_ar": "",
        "parent": "",
        "sdg_targets": ["17.1"],
    }
    data.update(overrides)
    return data


def errors_of(response, field):
    html = response.content.decode()
    marker = f'id="id_{field}_error">'
    assert marker in html, (field, html[:2000])
    return html.split(marker, 1)[1].split("</ul>", 1)[0]


# The tree: add, rename, move, delete ----------------------------------------------------------


def test_a_donor_editor_adds_a_goal_under_another_and_the_tree_indents_it(world, donor_a_editor):
    donor, parent = world.orgs["donor_a"], world.funder_goals["a"]
    form = donor_a_editor.get(f"{url('setup_funder_goal_create', donor.pk)}?parent={parent.pk}")
    assert f'<option value="{parent.pk}" selected>' in form.content.decode()
    response = donor_a_editor.post(url("setup_funder_goal_create", donor.pk), goal_data(parent=parent.pk))
    assert response.status_code == 302 and response["Location"] == url("setup_funder_goal_tree", donor.pk)
    child = FunderGoal.objects.get(donor=donor, code="A-1.1")
    assert child.parent == parent and child.sdg_targets == ["17.1"] and child.title_ar == "نمو الإيرادات المحلية"

    tree = donor_a_editor.get(url("setup_funder_goal_tree", donor.pk)).content.decode()
    assert f'<ul><li id="goal-{child.pk}">' in tree.split(f'<li id="goal-{parent.pk}">', 1)[1]  # nested under it
    assert f"?parent={child.pk}" in tree and url("setup_funder_goal_edit", child.pk) in tree


def test_rename_and_move_a_goal_and_the_history_shows_who(world, ministry_editor):
    donor = world.orgs["donor_a"]
    top = services.funder_goal_create(donor=donor, code="A-2", title_en="Services")
    goal = world.funder_goals["a"]
    data = goal_data(code=goal.code, title_en="Revenue", title_ar="", parent=top.pk, sdg_targets=["11.3", "16.6"])
    response = ministry_editor.post(url("setup_funder_goal_edit", goal.pk), data)
    assert response.status_code == 302, errors_of(response, "parent")
    goal.refresh_from_db()
    assert goal.parent == top and goal.title_en == "Revenue" and goal.sdg_targets == ["11.3", "16.6"]

    history = ministry_editor.get(url("setup_funder_goal_history", goal.pk)).content.decode()
    assert "ministry_editor" in history
    assert "Parent goal" in history and "A-2 Services" in history
    assert "Title (English)" in history and "Revenue" in history


def test_a_leaf_nobody_counts_towards_is_deleted_and_others_say_why_not(world, donor_a_editor):
    donor = world.orgs["donor_a"]
    parent = services.funder_goal_create(donor=donor, code="A-3", title_en="Parent")
    leaf = services.funder_goal_create(donor=donor, code="A-3.1", title_en="Leaf", parent=parent)

    tree = donor_a_editor.get(url("setup_funder_goal_tree", donor.pk)).content.decode()
    assert url("setup_funder_goal_delete", leaf.pk) in tree
    assert url("setup_funder_goal_delete", parent.pk) not in tree  # it has a goal under it
    assert url("setup_funder_goal_delete", world.funder_goals["a"].pk) not in tree  # an indicator counts towards it

    refused = donor_a_editor.post(url("setup_funder_goal_delete", parent.pk))
    assert refused.status_code == 400 and "This goal has 1 sub-goal." in refused.content.decode()
    refused = donor_a_editor.post(url("setup_funder_goal_delete", world.funder_goals["a"].pk, language="ar"))
    assert refused.status_code == 400 and 'id="delete-refusal"' in refused.content.decode()
    assert "is aligned to this goal" not in refused.content.decode()  # said in Arabic
    assert donor_a_editor.post(url("setup_funder_goal_delete", leaf.pk)).status_code == 302
    assert set(FunderGoal.objects.filter(donor=donor).values_list("code", flat=True)) == {"A-1", "A-3"}


# Bad input ------------------------------------------------------------------------------------


def test_moving_a_goal_under_its_own_child_is_refused_next_to_the_parent(world, donor_a_editor):
    goal = world.funder_goals["a"]
    child = services.funder_goal_create(donor=goal.donor, code="A-1.1", title_en="Child", parent=goal)
    data = goal_data(code=goal.code, title_en="Moved", parent=child.pk)
    response = donor_a_editor.post(url("setup_funder_goal_edit", goal.pk), data)
    assert response.status_code == 400
    assert "own ancestor" in errors_of(response, "parent")
    goal.refresh_from_db()
    assert goal.parent is None and goal.title_en != "Moved"


def test_a_duplicate_code_and_missing_titles_are_refused_next_to_the_fields(world, donor_a_editor):
    donor = world.orgs["donor_a"]
    response = donor_a_editor.post(url("setup_funder_goal_create", donor.pk), goal_data(code="A-1"))
    assert response.status_code == 400
    assert "This donor already has a goal with this code." in errors_of(response, "code")
    response = donor_a_editor.post(url("setup_funder_goal_create", donor.pk), goal_data(title_en="", title_ar=""))
    assert response.status_code == 400
    assert "Enter the title in English or in Arabic." in errors_of(response, "title_ar")
    response = donor_a_editor.post(url("setup_funder_goal_create", donor.pk), goal_data(sdg_targets=["17.20"]))
    assert response.status_code == 400 and "17.20" in errors_of(response, "sdg_targets")
    assert FunderGoal.objects.filter(donor=donor).count() == 1


def test_a_parent_from_another_donor_is_not_offered(world, donor_a_editor):
    other = world.funder_goals["b"]
    response = donor_a_editor.post(
        url("setup_funder_goal_create", world.orgs["donor_a"].pk), goal_data(parent=other.pk)
    )
    assert response.status_code == 400 and errors_of(response, "parent")
    assert not FunderGoal.objects.filter(code="A-1.1").exists()


def test_the_arabic_tree_and_form(world, donor_a_editor):
    donor = world.orgs["donor_a"]
    tree = donor_a_editor.get(url("setup_funder_goal_tree", donor.pk, language="ar")).content.decode()
    assert '<html lang="ar" dir="rtl">' in tree and world.funder_goals["a"].title_ar in tree
    form = donor_a_editor.get(url("setup_funder_goal_edit", world.funder_goals["a"].pk, language="ar")).content.decode()
    assert form.index('name="title_ar"') < form.index('name="title_en"')
    assert "جعل المدن والمستوطنات البشرية شاملة" in form  # SDG 11 in the UN's Arabic, its target ticked
    assert 'value="11.3" id="id_sdg_targets_11_3" checked' in form


# Who may do what ------------------------------------------------------------------------------

# role → (sees donor A's tree, may edit it); None: the role sees no donor at all.
MATRIX = {
    "ministry_viewer": (True, False),
    "ministry_approver": (True, True),  # the ministry's editors keep donors' trees too
    "donor_a_viewer": (True, False),
    "donor_b_viewer": (False, False),
    "implementer_editor": None,
    "municipality_x_editor": None,
    "municipality_y_editor": None,
    "superuser": (True, True),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_access_matrix(world, client_for, role):
    client = client_for(role)
    donor, goal = world.orgs["donor_a"], world.funder_goals["a"]
    sees, edits = MATRIX[role] or (False, False)
    assert client.get(url("setup_funder_goal_list")).status_code == (403 if MATRIX[role] is None else 200)
    for address in (url("setup_funder_goal_tree", donor.pk), url("setup_funder_goal_history", goal.pk)):
        assert client.get(address).status_code == (200 if sees else 404), address
    writes = (
        url("setup_funder_goal_create", donor.pk),
        url("setup_funder_goal_edit", goal.pk),
        url("setup_funder_goal_delete", goal.pk),
    )
    for address in writes:
        assert client.get(address).status_code == (200 if edits else 403 if sees else 404), address
    if sees:
        tree = client.get(url("setup_funder_goal_tree", donor.pk)).content.decode()
        assert (url("setup_funder_goal_edit", goal.pk) in tree) == edits
        assert (url("setup_funder_goal_create", donor.pk) in tree) == edits
    if not edits:
        before = list(FunderGoal.objects.values())
        expected = 403 if sees else 404
        assert client.post(writes[0], goal_data()).status_code == expected
        assert client.post(writes[1], goal_data(code=goal.code, title_en="Taken over")).status_code == expected
        assert client.post(writes[2]).status_code == expected
        assert list(FunderGoal.objects.values()) == before


def test_a_donor_editor_keeps_only_their_own_tree(world, donor_a_editor):
    other = world.funder_goals["b"]
    assert donor_a_editor.get(url("setup_funder_goal_tree", world.orgs["donor_b"].pk)).status_code == 404
    assert donor_a_editor.post(url("setup_funder_goal_edit", other.pk), goal_data(code="B-1")).status_code == 404
    listed = donor_a_editor.get(url("setup_funder_goal_list")).content.decode()
    assert "Donor A" in listed and "Donor B" not in listed


def test_the_api_follows_the_same_rule(world, client_for, ministry_editor):
    donor_a = world.orgs["donor_a"].pk
    payload = {"donor": donor_a, "code": "A-9", "title_en": "From the ministry"}
    assert ministry_editor.post("/api/v1/funder-goals/", payload, content_type="application/json").status_code == 201
    viewer = client_for("ministry_viewer")
    payload["code"] = "A-10"
    assert viewer.post("/api/v1/funder-goals/", payload, content_type="application/json").status_code == 403
    donor_b_editor = signed_in(world, "donor_b_editor", "donor_b")
    assert donor_b_editor.post("/api/v1/funder-goals/", payload, content_type="application/json").status_code == 403
    aligned = world.funder_goals["a"]
    response = ministry_editor.delete(f"/api/v1/funder-goals/{aligned.pk}/")
    assert response.status_code == 400 and FunderGoal.objects.filter(pk=aligned.pk).exists()


def test_the_service_refuses_to_delete_a_goal_with_sub_goals_or_alignments(world):
    goal = world.funder_goals["a"]
    with pytest.raises(ValidationError, match="aligned to this goal"):
        services.funder_goal_delete(funder_goal=goal)
    lone = services.funder_goal_create(donor=goal.donor, code="A-5", title_en="Lone")
    services.funder_goal_create(donor=goal.donor, code="A-5.1", title_en="Under", parent=lone)
    with pytest.raises(ValidationError, match="1 sub-goal"):
        services.funder_goal_delete(funder_goal=lone)
    assert FunderGoal.objects.filter(code__in=["A-1", "A-5", "A-5.1"]).count() == 3


# Query counts ---------------------------------------------------------------------------------


def count(client, address):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_the_tree_or_its_history(world, donor_a_editor):
    donor, goal = world.orgs["donor_a"], world.funder_goals["a"]
    pages = [
        url("setup_funder_goal_list"),
        url("setup_funder_goal_tree", donor.pk),
        url("setup_funder_goal_create", donor.pk),
        url("setup_funder_goal_edit", goal.pk),
        url("setup_funder_goal_history", goal.pk),
    ]
    before = [count(donor_a_editor, page) for page in pages]
    parent = goal
    for n in range(10):
        parent = services.funder_goal_create(donor=donor, code=f"A-1.{n}", title_en=f"Level {n}", parent=parent)
        services.funder_goal_update(funder_goal=goal, title_en=f"Renamed {n}", sdg_targets=["11.3", f"16.{n + 1}"])
    after = [count(donor_a_editor, page) for page in pages]
    assert before == after, dict(zip(pages, zip(before, after, strict=True), strict=True))
    assert max(after) <= 15


def test_the_admin_offers_no_delete_for_a_goal_the_service_would_refuse(world, admin_client):
    aligned = world.funder_goals["a"]
    assert admin_client.get(reverse("admin:indicators_fundergoal_delete", args=[aligned.pk])).status_code == 403
    assert FunderGoal.objects.filter(pk=aligned.pk).exists()
