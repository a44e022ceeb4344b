"""Importing IATI activity files (docs/registry.md "Import"): what is read, idempotence, one
activity whole or not at all, and every kind of bad input refused with a clear message."""

import io

import pytest
from django.core.exceptions import ValidationError

from partners.models import Organisation
from registry import services
from registry.models import IatiImport, Intervention, InterventionLocation, LocationAlias

from .conftest import activity, iati_file, run_import

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything an import writes about interventions, to compare before and after."""
    rows = []
    for i in Intervention.objects.order_by("pk").prefetch_related("donors", "municipalities", "themes"):
        rows.append(
            (
                i.pk,
                i.iati_identifier,
                i.title_en,
                i.title_ar,
                i.budget,
                i.updated_at,
                sorted(d.pk for d in i.donors.all()),
                sorted(m.pk for m in i.municipalities.all()),
                sorted(t.pk for t in i.themes.all()),
                list(i.locations.values_list("pk", "name", "municipality_id")),
                list(i.budgets.values_list("pk", "value")),
            )
        )
    return rows


def test_an_activity_is_read_whole(places):
    extra = """
    <participating-org ref="DE-1" role="1" type="10">
      <narrative>BMZ</narrative>
      <narrative xml:lang="ar">الوزارة الاتحادية</narrative>
      </participating-org>
    <participating-org role="4" type="22"><narrative>Nalut Environment Association</narrative></participating-org>
    <description type="1">
      <narrative>Fee registers.</narrative>
      <narrative xml:lang="ar">سجلات الرسوم.</narrative>
      </description>
    <sector vocabulary="2" code="151"/>
    <transaction>
      <transaction-type code="2"/>
      <transaction-date iso-date="2025-01-15"/>
      <value currency="EUR" value-date="2025-01-15">90000</value>
      </transaction>
    <transaction>
      <transaction-type code="3"/>
      <transaction-date iso-date="2025-03-15"/>
      <value value-date="2025-03-15">40000</value>
      </transaction>
    <transaction>
      <transaction-type code="3"/>
      <transaction-date iso-date="2025-04-15"/>
      <value currency="USD" value-date="2025-04-15">5</value>
      </transaction>
    <related-activity ref="XM-DAC-41114-PARENT" type="1"/>"""
    record = run_import(
        activity("XM-DAC-41114-A1", title_ar="تنمية الإيرادات المحلية في غدامس", extra=extra),
    )
    assert (record.status, record.activities_created, record.iati_version) == ("imported", 1, "2.03")
    intervention = Intervention.objects.get(iati_identifier="XM-DAC-41114-A1")
    assert intervention.source == "iati" and intervention.programme is None
    assert (intervention.title_en, intervention.title_ar) == (
        "Local revenue development in Ghadames",
        "تنمية الإيرادات المحلية في غدامس",
    )
    assert intervention.description_ar == "سجلات الرسوم."
    assert intervention.status == "implementation"
    assert (intervention.start_date.isoformat(), intervention.end_date.isoformat()) == ("2025-01-01", "2026-12-31")
    assert intervention.sectors == ["15114"] and intervention.sector_categories == ["151"]
    assert (str(intervention.budget), intervention.currency) == ("100000.00", "EUR")
    assert (str(intervention.committed), str(intervention.disbursed)) == ("90000.00", "40000.00")
    assert intervention.related_identifiers == ["XM-DAC-41114-PARENT"]
    assert list(intervention.municipalities.all()) == [places["municipalities"]["ghadames"]]
    assert set(intervention.themes.values_list("code", flat=True)) == {"local-revenue"}
    undp = Organisation.objects.get(iati_ref="XM-DAC-41114")
    bmz = Organisation.objects.get(iati_ref="DE-1")
    association = Organisation.objects.get(name_en="Nalut Environment Association")
    assert (undp.kind, bmz.kind, bmz.name_ar, bmz.country) == ("donor", "donor", "الوزارة الاتحادية", "DE")
    assert (association.kind, association.country) == ("cso", "LY")
    assert intervention.reporting_org == undp
    assert set(intervention.donors.all()) == {undp, bmz}
    assert list(intervention.implementers.all()) == [association]
    assert intervention.transactions.count() == 3


def test_reimporting_the_same_file_changes_nothing(places):
    first = run_import(activity("XM-1"), activity("XM-2", title_en="Solid waste collection in Nalut"))
    assert first.activities_created == 2
    before = snapshot()
    organisations = Organisation.objects.count()
    again = run_import(activity("XM-1"), activity("XM-2", title_en="Solid waste collection in Nalut"))
    assert (again.activities_created, again.activities_updated, again.activities_unchanged) == (0, 0, 2)
    assert snapshot() == before
    assert Organisation.objects.count() == organisations


def test_a_newer_last_updated_datetime_updates_and_an_older_one_does_not(places):
    run_import(activity("XM-1", updated="2026-01-01T00:00:00Z"))
    older = run_import(activity("XM-1", updated="2025-06-01T00:00:00Z", title_en="An older title"))
    assert older.activities_unchanged == 1
    assert Intervention.objects.get(iati_identifier="XM-1").title_en == "Local revenue development in Ghadames"
    newer = run_import(
        activity(
            "XM-1",
            updated="2026-02-01T00:00:00Z",
            title_en="Local revenue in Nalut",
            location="<location><name><narrative>Nalut</narrative></name></location>",
        )
    )
    assert newer.activities_updated == 1
    intervention = Intervention.objects.get(iati_identifier="XM-1")
    assert intervention.title_en == "Local revenue in Nalut"
    assert list(intervention.municipalities.all()) == [places["municipalities"]["nalut"]]
    assert intervention.locations.count() == 1
    assert Intervention.objects.count() == 1


def test_without_last_updated_a_changed_activity_updates(places):
    run_import(activity("XM-1", updated=None))
    assert run_import(activity("XM-1", updated=None)).activities_unchanged == 1
    assert run_import(activity("XM-1", updated=None, title_en="Another title")).activities_updated == 1


def test_only_libyan_activities_are_kept(places):
    tunisian = activity(
        "XM-TN",
        country="TN",
        location="<location><name><narrative>Le Kef</narrative></name><point><pos>36.17 8.70</pos></point></location>",
    )
    libyan_by_point = activity(
        "XM-UBARI",
        country="",
        location="<location><name><narrative>Ubari</narrative></name><point><pos>26.59 12.77</pos></point></location>",
    )
    record = run_import(tunisian, libyan_by_point)
    assert (record.activities_created, record.activities_skipped) == (1, 1)
    assert list(Intervention.objects.values_list("iati_identifier", flat=True)) == ["XM-UBARI"]


def test_an_invalid_activity_is_reported_with_its_xpath_and_the_others_go_in(places):
    invalid = activity("XM-BAD", extra='<budget><value currency="EUR">lots</value></budget>')
    record = run_import(activity("XM-1"), invalid, activity("XM-3"))
    assert (record.status, record.activities_created) == ("partial", 2)
    assert record.errors == [
        {
            "activity": "XM-BAD",
            "path": "/iati-activities/iati-activity[2]/budget[2]/value",
            "message": "A value is a decimal number below 10^16, for example 250000.00.",
        }
    ]
    assert set(Intervention.objects.values_list("iati_identifier", flat=True)) == {"XM-1", "XM-3"}
    assert not Organisation.objects.filter(iati_ref="XM-BAD").exists()


def test_an_unknown_currency_is_named_with_its_place(places):
    record = run_import(
        activity(
            "XM-1",
            currency="",
            extra='<transaction><transaction-type code="3"/><value currency="ABC">5</value></transaction>',
        )
    )
    assert record.status == "failed" and not Intervention.objects.exists()
    [error] = record.errors
    assert error["path"] == "/iati-activities/iati-activity[1]/budget/value/@currency"
    assert "no currency" in error["message"]
    record = run_import(
        activity("XM-2", extra='<transaction><transaction-type code="3"/><value currency="ABC">5</value></transaction>')
    )
    [error] = record.errors
    assert error["path"] == "/iati-activities/iati-activity[1]/transaction/value/@currency"
    assert error["message"] == "Unknown currency ABC: use an ISO 4217 code such as USD, EUR or LYD."


def test_other_activity_errors(places):
    record = run_import(
        activity("XM-1", sector='<sector vocabulary="1" code="99999"/>'),
        activity("XM-2", dates=("2026-01-01", "2025-01-01")),
        activity("XM-3", location="<location><point><pos>north</pos></point></location>"),
        activity("XM-4"),
        activity("XM-4", title_en="The same identifier again"),
    )
    messages = {(e["activity"], e["path"]): e["message"] for e in record.errors}
    assert messages[("XM-1", "/iati-activities/iati-activity[1]/sector/@code")].startswith("99999 is not a DAC")
    assert (
        messages[("XM-2", "/iati-activities/iati-activity[2]/activity-date")] == "The activity ends before it starts."
    )
    assert "latitude and longitude" in messages[("XM-3", "/iati-activities/iati-activity[3]/location/point/pos")]
    assert "appears twice" in messages[("XM-4", "/iati-activities/iati-activity[5]/iati-identifier")]
    assert list(Intervention.objects.values_list("iati_identifier", "title_en")) == [
        ("XM-4", "Local revenue development in Ghadames")
    ]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<iati-activities version="2.03"><iati-activity><iati-identifier>XM-BOMB</iati-identifier>
<title><narrative>&lol9;</narrative></title><recipient-country code="LY"/></iati-activity></iati-activities>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE iati-activities [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<iati-activities version="2.03"><iati-activity><iati-identifier>XM-XXE</iati-identifier>
<title><narrative>&secret;</narrative></title><recipient-country code="LY"/></iati-activity></iati-activities>"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BOMB, "declares a document type"),
        (XXE, "declares a document type"),
        (b"PK\x03\x04 not xml at all", "The file is not XML"),
        (b"", "The file is not XML"),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "root element is <rss>, not <iati-activities>"),
        (b"<iati-organisations version='2.03'/>", "IATI organisation file"),
        (b"<iati-activities version='1.05'><iati-activity/></iati-activities>", "version 1.05"),
        (b"<iati-activities version='2.03'></iati-activities>", "no iati-activity"),
    ],
    ids=[
        "xml-bomb",
        "external-entity",
        "not-xml",
        "empty",
        "not-iati",
        "organisation-file",
        "version-1",
        "no-activity",
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(places, content, message):
    with pytest.raises(ValidationError) as refused:
        services.iati_import_create(source=io.BytesIO(content), file_name="bad.xml")
    assert message in refused.value.message_dict["file"][0]
    assert not Intervention.objects.exists() and not IatiImport.objects.exists()
    assert "root:" not in str(refused.value)  # the external entity was never read


def test_a_file_broken_half_way_writes_nothing(places):
    text = iati_file(activity("XM-1"), activity("XM-2")).getvalue().replace(b"</iati-activities>", b"<iati-activity>")
    with pytest.raises(ValidationError) as refused:
        services.iati_import_create(source=io.BytesIO(text), file_name="cut.xml")
    assert "not well-formed XML at line" in refused.value.message_dict["file"][0]
    assert not Intervention.objects.exists()


def test_locations_match_by_place_code_arabic_name_and_point(places):
    m = places["municipalities"]
    record = run_import(
        activity("XM-CODE", location='<location><location-id vocabulary="A9" code="ly010302"/></location>'),
        activity(
            "XM-NAME", location='<location><name><narrative xml:lang="ar">بلديةُ زوارة</narrative></name></location>'
        ),
        activity(
            "XM-POINT",
            location="<location><name><narrative>Old town</narrative></name>"
            "<point><pos>30.14 9.52</pos></point></location>",
        ),
        activity(
            "XM-NONE",
            location="<location><name><narrative>Ubari</narrative></name>"
            "<point><pos>26.59 12.77</pos></point></location>",
        ),
    )
    assert record.activities_created == 4
    matched = dict(InterventionLocation.objects.values_list("intervention__iati_identifier", "municipality_id"))
    assert matched == {
        "XM-CODE": m["nalut"].pk,
        "XM-NAME": m["zuwara"].pk,
        "XM-POINT": m["ghadames"].pk,
        "XM-NONE": None,
    }
    by = dict(InterventionLocation.objects.values_list("intervention__iati_identifier", "matched_by"))
    assert by == {"XM-CODE": "pcode", "XM-NAME": "name", "XM-POINT": "point", "XM-NONE": ""}


def test_a_location_mapped_once_is_remembered(places):
    ubari = "<location><name><narrative>Ubari</narrative></name></location>"
    run_import(activity("XM-1", location=ubari), activity("XM-2", location=ubari))
    location = InterventionLocation.objects.filter(intervention__iati_identifier="XM-1").get()
    assert location.municipality is None
    zuwara = places["municipalities"]["zuwara"]
    services.location_alias_create(location=location, municipality=zuwara)
    # Both stored locations of that name moved, and so did their interventions.
    assert set(InterventionLocation.objects.values_list("municipality_id", flat=True)) == {zuwara.pk}
    assert list(Intervention.objects.get(iati_identifier="XM-2").municipalities.all()) == [zuwara]
    # A later import matches the name without asking.
    run_import(activity("XM-3", location="<location><name><narrative>UBARI</narrative></name></location>"))
    third = InterventionLocation.objects.get(intervention__iati_identifier="XM-3")
    assert (third.municipality, third.matched_by) == (zuwara, "alias")
    assert LocationAlias.objects.count() == 1


def test_mapping_a_location_to_a_foreign_municipality_is_refused(places):
    run_import(activity("XM-1", location="<location><name><narrative>Ubari</narrative></name></location>"))
    location = InterventionLocation.objects.get()
    foreign = Organisation.objects.create(kind="municipality", name_en="Tinley Park", country="US")
    with pytest.raises(ValidationError) as refused:
        services.location_alias_create(location=location, municipality=foreign)
    assert "municipality" in refused.value.message_dict
    assert not LocationAlias.objects.exists()


def test_versions_2_01_and_2_02_are_read(places):
    assert run_import(activity("XM-1"), version="2.01").activities_created == 1
    assert run_import(activity("XM-2"), version="2.02").activities_created == 1


def test_an_organisation_is_named_in_the_language_the_file_gives(places):
    """A name published in one language is stored in that one; the other stays empty, so the
    pages mark it as missing instead of showing English text as Arabic."""
    extra = """
    <participating-org ref="DE-1" role="1" type="10"><narrative>BMZ</narrative></participating-org>
    <participating-org role="4" type="22"><narrative xml:lang="ar">جمعية نالوت للبيئة</narrative></participating-org>"""
    arabic_file = activity(
        "XM-2",
        extra='<participating-org role="4" type="22"><narrative>جمعية غدامس للتراث</narrative></participating-org>',
    ).replace("<iati-activity ", '<iati-activity xml:lang="ar" ', 1)
    record = run_import(activity("XM-1", extra=extra), arabic_file)
    assert record.activities_created == 2, record.errors
    bmz = Organisation.objects.get(iati_ref="DE-1")
    assert (bmz.name_en, bmz.name_ar) == ("BMZ", "")
    undp = Organisation.objects.get(iati_ref="XM-DAC-41114")
    assert (undp.name_en, undp.name_ar) == ("United Nations Development Programme", "")
    nalut = Organisation.objects.get(name_ar="جمعية نالوت للبيئة")
    assert (nalut.name_en, nalut.kind) == ("", "cso")
    # The activity declares Arabic: its narratives without xml:lang are Arabic.
    assert Organisation.objects.get(name_ar="جمعية غدامس للتراث").name_en == ""
    # Imported again, they are found by the name they have, not created twice.
    count = Organisation.objects.count()
    run_import(activity("XM-3", extra=extra))
    assert Organisation.objects.count() == count
