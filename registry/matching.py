"""The registry's matching rules, without Django: text normalisation (Arabic and Latin), title
similarity, distances, and the score of a pair of interventions (docs/registry.md).

Plain values in and out, so the rules are tested without a database and the detector, the
importer and the pages share them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from itertools import pairwise

import numpy
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

# Arabic: diacritics (harakat, superscript alef, Quranic marks) and the tatweel are dropped;
# the alef variants, taa marbuta and alef maqsura are folded.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLDS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
# "al-", "el-" and "ال" with the conjunctions and prepositions that attach to it (و، ب، ف، ك، ل).
_LATIN_ARTICLE = re.compile(r"\b(?:al|el)[-\s]+(?=\w)", re.IGNORECASE)
_ARABIC_ARTICLES = ("وال", "بال", "فال", "كال", "ال")

# Words that say what kind of place a name is, not which place.
PLACE_WORDS = frozenset(
    {"municipality", "municipal", "council", "baladiya", "baladiyat", "city", "town", "district", "بلديه", "مدينه"}
)
# Words too common in aid titles to tell two titles apart.
TITLE_STOPWORDS = frozenset(
    {
        "a", "an", "and", "for", "in", "of", "on", "the", "to", "with", "by", "at", "libya", "libyan",
        "في", "و", "من", "على", "الى", "عن", "مع", "ليبيا", "ليبي", "ليبيه",
    }
)  # fmt: skip


def normalise(text: str) -> str:
    """Lower case, one space between words, punctuation gone; Arabic letter variants folded,
    diacritics removed, and the article ("al-", "el-", "ال") dropped from the start of words."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLDS)
    text = _LATIN_ARTICLE.sub("", text)
    words = []
    for word in _NOT_WORD.sub(" ", text.casefold()).replace("_", " ").split():
        for article in _ARABIC_ARTICLES:
            if word.startswith(article) and len(word) - len(article) >= 2:
                word = word[len(article) :]
                break
        else:
            if word.startswith("لل") and len(word) >= 5:
                word = word[2:]
        words.append(word)
    return " ".join(words)


def normalise_place(name: str) -> str:
    """A place name normalised, without the words that only say it is a municipality."""
    return " ".join(word for word in normalise(name).split() if word not in PLACE_WORDS)


def title_key(title: str) -> str:
    """A title normalised for comparison: without the words every aid title has."""
    return " ".join(word for word in normalise(title).split() if word not in TITLE_STOPWORDS)


def title_similarity(first: Iterable[str], second: Iterable[str]) -> float:
    """0–100: how alike the most alike titles of two interventions are (`title_similarities`)."""
    return title_similarities([(by_script(first), by_script(second))])[0]


TitlesByScript = tuple[tuple[str, ...], tuple[str, ...]]


def by_script(keys: Iterable[str]) -> TitlesByScript:
    """Title keys split into (Latin, Arabic): titles in two scripts never score high, so each
    script's titles are compared only with the same script's."""
    keys = [key for key in keys if key]
    return tuple(key for key in keys if not _arabic(key)), tuple(key for key in keys if _arabic(key))


def title_similarities(pairs: Sequence[tuple[TitlesByScript, TitlesByScript]]) -> list[float]:
    """For each pair of interventions' titles, 0–100: how alike their most alike titles are, in
    either language. Titles are compared as normalised `title_key`s; a title whose words all
    appear in the other counts almost as much as an identical one (`token_set_ratio`), tempered
    by word order (`token_sort_ratio`), so "Local revenue development" and "Local revenue
    development in Ghadames" score high and two titles sharing one word do not.

    Every comparison of all the pairs goes to rapidfuzz at once (`cpdist`, in C++ on every
    core): the detector compares hundreds of thousands of titles in one run."""
    firsts, seconds, owners = [], [], []
    for index, (first, second) in enumerate(pairs):
        for own, other in zip(first, second, strict=True):
            for a in own:
                for b in other:
                    firsts.append(a)
                    seconds.append(b)
                    owners.append(index)
    best = numpy.zeros(len(pairs))
    if firsts:
        compared = (
            cpdist(firsts, seconds, scorer=fuzz.token_set_ratio, dtype=numpy.float64, workers=-1)
            + cpdist(firsts, seconds, scorer=fuzz.token_sort_ratio, dtype=numpy.float64, workers=-1)
        ) / 2
        numpy.maximum.at(best, owners, compared)
    return best.tolist()


