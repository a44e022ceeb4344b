"""Dates are typed day first, as the pages write them, in a text field labelled and hinted in the
page's language (never `<input type="date">`, whose placeholder and order are the browser's),
written left to right, and checked on the server: a date it cannot read is said beside the
field in the page's language, with what was typed kept, and nothing is written."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation
from lxml import html

from projects.models import Activity

from .test_activities import form

pytestmark = pytest.mark.django_db


def url(name, language="en", args=(), query=""):
    with translation.override(language):
        return reverse(name, args=args) + query


def date_fields(world):
    """(role, page, name of its date field) for every page with a date field."""
    p1 = world.programmes["p1"]
    return [
        ("municipality_x_editor", "activity_create", (), "", "start_date"),
        ("municipality_x_editor", "activity_create", (), "", "end_date"),
        ("donor_a_viewer", "programme_detail", (p1.pk,), "", "as_of"),
        ("ministry_viewer", "completeness", (), "", "as_of"),
        ("municipality_x_editor", "spreadsheet", (), f"?programme={p1.pk}", "on"),
    ]


@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_date_field_is_typed_day_first_with_a_hint_in_the_page_language(world, client_for, language):
    with translation.override(language):
        hint = translation.gettext("Day/month/year, for example")
    if language == "ar":
        assert hint == "اليوم/الشهر/السنة، مثلًا"
    for role, name, args, query, field in date_fields(world):
        content = client_for(role).get(url(name, language, args, query)).content.decode()
        assert 'type="date"' not in content, name
        tree = html.fromstring(content)
        (control,) = tree.xpath(f'//input[@name="{field}"]')
        assert control.get("type") == "text" and control.get("dir") == "ltr", (name, field)
        (label,) = tree.xpath(f'//label[@for="{control.get("id")}"]')
        assert label.text_content().strip()
        hint_id = f"{control.get('id')}-hint"
        assert hint_id in control.get("aria-describedby").split()
        (shown,) = tree.xpath(f'//*[@id="{hint_id}"]')
        assert " ".join(shown.text_content().split()) == f"{hint} 31/12/2026", (name, field)
        if language == "ar":
            assert not re.search("[A-Za-z]", label.text_content() + shown.text_content()), (name, field)


def test_an_activity_takes_dates_day_first_in_either_kind_of_digits(world, client_for):
    client = client_for("municipality_x_editor")
    for typed, title in (("01/05/2025", "Day first"), ("٠١/٠٥/٢٠٢٥", "Arabic-Indic digits"), ("2025-05-01", "ISO")):
        response = client.post(
            url("activity_create", "ar"), form(world, start_date=typed, end_date="03/05/2025", title_en=title)
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        activity = Activity.objects.get(title_en=title)
        assert (activity.start_date, activity.end_date) == (datetime.date(2025, 5, 1), datetime.date(2025, 5, 3))


def test_the_edit_form_shows_the_stored_dates_day_first(world, client_for):
    activity = Activity.objects.filter(workstream=world.workstreams["p1"]).get()
    activity.start_date, activity.end_date = datetime.date(2025, 2, 3), datetime.date(2025, 2, 14)
    activity.save()
    content = client_for("implementer_editor").get(url("activity_update", "ar", (activity.pk,))).content.decode()
    tree = html.fromstring(content)
    assert tree.xpath('//input[@name="start_date"]')[0].get("value") == "03/02/2025"
    assert tree.xpath('//input[@name="end_date"]')[0].get("value") == "14/02/2025"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("13/13/2025", "اكتب التاريخ بصيغة اليوم/الشهر/السنة، مثلًا 31/12/2026."),
        ("2025/31/12", "اكتب التاريخ بصيغة اليوم/الشهر/السنة، مثلًا 31/12/2026."),
        ("01/01/0202", "اكتب تاريخًا بين 01/01/1950 و31/12/2100."),
    ],
)
def test_a_date_that_cannot_be_read_is_said_beside_the_field_and_nothing_is_written(world, client_for, typed, message):
    client = client_for("municipality_x_editor")
    before = Activity.objects.count()
    response = client.post(url("activity_create", "ar"), form(world, start_date=typed, title_en="Never saved"))
    assert response.status_code == 200
    tree = html.fromstring(response.content.decode())
    (control,) = tree.xpath('//input[@name="start_date"]')
    assert control.get("value") == typed and control.get("aria-invalid") == "true"
    errors = control.getparent().xpath('.//ul[@class="errorlist"]')
    assert errors and message in errors[0].text_content()
    assert Activity.objects.count() == before


def test_the_iptt_as_of_is_typed_day_first(world, client_for):
    client = client_for("donor_a_viewer")
    p1 = world.programmes["p1"]
    day_first = client.get(url("programme_detail", "ar", (p1.pk,), "?as_of=30/06/2025")).content.decode()
    iso = client.get(url("programme_detail", "ar", (p1.pk,), "?as_of=2025-06-30")).content.decode()
    link = f"/api/v1/reports/iptt/?programme={p1.pk}&amp;as_of=2025-06-30&amp;format=csv&amp;lang=ar"
    assert link in day_first and link in iso
    tree = html.fromstring(day_first)
    assert tree.xpath('//input[@name="as_of"]')[0].get("value") == "30/06/2025"
    assert not tree.xpath('//*[@id="iptt-as-of-error"]')
    wrong = html.fromstring(client.get(url("programme_detail", "ar", (p1.pk,), "?as_of=31/06/2025")).content.decode())
    (control,) = wrong.xpath('//input[@name="as_of"]')
    assert control.get("value") == "31/06/2025" and control.get("aria-invalid") == "true"
    assert "iptt-as-of-error" in control.get("aria-describedby").split()
    error = wrong.xpath('//*[@id="iptt-as-of-error"]')[0].text_content()
    assert "اليوم/الشهر/السنة" in error
    assert wrong.xpath('//table[@id="iptt"]//tr[@data-indicator="P1-1"]')  # today's IPTT still shown


def test_the_completeness_and_spreadsheet_dates_are_typed_day_first(world, client_for):
    ministry = client_for("ministry_viewer")
    tree = html.fromstring(ministry.get(url("completeness", "ar", query="?as_of=15/05/2025")).content.decode())
    assert tree.xpath('//input[@name="as_of"]')[0].get("value") == "15/05/2025"
    assert tree.xpath('//a[contains(@href, "as_of=2025-05-15&format=csv&lang=ar")]')
    tree = html.fromstring(ministry.get(url("completeness", "ar", query="?as_of=15.05.2025")).content.decode())
    (control,) = tree.xpath('//input[@name="as_of"]')
    assert control.get("value") == "15.05.2025" and control.get("aria-invalid") == "true"
    assert "اليوم/الشهر/السنة" in tree.xpath('//*[@id="pick-as-of-error"]')[0].text_content()

    editor = client_for("municipality_x_editor")
    p1 = world.programmes["p1"]
    response = editor.get(url("spreadsheet", "ar", query=f"?programme={p1.pk}&on=15/05/2025&download=1"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "2025-05-15" in response["Content-Disposition"]
    response = editor.get(url("spreadsheet", "ar", query=f"?programme={p1.pk}&on=32/05/2025&download=1"))
    assert response["Content-Type"].startswith("text/html")  # no file for a date that is not one
    tree = html.fromstring(response.content.decode())
    assert tree.xpath('//input[@name="on"]')[0].get("aria-invalid") == "true"
    assert "اليوم/الشهر/السنة" in tree.xpath('//*[@id="dl-on-error"]')[0].text_content()
