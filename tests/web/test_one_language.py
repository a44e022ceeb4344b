"""Pages with names given in one language: an activity logged with an Arabic title only, and a
name missing in the page's language shown in the other one, marked with its language."""

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from partners.services import organisation_update
from projects.models import Activity
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db

ARABIC_TITLE = "ورشة عمل حول الإيرادات المحلية"


def url(name, language, *args):
    with translation.override(language):
        return reverse(name, args=args)


def form(world, **overrides):
    return {
        "workstream": world.workstreams["p1"].pk,
        "kind": "workshop",
        "title_en": "",
        "title_ar": ARABIC_TITLE,
        "start_date": "2025-05-01",
        "end_date": "2025-05-02",
        "municipality": world.orgs["x"].pk,
        "status": "done",
        "participants_female": "3",
        "participants_male": "2",
        "participants_youth": "0",
        "participants_with_disability": "0",
        "lessons_learned_en": "",
        "lessons_learned_ar": "",
        **overrides,
    }


def test_arabic_ui_logs_an_activity_with_only_an_arabic_title_and_lists_it(world, client_for):
    client = client_for("municipality_x_editor")
    page = client.get(url("activity_create", "ar")).content.decode()
    assert page.index('name="title_ar"') < page.index('name="title_en"')  # the page's language first
    response = client.post(url("activity_create", "ar"), form(world))
    assert response.status_code == 302
    activity = Activity.objects.get(title_ar=ARABIC_TITLE)
    assert activity.title_en == ""
    listing = client.get(response["Location"]).content.decode()
    assert f'<th scope="row">{ARABIC_TITLE}<div' in listing  # in its own language: not marked


def test_a_title_in_neither_language_is_refused_on_both_fields(world, client_for):
    before = Activity.objects.count()
    response = client_for("municipality_x_editor").post(url("activity_create", "en"), form(world, title_ar=" "))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Enter the title in English or in Arabic.") == 2
    assert Activity.objects.count() == before


def test_the_english_page_shows_an_arabic_only_title_marked_as_arabic(world, client_for):
    ActivityFactory(
        workstream=world.workstreams["p1"], municipality=world.orgs["x"], title_en="", title_ar=ARABIC_TITLE
    )
    html = client_for("municipality_x_editor").get(url("activity_list", "en")).content.decode()
    assert (
        f'<span lang="ar" dir="rtl" class="other-language">{ARABIC_TITLE}</span> '
        '<span class="other-language-note">(in Arabic)</span>'
    ) in html


def test_the_arabic_page_shows_an_english_only_name_marked_as_english(world, client_for):
    municipality = organisation_update(organisation=world.orgs["y"], name_ar="")  # Tinley Park, in English only
    html = client_for("ministry_viewer").get(url("municipality_detail", "ar", municipality.pk)).content.decode()
    assert (
        '<h1><span lang="en" dir="ltr" class="other-language">Tinley Park</span> '
        '<span class="other-language-note">(بالإنجليزية)</span></h1>'
    ) in html


def test_the_other_languages_text_is_escaped(world):
    activity = ActivityFactory(workstream=world.workstreams["p1"], title_en="", title_ar="<b>ورشة</b>")
    html = Template('{% load twinning_web %}{% translated activity "title" %}').render(Context({"activity": activity}))
    assert "&lt;b&gt;ورشة&lt;/b&gt;" in html and "<b>" not in html
