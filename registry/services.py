"""Every write of the registry that carries a rule (docs/registry.md): importing IATI files,
keeping the programmes' interventions current, the sector–theme mapping, remembered location
aliases, the duplicate detector's candidates and their review."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

from babel import Locale
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.locks import LockClass
from common.services import validated_save
from common.sql import insert_rows
from partners.models import Organisation
from partners.services import organisation_create
from projects.models import Programme, Theme, Workstream

from . import detector
from .iati import Activity, ActivityError, IatiFileError, IatiReader, OrganisationRef, dac_codes
from .locations import PlaceIndex
from .matching import normalise, normalise_place, title_key
from .models import (
    IatiImport,
    Intervention,
    InterventionBudget,
    InterventionCell,
    InterventionLocation,
    InterventionTransaction,
    LocationAlias,
    OverlapCandidate,
    SectorTheme,
)
from .queue import schedule_detection
from .sector_defaults import default_pairs

IMPORT_MAX_BYTES = 20 * 1024 * 1024
BATCH_SIZE = 250
NGO_TYPES = {"22", "24"}  # national and partner-country NGOs: civil-society organisations here

# IATI imports ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    """One activity turned into rows, ready to be written."""

    activity: Activity
    intervention: Intervention
    is_new: bool
    donors: set[int] = field(default_factory=set)
    implementers: set[int] = field(default_factory=set)
    municipalities: set[int] = field(default_factory=set)
    themes: set[int] = field(default_factory=set)
    locations: list[InterventionLocation] = field(default_factory=list)
    budgets: list[InterventionBudget] = field(default_factory=list)
    transactions: list[InterventionTransaction] = field(default_factory=list)


class _Import:
    """The state of one import: what is known of organisations, places and sectors, and the counts."""

    def __init__(self) -> None:
        self.places = PlaceIndex()
        self.organisations = _Organisations()
        self.sector_themes = sector_theme_map()
        self.created = self.updated = self.unchanged = self.skipped = 0
        self.errors: list[dict[str, str]] = []
        self.changed_ids: set[int] = set()
        self.seen: set[str] = set()


@transaction.atomic
def iati_import_create(*, source: BinaryIO, file_name: str, user=None, large: bool = False) -> IatiImport:
    """Read an IATI activity file into the registry (docs/design.md §6 `iati-imports/`).

    Idempotent by iati-identifier: an activity already imported is updated only when its
    last-updated-datetime is newer (or, when it has none, when its content changed). Each
    activity is written whole or not at all; an invalid one is reported with its XPath and the
    others go in. A file that cannot be read (not XML, not IATI, a DTD, too large) raises a
    ValidationError on `file` and writes nothing. Uploads take at most 20 MB; `large` (the
    command line) lifts that limit.
    """
    digest, size = file_digest(source)
    if size > IMPORT_MAX_BYTES and not large:
        raise ValidationError(
            {"file": _("The file is larger than 20 MB; import it with `manage.py import_iati FILE`.")}
        )
    state = _Import()
    reader = IatiReader(source)
    batch: list[Activity] = []
    try:
        for item in reader:
            if isinstance(item, ActivityError):
                state.errors.append(item.as_dict())
                continue
            if item.identifier in state.seen:
                state.errors.append(
                    ActivityError(
                        item.identifier,
                        f"{item.path}/iati-identifier",
                        str(_("This iati-identifier appears twice in the file; the first activity was read.")),
                    ).as_dict()
                )
                continue
            state.seen.add(item.identifier)
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                _write_batch(batch, state)
                batch = []
        _write_batch(batch, state)
    except IatiFileError as error:
        raise ValidationError({"file": str(error)}) from error
    if reader.activities_seen == 0:
        raise ValidationError({"file": _("The file holds no iati-activity: nothing to import.")})
    written = state.created + state.updated + state.unchanged
    status = IatiImport.Status.IMPORTED if not state.errors else IatiImport.Status.PARTIAL
    if state.errors and not written:
        status = IatiImport.Status.FAILED
    record = IatiImport.objects.create(
        file_name=(file_name or "upload.xml")[:255],
        file_sha256=digest,
        file_size=size,
        iati_version=reader.version,
        status=status,
        activities_created=state.created,
        activities_updated=state.updated,
        activities_unchanged=state.unchanged,
        activities_skipped=state.skipped,
        errors=state.errors,
        imported_by=user if getattr(user, "pk", None) else None,
    )
    if state.changed_ids:
        schedule_detection(state.changed_ids)
    return record


def file_digest(source: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: source.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    source.seek(0)
    return digest.hexdigest(), size


def _write_batch(batch: list[Activity], state: _Import) -> None:
    if not batch:
        return
    existing = {
        identifier: (pk, last_updated, sha)
        for pk, identifier, last_updated, sha in Intervention.objects.filter(
            source=Intervention.Source.IATI, iati_identifier__in=[a.identifier for a in batch]
        ).values_list("id", "iati_identifier", "last_updated", "content_sha256")
    }
    plans: list[_Plan] = []
    for activity in batch:
        if activity.identifier in existing:
            pk, last_updated, sha = existing[activity.identifier]
            newer = (
                activity.last_updated > last_updated
                if activity.last_updated and last_updated
                else activity.content_sha256 != sha
            )
            if not newer:
                state.unchanged += 1
                continue
        else:
            pk = None
        try:
            plan = _plan(activity, pk, state)
        except ValidationError as error:
            state.errors.append(ActivityError(activity.identifier, activity.path, " ".join(error.messages)).as_dict())
            continue
        if plan is None:
            state.skipped += 1
            continue
        plans.append(plan)
    if not plans:
        return
    try:
        with transaction.atomic():
            _write_plans(plans)
    except (IntegrityError, DatabaseError, ValidationError):
        # One activity the database refuses must not take the batch with it: write them one by one.
        for plan in plans:
            if plan.is_new:  # the rolled-back batch may have given it an id
                plan.intervention.pk = None
                plan.intervention._state.adding = True
            try:
                with transaction.atomic():
                    _write_plans([plan])
            except (IntegrityError, DatabaseError, ValidationError) as error:
                message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error).strip()
                state.errors.append(ActivityError(plan.activity.identifier, plan.activity.path, message).as_dict())
                continue
            _count(plan, state)
        return
    for plan in plans:
        _count(plan, state)


def _count(plan: _Plan, state: _Import) -> None:
    if plan.is_new:
        state.created += 1
    else:
        state.updated += 1
    state.changed_ids.add(plan.intervention.pk)


INTERVENTION_FIELDS = [
    "title",
    "title_en",
    "title_ar",
    "description",
    "description_en",
    "description_ar",
    "reporting_org",
    "sectors",
    "sector_categories",
    "start_date",
    "end_date",
    "budget",
    "currency",
    "committed",
    "disbursed",
    "status",
    "related_identifiers",
    "match_titles",
    "last_updated",
    "content_sha256",
    "updated_at",
]


def _plan(activity: Activity, pk: int | None, state: _Import) -> _Plan | None:
    """The rows of one activity, or None when it is not Libyan (recipient country LY, or a
    location in Libya)."""
    matches = [
        state.places.match(
            names=location.names.values(),
            codes=location.codes,
            latitude=location.latitude,
            longitude=location.longitude,
        )
        for location in activity.locations
    ]
    if "LY" not in activity.recipient_countries and not any(match.in_libya for match in matches):
        return None
    intervention = Intervention(
        pk=pk,
        source=Intervention.Source.IATI,
        iati_identifier=activity.identifier,
        title_en=activity.titles.get("en", "") or activity.titles.get("ar", ""),
        title_ar=activity.titles.get("ar", ""),
        description_en=activity.descriptions.get("en", ""),
        description_ar=activity.descriptions.get("ar", ""),
        sectors=activity.sectors,
        sector_categories=activity.sector_categories,
        start_date=activity.start_date,
        end_date=activity.end_date,
        status=activity.status,
        related_identifiers=activity.related,
        match_titles=sorted({title_key(t) for t in activity.titles.values()} - {""}),
        last_updated=activity.last_updated,
        content_sha256=activity.content_sha256,
        updated_at=timezone.now(),
    )
    intervention.title = intervention.title_en
    intervention.description = intervention.description_en
    _money(intervention, activity)
    plan = _Plan(activity=activity, intervention=intervention, is_new=pk is None)
    reporting = activity.reporting_org
    if reporting is not None:
        intervention.reporting_org_id = state.organisations.resolve(reporting)
    for organisation in activity.participating_orgs:
        organisation_id = state.organisations.resolve(organisation)
        if organisation_id is None:
            continue
        if organisation.role in ("funding", "extending"):
            plan.donors.add(organisation_id)
        elif organisation.role == "implementing":
            plan.implementers.add(organisation_id)
    if not plan.donors and intervention.reporting_org_id and reporting and reporting.type not in NGO_TYPES:
        plan.donors.add(intervention.reporting_org_id)
    for location, match in zip(activity.locations, matches, strict=True):
        plan.locations.append(
            InterventionLocation(
                name=location.name,
                vocabulary=location.vocabulary,
                code=location.code,
                latitude=location.latitude,
                longitude=location.longitude,
                in_libya=match.in_libya,
                municipality_id=match.municipality_id,
                matched_by=match.matched_by,
            )
        )
        if match.municipality_id:
            plan.municipalities.add(match.municipality_id)
    plan.themes = themes_of(activity.sectors + activity.sector_categories, state.sector_themes)
    plan.budgets = [
        InterventionBudget(
            revised=b.revised,
            period_start=b.period_start,
            period_end=b.period_end,
            value=b.value,
            currency=b.currency,
            value_date=b.value_date,
        )
        for b in activity.budgets
    ]
    plan.transactions = [
        InterventionTransaction(
            kind=t.kind,
            value=t.value,
            currency=t.currency,
            value_date=t.value_date,
            transaction_date=t.transaction_date,
        )
        for t in activity.transactions
    ]
    # Field rules (lengths, text, dates) as every write checks them; the foreign keys were
    # resolved above, and the end-after-start rule was checked by the reader.
    intervention.clean_fields(exclude=["reporting_org", "programme"])
    return plan


def _money(intervention: Intervention, activity: Activity) -> None:
    """Budget: per budget period the revised figure if there is one, else the original, summed in
    the activity's currency (its default currency, else that of its first budget). Committed and
    disbursed: the sums of those transactions in the same currency."""
    currency = activity.default_currency or next(
        (b.currency for b in activity.budgets), next((t.currency for t in activity.transactions), "")
    )
    intervention.currency = currency
    periods: dict[tuple, list] = defaultdict(list)
    for budget in activity.budgets:
        if budget.currency == currency:
            periods[(budget.period_start, budget.period_end)].append(budget)
    if periods:
        total = Decimal(0)
        for budgets in periods.values():
            revised = [b for b in budgets if b.revised]
            total += sum((b.value for b in (revised[-1:] or budgets)), Decimal(0))
        intervention.budget = total
    for kind, attribute in (("commitment", "committed"), ("disbursement", "disbursed")):
        values = [t.value for t in activity.transactions if t.kind == kind and t.currency == currency]
        setattr(intervention, attribute, sum(values, Decimal(0)) if values else None)


def _write_plans(plans: list[_Plan]) -> None:
    new = [p.intervention for p in plans if p.is_new]
    old = [p.intervention for p in plans if not p.is_new]
    if new:
        Intervention.objects.bulk_create(new)
    if old:
        Intervention.objects.bulk_update(old, INTERVENTION_FIELDS)
        _clear_children([i.pk for i in old])
    locations, budgets, transactions, cells = [], [], [], []
    links: dict[str, list] = defaultdict(list)
    for plan in plans:
        pk = plan.intervention.pk
        for rows, target in ((plan.locations, locations), (plan.budgets, budgets), (plan.transactions, transactions)):
            for row in rows:
                row.intervention_id = pk
                target.append(row)
        cells.extend(InterventionCell(intervention_id=pk, municipality_id=m, theme_id=t) for m, t in _cells(plan))
        for name in ("donors", "implementers", "municipalities"):
            links[name].extend((pk, organisation_id) for organisation_id in getattr(plan, name))
        links["themes"].extend((pk, theme_id) for theme_id in plan.themes)
    InterventionLocation.objects.bulk_create(locations)
    InterventionBudget.objects.bulk_create(budgets)
    InterventionTransaction.objects.bulk_create(transactions)
    InterventionCell.objects.bulk_create(cells)
    for name, rows in links.items():
        through = getattr(Intervention, name).through
        target = "theme_id" if name == "themes" else "organisation_id"
        through.objects.bulk_create(through(intervention_id=pk, **{target: other}) for pk, other in rows)


def _clear_children(ids: list[int]) -> None:
    for model in (InterventionLocation, InterventionBudget, InterventionTransaction, InterventionCell):
        model.objects.filter(intervention_id__in=ids).delete()
    for name in ("donors", "implementers", "municipalities", "themes"):
        getattr(Intervention, name).through.objects.filter(intervention_id__in=ids).delete()


def _cells(plan: _Plan) -> list[tuple[int | None, int | None]]:
    """An IATI activity works on each of its themes in each of its municipalities."""
    municipalities = sorted(plan.municipalities) or [None]
    themes = sorted(plan.themes) or [None]
    return [(m, t) for m in municipalities for t in themes]


class _Organisations:
    """Organisations matched by IATI `ref` (`Organisation.iati_ref`), then by name; created, with
    the kind their role says, when new (docs/registry.md "Organisations")."""

    def __init__(self) -> None:
        self.by_ref: dict[str, int] = {}
        self.by_name: dict[tuple[str, str], int] = {}
        for pk, kind, ref, name_en, name_ar in Organisation.objects.values_list(
            "id", "kind", "iati_ref", "name_en", "name_ar"
        ):
            if ref:
                self.by_ref.setdefault(ref.casefold(), pk)
            for name in (name_en, name_ar):
                if name:
                    self.by_name.setdefault((kind, normalise(name)), pk)

    @staticmethod
    def kind_for(organisation: OrganisationRef) -> str:
        if organisation.role in ("funding", "extending", "accountable"):
            return Organisation.Kind.DONOR
        if organisation.type in NGO_TYPES:
            return Organisation.Kind.CSO
        if organisation.role == "implementing":
            return Organisation.Kind.IMPLEMENTER
        return Organisation.Kind.DONOR  # the reporting organisation of a donor's activity

    def resolve(self, organisation: OrganisationRef) -> int | None:
        if organisation.ref and organisation.ref.casefold() in self.by_ref:
            return self.by_ref[organisation.ref.casefold()]
        kind = self.kind_for(organisation)
        keys = [normalise(name) for name in organisation.names.values() if name]
        for key in keys:
            for candidate_kind in (kind, *Organisation.Kind.values):
                if (candidate_kind, key) in self.by_name:
                    return self.by_name[(candidate_kind, key)]
        # Each name in the language the file gives it (narratives without xml:lang take the
        # activity's or the file's, else English): a name published only in English is not an
        # Arabic name, and the pages mark the missing language instead of repeating the other.
        name_en, name_ar = organisation.names.get("en", ""), organisation.names.get("ar", "")
        if not (name_en or name_ar):
            name_en = organisation.ref  # only an identifier: written in no language, shown as it is
        if not (name_en or name_ar):
            return None
        country = _country_of(organisation.ref) or ("LY" if kind == Organisation.Kind.CSO else "ZZ")
        same_name = {"name_en": name_en} if name_en else {"name_ar": name_ar}
        existing = Organisation.objects.filter(kind=kind, country=country, **same_name).first()
        created = existing or organisation_create(
            kind=kind, name_en=name_en, name_ar=name_ar, country=country, iati_ref=organisation.ref
        )
        if organisation.ref:
            self.by_ref[organisation.ref.casefold()] = created.pk
        for key in keys:
            self.by_name[(kind, key)] = created.pk
        return created.pk


def _country_of(ref: str) -> str:
    """The country an IATI organisation identifier starts with ("US-GOV-1" → US), if it is one."""
    prefix = ref.split("-")[0].upper() if ref else ""
    return prefix if len(prefix) == 2 and prefix in _territories() else ""


_TERRITORIES: set[str] = set()


def _territories() -> set[str]:
    if not _TERRITORIES:
        _TERRITORIES.update(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())
        _TERRITORIES.discard("ZZ")
    return _TERRITORIES


# Themes of sectors ----------------------------------------------------------------------------


def sector_theme_map() -> dict[str, set[int]]:
    mapping: dict[str, set[int]] = defaultdict(set)
    for code, theme_id in SectorTheme.objects.values_list("dac_code", "theme_id"):
        mapping[code].add(theme_id)
    return mapping


def themes_of(codes: Iterable[str], mapping: dict[str, set[int]]) -> set[int]:
    """A sector's themes: those of its own code and those of its three-digit category."""
    themes: set[int] = set()
    for code in codes:
        themes |= mapping.get(code, set()) | mapping.get(code[:3], set())
    return themes


