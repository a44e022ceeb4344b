"""What free text may hold: control characters refused everywhere, bidirectional controls in codes
and names, and stored text made safe for the XML and XLSX writers."""

import pytest
from django.core.exceptions import ValidationError

from common.text import exportable, text_error
from indicators import services
from tests.factories import IndicatorFactory, OrganisationFactory, ProgrammeFactory


@pytest.mark.parametrize("text", ["Bell\x07", "tab\x0bvertical", "nul\x00", "escape\x1b[0m", "lone\rreturn", "c1\x85"])
def test_control_characters_are_refused(text):
    assert text_error(text) is not None


@pytest.mark.parametrize("text", ["tab\tand\nnewline", "windows\r\nline", "غدامس", "LRM\u200e RLM\u200f"])
def test_ordinary_text_passes(text):
    assert text_error(text) is None
    assert text_error(text, identifier=True) is None


@pytest.mark.parametrize(
    "mark", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
)
def test_bidirectional_controls_are_refused_in_identifiers_only(mark):
    assert text_error(f"TAQ{mark}-1", identifier=True) is not None
    assert text_error(f"a description {mark} quoted", identifier=False) is None


def test_exportable_strips_what_xml_cannot_hold_and_keeps_the_rest():
    assert exportable("Bell\x07 and\x0b tab\tnew\nline\r\n") == "Bell and tab\tnew\nline\r\n"
    assert exportable(-5) == -5 and exportable(None) is None


@pytest.mark.django_db
def test_a_service_refuses_a_control_character_naming_the_field():
    indicator = IndicatorFactory()
    with pytest.raises(ValidationError) as caught:
        services.indicator_update(indicator=indicator, name_en="Trained\x0b people")
    assert "name_en" in caught.value.message_dict
    indicator.refresh_from_db()
    assert "\x0b" not in indicator.name_en


@pytest.mark.django_db
def test_a_bidi_override_in_a_code_is_refused():
    programme = ProgrammeFactory()
    with pytest.raises(ValidationError) as caught:
        services.indicator_create(programme=programme, code="TAQ\u202e1-", name_en="Trained people")
    assert "code" in caught.value.message_dict


@pytest.mark.django_db
def test_organisation_name_with_a_control_character_is_refused_in_arabic_too():
    from partners import services as partner_services

    organisation = OrganisationFactory()
    with pytest.raises(ValidationError) as caught:
        partner_services.organisation_update(organisation=organisation, name_ar="بلدية\x07")
    assert "name_ar" in caught.value.message_dict
