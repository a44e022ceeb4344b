"""Reads of the registry shared by the API and the pages, over what the user may see.

Who sees what (docs/registry.md "Who sees what"): ministry members and superusers see the whole
registry. Everyone signed in sees the interventions imported from IATI files (published openly)
and those of the programmes they see (docs/design.md §7). A donor's *own* interventions are those
it funds or reports; a donor sees the duplicate candidates that involve one of them, and the
other intervention of such a pair.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from partners.models import Organisation
from projects.access import Access
from projects.models import Theme

from .iati import dac_name
from .models import Intervention, InterventionCell, InterventionLocation, OverlapCandidate, SectorTheme

ids_only = Organisation.objects.only("id")


def own_interventions_filter(access: Access, path: str = "") -> Q:
    prefix = f"{path}__" if path else ""
    donors = access.donor_ids
    return Q(**{f"{prefix}donors__in": donors}) | Q(**{f"{prefix}reporting_org_id__in": donors})


def own_intervention_ids(access: Access) -> set[int]:
    if not access.donor_ids:
        return set()
    return set(Intervention.objects.filter(own_interventions_filter(access)).values_list("id", flat=True).distinct())


def visible_interventions(access: Access) -> QuerySet[Intervention]:
    interventions = Intervention.objects.all()
    if access.sees_everything:
        return interventions
    visible = Q(source=Intervention.Source.IATI) | access.programme_filter("programme")
    if access.programme_ids is not None and not access.programme_ids:
        visible = Q(source=Intervention.Source.IATI)
    own = own_intervention_ids(access)
    if own:
        partners = set()
        for a, b in OverlapCandidate.objects.filter(
            Q(intervention_a_id__in=own) | Q(intervention_b_id__in=own)
        ).values_list("intervention_a_id", "intervention_b_id"):
            partners.update((a, b))
        visible |= Q(pk__in=own | partners)
    return interventions.filter(visible)


def with_relations(queryset: QuerySet[Intervention]) -> QuerySet[Intervention]:
    return queryset.select_related("reporting_org", "programme").prefetch_related(
        Prefetch("donors", queryset=ids_only),
        Prefetch("implementers", queryset=ids_only),
        Prefetch("municipalities", queryset=ids_only),
        Prefetch("themes", queryset=Theme.objects.only("id")),
    )


def visible_candidates(access: Access) -> QuerySet[OverlapCandidate]:
    candidates = OverlapCandidate.objects.all()
    if access.sees_everything:
        return candidates
    own = own_intervention_ids(access)
    if not own:
        return candidates.none()
    return candidates.filter(Q(intervention_a_id__in=own) | Q(intervention_b_id__in=own))


def unmatched_locations() -> QuerySet[InterventionLocation]:
    """Locations in Libya (or of Libyan activities) that no municipality matched yet."""
    return (
        InterventionLocation.objects.filter(municipality__isnull=True)
        .filter(Q(in_libya=True) | Q(intervention__source=Intervention.Source.IATI))
        .select_related("intervention")
        .order_by("name", "code", "id")
    )


def visible_unmatched_locations(access: Access) -> QuerySet[InterventionLocation]:
    """The unmatched locations of the interventions the user sees (all of them for the ministry)."""
    locations = unmatched_locations()
    if access.sees_everything:
        return locations
    return locations.filter(intervention__in=visible_interventions(access))


# Who does what where ---------------------------------------------------------------------------


def three_w_rows(
    access: Access,
    *,
    municipality: int | None = None,
    theme: int | None = None,
    donor: int | None = None,
    active_on: date | None = None,
) -> list[dict]:
    """One row per intervention × municipality × theme it works in (docs/design.md §6
    `reports/3w/`): names in the active language, money as the intervention's whole budget.
    Cells without a municipality (work not located) come last, with an empty municipality."""
    interventions = filter_interventions(
        visible_interventions(access), municipality=None, theme=None, donor=donor, active_on=active_on
    )
    cells = InterventionCell.objects.filter(intervention__in=interventions)
    if municipality:
        cells = cells.filter(municipality_id=municipality)
    if theme:
        cells = cells.filter(theme_id=theme)
    cell_rows = list(cells.values_list("intervention_id", "municipality_id", "theme_id").distinct())
    # Names are read once per intervention, organisation, place and theme, not once per row: an
    # intervention has a row per municipality × theme it works in (tens of thousands of rows at
    # national scale), and its donors and implementers come from the link tables in one query
    # each rather than a related manager per intervention.
    involved = cells.values("intervention_id")
    by_id = {i.pk: i for i in Intervention.objects.filter(pk__in=involved)}
    links = {}
    for name in ("donors", "implementers"):
        through = getattr(Intervention, name).through
        links[name] = defaultdict(list)
        for intervention_id, organisation_id in through.objects.filter(intervention_id__in=involved).values_list(
            "intervention_id", "organisation_id"
        ):
            links[name][intervention_id].append(organisation_id)
    organisations = {
        o.pk: o
        for o in Organisation.objects.filter(
            pk__in={pk for found in links.values() for ids in found.values() for pk in ids}
        ).only("id", "name_en", "name_ar", "acronym")
    }
    places = {
        o.pk: o
        for o in Organisation.objects.filter(pk__in={m for _i, m, _t in cell_rows if m}).only(
            "id", "name_en", "name_ar", "pcode"
        )
    }
    themes = {t.pk: t for t in Theme.objects.filter(pk__in={t for _i, _m, t in cell_rows if t})}
    mapped = defaultdict(set)
    for code, theme_id in SectorTheme.objects.values_list("dac_code", "theme_id"):
        mapped[theme_id].add(code)
    names = {pk: organisation.name for pk, organisation in organisations.items()}
    people = {
        pk: (
            "; ".join(sorted(names[d] for d in links["donors"][pk])),
            sorted(links["donors"][pk]),
            "; ".join(sorted(names[i] for i in links["implementers"][pk])),
            intervention.title,
        )
        for pk, intervention in by_id.items()
    }
    place_names = {pk: (place.name, place.pcode) for pk, place in places.items()}
    theme_names = {pk: subject.name for pk, subject in themes.items()}
    rows = []
    for intervention_id, municipality_id, theme_id in cell_rows:
        intervention = by_id[intervention_id]
        sectors = [
            code
            for code in intervention.sectors
            if theme_id is None or code in mapped[theme_id] or code[:3] in mapped[theme_id]
        ] or list(intervention.sectors)
        place_name, pcode = place_names.get(municipality_id, ("", ""))
        donor, donor_ids, implementer, title = people[intervention_id]
        rows.append(
            {
                "intervention_id": intervention_id,
                "municipality_id": municipality_id,
                "theme_id": theme_id,
                "municipality": place_name,
                "pcode": pcode,
                "theme": theme_names.get(theme_id, ""),
                "sector": ";".join(sectors),
                "sector_names": [dac_name(code) for code in sectors],
                "donor": donor,
                "donor_ids": list(donor_ids),
                "implementer": implementer,
                "intervention": title,
                "source": intervention.source,
                "start_date": intervention.start_date,
                "end_date": intervention.end_date,
                "budget": intervention.budget,
                "currency": intervention.currency,
            }
        )
    rows.sort(
        key=lambda r: (r["municipality"] == "", r["municipality"], r["theme"] == "", r["theme"], r["intervention"])
    )
    return rows


def three_w_grid(rows: list[dict]) -> list[dict]:
    """The 3W page's grid: per municipality × theme, the donors, implementers, interventions and
    the money (budgets of the distinct interventions, per currency)."""
    cells: dict[tuple, dict] = {}
    for row in rows:
        key = (row["municipality"], row["theme"])
        cell = cells.setdefault(
            key,
            {
                "municipality": row["municipality"],
                "municipality_id": row["municipality_id"],
                "theme": row["theme"],
                "theme_id": row["theme_id"],
                "donors": set(),
                "implementers": set(),
                "interventions": {},
                "money": defaultdict(Decimal),
            },
        )
        cell["donors"].update(d for d in row["donor"].split("; ") if d)
        cell["implementers"].update(i for i in row["implementer"].split("; ") if i)
        if row["intervention_id"] not in cell["interventions"]:
            cell["interventions"][row["intervention_id"]] = row["intervention"]
            if row["budget"] is not None:
                cell["money"][row["currency"] or "?"] += row["budget"]
    return [
        {
            **cell,
            "donors": sorted(cell["donors"]),
            "implementers": sorted(cell["implementers"]),
            "interventions": sorted(cell["interventions"].items(), key=lambda item: item[1]),
            "money": sorted(cell["money"].items()),
        }
        for cell in cells.values()
    ]


def filter_interventions(
    queryset: QuerySet[Intervention],
    *,
    municipality: int | None = None,
    theme: int | None = None,
    donor: int | None = None,
    active_on: date | None = None,
) -> QuerySet[Intervention]:
    if municipality:
        queryset = queryset.filter(municipalities=municipality)
    if theme:
        queryset = queryset.filter(themes=theme)
    if donor:
        queryset = queryset.filter(donors=donor)
    if active_on:
        queryset = queryset.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=active_on),
            Q(end_date__isnull=True) | Q(end_date__gte=active_on),
        )
    return queryset.distinct() if (municipality or theme or donor) else queryset


def map_points(access: Access) -> list[dict]:
    """Per Libyan municipality with coordinates: how many donors fund visible work there, how many
    interventions, and how many confirmed duplicates involve it."""
    municipalities = list(
        Organisation.objects.filter(
            kind=Organisation.Kind.MUNICIPALITY, country="LY", latitude__isnull=False, longitude__isnull=False
        ).order_by("name_en")
    )
    visible = visible_interventions(access)
    through = Intervention.municipalities.through
    placed = defaultdict(set)
    for intervention_id, municipality_id in through.objects.filter(intervention__in=visible).values_list(
        "intervention_id", "organisation_id"
    ):
        placed[municipality_id].add(intervention_id)
    donors = defaultdict(set)
    donor_links = Intervention.donors.through.objects.filter(intervention__in=visible).values_list(
        "intervention_id", "organisation_id"
    )
    donors_of = defaultdict(set)
    for intervention_id, organisation_id in donor_links:
        donors_of[intervention_id].add(organisation_id)
    for municipality_id, interventions in placed.items():
        for intervention_id in interventions:
            donors[municipality_id] |= donors_of[intervention_id]
    duplicates = defaultdict(int)
    for a, b in (
        visible_candidates(access)
        .filter(status=OverlapCandidate.Status.DUPLICATE)
        .values_list("intervention_a_id", "intervention_b_id")
    ):
        for municipality_id, interventions in placed.items():
            if a in interventions and b in interventions:
                duplicates[municipality_id] += 1
    return [
        {
            "municipality": m,
            "donors": len(donors[m.pk]),
            "interventions": len(placed[m.pk]),
            "duplicates": duplicates[m.pk],
        }
        for m in municipalities
    ]


def dashboard_summary() -> dict:
    """The ministry dashboard's registry block: interventions by source, open candidates, and the
    confirmed duplicates."""
    counts = dict(Intervention.objects.order_by().values_list("source").annotate(n=Count("id")))
    confirmed = list(
        OverlapCandidate.objects.filter(status=OverlapCandidate.Status.DUPLICATE)
        .select_related("intervention_a", "intervention_b")
        .order_by("-reviewed_at", "-score")[:20]
    )
    return {
        "iati": counts.get(Intervention.Source.IATI, 0),
        "programmes": counts.get(Intervention.Source.PROGRAMME, 0),
        "open": OverlapCandidate.objects.filter(status=OverlapCandidate.Status.OPEN).count(),
        "confirmed": confirmed,
    }
