"""Forms for the pages. They check the shape of the input (types, required fields); the rules
live in the services, whose ValidationErrors are attached back to these forms' fields."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from common.dates import EARLIEST_DATE, LATEST_DATE, in_date_range
from common.validation import messages_by_field
from indicators.models import Result
from partners.models import Organisation
from projects.models import Activity, Workstream

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


# Dates are typed as the pages write them, day first, in Western digits (docs/pages.md).
DATE_FORMAT = "%d/%m/%Y"
# An Arabic keyboard types Arabic-Indic (or Persian) digits; a date typed with them is the same date.
EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class DateInput(forms.DateInput):
    """A text input for a date with a visible hint in the page's language ("day/month/year").
    Not `<input type="date">`: the browser draws that one's placeholder (mm/dd/yyyy), its order
    and its picker in the browser's language, whatever the page's. Written left to right on
    Arabic pages too, as the numbers are."""

    input_type = "text"

    def __init__(self, attrs=None, format=None):
        defaults = {"dir": "ltr", "autocomplete": "off", "spellcheck": "false", "size": 10, "class": "date-input"}
        super().__init__(attrs={**defaults, **(attrs or {})}, format=format or DATE_FORMAT)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        if widget_attrs.get("id"):
            described = [widget_attrs.get("aria-describedby", ""), f"{widget_attrs['id']}-hint"]
            widget_attrs["aria-describedby"] = " ".join(d for d in described if d)
        return context

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        hint_id = self.build_attrs(self.attrs, attrs).get("id")
        if not hint_id:
            return html
        return html + render_to_string("web/includes/date_hint.html", {"hint_id": f"{hint_id}-hint"})


class PageDateField(forms.DateField):
    """A date as typed on a page: day/month/year (or the YYYY-MM-DD of links and bookmarks), in
    Western or Arabic-Indic digits, within the dates a record may carry (`common.dates`)."""

    widget = DateInput
    default_error_messages = {"invalid": _("Enter the date as day/month/year, for example 31/12/2026.")}

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().translate(EASTERN_DIGITS)
        day = super().to_python(value)
        if day is not None and not in_date_range(day):
            raise ValidationError(
                _("Enter a date between %(earliest)s and %(latest)s.")
                % {
                    "earliest": date_format(EARLIEST_DATE, "SHORT_DATE_FORMAT"),
                    "latest": date_format(LATEST_DATE, "SHORT_DATE_FORMAT"),
                },
                code="out_of_range",
            )
        return day


def page_languages() -> tuple[str, str]:
    """English and Arabic, the page's language first: an Arabic-speaking officer fills in the
    Arabic text and moves on, an English-speaking one the English."""
    return ("ar", "en") if (get_language() or "").startswith("ar") else ("en", "ar")


def language_text_field(
    label, *, language: str, textarea: bool = False, max_length: int | None = None
) -> forms.CharField:
    """One language's box of a text kept in English and Arabic. Optional, since one language is
    enough (the models' rule, `common.translations`); marked with its language and direction so
    Arabic is typed right to left and spell-checked as Arabic even on an English page."""
    attrs = {"lang": language, "dir": "rtl" if language == "ar" else "ltr"}
    widget = forms.Textarea(attrs={**attrs, "rows": 3}) if textarea else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, required=False, max_length=max_length, widget=widget)


def page_date(raw: str | None) -> tuple[datetime.date | None, list[str]]:
    """A date field of a page's query string (`?as_of=`): (None, no errors) when empty; else the
    date, or None and what is wrong, to be shown beside the field."""
    if raw is None or not raw.strip():
        return None, []
    try:
        return PageDateField(required=False).clean(raw), []
    except ValidationError as error:
        return None, error.messages


class DatesInOrder(forms.Form):
    """A form with `start_date` and `end_date`. The dates' order is the model's rule and the
    services answer it at `end_date`, but only once the form's own fields are valid and the
    service's other rules pass (a service stops at the first broken). Answered here too, the end
    date's message comes with the others on the first save instead of after them."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date must not be before the start date."))
        return cleaned


class ActivityForm(DatesInOrder):
    workstream = forms.ModelChoiceField(label=_("Workstream"), queryset=Workstream.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    title_en = language_text_field(_("Title (English)"), language="en", max_length=300)
    title_ar = language_text_field(_("Title (Arabic)"), language="ar", max_length=300)
    start_date = PageDateField(label=_("Start date"))
    end_date = PageDateField(label=_("End date"))
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=Organisation.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=Activity.Status.choices, initial=Activity.Status.DONE)
    participants_female = forms.IntegerField(label=_("Female participants"), min_value=0, initial=0)
    participants_male = forms.IntegerField(label=_("Male participants"), min_value=0, initial=0)
    participants_youth = forms.IntegerField(
        label=_("Young participants"), min_value=0, initial=0, help_text=_("Of all participants, how many are young.")
    )
    participants_with_disability = forms.IntegerField(
        label=_("Participants with a disability"),
        min_value=0,
        initial=0,
        help_text=_("Of all participants, how many have a disability."),
    )
    lessons_learned_en = language_text_field(_("Lessons learned (English)"), language="en", textarea=True)
    lessons_learned_ar = language_text_field(_("Lessons learned (Arabic)"), language="ar", textarea=True)

    def __init__(self, *args, workstreams, municipalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workstream"].queryset = workstreams
        self.fields["workstream"].label_from_instance = lambda w: f"{w.programme.code} · {w.name}"
        self.fields["municipality"].queryset = municipalities
        self.languages = page_languages()
        self.fields[f"title_{self.languages[0]}"].help_text = _("Give the title in English, in Arabic or in both.")
        self.title_fields = [self[f"title_{language}"] for language in self.languages]
        self.lessons_fields = [self[f"lessons_learned_{language}"] for language in self.languages]

    def add_service_error(self, error: ValidationError) -> None:
        for name, messages in messages_by_field(error).items():
            target = name if name in self.fields else None
            if name in ("title", "lessons_learned"):  # on the box filled first
                target = f"{name}_{self.languages[0]}"
            for message in messages:
                self.add_error(target, message)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Filled-in spreadsheet (.xlsx)"),
        help_text=_("At most 2 MB. Use the spreadsheet downloaded from this page."),
    )
    status = forms.ChoiceField(
        label=_("Save the results as"),
        choices=[(Result.Status.DRAFT, _("Drafts")), (Result.Status.SUBMITTED, _("Submitted for approval"))],
        initial=Result.Status.DRAFT,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 2 MB."))
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(_("Upload an Excel workbook (.xlsx)."))
        return upload
