"""The matching rules without a database: normalisation, title similarity, places, scoring."""

import hashlib
import json
from datetime import date

from registry.geography import MapPlane, in_libya
from registry.matching import (
    CANDIDATE_SCORE,
    Facts,
    by_script,
    fingerprint,
    haversine_km,
    nearest,
    normalise,
    normalise_place,
    score_pair,
    similar_place,
    title_key,
    title_similarities,
    title_similarity,
)


def test_arabic_letter_variants_diacritics_and_the_article_are_folded():
    assert normalise("أَلْإِيرَادَاتُ") == normalise("الايرادات") == "ايرادات"
    assert normalise("آمنة") == normalise("امنه")
    assert normalise("مستشفى") == normalise("مستشفي")
    assert normalise("التنميـــة") == "تنميه"  # tatweel
    assert normalise("والتشريعات") == "تشريعات"


def test_latin_article_case_and_spaces_are_folded():
    assert normalise("  Al-Zawiya ") == normalise("zawiya") == "zawiya"
    assert normalise("El Marj") == "marj"
    assert normalise("GHADAMES,   old town!") == "ghadames old town"


def test_place_names_drop_the_words_that_say_municipality():
    assert normalise_place("Ghadames Municipality") == normalise_place("ghadames") == "ghadames"
    assert normalise_place("بلدية غدامس") == normalise_place("غدامس") == "غدامس"
    assert similar_place("zuwarah", [("zuwara", 1), ("nalut", 2)]) == 1
    assert similar_place("sabratha", [("zuwara", 1), ("nalut", 2)]) is None


def test_titles_match_in_either_language_after_normalisation():
    english = title_similarity(
        [title_key("Local revenue development")], [title_key("Local revenue development in Ghadames")]
    )
    arabic = title_similarity(
        [title_key("تنمية الإيرادات المحلية")], [title_key("تَنْمِيَة الايرادات المحليه في بلدية غدامس")]
    )
    unrelated = title_similarity([title_key("Capacity building")], [title_key("Solid waste collection")])
    assert english >= 85 and arabic >= 85
    assert unrelated < 50
    # Titles in two scripts do not pass for one another; each side's own language does.
    both = title_similarity(
        [title_key("Local revenue development"), title_key("تنمية الإيرادات المحلية")],
        [title_key("تنمية الايرادات المحليه")],
    )
    assert both >= 95


def test_titles_of_many_pairs_compared_at_once_score_as_each_pair_alone():
    titles = [
        ["Local revenue development", "تنمية الإيرادات المحلية"],
        ["Local revenue development in Ghadames"],
        ["تنمية الايرادات المحليه في غدامس"],
        ["Solid waste collection", "جمع النفايات الصلبة"],
        [],
    ]
    keys = [[title_key(title) for title in group] for group in titles]
    pairs = [(first, second) for first in keys for second in keys]
    together = title_similarities([(by_script(first), by_script(second)) for first, second in pairs])
    alone = [title_similarity(first, second) for first, second in pairs]
    assert together == alone
    # Each pair keeps its own best title: no score leaks into a neighbour's.
    score = {(first, second): together[first * len(keys) + second] for first in range(5) for second in range(5)}
    assert score[0, 1] >= 85 and score[2, 0] >= 85  # English with English, Arabic with Arabic
    assert score[1, 2] == 0  # English only with Arabic only
    assert score[4, 0] == score[0, 4] == 0  # no titles at all
    assert score[0, 3] < 50 and score[3, 3] == 100


def test_distances_and_the_nearest_place():
    ghadames, nalut = (30.1337, 9.5007), (31.8685, 10.9812)
    assert 230 < haversine_km(*ghadames, *nalut) < 240
    places = [(1, *ghadames), (2, *nalut)]
    assert nearest((30.2, 9.55), places, 25) == 1
    assert nearest((29.0, 9.0), places, 25) is None


def test_points_in_libya_by_the_natural_earth_outline():
    assert in_libya(27.04, 14.43)  # Sabha, inland
    assert in_libya(32.93, 12.08)  # Zuwara, on the coast the 1:110m outline cuts
    assert not in_libya(36.17, 8.70)  # Le Kef, Tunisia
    assert not in_libya(30.04, 31.24)  # Cairo
    plane = MapPlane()
    x, y = plane.project(32.9, 13.2)  # Tripoli: north-west of the drawing's centre
    assert 0 < x < plane.width / 2 and 0 < y < plane.height / 2
    assert plane.outline_path().startswith("M")


def facts(pk, **kwargs):
    defaults = {
        "municipalities": frozenset({1}),
        "themes": frozenset({7}),
        "cells": frozenset({(1, 7)}),
        "sectors": frozenset({"15114"}),
        "donors": frozenset({pk * 100}),
        "start": date(2025, 1, 1),
        "end": date(2026, 12, 31),
    }
    defaults.update(kwargs)
    return Facts(id=pk, **defaults)


def test_place_theme_and_dates_alone_are_an_overlap_not_a_duplicate_candidate():
    score, reasons = score_pair(facts(1, titles=("a b c",)), facts(2, titles=("x y z",)))
    assert reasons == ["same_municipality", "same_theme", "same_sector", "dates_overlap"]
    assert score < CANDIDATE_SCORE


def test_a_similar_title_a_shared_implementer_or_an_identifier_link_make_a_candidate():
    title = (title_key("Local revenue development"),)
    score, reasons = score_pair(
        facts(1, titles=title), facts(2, titles=(title_key("Local revenue development Ghadames"),))
    )
    assert "similar_title" in reasons and score >= CANDIDATE_SCORE
    score, reasons = score_pair(facts(1, implementers=frozenset({9})), facts(2, implementers=frozenset({9})))
    assert "shared_implementer" in reasons and score >= CANDIDATE_SCORE
    score, reasons = score_pair(
        facts(1, identifier="XM-1", cells=frozenset(), municipalities=frozenset()),
        facts(2, related=frozenset({"XM-1"}), cells=frozenset(), municipalities=frozenset()),
    )
    assert "related_activity" in reasons and score >= 40


def test_dates_that_do_not_overlap_are_no_reason():
    _score, reasons = score_pair(facts(1), facts(2, start=date(2028, 1, 1), end=date(2029, 1, 1)))
    assert "dates_overlap" not in reasons


def test_the_fingerprint_follows_the_facts_and_not_the_order():
    a, b = facts(1, titles=("x",)), facts(2, titles=("y",))
    assert fingerprint(a, b) == fingerprint(b, a)
    assert fingerprint(a, b) != fingerprint(a, facts(2, titles=("y",), end=date(2027, 6, 30)))
    # The text hashed is the pair's plain facts as JSON, as stored fingerprints were computed:
    # an upgrade does not reopen the pairs people reviewed.
    arabic = facts(3, titles=(title_key("تنمية الإيرادات المحلية"),), related=frozenset({"XM-1"}))
    plain = json.dumps([arabic.as_plain(), b.as_plain()][::-1], sort_keys=True, ensure_ascii=False)
    assert fingerprint(arabic, b) == hashlib.sha256(plain.encode()).hexdigest()
