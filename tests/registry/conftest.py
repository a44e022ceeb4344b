"""Fixtures of the registry tests: Libyan municipalities with place codes and points, the
themes with the default sector mapping, and IATI files written in the test."""

import io
from decimal import Decimal

import pytest

from partners import services as partner_services
from projects.models import Theme
from registry import services
from tests.roles import build_world

ACTIVITY = """
  <iati-activity {attributes}>
    <iati-identifier>{identifier}</iati-identifier>
    <reporting-org ref="{reporting_ref}" type="40"><narrative>{reporting_name}</narrative></reporting-org>
    <title>{titles}</title>
    {body}
  </iati-activity>"""


def activity(
    identifier: str,
    *,
    title_en: str = "Local revenue development in Ghadames",
    title_ar: str = "",
    updated: str | None = "2026-01-01T00:00:00Z",
    currency: str = "EUR",
    reporting_ref: str = "XM-DAC-41114",
    reporting_name: str = "United Nations Development Programme",
    body: str | None = None,
    country: str = "LY",
    location: str = "<location><name><narrative>Ghadames</narrative></name></location>",
    sector: str = '<sector vocabulary="1" code="15114"/>',
    dates: tuple[str, str] = ("2025-01-01", "2026-12-31"),
    extra: str = "",
) -> str:
    attributes = [f'default-currency="{currency}"'] if currency else []
    if updated:
        attributes.append(f'last-updated-datetime="{updated}"')
    titles = f"<narrative>{title_en}</narrative>" if title_en else ""
    if title_ar:
        titles += f'<narrative xml:lang="ar">{title_ar}</narrative>'
    if body is None:
        body = f"""
    <participating-org ref="{reporting_ref}" role="1" type="40">
      <narrative>{reporting_name}</narrative>
    </participating-org>
    <activity-status code="2"/>
    <activity-date type="1" iso-date="{dates[0]}"/>
    <activity-date type="3" iso-date="{dates[1]}"/>
    {f'<recipient-country code="{country}"/>' if country else ""}
    {location}
    {sector}
    <budget type="1">
      <period-start iso-date="{dates[0]}"/><period-end iso-date="{dates[1]}"/>
      <value value-date="{dates[0]}">100000</value>
    </budget>
    {extra}"""
    return ACTIVITY.format(
        attributes=" ".join(attributes),
        identifier=identifier,
        reporting_ref=reporting_ref,
        reporting_name=reporting_name,
        titles=titles,
        body=body,
    )


def iati_file(*activities: str, version: str = "2.03") -> io.BytesIO:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="{version}">'
    return io.BytesIO((head + "".join(activities) + "\n</iati-activities>").encode("utf-8"))


def run_import(*activities: str, **kwargs):
    return services.iati_import_create(source=iati_file(*activities, **kwargs), file_name="test.xml")


@pytest.fixture
def places(db):
    """Ghadames, Nalut and Zuwara with place codes and points; the 17 demo theme codes (the
    ones the default mapping names) with the default sector mapping."""
    municipalities = {
        key: partner_services.organisation_create(
            kind="municipality",
            name_en=name_en,
            name_ar=name_ar,
            country="LY",
            pcode=pcode,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
        )
        for key, name_en, name_ar, pcode, lat, lon in (
            ("ghadames", "Ghadames", "غدامس", "LY010301", "30.13370", "9.50070"),
            ("nalut", "Nalut", "نالوت", "LY010302", "31.86850", "10.98120"),
            ("zuwara", "Zuwara", "زوارة", "LY010201", "32.93120", "12.08200"),
        )
    }
    from registry.sector_defaults import DEFAULT_SECTOR_THEMES

    themes = {
        code: Theme.objects.create(code=code, name_en=code.replace("-", " ").capitalize(), name_ar="محور " + code)
        for code in DEFAULT_SECTOR_THEMES
    }
    services.sector_themes_seed_defaults()
    return {"municipalities": municipalities, "themes": themes}


Z_LOCATION = "<location><name><narrative>Z</narrative></name></location>"


@pytest.fixture
def world(db):
    """The roles world of tests/roles.py with the registry: donor A publishes as "XA",
    Ghadames has a point, DAC 15114 maps to the local-revenue theme, and the two programmes
    are interventions."""
    w = build_world()
    partner_services.organisation_update(organisation=w.orgs["donor_a"], iati_ref="XA")
    partner_services.organisation_update(
        organisation=w.orgs["x"], latitude=Decimal("30.13370"), longitude=Decimal("9.50070")
    )
    theme = w.workstreams["p1"].theme
    services.sector_theme_create(dac_code="15114", theme=theme)
    for programme in w.programmes.values():
        services.programme_intervention_sync(programme_id=programme.pk)
    return w


def registry_file() -> bytes:
    return iati_file(
        activity("XA-1", title_en="Municipal revenue in Ghadames", reporting_ref="XA", reporting_name="Donor A"),
        activity("XC-1", title_en="Municipal revenue in Ghadames", reporting_ref="XC", reporting_name="Donor C"),
        activity(
            "XC-2", title_en="Waste collection in Z", reporting_ref="XC", reporting_name="Donor C", location=Z_LOCATION
        ),
        activity(
            "XD-2", title_en="Waste collection in Z", reporting_ref="XD", reporting_name="Donor D", location=Z_LOCATION
        ),
        activity("XT-1", title_en="Work in Tunisia", country="TN", location=""),
    ).getvalue()
