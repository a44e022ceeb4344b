"""`manage.py bench_registry --activities 10000`: the aid registry's benchmark.

Generates an IATI 2.03 file of N Libyan activities (20 donors, 100 municipalities, titles in
English and Arabic drawn from a small vocabulary so that some pairs look alike; locations by
place code, by name and by point), then in a database of its own (created and dropped here,
`twinning_bench_registry` unless `--database-name`/`--database-url` say otherwise; never the
configured database) prints ONE JSON line:

    activities, municipalities   the size
    file_mb                      the generated file
    import_s                     `import_iati` of the file into an empty registry (streamed)
    peak_rss_mb                  peak resident memory of the process after the import
    reimport_s                   the same file again (every activity unchanged)
    interventions                interventions stored
    detector_s                   a full run of the duplicate detector over all of them
    pairs_blocked, candidates    pairs compared after SQL blocking, and candidates stored

Goals at 10,000 activities (docs/performance.md): import ≤ 30 s and ≤ 300 MB, detector ≤ 10 s.
"""

from __future__ import annotations

import json
import random
import resource
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from benchmarks.child import run_in_own_database

DONORS = 20
WORDS_EN = [
    "local", "revenue", "development", "waste", "collection", "municipal", "services", "youth", "jobs",
    "women", "committees", "disaster", "preparedness", "planning", "urban", "water", "governance",
    "capacity", "training", "archives", "participation", "budget", "fees", "roads",
]  # fmt: skip
WORDS_AR = [
    "تنمية", "الإيرادات", "المحلية", "جمع", "النفايات", "الخدمات", "البلدية", "الشباب", "فرص", "عمل",
    "المرأة", "اللجان", "الكوارث", "التخطيط", "الحضري", "المياه", "الحوكمة", "القدرات", "التدريب",
]  # fmt: skip
SECTORS = ["15114", "15128", "14050", "16020", "15170", "74020", "43030", "15185", "15150", "15126"]


class Command(BaseCommand):
    help = "Benchmark the registry's IATI import and duplicate detector on generated data, in its own database."

    def add_arguments(self, parser):
        parser.add_argument("--activities", type=int, default=10_000)
        parser.add_argument("--municipalities", type=int, default=100)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--database-name", default="twinning_bench_registry", help="created and dropped here")
        parser.add_argument(
            "--database-url", help="an existing, empty PostgreSQL database to use instead (not dropped)"
        )
        parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
        parser.add_argument("--inner", action="store_true", help="(internal) run the bench in this process")

    def handle(self, *args, **options):
        if options["inner"]:
            self.stdout.write(json.dumps(run_bench(options)))
            return
        # No eager tasks: the import's after-commit detector run is measured on its own.
        inner = [f"--{name}={options[name]}" for name in ("activities", "municipalities", "seed")]
        line = run_in_own_database("bench_registry", options, inner, env={"CELERY_TASK_ALWAYS_EAGER": "0"})
        self.stdout.write(line)


