"""Reads about programmes that the API, the pages and the services share."""

from django.db.models import Q, QuerySet

from partners.models import Organisation

from .models import Programme


def programme_municipalities(programme: Programme | int) -> QuerySet[Organisation]:
    """The municipalities that take part in a programme: members of one of its twinnings or
    workstreams (docs/design.md §7)."""
    programme_id = programme if isinstance(programme, int) else programme.pk
    return Organisation.objects.filter(
        Q(twinnings__programme_id=programme_id) | Q(workstreams__programme_id=programme_id),
        kind=Organisation.Kind.MUNICIPALITY,
    ).distinct()


def programme_municipality_ids(programme: Programme | int) -> set[int]:
    return set(programme_municipalities(programme).values_list("pk", flat=True))


def participating_municipality_ids(programme_ids: set[int]) -> dict[int, set[int]]:
    """For many programmes at once: programme id → ids of its municipalities (two queries)."""
    from .models import Twinning, Workstream

    found: dict[int, set[int]] = {programme_id: set() for programme_id in programme_ids}
    for model in (Twinning, Workstream):
        rows = model.municipalities.through.objects.filter(
            **{f"{model._meta.model_name}__programme_id__in": programme_ids}
        ).values_list(f"{model._meta.model_name}__programme_id", "organisation_id")
        for programme_id, municipality_id in rows:
            found[programme_id].add(municipality_id)
    return found
