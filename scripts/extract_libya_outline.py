"""Extract Libya's outline from Natural Earth's 1:110m countries, as the npm package `world-atlas`
ships them (TopoJSON), into the small GeoJSON file the registry's map and its "is this point in
Libya?" test read: `registry/data/libya-outline.json`.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/extract_libya_outline.py package/countries-110m.json

Natural Earth is in the public domain; world-atlas (ISC licence) only converts it to TopoJSON.
Run once; the result is committed, so pages never fetch anything.
"""

import argparse
import json
from pathlib import Path

LIBYA_ISO_NUMERIC = "434"
OUTPUT = Path(__file__).resolve().parent.parent / "registry" / "data" / "libya-outline.json"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON arcs are delta-encoded and quantised: undo both."""
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((round(x * scale_x + shift_x, 4), round(y * scale_y + shift_y, 4)))
        arcs.append(points)
    return arcs


def ring(arcs: list, indexes: list[int]) -> list[tuple[float, float]]:
    """A ring from arc indexes; a negative index (~i) walks arc i backwards. Consecutive arcs
    share their joining point, which is kept once."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc if not points else arc[1:])
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("countries", type=Path, help="countries-110m.json of the world-atlas npm package")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    topology = json.loads(args.countries.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    [libya] = [g for g in topology["objects"]["countries"]["geometries"] if str(g.get("id")) == LIBYA_ISO_NUMERIC]
    polygons = libya["arcs"] if libya["type"] == "MultiPolygon" else [libya["arcs"]]
    coordinates = [[ring(arcs, r) for r in polygon] for polygon in polygons]
    feature = {
        "type": "Feature",
        "properties": {
            "name": libya["properties"]["name"],
            "source": "Natural Earth 1:110m Admin 0 countries, via the npm package world-atlas 2.0.2 "
            "(countries-110m.json); extracted by scripts/extract_libya_outline.py",
            "licence": "Natural Earth: public domain. world-atlas: ISC.",
        },
        "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(feature, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{args.output}: {sum(len(r) for p in coordinates for r in p)} points")


if __name__ == "__main__":
    main()