@transaction.atomic
def sector_theme_create(*, dac_code: str, theme: Theme) -> SectorTheme:
    dac_code = (dac_code or "").strip()
    if dac_code not in dac_codes():
        raise ValidationError(
            {"dac_code": _("%(code)s is not a DAC sector code or category of the OECD list.") % {"code": dac_code}}
        )
    mapping = validated_save(SectorTheme(dac_code=dac_code, theme=theme))
    _retheme([dac_code])
    return mapping


@transaction.atomic
def sector_theme_delete(*, mapping: SectorTheme) -> None:
    code = mapping.dac_code
    mapping.delete()
    _retheme([code])


@transaction.atomic
def sector_themes_seed_defaults() -> int:
    """Add the default mapping (`sector_defaults`) for the themes that exist; returns how many
    mappings were added. Mappings a ministry editor removed come back only through this call."""
    themes = dict(Theme.objects.values_list("code", "id"))
    existing = set(SectorTheme.objects.values_list("dac_code", "theme_id"))
    new = [
        SectorTheme(dac_code=code, theme_id=themes[theme])
        for code, theme in default_pairs()
        if theme in themes and (code, themes[theme]) not in existing
    ]
    SectorTheme.objects.bulk_create(new)
    if new:
        _retheme({mapping.dac_code for mapping in new})
    return len(new)


