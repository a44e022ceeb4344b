"""Bilingual names: a name or title is required in one language, never in a particular one.

A municipal officer who writes only Arabic and a donor who writes only English both fill in
a record (docs/architecture.md, "Bilingual"). A model lists its required translated fields in
`required_translations`; `common.models.CheckedInputModel.clean_fields` applies this rule to
them, so the services, the admin, the API and the pages all refuse the same thing with the
same message, on both language columns.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LANGUAGES = ("en", "ar")


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def missing_translation_message(verbose_name) -> str:
    return _("Enter the %(field)s in English or in Arabic.") % {"field": verbose_name}


def missing_translation_errors(instance, names, exclude=None) -> dict[str, list[ValidationError]]:
    """For each base name (`name`, `title`) whose English and Arabic columns are both empty, the
    same message on each column the caller validates (both, unless one is excluded)."""
    excluded = set(exclude or ())
    errors: dict[str, list[ValidationError]] = {}
    for name in names:
        columns = [f"{name}_{language}" for language in LANGUAGES]
        if all(column in excluded for column in columns):
            continue
        if not all(is_empty(getattr(instance, column, None)) for column in columns):
            continue
        message = missing_translation_message(instance._meta.get_field(name).verbose_name)
        for column in columns:
            if column not in excluded:
                errors[column] = [ValidationError(message, code="translation_required")]
    return errors
