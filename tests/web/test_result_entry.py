"""The result entry grid, the approval queue and the history page, through the services."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators.models import Result
from rollups.models import Rollup
from tests.roles import Q2

from .conftest import recompute

pytestmark = pytest.mark.django_db


def grid_url(world, municipality="x", period=Q2[0], language="en"):
    with translation.override(language):
        base = reverse("result_entry")
    indicator = world.indicators["p1"]
    return f"{base}?indicator={indicator.pk}&municipality={world.orgs[municipality].pk}&period={period.isoformat()}"


def post_grid(client, world, data, action="save", municipality="x", language="en"):
    with translation.override(language):
        target = reverse("result_entry")
    payload = {
        "indicator": world.indicators["p1"].pk,
        "municipality": world.orgs[municipality].pk,
        "period": Q2[0].isoformat(),
        "action": action,
        **data,
    }
    return client.post(target, payload)


def cells(world, municipality="x"):
    return {
        (r.disaggregation_category, r.disaggregation_option): r
        for r in Result.objects.filter(
            indicator=world.indicators["p1"], municipality=world.orgs[municipality], period_start=Q2[0]
        )
    }


def test_grid_shows_total_and_disaggregations_with_existing_values(world, client_for):
    html = client_for("municipality_x_editor").get(grid_url(world)).content.decode()
    assert 'name="total-value"' in html and 'value="3"' in html  # the draft of world.results["x_draft"]
    assert 'name="sex.female-value"' in html and 'name="sex.male-value"' in html
    assert "Save and submit for approval" in html


def test_editor_saves_drafts_and_updates_through_the_services(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    response = post_grid(
        client,
        world,
        {"total-value": "12", "total-version": str(draft.version), "sex.female-value": "5", "sex.male-value": "7"},
    )
    assert response.status_code == 302
    found = cells(world)
    assert found[("", "")].value == Decimal("12")
    assert found[("", "")].version == draft.version + 1
    assert found[("sex", "female")].value == Decimal("5")
    assert {r.status for r in found.values()} == {Result.Status.DRAFT}
    assert found[("sex", "male")].created_by == world.users["municipality_x_editor"]


def test_submit_moves_every_draft_to_submitted(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    post_grid(
        client,
        world,
        {"total-value": "3", "total-version": str(draft.version), "sex.female-value": "1"},
        action="submit",
    )
    assert {r.status for r in cells(world).values()} == {Result.Status.SUBMITTED}


def test_bad_input_keeps_the_input_writes_nothing_and_says_why_next_to_the_cell(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    response = post_grid(
        client,
        world,
        {"total-value": "12", "total-version": str(draft.version), "sex.female-value": "abc", "sex.male-value": "-4"},
        language="ar",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="abc"' in html and 'value="-4"' in html and 'value="12"' in html
    assert 'aria-invalid="true"' in html
    assert "لم يُحفظ شيء" in html  # the page's language
    assert cells(world)[("", "")].value == Decimal("3")  # nothing written
    assert len(cells(world)) == 1


def test_service_errors_roll_back_the_whole_grid(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    response = post_grid(
        client, world, {"total-value": "20", "total-version": str(draft.version), "sex.male-value": "-1"}
    )
    assert response.status_code == 400
    assert "A count cannot be negative." in response.content.decode()
    assert cells(world)[("", "")].value == Decimal("3")


def test_stale_version_is_reported_on_the_row(world, client_for):
    client = client_for("municipality_x_editor")
    response = post_grid(client, world, {"total-value": "20", "total-version": "99"})
    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()


def test_warning_when_disaggregations_do_not_add_up(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    response = post_grid(
        client,
        world,
        {"total-value": "10", "total-version": str(draft.version), "sex.female-value": "2", "sex.male-value": "3"},
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert html.count("add up to 5, not the total 10") == 1  # in the grid's warning box, not flashed again


def test_arabic_digits_are_accepted(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    post_grid(client, world, {"total-value": "١٢٫٥", "total-version": str(draft.version)})
    assert cells(world)[("", "")].value == Decimal("12.5")


def test_an_editor_cannot_enter_for_another_municipality(world, client_for):
    client = client_for("municipality_y_editor")
    post_grid(client, world, {"total-value": "99"}, municipality="x")
    assert cells(world)[("", "")].value == Decimal("3")  # X untouched; the grid fell back to Y
    assert ("", "") in cells(world, "y")


def test_approver_approves_a_group_and_rollups_follow(world, client_for, eager_celery):
    editor = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    post_grid(editor, world, {"total-value": "30", "total-version": str(draft.version)}, action="submit")
    approver = client_for("ministry_approver")
    queue = approver.get(reverse("approval_queue"))
    html = queue.content.decode()
    assert "P1-1" in html
    result = Result.objects.get(pk=draft.pk)
    response = approver.post(
        reverse("approval_queue"),
        {"group": "g", "results": f"{result.pk}:{result.version}", "action": "approve", "comment": ""},
    )
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.status == Result.Status.APPROVED
    assert result.reviewed_by == world.users["ministry_approver"]
    recompute()
    lop = Rollup.objects.get(
        indicator=world.indicators["p1"], scope="programme", period_start__isnull=True, disaggregation_category=""
    )
    assert lop.actual == Decimal("77")


def test_return_needs_a_comment_and_keeps_what_was_typed(world, client_for):
    draft = world.results["x_draft"]
    post_grid(
        client_for("municipality_x_editor"),
        world,
        {"total-value": "3", "total-version": str(draft.version)},
        action="submit",
    )
    result = Result.objects.get(pk=draft.pk)
    approver = client_for("ministry_approver")
    response = approver.post(
        reverse("approval_queue"),
        {"group": "1-2-x", "results": f"{result.pk}:{result.version}", "action": "return", "comment": "  "},
    )
    assert response.status_code == 400
    assert "Say what needs to change" in response.content.decode()
    assert Result.objects.get(pk=draft.pk).status == Result.Status.SUBMITTED
    response = approver.post(
        reverse("approval_queue"),
        {"group": "1-2-x", "results": f"{result.pk}:{result.version}", "action": "return", "comment": "Check the list"},
    )
    assert response.status_code == 302
    returned = Result.objects.get(pk=draft.pk)
    assert returned.status == Result.Status.RETURNED and returned.comment == "Check the list"


def test_approver_cannot_touch_results_outside_their_reach(world, client_for):
    z = world.results["z"]
    Result.objects.filter(pk=z.pk).update(status=Result.Status.SUBMITTED)
    # The municipality X editor is no approver at all.
    response = client_for("municipality_x_editor").post(
        reverse("approval_queue"), {"results": f"{z.pk}:{z.version}", "action": "approve"}
    )
    assert response.status_code == 403
    assert Result.objects.get(pk=z.pk).status == Result.Status.SUBMITTED


def test_history_shows_who_changed_what(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    post_grid(client, world, {"total-value": "8", "total-version": str(draft.version)}, action="submit")
    html = client.get(reverse("result_history", args=[draft.pk])).content.decode()
    # People are named by their organisation, in the page's language.
    assert "<td>Ghadames</td>" in html and "municipality_x_editor" not in html
    assert "3.0000" in html and "8.0000" in html
    assert "Submitted" in html


def test_percentage_grid_takes_numerator_and_denominator(world, client_for):
    from tests import factories as f

    indicator = f.IndicatorFactory(programme=world.programmes["p1"], code="P1-PCT", measure="percentage")
    client = client_for("municipality_x_editor")
    url = reverse("result_entry")
    base = {"indicator": indicator.pk, "municipality": world.orgs["x"].pk, "period": Q2[0].isoformat()}
    html = client.get(url, base).content.decode()
    assert 'name="total-numerator"' in html and 'name="total-denominator"' in html
    assert 'name="total-value"' not in html
    response = client.post(url, {**base, "action": "save", "total-numerator": "30", "total-denominator": "0"})
    assert response.status_code == 400
    assert "The denominator must be greater than 0." in response.content.decode()
    assert not Result.objects.filter(indicator=indicator).exists()
    response = client.post(url, {**base, "action": "save", "total-numerator": "30", "total-denominator": "40"})
    assert response.status_code == 302
    assert Result.objects.get(indicator=indicator).value == Decimal("75")


def test_queue_names_breakdowns_and_warns_when_they_do_not_add_up(world, client_for):
    draft = world.results["x_draft"]
    post_grid(
        client_for("municipality_x_editor"),
        world,
        {"total-value": "10", "total-version": str(draft.version), "sex.female-value": "2", "sex.male-value": "3"},
        action="submit",
    )
    html = client_for("ministry_approver").get(reverse("approval_queue")).content.decode()
    assert "Sex: Female" in html  # the option's name, not its code
    assert "values add up to 5, not the total 10." in html


def test_approver_reopens_an_approved_result_others_cannot(world, client_for):
    approved = world.results["x"]
    url = reverse("result_reopen", args=[approved.pk])
    assert client_for("municipality_x_editor").post(url, {"version": approved.version}).status_code == 403
    assert client_for("donor_b_viewer").post(url, {"version": approved.version}).status_code == 404
    approver = client_for("ministry_approver")
    assert "Reopen for correction" in approver.get(reverse("result_history", args=[approved.pk])).content.decode()
    response = approver.post(url, {"version": approved.version})
    assert response.status_code == 302
    approved.refresh_from_db()
    assert approved.status == Result.Status.DRAFT
    # A second, stale attempt changes nothing and says why.
    response = approver.post(url, {"version": approved.version - 1}, follow=True)
    assert "changed by someone else" in response.content.decode()


def test_evidence_link_is_saved_and_a_bad_one_is_refused(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    response = post_grid(
        client, world, {"total-value": "3", "total-version": str(draft.version), "total-evidence_url": "not a link"}
    )
    assert response.status_code == 400
    assert 'value="not a link"' in response.content.decode()
    response = post_grid(
        client,
        world,
        {"total-value": "3", "total-version": str(draft.version), "total-evidence_url": "https://example.org/list.pdf"},
    )
    assert response.status_code == 302
    assert cells(world)[("", "")].evidence_url == "https://example.org/list.pdf"


def test_a_new_result_with_a_bad_evidence_link_is_refused(world, client_for):
    """results_create checks the link too (ResultValidator), not only result_update."""
    response = post_grid(
        client_for("municipality_x_editor"),
        world,
        {"sex.female-value": "2", "sex.female-evidence_url": "javascript:alert(1)"},
    )
    assert response.status_code == 400
    assert "Enter a valid link" in response.content.decode()
    assert ("sex", "female") not in cells(world)


def shown(world, **changed):
    """The grid's form as the page shows it now (values and versions), with some values changed
    (keyed total, sex_female, sex_male)."""
    data = {}
    for (category, option), result in cells(world).items():
        prefix = f"{category}.{option}" if category else "total"
        data[f"{prefix}-value"] = changed.get(prefix.replace(".", "_"), format(result.value.normalize(), "f"))
        data[f"{prefix}-version"] = str(result.version)
    return data


def test_an_unchanged_grid_writes_nothing_and_a_save_costs_the_same_for_one_row_or_all(world, client_for):
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    post_grid(client, world, {"total-value": "3", "total-version": str(draft.version), "sex.female-value": "1"})
    post_grid(client, world, {**shown(world), "sex.male-value": "2"})
    before = {key: (r.version, r.updated_at) for key, r in cells(world).items()}
    assert len(before) == 3
    histories = Result.history.count()

    response = post_grid(client, world, shown(world), action="save")
    assert response.status_code == 302
    assert {key: (r.version, r.updated_at) for key, r in cells(world).items()} == before
    assert Result.history.count() == histories

    with CaptureQueriesContext(connection) as one_row:
        assert post_grid(client, world, shown(world, total="4")).status_code == 302
    with CaptureQueriesContext(connection) as every_row:
        assert post_grid(client, world, shown(world, total="5", sex_female="2", sex_male="3")).status_code == 302
    assert len(one_row) == len(every_row)
    versions = {key: r.version for key, r in cells(world).items()}
    assert versions == {("", ""): 3, ("sex", "female"): 2, ("sex", "male"): 2}


def test_a_row_emptied_after_someone_else_entered_it_is_kept_and_says_why(world, client_for):
    """The editor's page showed an empty female row; another editor then saved one. Leaving the
    row empty does not delete what the editor never saw."""
    client = client_for("municipality_x_editor")
    draft = world.results["x_draft"]
    post_grid(
        client_for("implementer_editor"), world, {"total-value": "3", "total-version": "1", "sex.female-value": "4"}
    )
    response = post_grid(client, world, {"total-value": "3", "total-version": str(draft.version)})
    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()
    assert cells(world)[("sex", "female")].value == Decimal("4")
