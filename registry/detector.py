"""The duplicate detector (docs/registry.md "Duplicates"): candidate pairs found set-based in
SQL, then scored in Python.

1. Blocking, in one query: two interventions are compared only when they work in the same
   municipality on the same theme (`InterventionCell`), or share an IATI identifier. Pairs linked
   by `related-activity` are added from the identifiers.
2. Scoring (`matching.score_pair`): the facts of the interventions involved are read in a fixed
   number of queries; the titles of all pairs are compared in one batch (rapidfuzz, after
   Arabic normalisation), then each pair is scored.

A run is scoped to the pairs involving some interventions (after an import or a programme
change) or covers all of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection

from .matching import CANDIDATE_SCORE, Facts, fingerprint, score_pair, title_similarities
from .models import Intervention, InterventionCell

# Above this many ids a scoped query lists them in chunks.
CHUNK = 1000


@dataclass(frozen=True)
class Found:
    score: int
    reasons: list[str]
    fingerprint: str


def blocked_pairs(intervention_ids: Collection[int] | None = None) -> set[tuple[int, int]]:
    """Pairs (lower id first) that share a municipality × theme cell or an IATI identifier,
    or are linked by a related-activity reference; with ids, only pairs involving one of them."""
    cell = InterventionCell._meta.db_table
    intervention = Intervention._meta.db_table
    blocks = [
        f"""SELECT DISTINCT a.intervention_id, b.intervention_id FROM {cell} a
            JOIN {cell} b ON a.municipality_id = b.municipality_id AND a.theme_id = b.theme_id
             AND a.intervention_id < b.intervention_id
            WHERE a.municipality_id IS NOT NULL AND a.theme_id IS NOT NULL {{scope}}""",
        f"""SELECT a.id, b.id FROM {intervention} a
            JOIN {intervention} b ON a.iati_identifier = b.iati_identifier AND a.id < b.id
            WHERE a.iati_identifier <> '' {{scope}}""",
    ]
    scopes = [("a.intervention_id", "b.intervention_id"), ("a.id", "b.id")]
    pairs: set[tuple[int, int]] = set()
    with connection.cursor() as cursor:
        for sql, (left, right) in zip(blocks, scopes, strict=True):
            if intervention_ids is None:
                cursor.execute(sql.format(scope=""))
                pairs.update(cursor.fetchall())
                continue
            ids = sorted(intervention_ids)
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(sql.format(scope=f"AND ({left} IN ({marks}) OR {right} IN ({marks}))"), chunk + chunk)
                pairs.update(cursor.fetchall())
    pairs.update(_related_pairs(intervention_ids))
    return pairs


def _related_pairs(intervention_ids: Collection[int] | None) -> set[tuple[int, int]]:
    linking = Intervention.objects.exclude(related_identifiers=[]).values_list("id", "related_identifiers")
    references = {row_id: set(refs) for row_id, refs in linking}
    if not references:
        return set()
    wanted = set().union(*references.values())
    by_identifier: dict[str, list[int]] = defaultdict(list)
    for row_id, identifier in Intervention.objects.filter(iati_identifier__in=wanted).values_list(
        "id", "iati_identifier"
    ):
        by_identifier[identifier].append(row_id)
    pairs = set()
    for row_id, refs in references.items():
        for ref in refs:
            for other in by_identifier.get(ref, ()):
                if other != row_id:
                    pair = (min(row_id, other), max(row_id, other))
                    if intervention_ids is None or pair[0] in intervention_ids or pair[1] in intervention_ids:
                        pairs.add(pair)
    return pairs


def load_facts(intervention_ids: Collection[int] | None) -> dict[int, Facts]:
    """What the scorer needs of each intervention (or of every one, with None), in six queries
    whatever their number."""
    ids = None if intervention_ids is None else list(intervention_ids)
    if ids == []:
        return {}
    related: dict[str, dict[int, set]] = {name: defaultdict(set) for name in ("donors", "implementers")}
    for name in related:
        through = getattr(Intervention, name).through
        target = f"{through._meta.get_field('organisation').attname}"
        for intervention_id, organisation_id in _chunked(
            through.objects.values_list("intervention_id", target), "intervention_id", ids
        ):
            related[name][intervention_id].add(organisation_id)
    cells: dict[int, set] = defaultdict(set)
    for intervention_id, municipality_id, theme_id in _chunked(
        InterventionCell.objects.values_list("intervention_id", "municipality_id", "theme_id"), "intervention_id", ids
    ):
        cells[intervention_id].add((municipality_id, theme_id))
    facts = {}
    rows = _chunked(
        Intervention.objects.values_list(
            "id", "iati_identifier", "start_date", "end_date", "sectors", "match_titles", "related_identifiers"
        ),
        "id",
        ids,
    )
    for row_id, identifier, start, end, sectors, titles, refs in rows:
        own_cells = frozenset(cells[row_id])
        facts[row_id] = Facts(
            id=row_id,
            identifier=identifier,
            municipalities=frozenset(m for m, _t in own_cells if m is not None),
            themes=frozenset(t for _m, t in own_cells if t is not None),
            cells=own_cells,
            sectors=frozenset(sectors or ()),
            donors=frozenset(related["donors"][row_id]),
            implementers=frozenset(related["implementers"][row_id]),
            titles=tuple(titles or ()),
            related=frozenset(refs or ()),
            start=start,
            end=end,
        )
    return facts


def _chunked(queryset, field: str, ids: list[int] | None):
    if ids is None:
        yield from queryset
        return
    for start in range(0, len(ids), CHUNK * 10):
        yield from queryset.filter(**{f"{field}__in": ids[start : start + CHUNK * 10]})


def detect(intervention_ids: Collection[int] | None = None) -> dict[tuple[int, int], Found]:
    """Every candidate pair (score ≥ CANDIDATE_SCORE) among the blocked pairs."""
    scope = None if intervention_ids is None else set(intervention_ids)
    pairs = blocked_pairs(scope)
    # A full run reads every intervention rather than list ten thousand ids in the query.
    facts = load_facts(None if scope is None else {i for pair in pairs for i in pair})
    pairs = [(a, b) for a, b in pairs if a in facts and b in facts]
    similarities = title_similarities([(facts[a].titles_by_script, facts[b].titles_by_script) for a, b in pairs])
    found = {}
    for (a, b), similarity in zip(pairs, similarities, strict=True):
        score, reasons = score_pair(facts[a], facts[b], similarity=similarity)
        if score >= CANDIDATE_SCORE:
            found[(a, b)] = Found(score, reasons, fingerprint(facts[a], facts[b]))
    return found
