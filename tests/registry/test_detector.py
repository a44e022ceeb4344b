"""The duplicate detector and its review (docs/registry.md "Duplicates"): candidates between
donors in Arabic and English, a review that stands until the facts change, programmes tracked
here as interventions, and a fixed number of queries whatever the registry's size."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.models import Organisation
from projects import services as project_services
from registry import services
from registry.models import Intervention, InterventionCell, OverlapCandidate, SectorTheme
from tests.factories import UserFactory

from .conftest import activity, run_import

pytestmark = pytest.mark.django_db


def pair_of(a: str, b: str) -> OverlapCandidate | None:
    ids = sorted(Intervention.objects.filter(iati_identifier__in=[a, b]).values_list("id", flat=True))
    return OverlapCandidate.objects.filter(intervention_a_id=ids[0], intervention_b_id=ids[1]).first()


def test_titles_in_arabic_and_english_make_a_candidate_between_donors(places):
    run_import(
        activity(
            "XM-DAC-41114-1",
            title_en="Municipal finance support",
            title_ar="تنمية الإيرادات المحلية",
        ),
        activity(
            "XM-DAC-5-7-1",
            title_en="",
            title_ar="تَنْمِيَة الايرادات المحليه في بلدية غدامس",
            reporting_ref="XM-DAC-5-7",
            reporting_name="GIZ",
        ),
        activity(
            "XM-DAC-5-7-2", title_en="Local revenue development", reporting_ref="XM-DAC-5-7", reporting_name="GIZ"
        ),
        activity(
            "XI-IATI-EC-1",
            title_en="Local revenue development in Ghadames",
            reporting_ref="XI-IATI-EC",
            reporting_name="EU",
        ),
        activity("XI-IATI-EC-2", title_en="Solid waste collection", reporting_ref="XI-IATI-EC", reporting_name="EU"),
    )
    services.overlap_candidates_refresh()
    arabic = pair_of("XM-DAC-41114-1", "XM-DAC-5-7-1")
    english = pair_of("XM-DAC-5-7-2", "XI-IATI-EC-1")
    assert arabic is not None and english is not None
    for candidate in (arabic, english):
        assert candidate.status == "open" and candidate.score >= 60
        assert candidate.reasons[:5] == [
            "same_municipality",
            "same_theme",
            "same_sector",
            "dates_overlap",
            "similar_title",
        ]
    # The same place, theme and dates with an unrelated title: an overlap, not a candidate.
    assert pair_of("XM-DAC-41114-1", "XI-IATI-EC-2") is None
    # The same donor under two identifiers is a candidate too.
    assert "same_donor" in pair_of("XM-DAC-5-7-1", "XM-DAC-5-7-2").reasons


def test_a_dismissed_pair_stays_dismissed_unless_its_facts_change(places):
    first = activity("XM-A", title_en="Local revenue development")
    second = activity(
        "XM-B", title_en="Local revenue development in Ghadames", reporting_ref="XM-B-ORG", reporting_name="B"
    )
    run_import(first, second)
    services.overlap_candidates_refresh()
    candidate = pair_of("XM-A", "XM-B")
    reviewer = UserFactory()
    services.overlap_candidate_review(candidate=candidate, status="unrelated", note="Different wards.", user=reviewer)

    # Detector runs, a re-import of the same file: the review stands.
    run_import(first, second)
    services.overlap_candidates_refresh()
    services.overlap_candidates_refresh(intervention_ids=[candidate.intervention_a_id])
    candidate.refresh_from_db()
    assert (candidate.status, candidate.note, candidate.reviewed_by) == ("unrelated", "Different wards.", reviewer)

    # A newer version of one activity with other dates: the facts changed, the pair opens again.
    changed = activity(
        "XM-B",
        title_en="Local revenue development in Ghadames",
        reporting_ref="XM-B-ORG",
        reporting_name="B",
        updated="2026-03-01T00:00:00Z",
        dates=("2025-06-01", "2027-06-30"),
    )
    run_import(changed)
    services.overlap_candidates_refresh()
    candidate.refresh_from_db()
    assert (candidate.status, candidate.previous_status) == ("open", "unrelated")
    assert OverlapCandidate.objects.count() == 1


def test_a_pair_no_longer_found_goes_if_open_and_stays_if_reviewed(places):
    run_import(
        activity("XM-A", title_en="Local revenue development"),
        activity("XM-B", title_en="Local revenue development plan", reporting_ref="B", reporting_name="B"),
        activity("XM-C", title_en="Local revenue development", reporting_ref="C", reporting_name="C"),
    )
    services.overlap_candidates_refresh()
    reviewed = pair_of("XM-A", "XM-C")
    services.overlap_candidate_review(candidate=reviewed, status="cofunded", user=UserFactory())
    moved = "<location><name><narrative>Nalut</narrative></name></location>"
    run_import(activity("XM-A", title_en="Local revenue development", location=moved, updated="2026-05-01T00:00:00Z"))
    services.overlap_candidates_refresh()
    assert pair_of("XM-A", "XM-B") is None
    reviewed.refresh_from_db()
    assert reviewed.status == "cofunded"


def test_reviews_name_a_status_and_merge_nothing(places):
    run_import(
        activity("XM-A", title_en="Local revenue development"),
        activity("XM-B", title_en="Local revenue development", reporting_ref="B", reporting_name="B"),
    )
    services.overlap_candidates_refresh()
    candidate = pair_of("XM-A", "XM-B")
    with pytest.raises(ValidationError) as refused:
        services.overlap_candidate_review(candidate=candidate, status="merged", user=UserFactory())
    assert "status" in refused.value.message_dict
    services.overlap_candidate_review(candidate=candidate, status="duplicate", user=UserFactory())
    assert Intervention.objects.count() == 2  # nothing merged


@pytest.fixture
def programme(places):
    m = places["municipalities"]
    usaid = Organisation.objects.create(kind="donor", name_en="USAID", country="US", iati_ref="US-GOV-1")
    team = Organisation.objects.create(kind="implementer", name_en="Taqarub team", country="LY")
    tinley = Organisation.objects.create(kind="municipality", name_en="Tinley Park", country="US")
    taqarub = project_services.programme_create(
        code="TAQ",
        name_en="Taqarub",
        name_ar="تقارب",
        start_date=datetime.date(2024, 10, 1),
        end_date=datetime.date(2027, 9, 30),
        donors=[usaid],
        implementer=team,
        budget=Decimal("4500000"),
        iati_identifier="US-GOV-1-TAQ",
    )
    twinning = project_services.twinning_create(
        programme=taqarub, name_en="Ghadames – Tinley Park", municipalities=[m["ghadames"], tinley]
    )
    project_services.workstream_create(
        programme=taqarub,
        twinning=twinning,
        theme=places["themes"]["local-revenue"],
        name_en="Local revenue development",
        name_ar="تنمية الإيرادات المحلية",
        municipalities=[m["ghadames"], m["nalut"]],
    )
    project_services.workstream_create(
        programme=taqarub,
        twinning=twinning,
        theme=places["themes"]["womens-empowerment"],
        name_en="Women in municipal committees",
        municipalities=[m["zuwara"]],
    )
    return taqarub


def test_a_programme_is_an_intervention_where_its_workstreams_work(places, programme):
    intervention = services.programme_intervention_sync(programme_id=programme.pk)
    m, t = places["municipalities"], places["themes"]
    assert (intervention.source, intervention.programme, intervention.title_ar) == ("programme", programme, "تقارب")
    assert set(intervention.municipalities.all()) == {
        m["ghadames"],
        m["nalut"],
        m["zuwara"],
    }  # Tinley Park is not Libyan
    cells = set(InterventionCell.objects.filter(intervention=intervention).values_list("municipality_id", "theme_id"))
    assert cells == {
        (m["ghadames"].pk, t["local-revenue"].pk),
        (m["nalut"].pk, t["local-revenue"].pk),
        (m["zuwara"].pk, t["womens-empowerment"].pk),
    }
    assert [d.iati_ref for d in intervention.donors.all()] == ["US-GOV-1"]
    # Synchronising again changes nothing; deleting the programme removes its intervention.
    assert services.programme_intervention_sync(programme_id=programme.pk).pk == intervention.pk
    assert Intervention.objects.count() == 1
    programme.delete()
    assert services.programme_intervention_sync(programme_id=programme.pk) is None
    assert not Intervention.objects.exists()


def test_imported_work_pairs_with_a_programme_and_its_own_publication(places, programme):
    services.programme_intervention_refresh(programme_id=programme.pk)
    run_import(
        activity("XM-DAC-5-7-REV", title_en="", title_ar="تنمية الإيرادات المحلية في غدامس",
                 reporting_ref="XM-DAC-5-7"),
        activity("US-GOV-1-TAQ", title_en="Taqarub", reporting_ref="US-GOV-1", reporting_name="USAID",
                 location='<location><name><narrative>Zuwara</narrative></name></location>',
                 sector='<sector vocabulary="1" code="15170"/>'),
    )  # fmt: skip
    services.overlap_candidates_refresh()
    own = programme.intervention
    giz = Intervention.objects.get(iati_identifier="XM-DAC-5-7-REV")
    published = Intervention.objects.get(source="iati", iati_identifier="US-GOV-1-TAQ")
    duplicate = OverlapCandidate.objects.get(
        intervention_a=min(own, giz, key=lambda i: i.pk), intervention_b=max(own, giz, key=lambda i: i.pk)
    )
    assert "similar_title" in duplicate.reasons and duplicate.score >= 60
    same = OverlapCandidate.objects.get(intervention_a=own, intervention_b=published)
    assert "same_identifier" in same.reasons and same.score == 100
    # A workstream renamed changes the programme's facts: a reviewed pair opens again.
    services.overlap_candidate_review(candidate=duplicate, status="cofunded", user=UserFactory())
    workstream = programme.workstreams.get(name_en="Local revenue development")
    project_services.workstream_update(workstream=workstream, name_en="Local revenue and fees")
    services.programme_intervention_refresh(programme_id=programme.pk)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.previous_status) == ("open", "cofunded")


def test_changing_the_sector_mapping_moves_the_themes_of_imported_work(places):
    run_import(activity("XM-1", sector='<sector vocabulary="1" code="15111"/>'))
    intervention = Intervention.objects.get()
    assert not intervention.themes.exists()
    mapping = services.sector_theme_create(dac_code="15111", theme=places["themes"]["local-revenue"])
    assert list(intervention.themes.values_list("code", flat=True)) == ["local-revenue"]
    assert InterventionCell.objects.filter(intervention=intervention, theme__code="local-revenue").count() == 1
    services.sector_theme_delete(mapping=mapping)
    assert not intervention.themes.exists()
    # A three-digit category maps every code in it.
    services.sector_theme_create(dac_code="151", theme=places["themes"]["capacity-building"])
    assert list(intervention.themes.values_list("code", flat=True)) == ["capacity-building"]
    with pytest.raises(ValidationError) as refused:
        services.sector_theme_create(dac_code="12345", theme=places["themes"]["capacity-building"])
    assert "dac_code" in refused.value.message_dict
    assert SectorTheme.objects.filter(dac_code="12345").count() == 0


def build(n: int):
    run_import(
        *[
            activity(
                f"XM-{n}-{i}",
                title_en=f"Local revenue development {i % 3}",
                reporting_ref=f"ORG-{i}",
                reporting_name=f"Donor {n} {i}",
            )
            for i in range(n)
        ]
    )


def test_the_detector_runs_a_fixed_number_of_queries(places):
    build(3)
    with CaptureQueriesContext(connection) as small:
        services.overlap_candidates_refresh()
    Intervention.objects.all().delete()
    build(12)
    with CaptureQueriesContext(connection) as large:
        outcome = services.overlap_candidates_refresh()
    assert outcome["created"] == 12 * 11 // 2
    assert len(large) == len(small)
