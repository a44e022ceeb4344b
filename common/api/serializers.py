"""Serializer bases shared by every resource.

Serializers only translate between JSON and Python values: rules (uniqueness, periods, who takes
part in what) live in the services, which report them as field messages.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import get_language
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from common.translations import LANGUAGES, missing_translations

# Free text beyond this is refused with a message naming the field (the columns are unbounded).
TEXT_MAX_LENGTH = 20_000


def translated(*names: str) -> list[str]:
    """`name` (in the request's language) plus `name_en` and `name_ar`, for each name."""
    fields = []
    for name in names:
        fields += [name, f"{name}_en", f"{name}_ar"]
    return fields


class APIModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that leaves uniqueness and cross-field rules to the services and caps
    free text. Translated base names (`name`, `title`, `unit`, …) are read in the request's
    language; written, a base name sets that language's column (`unit` with `Accept-Language: ar`
    sets `unit_ar`) unless the body also names that column itself."""

    translated_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if self.translated_fields and hasattr(data, "keys"):
            language = (get_language() or "en")[:2]
            language = language if language in ("en", "ar") else "en"
            copied = None
            for base in self.translated_fields:
                column = f"{base}_{language}"
                if base in data and column not in data and column in self.fields:
                    copied = data.copy() if copied is None else copied
                    copied[column] = data[base]
            if copied is not None:
                data = copied
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            # A new object refused for other fields also hears that it has no name yet, in one
            # answer; otherwise the service reports it (common.translations).
            if self.instance is None and isinstance(error.detail, dict) and hasattr(data, "get"):
                for column, messages in self._missing_translations(data).items():
                    error.detail.setdefault(
                        column, [serializers.ErrorDetail(str(m), code="translation_required") for m in messages]
                    )
            raise

    def _missing_translations(self, data) -> dict[str, list[str]]:
        model = self.Meta.model
        names = [
            name
            for name in getattr(model, "required_translations", ())
            if all(f"{name}_{language}" in self.fields for language in LANGUAGES)
        ]
        return missing_translations(model, data, names)

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if "validators" in kwargs:
            kwargs["validators"] = [v for v in kwargs["validators"] if not isinstance(v, UniqueValidator)]
        if issubclass(field_class, serializers.CharField) and not kwargs.get("read_only"):
            kwargs.setdefault("max_length", TEXT_MAX_LENGTH)
        if field_name in self.translated_fields:
            kwargs["read_only"] = True
            for key in ("required", "allow_blank", "max_length", "validators", "allow_null", "default"):
                kwargs.pop(key, None)
        return field_class, kwargs

    def get_validators(self):
        return []

    def get_uniqueness_extra_kwargs(self, field_names, declared_fields, extra_kwargs):
        return extra_kwargs, {}


def decimal_text(value, places: int) -> str | None:
    """A Decimal as DRF's DecimalField shows it (string, fixed places), without a field instance."""
    if value is None:
        return None
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def datetime_text(value) -> str | None:
    """As DRF's DateTimeField: in the current time zone, ISO 8601, UTC written as Z."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def date_text(value) -> str | None:
    return None if value is None else value.isoformat()


class Row:
    """A `.values()` dict read like a model instance (lists skip building model objects)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict):
        self._data = data

    def __getattr__(self, name):
        try:
            return self._data[name]
        except KeyError as error:
            raise AttributeError(name) from error

    @property
    def pk(self):
        return self._data["id"]

    @property
    def disaggregation(self) -> dict[str, str]:
        category = self._data["disaggregation_category"]
        return {category: self._data["disaggregation_option"]} if category else {}
