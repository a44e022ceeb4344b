"""The pages colour progress by its status to date and show the life-of-programme figures beside it,
with a legend saying what the colours mean, in both languages (docs/design.md §4)."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from lxml import html

from indicators import periods
from indicators.models import Result, Target
from partners.models import Membership
from rollups.alignment import force_global_snapshot
from rollups.engine import recompute_all
from tests.factories import (
    AlignmentFactory,
    DonorFactory,
    FunderGoalFactory,
    IndicatorFactory,
    MembershipFactory,
    MunicipalityFactory,
    NationalTargetFactory,
    ProgrammeFactory,
    TwinningFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LEGEND = ["below", "on_track", "above", "no_data", "no_target"]


@pytest.fixture
def halfway():
    """A six-year programme whose town has reported its target of 50 in every quarter that has
    ended: on track to date (100 %), below over the life of the programme (the later quarters'
    targets count there)."""
    donor = DonorFactory()
    programme = ProgrammeFactory(
        donors=[donor], start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2030, 12, 31)
    )
    town, twin = MunicipalityFactory(name_en="Ghadames"), MunicipalityFactory()
    TwinningFactory(programme=programme, municipalities=[town, twin])
    indicator = IndicatorFactory(programme=programme, code="TD-1")
    today = timezone.localdate()
    for start, end in periods.periods_between(programme.start_date, programme.end_date, "quarterly", 1):
        Target.objects.create(indicator=indicator, municipality=town, period_start=start, period_end=end, value=50)
        if end <= today:
            Result.objects.create(
                indicator=indicator, municipality=town, period_start=start, period_end=end, value=50, status="approved"
            )
    national_target = NationalTargetFactory(code="NT-TD")
    AlignmentFactory(indicator=indicator, national_target=national_target)
    AlignmentFactory(indicator=indicator, national_target=None, funder_goal=FunderGoalFactory(donor=donor, code="G-TD"))
    recompute_all()
    force_global_snapshot()
    cache.clear()
    return {
        "programme": programme,
        "town": town,
        "superuser": UserFactory(is_superuser=True, is_staff=True),
        "donor_viewer": MembershipFactory(organisation=donor, role=Membership.Role.VIEWER).user,
    }


def page(client, user, url, language="en"):
    client.force_login(user)
    with translation.override(language):
        response = client.get(url)
    assert response.status_code == 200, url
    return html.fromstring(response.content.decode())


def classes(element) -> list[str]:
    return element.get("class").split()


def badges(element) -> list[str]:
    return [classes(span)[1] for span in element.xpath('.//span[contains(concat(" ", @class, " "), " status ")]')]


def fill(element) -> str:
    return classes(element.xpath('.//*[contains(concat(" ", @class, " "), " fill ")]')[0])[1]


def urls(world, language="en"):
    with translation.override(language):
        return {
            "ministry": reverse("ministry_dashboard"),
            "donor": reverse("donor_dashboard"),
            "programme": reverse("programme_detail", args=[world["programme"].pk]),
            "municipality": reverse("municipality_detail", args=[world["town"].pk]),
        }


def test_each_page_colours_by_status_to_date_with_the_life_of_programme_beside_it(client, halfway):
    world = halfway
    at = urls(world)
    ministry = page(client, world["superuser"], at["ministry"])
    (row,) = ministry.xpath('//table[@id="national-targets"]//tr[@data-national-target="NT-TD"]')
    assert fill(row) == "on_track" and badges(row) == ["below"]  # the LoP's, beside
    (cell,) = ministry.xpath('//table[@id="matrix"]//td[contains(@class, "cell")]')
    assert badges(cell) == ["on_track"]
    (overview,) = [
        tr for tr in ministry.xpath('//table[@id="municipality-overview"]/tbody/tr') if "Ghadames" in tr.text_content()
    ]
    assert [td.text_content() for td in overview.xpath("./td")][-3:] == ["0", "1", "0"]  # on track to date

    donor = page(client, world["donor_viewer"], at["donor"])
    (row,) = donor.xpath('//table[@id="donor-indicators"]//tr[@data-indicator="TD-1"]')
    assert fill(row) == "on_track" and badges(row) == ["on_track", "below"]
    (goal,) = donor.xpath('//ul[@id="goal-tree"]/li')
    assert fill(goal) == "on_track" and badges(goal) == ["below"]
    counts = {
        classes(item.xpath("./span")[0])[1]: item.text_content().split()[-1]
        for item in donor.xpath('//section[@aria-labelledby="programmes-heading"]//ul[@class="legend"]/li')
    }
    assert counts["on_track"] == "1" and counts["below"] == "0"

    programme = page(client, world["superuser"], at["programme"])
    (row,) = programme.xpath('//table[@id="iptt"]//tr[@data-indicator="TD-1"]')
    assert badges(row)[-3:] == ["on_track", "on_track", "below"]  # % to date, status to date, LoP status
    assert row.xpath('./td[@class="num lop-actual"]')[0].text_content() != "—"

    municipality = page(client, world["superuser"], at["municipality"])
    (row,) = municipality.xpath('//table[@id="municipality-indicators"]//tr[@data-indicator="TD-1"]')
    assert fill(row) == "on_track" and badges(row) == ["below"]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["of the target to date", "no target is due yet"]),
        ("ar", ["من المستهدف حتى تاريخه", "وفق الخطة"]),
    ],
)
def test_every_page_that_colours_has_a_legend_in_both_languages(client, halfway, language, words):
    at = urls(halfway, language)
    for name, url in at.items():
        user = halfway["donor_viewer"] if name == "donor" else halfway["superuser"]
        tree = page(client, user, url, language)
        (legend,) = tree.xpath('//div[@class="status-legend"]')
        assert [classes(span)[1] for span in legend.xpath(".//li/span")] == LEGEND, name
        text = " ".join(legend.text_content().split())
        for word in words:
            assert word in text, (name, word)
        for percent in ("85", "115"):
            assert percent in text


OWN_TEMPLATES = [
    "web/ministry_dashboard.html",
    "web/donor_dashboard.html",
    "web/programme_detail.html",
    "web/municipality_detail.html",
    "web/includes/legend.html",
    "web/includes/progress.html",
    "web/includes/lop.html",
    "web/includes/goal_node.html",
    "web/includes/status.html",
]


@pytest.mark.parametrize("name", OWN_TEMPLATES)
def test_the_pages_need_no_inline_script_or_style(name):
    """A Content-Security-Policy without 'unsafe-inline' must not break them."""
    text = (Path(settings.BASE_DIR) / "templates" / name).read_text(encoding="utf-8")
    assert not re.search(r"<script|\sstyle=|\son[a-z]+=", text, re.IGNORECASE), name


def test_the_programme_page_iptt_per_scope_as_of_a_date_with_its_breakdown(client, halfway):
    world = halfway
    url = urls(world)["programme"]
    tree = page(client, world["superuser"], f"{url}?scope=municipality&scope_id={world['town'].pk}&as_of=2025-06-30")
    links = {a.text_content(): a for a in tree.xpath('//ul[@id="iptt-scopes"]//a')}
    assert links["Ghadames"].get("aria-current") == "page"
    assert links["Whole programme"].get("href") == "?as_of=2025-06-30#iptt-heading"
    downloads = [a.get("href") for a in tree.xpath("//a[@download]") if "iptt" in a.get("href")]
    assert downloads == [
        f"/api/v1/reports/iptt/?programme={world['programme'].pk}&scope=municipality&scope_id={world['town'].pk}"
        f"&as_of=2025-06-30&format={output}&lang=en"  # the page's language, whatever the browser's
        for output in ("csv", "xlsx")
    ]
    (row,) = tree.xpath('//table[@id="iptt"]//tr[@data-indicator="TD-1"]')
    # As of 30 June 2025: two quarters of 50 due and reported.
    assert [td.text_content().strip() for td in row.xpath("./td")][-7:-4] == ["100", "100.0\xa0%", "On track"]
    assert tree.xpath('//input[@name="as_of"]')[0].get("value") == "2025-06-30"


def test_a_bad_as_of_on_the_page_is_said_beside_the_field_and_the_typing_kept(client, halfway):
    world = halfway
    tree = page(client, world["superuser"], f"{urls(world)['programme']}?as_of=30.06.2025")
    field = tree.xpath('//input[@name="as_of"]')[0]
    assert field.get("value") == "30.06.2025" and field.get("aria-invalid") == "true"
    assert "day/month/year" in tree.xpath('//div[@id="iptt-as-of-error"]')[0].text_content()
    assert tree.xpath('//table[@id="iptt"]//tr[@data-indicator="TD-1"]')  # today's IPTT is still shown
    other = page(client, world["superuser"], f"{urls(world)['programme']}?scope=twinning&scope_id=999999")
    assert "Choose a twinning or a municipality of this programme." in other.text_content()


def test_a_progress_bar_fills_from_the_start_side_without_a_style_attribute(client, halfway):
    tree = page(client, halfway["superuser"], urls(halfway)["ministry"])
    (row,) = tree.xpath('//tr[@data-national-target="NT-TD"]')
    (bar,) = row.xpath('.//*[@role="progressbar"]')
    assert bar.get("aria-valuenow") == "100" and bar.xpath(".//rect")[0].get("width") == "100"
