"""What every service shares: validate a model against its fields and database constraints,
then save it, so a broken invariant reaches the user as a field message, never as an
IntegrityError."""

from collections.abc import Iterable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

ModelT = TypeVar("ModelT", bound=models.Model)


def validated_save(instance: ModelT, *, exclude: Iterable[str] | None = None) -> ModelT:
    """full_clean (fields, constraints) and save; a race that slips past becomes a ValidationError."""
    instance.full_clean(exclude=list(exclude or ()))
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
