"""The alignment matrix of a programme (set-up page): ticks, unticks and weights saved through one
service call, all or nothing with errors per cell; what each national target and goal would count
and which stay gaps; who may see and change it; a fixed number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators import services
from indicators.models import Alignment
from indicators.signals import alignment_inputs_changed
from partners.models import Membership
from projects.access import access_for
from reporting.reports import alignment as alignment_report
from tests import factories as f
from tests.roles import ROLE_NAMES

pytestmark = pytest.mark.django_db


def url(programme) -> str:
    return reverse("setup_alignment", kwargs={"programme_id": programme.pk})


def matrix_state(response) -> dict[str, str]:
    """The form as the page renders it: ticked boxes ("on") and every weight, by name."""
    data = {}
    for row in response.context["rows"]:
        for cell in row[1]:
            if cell.aligned:
                data[cell.name] = "on"
            data["w-" + cell.name[2:]] = cell.weight
    return data


def cell(indicator, column) -> str:
    kind = "g" if column.__class__.__name__ == "FunderGoal" else "n"
    return f"a-{indicator.pk}-{kind}{column.pk}"


def weight(indicator, column) -> str:
    return "w-" + cell(indicator, column)[2:]


def ministry_editor(world):
    user = f.UserFactory(username="ministry_editor")
    f.MembershipFactory(user=user, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)
    return user


@pytest.fixture
def more(world):
    """P1 gets a second indicator; a second national target; donor A a sub-goal under its goal."""
    p1 = world.programmes["p1"]
    return {
        "p1b": f.IndicatorFactory(programme=p1, code="P1-2"),
        "nt2": f.NationalTargetFactory(code="NT-2"),
        "a1": f.FunderGoalFactory(donor=world.orgs["donor_a"], code="A-1.1", parent=world.funder_goals["a"]),
    }


def test_the_programme_editor_ticks_unticks_and_weighs_and_the_report_follows(world, client_for, more):
    p1, i1, nt1, goal_a = world.programmes["p1"], world.indicators["p1"], world.national_target, world.funder_goals["a"]
    client = client_for("implementer_editor")
    page = client.get(url(p1))
    assert page.status_code == 200
    keys = [column.key for column in page.context["columns"]]
    # national targets first, then donor A's tree (goal, then its sub-goal); donor B funds only P2
    assert keys == [f"n{nt1.pk}", f"n{more['nt2'].pk}", f"g{goal_a.pk}", f"g{more['a1'].pk}"]
    data = matrix_state(page)
    data[weight(i1, nt1)] = "0.5"
    del data[cell(i1, goal_a)]  # untick
    data[cell(more["p1b"], more["nt2"])] = "on"
    data[weight(more["p1b"], more["nt2"])] = "2"
    data[cell(more["p1b"], more["a1"])] = "on"
    data[weight(more["p1b"], more["a1"])] = ""  # none given: 1
    response = client.post(url(p1), {**data, "action": "save"})
    assert response.status_code == 302

    stored = {
        (a.indicator_id, a.national_target_id, a.funder_goal_id): a.weight
        for a in Alignment.objects.filter(indicator__programme=p1)
    }
    assert stored == {
        (i1.pk, nt1.pk, None): Decimal("0.5"),
        (more["p1b"].pk, more["nt2"].pk, None): Decimal("2"),
        (more["p1b"].pk, None, more["a1"].pk): Decimal("1"),
    }
    history = Alignment.history.filter(indicator__programme=p1, history_user=world.users["implementer_editor"])
    assert sorted(history.values_list("history_type", flat=True)) == ["+", "+", "-", "~"]

    report = alignment_report(access=access_for(world.users["ministry_viewer"]), programme=p1)
    targets = {row["id"]: row for row in report["national_targets"]}
    goals = {row["id"]: row for row in report["funder_goals"]}
    assert set(targets[more["nt2"].pk]["indicators"]) | set(targets[more["nt2"].pk]["not_measurable"]) == {
        more["p1b"].pk
    }
    # the goal counts its sub-goal's indicator; P1-1 no longer counts towards it
    assert set(goals[goal_a.pk]["indicators"]) | set(goals[goal_a.pk]["not_measurable"]) == {more["p1b"].pk}
    assert more["nt2"].pk not in report["gaps"]["national_targets"]

    api = client_for("ministry_viewer").get("/api/v1/alignments/", {"programme": p1.pk}).json()["results"]
    assert sorted(row["weight"] for row in api) == ["0.5000", "1.0000", "2.0000"]

    page = client.get(url(p1))  # the history lists who changed what
    assert [row["record"].history_user for row in page.context["history"][:4]] == [
        world.users["implementer_editor"]
    ] * 4


def test_preview_counts_the_matrix_as_ticked_lists_gaps_and_saves_nothing(world, client_for, more):
    p1, i1, nt1, goal_a = world.programmes["p1"], world.indicators["p1"], world.national_target, world.funder_goals["a"]
    client = client_for("ministry_viewer")
    client.force_login(ministry_editor(world))
    data = matrix_state(client.get(url(p1)))
    del data[cell(i1, nt1)]  # P1-1 no longer on NT-1: goal A-1 keeps it, but it counts towards no national target
    before = list(Alignment.objects.order_by("pk").values_list("pk", "weight"))
    response = client.post(url(p1), {**data, "action": "preview"})
    assert response.status_code == 200
    assert list(Alignment.objects.order_by("pk").values_list("pk", "weight")) == before

    counts = {count.column.key: count for count in response.context["counts"]}
    # NT-1: only P2's indicator (the ministry sees P2), so one indicator of programme P2
    assert counts[f"n{nt1.pk}"].indicator_ids == {world.indicators["p2"].pk}
    assert [p.code for p in counts[f"n{nt1.pk}"].programmes] == ["P2"]
    assert counts[f"n{nt1.pk}"].gap == ""
    # NT-2: nothing aligned anywhere
    assert counts[f"n{more['nt2'].pk}"].indicator_ids == set()
    assert counts[f"n{more['nt2'].pk}"].gap == "No indicator is aligned."
    # P1-1, which now counts towards no national target: nothing
    assert counts[f"g{goal_a.pk}"].indicator_ids == {i1.pk}
    assert counts[f"g{goal_a.pk}"].gap == "None of its indicators counts towards a national target."
    assert counts[f"g{more['a1'].pk}"].gap == "No indicator is aligned."
    assert "Preview" in response.content.decode()

    saved = client.get(url(p1)).context["counts"]  # as stored, NT-1 counts both programmes
    nt1_count = next(count for count in saved if count.column.key == f"n{nt1.pk}")
    assert nt1_count.indicator_ids == {i1.pk, world.indicators["p2"].pk}
    assert [p.code for p in nt1_count.programmes] == ["P1", "P2"]
    assert next(count for count in saved if count.column.key == f"g{goal_a.pk}").gap == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "The weight cannot be negative."),
        ("abc", "Enter a number."),
        ("123456789", "Ensure that there are no more than 8 digits in total."),
        ("0.123456", "Ensure that there are no more than 4 decimal places."),
    ],
)
def test_a_bad_weight_is_answered_in_its_cell_and_nothing_is_written(world, client_for, more, typed, message):
    p1, i1, nt1 = world.programmes["p1"], world.indicators["p1"], world.national_target
    client = client_for("implementer_editor")
    data = matrix_state(client.get(url(p1)))
    data[cell(more["p1b"], more["nt2"])] = "on"  # a good change beside the bad one
    data[weight(more["p1b"], more["nt2"])] = "3"
    data[weight(i1, nt1)] = typed
    before = list(Alignment.objects.order_by("pk").values_list("pk", "weight"))
    response = client.post(url(p1), {**data, "action": "save"})
    assert response.status_code == 200
    assert list(Alignment.objects.order_by("pk").values_list("pk", "weight")) == before
    bad = next(c for row in response.context["rows"] for c in row[1] if c.name == cell(i1, nt1))
    assert bad.error == message
    html = response.content.decode()
    assert f'id="e-{cell(i1, nt1)[2:]}"' in html and message in html
    assert f'value="{typed}"' in html  # what the user typed is kept
    assert "1 cell needs correcting; nothing was saved." in html


def test_one_service_call_sends_one_recompute_signal_and_refuses_all_on_one_bad_cell(world, more):
    signals = []

    def heard(**kwargs):
        signals.append(kwargs)

    alignment_inputs_changed.connect(heard)
    try:
        i1, p1b = world.indicators["p1"], more["p1b"]
        cells = [
            services.AlignmentCell(indicator=p1b, national_target=more["nt2"], weight="2"),
            services.AlignmentCell(indicator=p1b, national_target=world.national_target),
            services.AlignmentCell(indicator=i1, funder_goal=world.funder_goals["a"], aligned=False),
        ]
        with pytest.raises(services.BulkValidationError) as refused:
            services.alignments_set(
                cells=[*cells, services.AlignmentCell(indicator=i1, national_target=more["nt2"], weight="-2")]
            )
        assert [(e.row, e.field) for e in refused.value.errors] == [(3, "weight")]
        assert signals == [] and not Alignment.objects.filter(indicator=p1b).exists()

        outcome = services.alignments_set(cells=cells)
        assert (len(outcome.created), len(outcome.updated), len(outcome.deleted)) == (2, 0, 1)
        assert len(signals) == 1
        services.alignments_set(cells=cells)  # already so: nothing written, nothing sent
        assert len(signals) == 1
    finally:
        alignment_inputs_changed.disconnect(heard)


# Who sees and changes it ---------------------------------------------------------------------

SEES = {  # role → (P1, P2) GET status; anonymous is sent to sign in
    "ministry_viewer": (200, 200),
    "ministry_approver": (200, 200),
    "donor_a_viewer": (200, 404),
    "donor_b_viewer": (404, 200),
    "implementer_editor": (200, 404),
    "municipality_x_editor": (200, 404),
    "municipality_y_editor": (200, 404),
}
ALIGNS = {"ministry_approver", "implementer_editor"}  # ministry editors (approvers rank above) and P1's editors


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_access_matrix(world, client_for, role):
    client = client_for(role)
    for key, expected in zip(("p1", "p2"), SEES[role], strict=True):
        programme = world.programmes[key]
        response = client.get(url(programme))
        assert response.status_code == expected, (role, key)
        post = client.post(url(programme), {"action": "save"})
        if expected == 404:
            assert post.status_code == 404, (role, key)
        elif role in ALIGNS and (key == "p1" or role.startswith("ministry")):
            assert post.status_code == 302, (role, key)  # an empty matrix: everything unticked
        else:
            assert post.status_code == 403, (role, key)
            assert Alignment.objects.filter(indicator=world.indicators[key]).count() == 2
    anonymous = client_for(None).get(url(world.programmes["p1"]))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_goal_columns_follow_who_sees_and_who_aligns(world, client_for):
    goal_a, goal_b = world.funder_goals["a"], world.funder_goals["b"]
    p1 = world.programmes["p1"]

    def goal_columns(role):
        columns = client_for(role).get(url(p1)).context["columns"]
        return {column.obj.pk for column in columns if column.kind == "g"}

    assert goal_columns("donor_a_viewer") == {goal_a.pk}  # its own goals
    assert goal_columns("implementer_editor") == {goal_a.pk}  # P1's donor's goals, to align to them
    assert goal_columns("municipality_x_editor") == set()  # a municipality sees no donor's goals
    assert goal_columns("ministry_viewer") == {goal_a.pk}  # only the goals of P1's donors, never donor B's
    assert goal_b.pk not in goal_columns("ministry_approver")


def test_the_api_follows_the_same_rule(world, client_for):
    p1 = world.programmes["p1"]
    extra = f.FunderGoalFactory(donor=world.orgs["donor_a"], code="A-2")
    payload = {"indicator": world.indicators["p1"].pk, "funder_goal": extra.pk}
    assert client_for("donor_a_viewer").post("/api/v1/alignments/", payload, format="json").status_code == 403
    donor_editor = f.UserFactory()
    f.MembershipFactory(user=donor_editor, organisation=world.orgs["donor_a"], role=Membership.Role.EDITOR)
    client = client_for(None)
    client.force_login(donor_editor)
    assert client.post("/api/v1/alignments/", payload, format="json").status_code == 403  # donors see
    implementer = client_for("implementer_editor")
    assert implementer.post("/api/v1/alignments/", payload, format="json").status_code == 201
    other_donor = {"indicator": world.indicators["p1"].pk, "funder_goal": world.funder_goals["b"].pk}
    assert implementer.post("/api/v1/alignments/", other_donor, format="json").status_code == 400  # not P1's donor
    assert Alignment.objects.filter(indicator__programme=p1, funder_goal=world.funder_goals["b"]).count() == 0


# Queries ------------------------------------------------------------------------------------


def count_queries(client, address) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_the_page_runs_the_same_number_of_queries_for_a_bigger_matrix(world, client_for):
    p1 = world.programmes["p1"]
    client = client_for("implementer_editor")
    before = count_queries(client, url(p1))
    parent = world.funder_goals["a"]
    for n in range(6):
        indicator = f.IndicatorFactory(programme=p1, code=f"P1-X{n}")
        target = f.NationalTargetFactory(code=f"NT-X{n}")
        parent = f.FunderGoalFactory(donor=world.orgs["donor_a"], code=f"A-X{n}", parent=parent)
        services.alignment_create(indicator=indicator, national_target=target, weight="2")
        services.alignment_create(indicator=indicator, funder_goal=parent)
        other = f.IndicatorFactory(programme=f.ProgrammeFactory(implementer=world.orgs["implementer"]))
        services.alignment_create(indicator=other, national_target=target)
    assert count_queries(client, url(p1)) == before
