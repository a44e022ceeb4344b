"""IATI 2.03 activity XML for one programme (https://iatistandard.org/en/iati-standard/203/).

Titles and descriptions in English and Arabic (`xml:lang`); donors as funding (1) and extending
(3) organisations, the implementer and the municipalities as implementing (4); sectors from the
programme's themes (DAC 5-digit, vocabulary 1); SDG targets of the aligned national targets and
funder goals as tags (vocabulary 3); results from the stored rollups at programme scope, with
disaggregations as dimensions. The output validates against the official XSD.
"""

from collections import defaultdict
from decimal import Decimal

from django.utils import timezone
from lxml import etree

from common.text import exportable
from indicators.models import Alignment, Indicator
from partners.models import Organisation
from projects.access import Access
from projects.models import Programme, Workstream
from projects.selectors import programme_municipalities
from rollups.models import Rollup

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ACTIVITY_STATUS = {"planned": "1", "active": "2", "completed": "4", "suspended": "6"}
RESULT_TYPE = {"output": "1", "outcome": "2", "goal": "3"}
ORG_TYPE = {"donor": "10", "ministry": "10", "municipality": "10", "implementer": "21", "cso": "22", "other": "90"}
DEFAULT_SECTORS = ("15112", "15185")  # decentralisation and subnational government; local government administration


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _narratives(parent, english: str, arabic: str = "") -> None:
    """Text stored before control characters were refused is cleaned here, so one such row
    cannot make the whole export fail."""
    english, arabic = exportable(english), exportable(arabic)
    narrative = etree.SubElement(parent, "narrative")
    narrative.text = english or arabic or "-"
    if arabic:
        etree.SubElement(parent, "narrative", {XML_LANG: "ar"}).text = arabic


def _org(parent, tag: str, organisation: Organisation, **attributes) -> None:
    attrs = {**attributes, "type": ORG_TYPE.get(organisation.kind, "90")}
    if organisation.iati_ref:
        attrs["ref"] = organisation.iati_ref
    element = etree.SubElement(parent, tag, attrs)
    _narratives(element, organisation.name_en, organisation.name_ar or "")


def iati_activity_xml(*, programme: Programme, access: Access) -> bytes:
    """The programme (already checked visible to the user) as an IATI activities file."""
    now = timezone.now().replace(microsecond=0)
    donors = list(programme.donors.all())
    root = etree.Element("iati-activities", {"version": "2.03", "generated-datetime": now.isoformat()})
    activity = etree.SubElement(
        root,
        "iati-activity",
        {"last-updated-datetime": now.isoformat(), XML_LANG: "en", "default-currency": programme.currency},
    )
    identifier = programme.iati_identifier or f"XM-TWINNING-{programme.code}"
    etree.SubElement(activity, "iati-identifier").text = exportable(identifier)
    reporter = donors[0] if donors else programme.implementer
    if reporter is not None:
        _org(activity, "reporting-org", reporter, ref=reporter.iati_ref or f"XM-TWINNING-{reporter.pk}")
    _narratives(etree.SubElement(activity, "title"), programme.name_en, programme.name_ar or "")
    _narratives(
        etree.SubElement(activity, "description", {"type": "1"}),
        programme.description_en or programme.name_en,
        programme.description_ar or "",
    )
    for donor in donors:
        _org(activity, "participating-org", donor, role="1")
    for donor in donors:
        _org(activity, "participating-org", donor, role="3")
    if programme.implementer is not None:
        _org(activity, "participating-org", programme.implementer, role="4")
    for municipality in programme_municipalities(programme):
        _org(activity, "participating-org", municipality, role="4")
    etree.SubElement(activity, "activity-status", {"code": ACTIVITY_STATUS.get(programme.status, "2")})
    etree.SubElement(activity, "activity-date", {"iso-date": programme.start_date.isoformat(), "type": "1"})
    if programme.status in ("active", "completed"):
        etree.SubElement(activity, "activity-date", {"iso-date": programme.start_date.isoformat(), "type": "2"})
    etree.SubElement(activity, "activity-date", {"iso-date": programme.end_date.isoformat(), "type": "3"})
    etree.SubElement(activity, "recipient-country", {"code": "LY", "percentage": "100"})

    sectors = sorted(
        {s for s in Workstream.objects.filter(programme=programme).values_list("theme__dac_sector", flat=True) if s}
    ) or list(DEFAULT_SECTORS)
    shares = _split_percentages(len(sectors))
    for code, share in zip(sectors, shares, strict=True):
        etree.SubElement(activity, "sector", {"vocabulary": "1", "code": code, "percentage": share})

    sdgs = set()
    alignments = Alignment.objects.filter(indicator__programme=programme).filter(access.alignment_filter())
    for national, goal in alignments.values_list("national_target__sdg_targets", "funder_goal__sdg_targets"):
        sdgs.update(national or [])
        sdgs.update(goal or [])
    for code in sorted(sdgs, key=_sdg_key):
        tag = etree.SubElement(activity, "tag", {"vocabulary": "3", "code": code})
        _narratives(tag, f"SDG target {code}")

    if programme.budget is not None:
        budget = etree.SubElement(activity, "budget", {"type": "1", "status": "1"})
        etree.SubElement(budget, "period-start", {"iso-date": programme.start_date.isoformat()})
        etree.SubElement(budget, "period-end", {"iso-date": programme.end_date.isoformat()})
        value = etree.SubElement(
            budget, "value", {"currency": programme.currency, "value-date": programme.start_date.isoformat()}
        )
        value.text = _number(programme.budget)

    _results(activity, programme, access)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _sdg_key(code: str) -> tuple:
    goal, _dot, target = code.partition(".")
    return (int(goal) if goal.isdigit() else 0, not target.isdigit(), int(target) if target.isdigit() else 0, target)


