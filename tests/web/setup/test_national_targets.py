"""The national targets' set-up pages: ministry editors keep the national plan on the pages, through
the services, in either language; bad input is answered next to the field with nothing written;
whoever sees the ministry dashboard reads the list and each target's history."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators import services
from indicators.models import NationalTarget
from partners.models import Membership
from tests import factories as f
from tests.roles import SIGNED_IN

pytestmark = pytest.mark.django_db


@pytest.fixture
def ministry_editor(world):
    user = f.UserFactory(username="ministry_editor", first_name="Amal", last_name="Editor")
    f.MembershipFactory(user=user, organisation=world.orgs["ministry"], role=Membership.Role.EDITOR)
    client = Client()
    client.force_login(user)
    return client


def url(name, *args, language="en"):
    with translation.override(language):
        return reverse(name, args=args)


def form_data(**overrides):
    data = {
        "code": "NT-20",
        "title_en": "Municipal archives digitised",
        "title_ar": "رقمنة الأرشيف البلدي",
        "description_en": "",
        "description_ar": "",
        "owner": "",
        "deadline": "2030-12-31",
        "sdg_targets": ["16.10", "11.3"],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# Create, edit, delete -------------------------------------------------------------------------


def test_a_ministry_editor_creates_a_national_target_with_sdg_targets(world, ministry_editor):
    page = ministry_editor.get(url("setup_national_target_create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="sdg_targets" value="11.3"' in html and 'name="sdg_targets" value="17.19"' in html
    assert html.count('name="sdg_targets"') == 169  # the whole UN list, grouped by goal
    assert f'<option value="{world.orgs["ministry"].pk}" selected>' in html  # their ministry by default

    response = ministry_editor.post(
        url("setup_national_target_create"), form_data(owner=str(world.orgs["ministry"].pk))
    )
    assert response.status_code == 302 and response["Location"] == url("setup_national_target_list")
    target = NationalTarget.objects.get(code="NT-20")
    assert (target.title_en, target.title_ar) == ("Municipal archives digitised", "رقمنة الأرشيف البلدي")
    assert target.sdg_targets == ["11.3", "16.10"]
    assert target.owner == world.orgs["ministry"] and str(target.deadline) == "2030-12-31"
    listed = ministry_editor.get(url("setup_national_target_list")).content.decode()
    assert "NT-20" in listed and "Municipal archives digitised" in listed


def test_an_edit_changes_only_what_was_changed_and_the_history_names_the_editor(world, ministry_editor):
    target = world.national_target
    page = ministry_editor.get(url("setup_national_target_edit", target.pk)).content.decode()
    assert 'value="11.3" id="id_sdg_targets_11_3" checked' in page  # the stored choice is ticked

    unchanged = form_data(
        code=target.code,
        title_en=target.title_en,
        title_ar=target.title_ar,
        owner=str(world.orgs["ministry"].pk),
        deadline="",
        sdg_targets=["11.3"],
    )
    records = target.history.count()
    assert ministry_editor.post(url("setup_national_target_edit", target.pk), unchanged).status_code == 302
    assert target.history.count() == records  # nothing changed, nothing recorded

    changed = {**unchanged, "title_en": "Services closer to citizens", "sdg_targets": ["11.3", "16.7"]}
    assert ministry_editor.post(url("setup_national_target_edit", target.pk), changed).status_code == 302
    target.refresh_from_db()
    assert target.title_en == "Services closer to citizens" and target.sdg_targets == ["11.3", "16.7"]

    history = ministry_editor.get(url("setup_national_target_history", target.pk)).content.decode()
    assert "Amal Editor" in history
    assert "Title (English)" in history and "Services closer to citizens" in history
    assert "SDG targets" in history and "11.3, 16.7" in history


def test_a_national_target_without_alignments_is_deleted(world, ministry_editor):
    target = f.NationalTargetFactory(code="NT-30")
    page = ministry_editor.get(url("setup_national_target_delete", target.pk))
    assert page.status_code == 200 and 'id="confirm-delete"' in page.content.decode()
    response = ministry_editor.post(url("setup_national_target_delete", target.pk))
    assert response.status_code == 302
    assert not NationalTarget.objects.filter(pk=target.pk).exists()


def test_a_national_target_with_alignments_is_not_deleted_and_the_page_says_why_in_arabic(world, ministry_editor):
    target = world.national_target  # two indicators are aligned to it
    page = ministry_editor.get(url("setup_national_target_delete", target.pk, language="ar")).content.decode()
    assert 'id="confirm-delete"' not in page and 'id="delete-refusal"' in page
    with translation.override("ar"):
        reason = str(services.national_target_delete_refusal(target).messages[0])
    assert reason in page and "indicators are aligned" not in page
    response = ministry_editor.post(url("setup_national_target_delete", target.pk, language="ar"))
    assert response.status_code == 400
    assert NationalTarget.objects.filter(pk=target.pk).exists()


# Bad input ------------------------------------------------------------------------------------


def errors_of(response, field):
    """The messages shown under a field (templates/web/includes/field.html)."""
    html = response.content.decode()
    marker = f'id="id_{field}_error">'
    assert marker in html, (field, html[:2000])
    return html.split(marker, 1)[1].split("</ul>", 1)[0]


def test_a_target_needs_a_title_in_one_language(world, ministry_editor):
    response = ministry_editor.post(url("setup_national_target_create"), form_data(title_en="", title_ar=""))
    assert response.status_code == 400
    assert "Enter the title in English or in Arabic." in errors_of(response, "title_en")
    assert "Enter the title in English or in Arabic." in errors_of(response, "title_ar")
    assert 'value="NT-20"' in response.content.decode()  # what was typed is kept
    assert not NationalTarget.objects.filter(code="NT-20").exists()


def test_a_duplicate_code_is_refused_next_to_the_code(world, ministry_editor):
    response = ministry_editor.post(url("setup_national_target_create"), form_data(code=world.national_target.code))
    assert response.status_code == 400
    assert "already exists" in errors_of(response, "code")
    assert NationalTarget.objects.filter(code=world.national_target.code).count() == 1


def test_an_unknown_sdg_code_is_named_and_nothing_is_written(world, ministry_editor):
    target = world.national_target
    data = form_data(code=target.code, title_en="Renamed", sdg_targets=["11.3", "11.9"])
    response = ministry_editor.post(url("setup_national_target_edit", target.pk), data)
    assert response.status_code == 400
    message = errors_of(response, "sdg_targets")
    assert "11.9" in message and "no SDG target" in message
    assert 'value="11.9" id="id_sdg_targets_other_0" checked' in response.content.decode()  # shown, not dropped
    target.refresh_from_db()
    assert target.title_en != "Renamed" and target.sdg_targets == ["11.3"]


def test_the_service_checks_sdg_codes_against_the_un_list():
    with pytest.raises(ValidationError) as raised:
        services.national_target_create(code="NT-X", title_en="X", sdg_targets=["11.9", "16.10", "11.c", "3.d", "1.6"])
    (message,) = raised.value.message_dict["sdg_targets"]
    assert message.startswith("11.9, 1.6:")
    assert not NationalTarget.objects.filter(code="NT-X").exists()
    target = services.national_target_create(code="NT-Y", title_en="Y", sdg_targets=["17.19", "16.b", "3.d"])
    assert target.sdg_targets == ["3.d", "16.b", "17.19"]


# Arabic -------------------------------------------------------------------------------------


def test_the_arabic_form_asks_arabic_first_and_answers_in_arabic(world, ministry_editor):
    page = ministry_editor.get(url("setup_national_target_create", language="ar")).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert page.index('name="title_ar"') < page.index('name="title_en"')
    assert "تعزيز التوسع الحضري الشامل للجميع" in page  # SDG 11.3 in the UN's Arabic
    deadline = page.split('name="deadline"', 1)[1].split(">", 1)[0]
    assert 'dir="ltr"' in deadline and "اليوم/الشهر/السنة" in page  # typed left to right, hinted in Arabic

    address = url("setup_national_target_create", language="ar")
    response = ministry_editor.post(address, form_data(title_en="", title_ar=""))
    assert response.status_code == 400
    with translation.override("ar"):
        title = str(NationalTarget._meta.get_field("title").verbose_name)
    assert title in errors_of(response, "title_ar") and "Enter the title" not in response.content.decode()
    response = ministry_editor.post(address, form_data(sdg_targets=["11.3", "11.9"]))
    assert response.status_code == 400
    message = errors_of(response, "sdg_targets")
    assert "11.9" in message and "اخترها من قائمة الغايات" in message
    assert not NationalTarget.objects.filter(code="NT-20").exists()


# Who may do what ------------------------------------------------------------------------------

READERS = {"ministry_viewer", "ministry_approver", "superuser"}
EDITORS = {"ministry_approver", "superuser"}  # an approver is at least an editor


@pytest.mark.parametrize("role", SIGNED_IN)
def test_access_matrix(world, client_for, role):
    client = client_for(role)
    target = world.national_target
    reads = {
        url("setup_national_target_list"): role in READERS,
        url("setup_national_target_history", target.pk): role in READERS,
    }
    writes = (
        url("setup_national_target_create"),
        url("setup_national_target_edit", target.pk),
        url("setup_national_target_delete", target.pk),
    )
    for address, allowed in reads.items():
        assert client.get(address).status_code == (200 if allowed else 403), address
    for address in writes:
        assert client.get(address).status_code == (200 if role in EDITORS else 403), address
    before = list(NationalTarget.objects.values())
    if role not in EDITORS:
        assert client.post(url("setup_national_target_create"), form_data()).status_code == 403
        edit = form_data(code=target.code, title_en="Taken over")
        assert client.post(url("setup_national_target_edit", target.pk), edit).status_code == 403
        assert client.post(url("setup_national_target_delete", target.pk)).status_code == 403
        assert list(NationalTarget.objects.values()) == before
    listed = client.get(url("setup_national_target_list")).content.decode()
    if role in READERS:
        assert ("setup/national-targets/new/" in listed) == (role in EDITORS)
        assert (f"/setup/national-targets/{target.pk}/edit/" in listed) == (role in EDITORS)


def test_a_new_ministry_editor_may_write_and_a_missing_target_is_404(world, ministry_editor):
    assert ministry_editor.get(url("setup_national_target_edit", 999999)).status_code == 404
    assert ministry_editor.get(url("setup_national_target_history", 999999)).status_code == 404
    assert ministry_editor.get(url("setup_national_target_delete", 999999)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world, client_for):
    client = client_for(None)
    for address in (url("setup_national_target_list"), url("setup_national_target_create")):
        response = client.get(address)
        assert response.status_code == 302 and "/login/" in response["Location"]


# Query counts ---------------------------------------------------------------------------------


def count(client, address):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_targets_or_changes(world, ministry_editor):
    target = world.national_target
    pages = [
        url("setup_national_target_list"),
        url("setup_national_target_create"),
        url("setup_national_target_edit", target.pk),
        url("setup_national_target_history", target.pk),
    ]
    before = [count(ministry_editor, page) for page in pages]
    for n in range(10):
        owner = f.MinistryFactory()
        f.NationalTargetFactory(owner=owner, sdg_targets=["11.3", "16.7"])
        services.national_target_update(national_target=target, title_en=f"Renamed {n}", owner=owner)
    after = [count(ministry_editor, page) for page in pages]
    assert before == after, dict(zip(pages, zip(before, after, strict=True), strict=True))
    assert max(after) <= 15