def _arabic(text: str) -> bool:
    return "\u0600" <= text[0] <= "\u06ff"


# Places ---------------------------------------------------------------------------------------

SIMILAR_PLACE_NAME = 90.0


def similar_place(key: str, names: Iterable[tuple[str, int]]) -> int | None:
    """The id of the one place whose normalised name is nearly `key` ("zuwarah" for "zuwara"),
    or None when none is, or when more than one place is."""
    found = {place_id for name, place_id in names if key and fuzz.ratio(key, name) >= SIMILAR_PLACE_NAME}
    return found.pop() if len(found) == 1 else None


EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def nearest(point: tuple[float, float], places: Iterable[tuple[int, float, float]], within_km: float) -> int | None:
    """The id of the place nearest to the point, if it lies within `within_km`."""
    best_id, best_distance = None, within_km
    for place_id, lat, lon in places:
        distance = haversine_km(point[0], point[1], lat, lon)
        if distance <= best_distance:
            best_id, best_distance = place_id, distance
    return best_id


def point_in_rings(lat: float, lon: float, polygons: Sequence[Sequence[Sequence[tuple[float, float]]]]) -> bool:
    """Whether (lat, lon) lies inside a GeoJSON MultiPolygon's coordinates (lon, lat rings; the
    first ring of each polygon is its outline, the others holes). Ray casting."""
    for polygon in polygons:
        if polygon and _inside(lon, lat, polygon[0]) and not any(_inside(lon, lat, hole) for hole in polygon[1:]):
            return True
    return False


