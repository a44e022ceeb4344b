"""The registry's pages: who opens which, importing, reviewing, mapping locations and sectors,
the 3W page with its map, in English and Arabic, without inline scripts or styles."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from registry import services
from registry.models import IatiImport, Intervention, InterventionLocation, LocationAlias, OverlapCandidate, SectorTheme

from .conftest import activity, iati_file, registry_file
from .test_iati_import import BOMB

pytestmark = pytest.mark.django_db

UBARI = "<location><name><narrative>Ubari</narrative></name><point><pos>26.59 12.77</pos></point></location>"


@pytest.fixture
def imported(world):
    services.iati_import_create(source=io.BytesIO(registry_file()), file_name="registry.xml")
    services.iati_import_create(source=iati_file(activity("XU-1", location=UBARI)), file_name="ubari.xml")
    services.overlap_candidates_refresh()
    return world


def client_for(world, name=None):
    client = Client()
    if name:
        client.force_login(world.users[name])
    return client


PAGES = {
    "home": lambda w: reverse("registry_home"),
    "intervention_p1": lambda w: reverse(
        "registry_intervention", args=[Intervention.objects.get(programme=w.programmes["p1"]).pk]
    ),
    "candidates": lambda w: reverse("registry_candidates"),
    "3w": lambda w: reverse("registry_3w"),
    "imports": lambda w: reverse("registry_imports"),
    "import": lambda w: reverse("registry_import", args=[IatiImport.objects.first().pk]),
    "locations": lambda w: reverse("registry_locations"),
    "sector_themes": lambda w: reverse("registry_sector_themes"),
}
ROLES = [None, "ministry_viewer", "ministry_approver", "donor_a_viewer", "donor_b_viewer", "municipality_x_editor"]
EXPECTED = {
    "home": [302, 200, 200, 200, 200, 200],
    "intervention_p1": [302, 200, 200, 200, 404, 200],
    "candidates": [302, 200, 200, 200, 200, 200],
    "3w": [302, 200, 200, 200, 200, 200],
    "imports": [302, 403, 200, 403, 403, 403],
    "import": [302, 403, 200, 403, 403, 403],
    "locations": [302, 403, 200, 403, 403, 403],
    "sector_themes": [302, 403, 200, 403, 403, 403],
}


@pytest.mark.parametrize("page", list(PAGES))
def test_who_opens_which_page(imported, page):
    url = PAGES[page](imported)
    got = [client_for(imported, role).get(url).status_code for role in ROLES]
    assert got == EXPECTED[page]


def test_the_review_queue_shows_a_donor_its_own_pairs_only(imported):
    ministry = client_for(imported, "ministry_viewer").get(reverse("registry_candidates")).content.decode()
    donor_a = client_for(imported, "donor_a_viewer").get(reverse("registry_candidates")).content.decode()
    donor_b = client_for(imported, "donor_b_viewer").get(reverse("registry_candidates")).content.decode()
    assert ministry.count('id="candidate-') == 2
    assert donor_a.count('id="candidate-') == 1 and "Save decision" not in donor_a
    assert 'id="no-candidates"' in donor_b


def test_uploading_a_file_on_the_page(world):
    client = client_for(world, "ministry_approver")
    upload = SimpleUploadedFile("activities.xml", registry_file(), "application/xml")
    response = client.post(reverse("registry_imports"), {"file": upload})
    record = IatiImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("registry_import", args=[record.pk])
    page = client.get(response["Location"]).content.decode()
    assert "4 created, 0 updated, 0 unchanged, 1 skipped (not in Libya)" in page


def test_an_xml_bomb_on_the_page_is_a_message_and_nothing_is_written(world):
    client = client_for(world, "ministry_approver")
    response = client.post(reverse("registry_imports"), {"file": SimpleUploadedFile("bomb.xml", BOMB, "text/xml")})
    assert response.status_code == 400
    assert "declares a document type" in response.content.decode()
    assert not IatiImport.objects.exists() and not Intervention.objects.filter(source="iati").exists()


def test_an_invalid_activity_is_listed_with_its_xpath_on_the_import_page(world):
    content = iati_file(activity("XA-1"), activity("XA-2", currency="ZZZ")).getvalue()
    client = client_for(world, "ministry_approver")
    response = client.post(reverse("registry_imports"), {"file": SimpleUploadedFile("a.xml", content, "text/xml")})
    page = client.get(response["Location"]).content.decode()
    assert "/iati-activities/iati-activity[2]/@default-currency" in page
    assert "Unknown currency ZZZ" in page


def test_reviewing_a_pair_on_the_page(imported):
    candidate = OverlapCandidate.objects.get(intervention_a__iati_identifier="XA-1")
    url = reverse("registry_candidate_review", args=[candidate.pk])
    data = {
        f"{candidate.pk}-status": "cofunded",
        f"{candidate.pk}-note": "Two phases of one plan.",
        "next": "/en/registry/candidates/",
    }
    assert client_for(imported, "donor_a_viewer").post(url, data).status_code == 403
    response = client_for(imported, "ministry_approver").post(url, data)
    assert response.status_code == 302 and response["Location"] == "/en/registry/candidates/"
    candidate.refresh_from_db()
    assert (candidate.status, candidate.note, candidate.reviewed_by.username) == (
        "cofunded",
        "Two phases of one plan.",
        "ministry_approver",
    )
    # Once reviewed, the detector leaves it as it is.
    services.overlap_candidates_refresh()
    candidate.refresh_from_db()
    assert candidate.status == "cofunded"
    listed = (
        client_for(imported, "ministry_viewer")
        .get(reverse("registry_candidates") + "?status=cofunded")
        .content.decode()
    )
    assert "Two phases of one plan." in listed


def test_mapping_an_unmatched_location_on_the_page(imported):
    location = InterventionLocation.objects.get(name="Ubari")
    client = client_for(imported, "ministry_approver")
    page = client.get(reverse("registry_locations")).content.decode()
    assert f'id="location-{location.pk}"' in page
    bad = client.post(
        reverse("registry_locations"), {"location": location.pk, f"l{location.pk}-municipality": imported.orgs["y"].pk}
    )
    assert bad.status_code == 400 and not LocationAlias.objects.exists()
    response = client.post(
        reverse("registry_locations"), {"location": location.pk, f"l{location.pk}-municipality": imported.orgs["z"].pk}
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert (location.municipality, location.matched_by) == (imported.orgs["z"], "alias")
    assert f'id="location-{location.pk}"' not in client.get(reverse("registry_locations")).content.decode()


def test_keeping_the_sector_mapping_on_the_page(world):
    client = client_for(world, "ministry_approver")
    theme = world.workstreams["p1"].theme
    bad = client.post(reverse("registry_sector_themes"), {"dac_code": "00000", "theme": theme.pk})
    assert bad.status_code == 400 and "is not a DAC sector code" in bad.content.decode()
    assert client.post(reverse("registry_sector_themes"), {"dac_code": "15128", "theme": theme.pk}).status_code == 302
    mapping = SectorTheme.objects.get(dac_code="15128")
    assert client.post(reverse("registry_sector_themes"), {"delete": mapping.pk}).status_code == 302
    assert not SectorTheme.objects.filter(dac_code="15128").exists()


def test_the_3w_page_draws_a_map_without_scripts_or_inline_styles(imported):
    candidate = OverlapCandidate.objects.get(intervention_a__iati_identifier="XA-1")
    services.overlap_candidate_review(candidate=candidate, status="duplicate", user=imported.users["ministry_approver"])
    for language in ("en", "ar"):
        response = client_for(imported, "ministry_viewer").get(f"/{language}/registry/3w/")
        page = response.content.decode()
        assert response.status_code == 200
        assert "<svg" in page and 'id="registry-map"' in page
        main = page.split("<main", 1)[1].split("</main>", 1)[0]
        assert "<script" not in main and " style=" not in page  # the map needs no script
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # and the page has no inline one
        # Ghadames has a point: a red circle (a confirmed duplicate), sized by its donors.
        point = page.split(f'data-municipality="{imported.orgs["x"].pk}"')[1].split("</g>")[0]
        assert 'fill="#b3261e"' in point
        assert "٫" not in point.split("<title>")[0]  # coordinates are never localised
    arabic = client_for(imported, "ministry_viewer").get("/ar/registry/3w/").content.decode()
    assert 'dir="rtl"' in arabic and "غدامس" in arabic and "من يعمل ماذا وأين" in arabic


def test_a_crowded_3w_cell_names_its_first_interventions_and_links_the_rest(world):
    titles = [f"Revenue project {n}" for n in range(1, 8)]
    services.iati_import_create(
        source=iati_file(*[activity(f"XC-{n}", title_en=title) for n, title in enumerate(titles, 1)]),
        file_name="crowded.xml",
    )
    client = client_for(world, "ministry_viewer")
    page = client.get(reverse("registry_3w")).content.decode()
    ghadames, theme = world.orgs["x"], world.workstreams["p1"].theme
    row = next(row for row in page.split("<tr>") if "Revenue project" in row)
    shown = [title for title in titles if title in row]
    # Ghadames × local revenue holds the seven projects and programme P1: five named in title order
    # (P1's first), three linked.
    assert len(shown) == 4 and world.programmes["p1"].name_en in row
    link = re.search(r'<a href="([^"]+)" class="more">and 3 more</a>', row)
    assert link is not None
    assert link[1] == f"{reverse('registry_home')}?municipality={ghadames.pk}&amp;theme={theme.pk}"
    listed = client.get(link[1].replace("&amp;", "&")).content.decode()
    assert all(title in listed for title in titles)
    arabic = client.get("/ar" + reverse("registry_3w")[3:]).content.decode()
    assert "و3 تدخّلات أخرى" in arabic


def test_the_ministry_dashboard_shows_the_registry_and_confirmed_duplicates(imported):
    candidate = OverlapCandidate.objects.get(intervention_a__iati_identifier="XA-1")
    services.overlap_candidate_review(candidate=candidate, status="duplicate", user=imported.users["ministry_approver"])
    page = client_for(imported, "ministry_viewer").get(reverse("ministry_dashboard")).content.decode()
    block = page.split('id="registry-overlaps"')[1].split("</section>")[0]
    assert "5 interventions from donors' IATI files and 2 programmes tracked here." in block
    assert "Municipal revenue in Ghadames" in block.split('id="confirmed-duplicates"')[1]


def test_the_main_navigation_links_the_registry(imported):
    page = client_for(imported, "donor_b_viewer").get(reverse("registry_home")).content.decode()
    assert f'href="{reverse("registry_home")}" aria-current="page"' in page