def _retheme(codes: Iterable[str]) -> None:
    """The mapping of these codes changed: the imported interventions with such a sector get
    their themes (and cells) again, and their pairs are looked at again."""
    codes = set(codes)
    mapping = sector_theme_map()
    affected = []
    for pk, sectors, categories in Intervention.objects.filter(source=Intervention.Source.IATI).values_list(
        "id", "sectors", "sector_categories"
    ):
        own = set(sectors or ()) | set(categories or ())
        if own & codes or {code[:3] for code in own} & codes:
            affected.append((pk, themes_of(own, mapping)))
    for pk, themes in affected:
        intervention = Intervention(pk=pk)
        intervention.themes.set(themes)
        municipalities = sorted(
            Intervention.municipalities.through.objects.filter(intervention_id=pk).values_list(
                "organisation_id", flat=True
            )
        ) or [None]
        InterventionCell.objects.filter(intervention_id=pk).delete()
        InterventionCell.objects.bulk_create(
            InterventionCell(intervention_id=pk, municipality_id=m, theme_id=t)
            for m in municipalities
            for t in (sorted(themes) or [None])
        )
    if affected:
        schedule_detection(pk for pk, _themes in affected)


# Locations ------------------------------------------------------------------------------------


@transaction.atomic
def location_alias_create(*, location: InterventionLocation, municipality: Organisation, user=None) -> LocationAlias:
    """Map a location that matched nothing to a municipality, once: the alias (its name and its
    code) is remembered for later imports, and every stored location of that name or code moves
    to the municipality now."""
    if municipality.kind != Organisation.Kind.MUNICIPALITY or municipality.country != "LY":
        raise ValidationError({"municipality": _("Choose a Libyan municipality.")})
    if location.municipality_id is not None:
        raise ValidationError({"location": _("This location is already matched to a municipality.")})
    name_key = normalise_place(location.name)
    if not name_key and not location.code:
        raise ValidationError({"location": _("This location has neither a name nor a code to remember.")})
    if name_key and LocationAlias.objects.filter(normalized_name=name_key).exists():
        name_key = ""
    code = (
        location.code
        if not LocationAlias.objects.filter(vocabulary=location.vocabulary, code=location.code).exists()
        else ""
    )
    alias = validated_save(
        LocationAlias(
            normalized_name=name_key,
            vocabulary=location.vocabulary if code else "",
            code=code,
            label=location.name or location.code,
            municipality=municipality,
            created_by=user if getattr(user, "pk", None) else None,
        )
    )
    index = PlaceIndex()
    moved: set[int] = set()
    for unmatched in InterventionLocation.objects.filter(municipality__isnull=True).select_related("intervention"):
        match = index.match(
            names=[unmatched.name],
            codes=[(unmatched.vocabulary, unmatched.code)],
            latitude=unmatched.latitude,
            longitude=unmatched.longitude,
        )
        if match.municipality_id is None:
            continue
        unmatched.municipality_id = match.municipality_id
        unmatched.matched_by = match.matched_by
        unmatched.in_libya = True
        unmatched.save(update_fields=["municipality", "matched_by", "in_libya"])
        moved.add(unmatched.intervention_id)
    for pk in moved:
        _replace_places(pk)
    schedule_detection(moved)
    return alias