def _inside(x: float, y: float, ring: Sequence[tuple[float, float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def distance_to_rings_km(lat: float, lon: float, polygons) -> float:
    """Shortest distance from the point to any edge of the outline (an equirectangular
    approximation, good to a few per cent at these distances)."""
    scale = math.cos(math.radians(lat))
    best = math.inf
    for polygon in polygons:
        for ring in polygon:
            for (x1, y1), (x2, y2) in pairwise(ring):
                ax, ay = (x1 - lon) * scale, y1 - lat
                bx, by = (x2 - lon) * scale, y2 - lat
                dx, dy = bx - ax, by - ay
                length = dx * dx + dy * dy
                t = 0.0 if length == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
                px, py = ax + t * dx, ay + t * dy
                best = min(best, math.hypot(px, py) * 111.195)
    return best


# Scoring a pair ---------------------------------------------------------------------------------

# Points of each reason (docs/registry.md). The place, the theme, the sector and the dates alone
# (55) are what the ministry dashboard already calls an overlap; a pair becomes a duplicate
# candidate only with more: a similar title, a shared implementer or an identifier link.
POINTS = {
    "same_municipality": 20,
    "same_theme": 15,
    "same_sector": 10,
    "dates_overlap": 10,
    "similar_title": 30,
    "shared_implementer": 15,
    "same_identifier": 40,
    "related_activity": 40,
    "same_donor": 5,
}
REASONS = tuple(POINTS)
SIMILAR_TITLE = 70.0
CANDIDATE_SCORE = 60


@dataclass(frozen=True)
class Facts:
    """What the detector knows of one intervention."""

    id: int
    identifier: str = ""
    municipalities: frozenset[int] = field(default_factory=frozenset)
    themes: frozenset[int] = field(default_factory=frozenset)
    cells: frozenset[tuple[int | None, int | None]] = field(default_factory=frozenset)
    sectors: frozenset[str] = field(default_factory=frozenset)
    donors: frozenset[int] = field(default_factory=frozenset)
    implementers: frozenset[int] = field(default_factory=frozenset)
    titles: tuple[str, ...] = ()
    related: frozenset[str] = field(default_factory=frozenset)
    start: date | None = None
    end: date | None = None

    def as_plain(self) -> dict:
        return {
            "identifier": self.identifier,
            "cells": sorted((m or 0, t or 0) for m, t in self.cells),
            "sectors": sorted(self.sectors),
            "donors": sorted(self.donors),
            "implementers": sorted(self.implementers),
            "titles": sorted(self.titles),
            "related": sorted(self.related),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }

    @cached_property
    def plain_json(self) -> str:
        return json.dumps(self.as_plain(), sort_keys=True, ensure_ascii=False)

    @cached_property
    def placed_cells(self) -> frozenset[tuple[int, int]]:
        """The cells with both a municipality and a theme."""
        return frozenset((m, t) for m, t in self.cells if m is not None and t is not None)

    @cached_property
    def titles_by_script(self) -> TitlesByScript:
        return by_script(self.titles)


def dates_overlap(a: Facts, b: Facts) -> bool:
    """Open ends count as open: an intervention without an end date goes on."""
    if (a.start is None and a.end is None) or (b.start is None and b.end is None):
        return False
    return (a.end is None or b.start is None or b.start <= a.end) and (
        b.end is None or a.start is None or a.start <= b.end
    )


def score_pair(a: Facts, b: Facts, *, similarity: float | None = None) -> tuple[int, list[str]]:
    """The score (0–100) of two interventions being the same work, with its reasons in the
    order of `REASONS`; `similarity` is their titles' (`title_similarities`), when the caller
    computed it with other pairs'. Called for every blocked pair, so each reason is tested
    once, in that order."""
    reasons = []
    points = 0.0
    if not a.municipalities.isdisjoint(b.municipalities):
        reasons.append("same_municipality")
        points += POINTS["same_municipality"]
    if not a.placed_cells.isdisjoint(b.placed_cells) or (
        not (a.municipalities and b.municipalities) and not a.themes.isdisjoint(b.themes)
    ):
        reasons.append("same_theme")
        points += POINTS["same_theme"]
    if not a.sectors.isdisjoint(b.sectors):
        reasons.append("same_sector")
        points += POINTS["same_sector"]
    if dates_overlap(a, b):
        reasons.append("dates_overlap")
        points += POINTS["dates_overlap"]
    if similarity is None:
        similarity = title_similarities([(a.titles_by_script, b.titles_by_script)])[0]
    if similarity >= SIMILAR_TITLE:
        reasons.append("similar_title")
        points += POINTS["similar_title"] * similarity / 100
    if not a.implementers.isdisjoint(b.implementers):
        reasons.append("shared_implementer")
        points += POINTS["shared_implementer"]
    if a.identifier and a.identifier == b.identifier:
        reasons.append("same_identifier")
        points += POINTS["same_identifier"]
    if (a.identifier and a.identifier in b.related) or (b.identifier and b.identifier in a.related):
        reasons.append("related_activity")
        points += POINTS["related_activity"]
    if not a.donors.isdisjoint(b.donors):
        reasons.append("same_donor")
        points += POINTS["same_donor"]
    return min(100, round(points)), reasons


def fingerprint(a: Facts, b: Facts) -> str:
    """A hash of the facts a pair's score was computed from: when it is unchanged, a reviewed
    pair keeps its review. The same text as `json.dumps` of the pair's two plain forms, built
    from each intervention's form written once."""
    first, second = sorted((a, b), key=lambda facts: facts.id)
    return hashlib.sha256(f"[{first.plain_json}, {second.plain_json}]".encode()).hexdigest()