def run_bench(options: dict) -> dict:
    from partners import services as partner_services
    from projects.models import Theme
    from registry import services
    from registry.geography import in_libya
    from registry.models import Intervention, OverlapCandidate
    from registry.sector_defaults import DEFAULT_SECTOR_THEMES

    call_command("migrate", verbosity=0)
    rng = random.Random(options["seed"])
    places = []
    while len(places) < options["municipalities"]:
        lat, lon = round(rng.uniform(24.0, 33.0), 4), round(rng.uniform(10.0, 25.0), 4)
        if not in_libya(lat, lon):
            continue
        n = len(places)
        municipality = partner_services.organisation_create(
            kind="municipality",
            name_en=f"Bench town {n}",
            name_ar=f"بلدة {n}",
            country="LY",
            pcode=f"LYB{n:04d}",
            latitude=Decimal(str(lat)),
            longitude=Decimal(str(lon)),
        )
        places.append((municipality, lat, lon))
    for code in DEFAULT_SECTOR_THEMES:
        Theme.objects.create(code=code, name_en=code, name_ar=code)
    services.sector_themes_seed_defaults()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.xml"
        write_file(path, options["activities"], places, rng)
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        with path.open("rb") as source:
            record = services.iati_import_create(source=source, file_name=path.name, large=True)
        import_s = time.perf_counter() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        with path.open("rb") as source:
            again = services.iati_import_create(source=source, file_name=path.name, large=True)
        reimport_s = time.perf_counter() - started
    if record.errors or again.activities_unchanged != record.activities_created:
        raise CommandError(f"Unexpected import outcome: {record.errors[:3]}, {again.activities_unchanged}")
    from registry.detector import blocked_pairs

    pairs = len(blocked_pairs())
    started = time.perf_counter()
    services.overlap_candidates_refresh()
    detector_s = time.perf_counter() - started
    return {
        "activities": options["activities"],
        "municipalities": len(places),
        "file_mb": round(size_mb, 1),
        "import_s": round(import_s, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "reimport_s": round(reimport_s, 2),
        "interventions": Intervention.objects.count(),
        "detector_s": round(detector_s, 2),
        "pairs_blocked": pairs,
        "candidates": OverlapCandidate.objects.count(),
    }


def write_file(path: Path, count: int, places: list, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n')
        for i in range(count):
            out.write(activity_xml(i, places, rng))
        out.write("</iati-activities>\n")


def activity_xml(i: int, places: list, rng: random.Random) -> str:
    donor = rng.randrange(DONORS)
    title_en = " ".join(rng.sample(WORDS_EN, 4))
    title_ar = " ".join(rng.sample(WORDS_AR, 4))
    start_year = rng.randint(2022, 2027)
    start, end = f"{start_year}-{rng.randint(1, 12):02d}-01", f"{start_year + rng.randint(1, 3)}-12-31"
    locations = []
    for municipality, lat, lon in rng.sample(places, rng.choice((1, 1, 2))):
        how = rng.random()
        if how < 0.25:
            locations.append(f'<location><location-id vocabulary="A9" code="{municipality.pcode}"/></location>')
        elif how < 0.75:
            name = municipality.name_ar if how < 0.5 else municipality.name_en
            locations.append(f"<location><name><narrative>{escape(name)}</narrative></name></location>")
        else:
            locations.append(
                f"<location><point><pos>{lat + rng.uniform(-0.05, 0.05):.4f} {lon + rng.uniform(-0.05, 0.05):.4f}"
                "</pos></point></location>"
            )
    sectors = "".join(f'<sector vocabulary="1" code="{code}"/>' for code in rng.sample(SECTORS, rng.choice((1, 2))))
    budget = rng.randint(50, 5000) * 1000
    implementer = rng.randrange(40)
    return (
        f'<iati-activity last-updated-datetime="2026-01-01T00:00:00Z" default-currency="USD" xml:lang="en">\n'
        f"<iati-identifier>XM-BENCH-{donor}-{i}</iati-identifier>\n"
        f'<reporting-org ref="XM-BENCH-{donor}" type="40"><narrative>Bench donor {donor}</narrative></reporting-org>\n'
        f'<title><narrative>{title_en}</narrative><narrative xml:lang="ar">{title_ar}</narrative></title>\n'
        "<description><narrative>Generated for the registry benchmark.</narrative></description>\n"
        f'<participating-org ref="XM-BENCH-{donor}" role="1" type="40">'
        f"<narrative>Bench donor {donor}</narrative></participating-org>\n"
        f'<participating-org ref="XM-BENCH-IMPL-{implementer}" role="4" type="21">'
        f"<narrative>Bench implementer {implementer}</narrative></participating-org>\n"
        '<activity-status code="2"/>\n'
        f'<activity-date type="1" iso-date="{start}"/><activity-date type="3" iso-date="{end}"/>\n'
        '<recipient-country code="LY"/>\n'
        f"{''.join(locations)}\n{sectors}\n"
        f'<budget type="1"><period-start iso-date="{start}"/><period-end iso-date="{end}"/>'
        f'<value value-date="{start}">{budget}</value></budget>\n'
        f'<transaction><transaction-type code="2"/><transaction-date iso-date="{start}"/>'
        f'<value value-date="{start}">{budget}</value></transaction>\n'
        f'<transaction><transaction-type code="3"/><transaction-date iso-date="{start}"/>'
        f'<value value-date="{start}">{budget // 3}</value></transaction>\n'
        "</iati-activity>\n"
    )