@transaction.atomic
def location_alias_delete(*, alias: LocationAlias) -> None:
    """Forget a mapping made by mistake. The locations it matched are matched again without it,
    so they and their interventions leave the municipality now rather than at the next import;
    most match nothing again and return to the unmatched list, to be mapped right."""
    municipality_id = alias.municipality_id
    alias.delete()
    index = PlaceIndex()
    moved: set[int] = set()
    for location in InterventionLocation.objects.filter(
        matched_by=InterventionLocation.MatchedBy.ALIAS, municipality_id=municipality_id
    ):
        match = index.match(
            names=[location.name],
            codes=[(location.vocabulary, location.code)],
            latitude=location.latitude,
            longitude=location.longitude,
        )
        if (match.municipality_id, match.matched_by) == (location.municipality_id, location.matched_by):
            continue  # another alias (its code, say) still says the same
        location.municipality_id = match.municipality_id
        location.matched_by = match.matched_by
        location.save(update_fields=["municipality", "matched_by"])
        moved.add(location.intervention_id)
    for pk in moved:
        _replace_places(pk)
    schedule_detection(moved)


def _replace_places(intervention_id: int) -> None:
    municipalities = set(
        InterventionLocation.objects.filter(intervention_id=intervention_id, municipality__isnull=False).values_list(
            "municipality_id", flat=True
        )
    )
    intervention = Intervention(pk=intervention_id)
    intervention.municipalities.set(municipalities)
    themes = sorted(
        Intervention.themes.through.objects.filter(intervention_id=intervention_id).values_list("theme_id", flat=True)
    ) or [None]
    InterventionCell.objects.filter(intervention_id=intervention_id).delete()
    InterventionCell.objects.bulk_create(
        InterventionCell(intervention_id=intervention_id, municipality_id=m, theme_id=t)
        for m in (sorted(municipalities) or [None])
        for t in themes
    )


