"""Libya's outline (Natural Earth, `data/libya-outline.json`, see `data/README.md`): whether a
point lies in Libya, and the plane the registry's map is drawn on."""

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from .matching import distance_to_rings_km, point_in_rings

OUTLINE_FILE = Path(__file__).resolve().parent / "data" / "libya-outline.json"
# The 1:110m coast is coarse: a coastal town can fall just offshore of it.
COAST_TOLERANCE_KM = 30.0


@cache
def outline() -> list:
    """The MultiPolygon's coordinates: polygons of rings of (longitude, latitude)."""
    feature = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    return [[[tuple(point) for point in ring] for ring in polygon] for polygon in feature["geometry"]["coordinates"]]


def in_libya(latitude: Decimal | float, longitude: Decimal | float) -> bool:
    lat, lon = float(latitude), float(longitude)
    polygons = outline()
    return point_in_rings(lat, lon, polygons) or distance_to_rings_km(lat, lon, polygons) <= COAST_TOLERANCE_KM


@dataclass(frozen=True)
class MapPlane:
    """An equirectangular projection of Libya's bounding box (with a margin) onto a width ×
    height drawing, north up; x grows eastwards, so the map reads the same in both directions."""

    width: int = 600
    height: int = 540
    margin_degrees: float = 1.4

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        points = [point for polygon in outline() for ring in polygon for point in ring]
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        m = self.margin_degrees
        return min(lons) - m, min(lats) - m, max(lons) + m, max(lats) + m

    def project(self, latitude: float, longitude: float) -> tuple[float, float]:
        west, south, east, north = self.bounds
        return (
            round((longitude - west) / (east - west) * self.width, 1),
            round((north - latitude) / (north - south) * self.height, 1),
        )

    def outline_path(self) -> str:
        """The SVG path data of the outline."""
        parts = []
        for polygon in outline():
            for ring in polygon:
                points = [self.project(lat, lon) for lon, lat in ring]
                parts.append("M" + " L".join(f"{x},{y}" for x, y in points) + " Z")
        return " ".join(parts)
