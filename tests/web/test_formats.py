"""Dates and numbers as the pages write them in each language (docs/pages.md): Western digits,
day before month, thousands grouped, percentages with one decimal."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from web.templatetags.twinning_web import num, pct

ARABIC_INDIC = set("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬")
EVENING = datetime(2026, 11, 30, 7, 45, tzinfo=ZoneInfo("Africa/Tripoli"))


def render(source: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load twinning_web %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ar", "30 نوفمبر 2026، 7:45 ص"), ("en", "30 November 2026, 7:45 AM")],
)
def test_a_moment_is_written_day_month_year(language, expected):
    assert render('{{ when|date:"DATETIME_FORMAT" }}', language, when=EVENING) == expected


@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_short_date_is_day_first_with_plain_slashes(language):
    # Django's own Arabic format puts right-to-left marks between the parts; ours is plain.
    assert render('{{ day|date:"SHORT_DATE_FORMAT" }}', language, day=date(2030, 12, 31)) == "31/12/2030"


@pytest.mark.parametrize("language", ["ar", "en"])
def test_large_numbers_are_grouped_with_western_digits(language):
    with translation.override(language):
        assert num(Decimal("4500000")) == "4,500,000"
        assert num(Decimal("1234.567")) == "1,234.57"
        assert render("{{ n|num }}", language, n=4500000) == "4,500,000"


@pytest.mark.parametrize("language", ["ar", "en"])
def test_percentages_have_one_decimal_unless_asked_for_two(language):
    with translation.override(language):
        assert pct(Decimal("61.5555")) == "61.6\u00a0%"
        assert pct(Decimal("47")) == "47.0\u00a0%"
        assert pct(Decimal("12345.04")) == "12,345.0\u00a0%"
        assert pct(Decimal("61.5555"), 2) == "61.56\u00a0%"
        assert pct(None) == "—"


def test_arabic_pages_never_write_arabic_indic_digits():
    text = render(
        '{{ when|date:"DATETIME_FORMAT" }} {{ day|date:"SHORT_DATE_FORMAT" }} {{ n|num }} {{ p|pct }}',
        "ar",
        when=EVENING,
        day=date(2026, 3, 31),
        n=Decimal("1234567.8"),
        p=Decimal("61.56"),
    )
    assert not ARABIC_INDIC & set(text), text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "أُنشئت 7 نتائج، قُدّمت نتيجتان للاعتماد."),
        ("en", "7 results created, 2 results submitted for approval."),
    ],
)
def test_an_upload_is_told_with_plural_forms_and_no_zero_clause(language, expected):
    from web.views import _import_outcome

    with translation.override(language):
        assert _import_outcome({"created": 7, "updated": 0, "unchanged": 3, "submitted": 2}) == expected