def _split_percentages(count: int) -> list[str]:
    base = (Decimal(100) / count).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    shares = [base] * count
    shares[0] += Decimal(100) - base * count
    return [_number(share) for share in shares]


def _results(activity, programme: Programme, access: Access) -> None:
    indicators = list(Indicator.objects.filter(programme=programme).order_by("code", "id"))
    cells: dict[int, dict[tuple, list[Rollup]]] = defaultdict(lambda: defaultdict(list))
    rollups = (
        Rollup.objects.filter(
            indicator__programme=programme,
            scope=Rollup.Scope.PROGRAMME,
            scope_id=programme.pk,
            period_start__isnull=False,
        )
        .filter(access.rollup_filter())
        .order_by("period_start", "disaggregation_category", "disaggregation_option")
    )
    for rollup in rollups:
        cells[rollup.indicator_id][(rollup.period_start, rollup.period_end)].append(rollup)
    for indicator in indicators:
        result = etree.SubElement(
            activity, "result", {"type": RESULT_TYPE.get(indicator.level, "1"), "aggregation-status": "1"}
        )
        _narratives(etree.SubElement(result, "title"), indicator.name_en, indicator.name_ar or "")
        element = etree.SubElement(
            result,
            "indicator",
            {
                "measure": "2" if indicator.measure == Indicator.Measure.PERCENTAGE else "1",
                "ascending": "1" if indicator.direction == Indicator.Direction.INCREASE else "0",
            },
        )
        _narratives(etree.SubElement(element, "title"), indicator.name_en, indicator.name_ar or "")
        if indicator.baseline_value is not None:
            baseline_date = indicator.baseline_date or programme.start_date
            etree.SubElement(
                element,
                "baseline",
                {
                    "year": str(baseline_date.year),
                    "iso-date": baseline_date.isoformat(),
                    "value": _number(indicator.baseline_value),
                },
            )
        for (start, end), rows in sorted(cells.get(indicator.pk, {}).items()):
            period = etree.SubElement(element, "period")
            etree.SubElement(period, "period-start", {"iso-date": start.isoformat()})
            etree.SubElement(period, "period-end", {"iso-date": end.isoformat()})
            for kind in ("target", "actual"):
                for rollup in rows:
                    value = getattr(rollup, kind)
                    if value is None:
                        continue
                    cell = etree.SubElement(period, kind, {"value": _number(value)})
                    if rollup.disaggregation_category:
                        etree.SubElement(
                            cell,
                            "dimension",
                            {"name": rollup.disaggregation_category, "value": rollup.disaggregation_option},
                        )
