"""Which Libyan municipality an IATI location is (docs/registry.md "Where"): by place code, by
a code or name a person mapped before (`LocationAlias`), by name in either language, or by the
nearest municipality within `POINT_MATCH_KM` of its point."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from partners.models import Organisation

from .geography import in_libya
from .matching import nearest, normalise_place, similar_place
from .models import InterventionLocation, LocationAlias

POINT_MATCH_KM = 25.0
MatchedBy = InterventionLocation.MatchedBy


@dataclass(frozen=True)
class Match:
    municipality_id: int | None
    matched_by: str
    in_libya: bool


class PlaceIndex:
    """The Libyan municipalities and the remembered aliases, read once (two queries) and then
    matched against any number of locations."""

    def __init__(self) -> None:
        rows = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY, country="LY").values_list(
            "id", "pcode", "name_en", "name_ar", "latitude", "longitude"
        )
        self.by_pcode: dict[str, int] = {}
        self.by_name: dict[str, int | None] = {}
        self.points: list[tuple[int, float, float]] = []
        for municipality_id, pcode, name_en, name_ar, latitude, longitude in rows:
            if pcode:
                self.by_pcode[pcode.upper()] = municipality_id
            for name in (name_en, name_ar):
                key = normalise_place(name or "")
                if key:
                    # Two municipalities of one name: the name alone decides nothing.
                    known = self.by_name.get(key, municipality_id)
                    self.by_name[key] = municipality_id if known == municipality_id else None
            if latitude is not None and longitude is not None:
                self.points.append((municipality_id, float(latitude), float(longitude)))
        self.names = [(key, municipality_id) for key, municipality_id in self.by_name.items() if municipality_id]
        self.alias_by_code: dict[tuple[str, str], int] = {}
        self.alias_by_name: dict[str, int] = {}
        for normalized_name, vocabulary, code, municipality_id in LocationAlias.objects.values_list(
            "normalized_name", "vocabulary", "code", "municipality_id"
        ):
            if code:
                self.alias_by_code[(vocabulary, code.upper())] = municipality_id
            if normalized_name:
                self.alias_by_name[normalized_name] = municipality_id

    def match(
        self,
        *,
        names: Iterable[str],
        codes: Iterable[tuple[str, str]],
        latitude: Decimal | None,
        longitude: Decimal | None,
    ) -> Match:
        codes = [(vocabulary, code.upper()) for vocabulary, code in codes if code]
        keys = [key for key in (normalise_place(name) for name in names) if key]
        has_point = latitude is not None and longitude is not None
        libyan = (has_point and in_libya(latitude, longitude)) or any(code.startswith("LY") for _v, code in codes)
        for _vocabulary, code in codes:
            if code in self.by_pcode:
                return Match(self.by_pcode[code], MatchedBy.PCODE, True)
        for vocabulary, code in codes:
            if (vocabulary, code) in self.alias_by_code:
                return Match(self.alias_by_code[(vocabulary, code)], MatchedBy.ALIAS, True)
        for key in keys:
            if self.by_name.get(key):
                return Match(self.by_name[key], MatchedBy.NAME, True)
            if key in self.alias_by_name:
                return Match(self.alias_by_name[key], MatchedBy.ALIAS, True)
        if has_point:
            found = nearest((float(latitude), float(longitude)), self.points, POINT_MATCH_KM)
            if found is not None:
                return Match(found, MatchedBy.POINT, True)
        for key in keys:
            found = similar_place(key, self.names)
            if found is not None:
                return Match(found, MatchedBy.NAME, True)
        return Match(None, "", libyan)
