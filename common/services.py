"""What every service shares: validate a model against its fields and database constraints,
then save it, so a broken invariant reaches the user as a field message, never as an
IntegrityError."""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import CheckConstraint, Q
from django.utils.translation import gettext_lazy as _

ModelT = TypeVar("ModelT", bound=models.Model)


def validated_save(instance: ModelT, *, exclude: Iterable[str] | None = None) -> ModelT:
    """full_clean (fields, constraints) and save; a race that slips past becomes a ValidationError."""
    try:
        instance.full_clean(exclude=list(exclude or ()))
    except ValidationError as error:
        raise _name_the_fields(instance, error) from error
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(_("This change conflicts with existing data: %(detail)s") % {"detail": error}) from error
    return instance


def apply_changes(instance: ModelT, changes: dict, *, allowed: Iterable[str]) -> set[str]:
    """Set the given fields on the instance; return the names whose value actually changed."""
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    changed = set()
    for name, value in changes.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.add(name)
    return changed


def refuse_moves(instance: models.Model, changes: dict[str, Any], refusals: Mapping[str, str]) -> None:
    """Take out of `changes` the fields that say what an object belongs to (its programme, its
    donor, its user). Sent again with the stored value they are accepted, so a client may send
    the whole object back; a different value is refused with the given message on that field."""
    errors = {}
    for name, message in refusals.items():
        if name not in changes:
            continue
        new = changes.pop(name)
        stored = getattr(instance, instance._meta.get_field(name).attname)
        if (new.pk if isinstance(new, models.Model) else new) != stored:
            errors[name] = message
    if errors:
        raise ValidationError(errors)


def _fields_in(condition: Q) -> list[str]:
    names: list[str] = []
    for child in condition.children:
        if isinstance(child, Q):
            names.extend(_fields_in(child))
        else:
            names.append(child[0].split("__")[0])
    return list(dict.fromkeys(names))


def _name_the_fields(instance: models.Model, error: ValidationError) -> ValidationError:
    """A broken check constraint is reported by Django without a field; put its message on the
    first field the constraint reads, so the user sees which value to change."""
    if not hasattr(error, "error_dict") or NON_FIELD_ERRORS not in error.error_dict:
        return error
    field_of_message = {
        str(constraint.violation_error_message): _fields_in(constraint.condition)[0]
        for constraint in instance._meta.constraints
        if isinstance(constraint, CheckConstraint) and constraint.violation_error_message
    }
    errors: dict[str, list] = {key: list(value) for key, value in error.error_dict.items() if key != NON_FIELD_ERRORS}
    for item in error.error_dict[NON_FIELD_ERRORS]:
        message = " ".join(item.messages)
        errors.setdefault(field_of_message.get(message, NON_FIELD_ERRORS), []).append(item)
    return ValidationError(errors)
