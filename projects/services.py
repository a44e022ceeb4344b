"""Writes about programmes, twinnings, themes, workstreams and activities.

A change to who takes part in a programme (municipalities, donors) sends `programme_scope_changed`,
so that rollups and alignment built on it are recomputed.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.errors import ServiceError
from common.services import apply_changes, refuse_moves, validated_save
from partners.models import Organisation

from .access import access_for
from .models import Activity, Programme, Theme, Twinning, Workstream
from .selectors import programme_municipality_ids
from .signals import programme_scope_changed

PROGRAMME_FIELDS = (
    "code",
    "name_en",
    "name_ar",
    "description_en",
    "description_ar",
    "implementer",
    "counterpart",
    "start_date",
    "end_date",
    "budget",
    "currency",
    "status",
    "iati_identifier",
    "fiscal_year_start_month",
    "reporting_due_days",
)
TWINNING_FIELDS = ("name_en", "name_ar", "signed_on", "status")
THEME_FIELDS = ("code", "name_en", "name_ar", "description_en", "description_ar", "dac_sector")
WORKSTREAM_FIELDS = ("twinning", "theme", "name_en", "name_ar", "description_en", "description_ar", "lead")
ACTIVITY_FIELDS = (
    "workstream",
    "kind",
    "title_en",
    "title_ar",
    "description_en",
    "description_ar",
    "start_date",
    "end_date",
    "municipality",
    "status",
    "participants_female",
    "participants_male",
    "participants_youth",
    "participants_with_disability",
    "lessons_learned_en",
    "lessons_learned_ar",
)


def _require_kind(organisations: Iterable[Organisation], kind: str, field: str) -> list[Organisation]:
    organisations = list(organisations)
    wrong = [organisation for organisation in organisations if organisation.kind != kind]
    if wrong:
        raise ValidationError(
            {
                field: _("%(names)s is not of kind %(kind)s.")
                % {"names": ", ".join(str(o) for o in wrong), "kind": Organisation.Kind(kind).label}
            }
        )
    return organisations


def _scope_changed(programme_id: int) -> None:
    programme_scope_changed.send(sender=Programme, programme_id=programme_id)


# Programmes ---------------------------------------------------------------------------------


@transaction.atomic
def programme_create(
    *,
    code: str,
    name_en: str = "",
    start_date: datetime.date,
    end_date: datetime.date,
    name_ar: str = "",
    description_en: str = "",
    description_ar: str = "",
    donors: Iterable[Organisation] = (),
    implementer: Organisation | None = None,
    counterpart: Organisation | None = None,
    budget: Decimal | None = None,
    currency: str = "USD",
    status: str = Programme.Status.PLANNED,
    iati_identifier: str = "",
    fiscal_year_start_month: int = 1,
    reporting_due_days: int = 30,
) -> Programme:
    donors = _require_kind(donors, Organisation.Kind.DONOR, "donors")
    if implementer is not None:
        _require_kind([implementer], Organisation.Kind.IMPLEMENTER, "implementer")
    if counterpart is not None:
        _require_kind([counterpart], Organisation.Kind.MINISTRY, "counterpart")
    programme = validated_save(
        Programme(
            code=code,
            name_en=name_en,
            name_ar=name_ar,
            description_en=description_en,
            description_ar=description_ar,
            implementer=implementer,
            counterpart=counterpart,
            start_date=start_date,
            end_date=end_date,
            budget=budget,
            currency=(currency or "").upper(),
            status=status,
            iati_identifier=iati_identifier,
            fiscal_year_start_month=fiscal_year_start_month,
            reporting_due_days=reporting_due_days,
        )
    )
    programme.donors.set(donors)
    return programme


@transaction.atomic
def programme_update(*, programme: Programme, donors: Iterable[Organisation] | None = None, **changes) -> Programme:
    if "implementer" in changes and changes["implementer"] is not None:
        _require_kind([changes["implementer"]], Organisation.Kind.IMPLEMENTER, "implementer")
    if "counterpart" in changes and changes["counterpart"] is not None:
        _require_kind([changes["counterpart"]], Organisation.Kind.MINISTRY, "counterpart")
    original_month = programme.fiscal_year_start_month
    changed = apply_changes(programme, changes, allowed=PROGRAMME_FIELDS)
    if "fiscal_year_start_month" in changed and _programme_has_periods(programme):
        programme.fiscal_year_start_month = original_month
        raise ValidationError(
            {
                "fiscal_year_start_month": _(
                    "The fiscal year cannot change while the programme has targets or results: "
                    "their periods follow the current fiscal year."
                )
            }
        )
    if changed:
        validated_save(programme)
    if donors is not None:
        donors = _require_kind(donors, Organisation.Kind.DONOR, "donors")
        if {d.pk for d in donors} != set(programme.donors.values_list("pk", flat=True)):
            programme.donors.set(donors)
            _scope_changed(programme.pk)
    return programme


def _programme_has_periods(programme: Programme) -> bool:
    # Reverse lookups by name: the indicators app sits above this one and is not imported.
    with_periods = Q(indicators__targets__isnull=False) | Q(indicators__results__isnull=False)
    return Programme.objects.filter(pk=programme.pk).filter(with_periods).exists()


# Twinnings ----------------------------------------------------------------------------------


def _validate_twinning_municipalities(municipalities: Iterable[Organisation]) -> list[Organisation]:
    municipalities = _require_kind(municipalities, Organisation.Kind.MUNICIPALITY, "municipalities")
    if len({municipality.pk for municipality in municipalities}) < 2:
        raise ValidationError({"municipalities": _("A twinning needs at least two different municipalities.")})
    return municipalities


@transaction.atomic
def twinning_create(
    *,
    programme: Programme,
    name_en: str = "",
    municipalities: Iterable[Organisation],
    name_ar: str = "",
    signed_on: datetime.date | None = None,
    status: str = Twinning.Status.PROPOSED,
) -> Twinning:
    municipalities = _validate_twinning_municipalities(municipalities)
    twinning = validated_save(
        Twinning(programme=programme, name_en=name_en, name_ar=name_ar, signed_on=signed_on, status=status)
    )
    twinning.municipalities.set(municipalities)
    _scope_changed(programme.pk)
    return twinning


@transaction.atomic
def twinning_update(*, twinning: Twinning, municipalities: Iterable[Organisation] | None = None, **changes) -> Twinning:
    refuse_moves(twinning, changes, {"programme": _("A twinning cannot move to another programme.")})
    if apply_changes(twinning, changes, allowed=TWINNING_FIELDS):
        validated_save(twinning)
    if municipalities is not None:
        municipalities = _validate_twinning_municipalities(municipalities)
        if {m.pk for m in municipalities} != set(twinning.municipalities.values_list("pk", flat=True)):
            twinning.municipalities.set(municipalities)
            _scope_changed(twinning.programme_id)
    return twinning


# Themes -------------------------------------------------------------------------------------


@transaction.atomic
def theme_create(
    *,
    code: str,
    name_en: str = "",
    name_ar: str = "",
    description_en: str = "",
    description_ar: str = "",
    dac_sector="",
) -> Theme:
    return validated_save(
        Theme(
            code=code,
            name_en=name_en,
            name_ar=name_ar,
            description_en=description_en,
            description_ar=description_ar,
            dac_sector=dac_sector,
        )
    )


@transaction.atomic
def theme_update(*, theme: Theme, **changes) -> Theme:
    if apply_changes(theme, changes, allowed=THEME_FIELDS):
        validated_save(theme)
    return theme


# Workstreams --------------------------------------------------------------------------------


def _validate_workstream(programme: Programme, twinning: Twinning | None) -> None:
    if twinning is not None and twinning.programme_id != programme.pk:
        raise ValidationError({"twinning": _("This twinning belongs to another programme.")})


@transaction.atomic
def workstream_create(
    *,
    programme: Programme,
    theme: Theme,
    name_en: str = "",
    name_ar: str = "",
    description_en: str = "",
    description_ar: str = "",
    twinning: Twinning | None = None,
    lead: Organisation | None = None,
    municipalities: Iterable[Organisation] = (),
) -> Workstream:
    _validate_workstream(programme, twinning)
    municipalities = _require_kind(municipalities, Organisation.Kind.MUNICIPALITY, "municipalities")
    workstream = validated_save(
        Workstream(
            programme=programme,
            twinning=twinning,
            theme=theme,
            name_en=name_en,
            name_ar=name_ar,
            description_en=description_en,
            description_ar=description_ar,
            lead=lead,
        )
    )
    if municipalities:
        workstream.municipalities.set(municipalities)
        _scope_changed(programme.pk)
    return workstream


@transaction.atomic
def workstream_update(
    *, workstream: Workstream, municipalities: Iterable[Organisation] | None = None, **changes
) -> Workstream:
    refuse_moves(workstream, changes, {"programme": _("A workstream cannot move to another programme.")})
    if apply_changes(workstream, changes, allowed=WORKSTREAM_FIELDS):
        _validate_workstream(workstream.programme, workstream.twinning)
        validated_save(workstream)
    if municipalities is not None:
        municipalities = _require_kind(municipalities, Organisation.Kind.MUNICIPALITY, "municipalities")
        if {m.pk for m in municipalities} != set(workstream.municipalities.values_list("pk", flat=True)):
            workstream.municipalities.set(municipalities)
            _scope_changed(workstream.programme_id)
    return workstream


# Activities ---------------------------------------------------------------------------------


def _validate_activity(activity: Activity) -> None:
    if activity.municipality_id is not None:
        if activity.municipality.kind != Organisation.Kind.MUNICIPALITY:
            raise ValidationError({"municipality": _("Choose a municipality.")})
        if activity.municipality_id not in programme_municipality_ids(activity.workstream.programme_id):
            raise ValidationError({"municipality": _("This municipality does not take part in the programme.")})
    if activity.participants_youth > activity.participants_female + activity.participants_male:
        raise ValidationError(
            {"participants_youth": _("There cannot be more young participants than participants in all.")}
        )
    if activity.participants_with_disability > activity.participants_female + activity.participants_male:
        raise ValidationError(
            {
                "participants_with_disability": _(
                    "There cannot be more participants with a disability than participants in all."
                )
            }
        )


@transaction.atomic
def activity_create(*, workstream: Workstream, title_en: str = "", start_date, end_date, **fields) -> Activity:
    activity = Activity(workstream=workstream, title_en=title_en, start_date=start_date, end_date=end_date)
    apply_changes(activity, fields, allowed=ACTIVITY_FIELDS)
    _validate_activity(activity)
    return validated_save(activity)


class ActivityRefused(ValidationError, ServiceError):
    """The user may not change this activity (docs/design.md §7): 403 in the API."""

    http_status = 403

    def as_data(self) -> dict[str, Any]:
        return {"detail": " ".join(str(message) for message in self.messages)}


@transaction.atomic
def activity_update(*, activity: Activity, user: AbstractBaseUser | None = None, **changes) -> Activity:
    """Change an activity; it may move to another workstream of its programme, never to another
    programme (its participants and lessons were reported there). With a `user`, they must be
    allowed to edit it as it stands and as it would be (`Access.can_edit_activity`), so no one
    edits a programme-wide activity of the implementer or turns their own into one."""
    workstream = changes.get("workstream")
    if workstream is not None and workstream.programme_id != activity.workstream.programme_id:
        raise ValidationError({"workstream": _("An activity cannot move to another programme.")})
    if user is not None:
        access = access_for(user)
        programme_id = activity.workstream.programme_id
        municipality = changes.get("municipality", activity.municipality)
        if not (
            access.can_edit_activity(programme_id, activity.municipality_id)
            and access.can_edit_activity(programme_id, municipality.pk if municipality else None)
        ):
            raise ActivityRefused(
                _(
                    "Only the implementer's editors change an activity of the whole programme (one without "
                    "a municipality); municipality editors change their own municipality's activities."
                )
            )
    if apply_changes(activity, changes, allowed=ACTIVITY_FIELDS):
        _validate_activity(activity)
        validated_save(activity)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity) -> None:
    activity.delete()


@transaction.atomic
def workstream_delete(*, workstream: Workstream) -> None:
    programme_id = workstream.programme_id
    had_municipalities = workstream.municipalities.exists()
    workstream.delete()
    if had_municipalities:
        _scope_changed(programme_id)


@transaction.atomic
def twinning_delete(*, twinning: Twinning) -> None:
    programme_id = twinning.programme_id
    twinning.delete()
    _scope_changed(programme_id)