# Programmes tracked here ----------------------------------------------------------------------

PROGRAMME_STATUS = {
    Programme.Status.PLANNED: Intervention.Status.PIPELINE,
    Programme.Status.ACTIVE: Intervention.Status.IMPLEMENTATION,
    Programme.Status.COMPLETED: Intervention.Status.CLOSED,
    Programme.Status.SUSPENDED: Intervention.Status.SUSPENDED,
}


@transaction.atomic
def programme_intervention_sync(*, programme_id: int) -> Intervention | None:
    """Bring a programme's intervention up to date (create it, or delete it with the programme).
    Where and on what it works comes from its workstreams: each workstream's theme in its
    municipalities (or its twinning's); its Libyan municipalities only."""
    programme = Programme.objects.filter(pk=programme_id).select_related("implementer").first()
    if programme is None:
        Intervention.objects.filter(programme_id=programme_id).delete()
        return None
    workstreams = list(
        Workstream.objects.filter(programme=programme)
        .select_related("theme", "lead")
        .prefetch_related("municipalities", "twinning__municipalities")
        .order_by("pk")
    )
    libyan = set(
        Organisation.objects.filter(
            Q(twinnings__programme_id=programme_id) | Q(workstreams__programme_id=programme_id),
            kind=Organisation.Kind.MUNICIPALITY,
            country="LY",
        ).values_list("id", flat=True)
    )
    cells: set[tuple[int | None, int | None]] = set()
    for workstream in workstreams:
        places = {m.pk for m in workstream.municipalities.all()}
        if not places and workstream.twinning is not None:
            places = {m.pk for m in workstream.twinning.municipalities.all()}
        places &= libyan
        cells |= {(m, workstream.theme_id) for m in places} or {(None, workstream.theme_id)}
    placed = {m for m, _t in cells if m is not None}
    cells |= {(m, None) for m in libyan - placed}
    implementers = {programme.implementer_id} if programme.implementer_id else set()
    implementers |= {
        w.lead_id
        for w in workstreams
        if w.lead and w.lead.kind in (Organisation.Kind.IMPLEMENTER, Organisation.Kind.CSO)
    }
    titles = [programme.name_en, programme.name_ar]
    for workstream in workstreams:
        titles += [workstream.name_en, workstream.name_ar]
    intervention = Intervention.objects.filter(programme=programme).first() or Intervention(
        source=Intervention.Source.PROGRAMME, programme=programme
    )
    intervention.iati_identifier = programme.iati_identifier
    intervention.title_en = programme.name_en
    intervention.title_ar = programme.name_ar
    intervention.title = programme.name_en
    intervention.description_en = programme.description_en
    intervention.description_ar = programme.description_ar
    intervention.description = programme.description_en
    intervention.sectors = sorted({w.theme.dac_sector for w in workstreams if w.theme.dac_sector})
    intervention.start_date = programme.start_date
    intervention.end_date = programme.end_date
    intervention.budget = programme.budget
    intervention.currency = programme.currency
    intervention.status = PROGRAMME_STATUS.get(programme.status, "")
    intervention.match_titles = sorted({title_key(t) for t in titles if t} - {""})
    validated_save(intervention, exclude=["programme", "reporting_org"])
    intervention.donors.set(programme.donors.all())
    intervention.implementers.set(implementers)
    intervention.municipalities.set(libyan)
    intervention.themes.set({w.theme_id for w in workstreams})
    stored = set(InterventionCell.objects.filter(intervention=intervention).values_list("municipality_id", "theme_id"))
    if stored != cells:
        InterventionCell.objects.filter(intervention=intervention).delete()
        InterventionCell.objects.bulk_create(
            InterventionCell(intervention=intervention, municipality_id=m, theme_id=t)
            for m, t in sorted(cells, key=lambda c: (c[0] or 0, c[1] or 0))
        )
    return intervention


