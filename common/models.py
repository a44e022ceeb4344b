"""A model base that knows no domain: what any text or date field may hold."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from common.dates import EARLIEST_DATE, LATEST_DATE, in_date_range
from common.text import text_error
from common.translations import missing_translation_errors

# Text fields whose value names or identifies something: bidirectional controls are refused
# there too (translated copies, e.g. `name_ar`, count as the field they translate).
IDENTIFIER_FIELDS = frozenset({"code", "name", "title", "acronym", "iati_identifier", "iati_ref"})


class CheckedInputModel(models.Model):
    """Every `CharField` and `TextField` refuses control characters, and the identifying ones
    (codes, names, titles) bidirectional controls; every `DateField` stays within the supported
    range (`common.dates`); each translated field named in `required_translations` is filled in
    English or in Arabic (`common.translations`). Whichever path the write takes (services, admin,
    forms), `full_clean` reports them on the field."""

    # Base names of translated fields (`name`, `title`) required in at least one language; the
    # model field itself is `blank=True`, so no one language is required.
    required_translations: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        errors: dict[str, list] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = dict(error.error_dict)
        for field in self._meta.concrete_fields:
            if (exclude and field.name in exclude) or field.name in errors:
                continue
            message = field_value_error(field, getattr(self, field.attname))
            if message:
                errors[field.name] = [ValidationError(message, code="invalid")]
        for name, messages in missing_translation_errors(self, self.required_translations, exclude).items():
            errors.setdefault(name, messages)
        if errors:
            raise ValidationError(errors)


def field_value_error(field: models.Field, value) -> str | None:
    """Why `value` cannot be stored in `field` (beyond the field's own validation), or None."""
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        if value is not None and not in_date_range(value):
            return date_range_message()
        return None
    if isinstance(field, (models.CharField, models.TextField)) and not field.choices and isinstance(value, str):
        base_name = field.name.removesuffix("_en").removesuffix("_ar")
        return text_error(value, identifier=base_name in IDENTIFIER_FIELDS)
    return None


def date_range_message() -> str:
    return _("Enter a date between %(earliest)s and %(latest)s.") % {
        "earliest": date_format(EARLIEST_DATE, "DATE_FORMAT"),
        "latest": date_format(LATEST_DATE, "DATE_FORMAT"),
    }