def programme_intervention_refresh(*, programme_id: int) -> None:
    """What the task does when a programme changed: its intervention, then its pairs."""
    intervention = programme_intervention_sync(programme_id=programme_id)
    if intervention is not None:
        overlap_candidates_refresh(intervention_ids=[intervention.pk])


def registry_refresh() -> dict[str, int]:
    """Every programme's intervention and a full detector run (the nightly reconcile, and
    `manage.py refresh_registry`)."""
    for programme_id in Programme.objects.values_list("pk", flat=True):
        programme_intervention_sync(programme_id=programme_id)
    Intervention.objects.filter(source=Intervention.Source.PROGRAMME, programme__isnull=True).delete()
    return overlap_candidates_refresh(intervention_ids=None)


# Overlap candidates ---------------------------------------------------------------------------

NEW_CANDIDATE_FIELDS = (
    "intervention_a",
    "intervention_b",
    "score",
    "reasons",
    "fingerprint",
    "status",
    "previous_status",
    "note",
    "created_at",
    "updated_at",
)


@transaction.atomic
def overlap_candidates_refresh(*, intervention_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Run the detector (over the pairs involving these interventions, or all) and bring the
    candidates up to date. Never merges anything: a new pair opens; a reviewed pair keeps its
    review while the facts its score was computed from are unchanged, and opens again (its
    previous review noted) when they change; an open pair no longer found goes away."""
    scope = None if intervention_ids is None else {int(i) for i in intervention_ids}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [int(LockClass.REGISTRY_DETECTOR)])
    found = detector.detect(scope)
    existing_rows = OverlapCandidate.objects.all()
    if scope is not None:
        existing_rows = existing_rows.filter(Q(intervention_a_id__in=scope) | Q(intervention_b_id__in=scope))
    existing = {(c.intervention_a_id, c.intervention_b_id): c for c in existing_rows}
    now, open_status = timezone.now(), OverlapCandidate.Status.OPEN.value
    new, changed, reopened = [], [], 0
    for (a, b), result in found.items():
        candidate = existing.pop((a, b), None)
        if candidate is None:
            new.append((a, b, result.score, result.reasons, result.fingerprint, open_status, "", "", now, now))
        elif candidate.fingerprint != result.fingerprint:
            candidate.score, candidate.reasons, candidate.fingerprint = result.score, result.reasons, result.fingerprint
            if candidate.status != OverlapCandidate.Status.OPEN:
                candidate.previous_status = candidate.status
                candidate.status = OverlapCandidate.Status.OPEN
                reopened += 1
            candidate.updated_at = now
            changed.append(candidate)
    # A full run after a large import opens tens of thousands of pairs at once (bench_registry).
    insert_rows(OverlapCandidate, NEW_CANDIDATE_FIELDS, new)
    OverlapCandidate.objects.bulk_update(
        changed, ["score", "reasons", "fingerprint", "status", "previous_status", "updated_at"], batch_size=1000
    )
    gone = [c.pk for c in existing.values() if c.status == OverlapCandidate.Status.OPEN]
    OverlapCandidate.objects.filter(pk__in=gone).delete()
    return {
        "found": len(found),
        "created": len(new),
        "updated": len(changed),
        "reopened": reopened,
        "removed": len(gone),
    }


@transaction.atomic
def overlap_candidate_review(*, candidate: OverlapCandidate, status: str, note: str = "", user) -> OverlapCandidate:
    """A person's decision on a pair: a duplicate, co-funded work, or unrelated; or open again.
    The registry records it and changes nothing else."""
    if status not in OverlapCandidate.Status.values:
        raise ValidationError({"status": _("Choose open, duplicate, cofunded or unrelated.")})
    candidate = OverlapCandidate.objects.select_for_update().get(pk=candidate.pk)
    candidate.status = status
    candidate.note = note or ""
    candidate.previous_status = ""
    candidate.reviewed_by = user
    candidate.reviewed_at = timezone.now()
    candidate.full_clean(exclude=["intervention_a", "intervention_b", "reviewed_by"], validate_constraints=False)
    candidate.save(update_fields=["status", "note", "previous_status", "reviewed_by", "reviewed_at", "updated_at"])
    return candidate
