"""Server time per page at national scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/twinning_bench \\
        .venv/bin/python manage.py bench_pages --build --repeat 5

`--build` fills the database (once; it is reused while its programmes exist) with the rollup
benchmark's national-scale dataset (`bench_rollups`' loader: by default 100 municipalities,
200 indicators of every measure and frequency, 12 periods, results for every municipality, period
and disaggregation, about 1.2 million rows), plus what pages need and that loader does not make:
a ministry and an implementer, 10 activities per workstream, one result in fifty waiting for
approval, and a signed-in user per role; then recomputes every rollup and the alignment snapshot.
`--dataset own` builds a smaller, quarterly-only dataset of this module instead.

Each page is then requested `--repeat` times in-process (Django test client, signed in as the
role that uses the page, caches cleared before each request) and the median and worst server
time are printed, with the number of queries. Use a database of its own: the dataset is large.
"""

import datetime
import random
import statistics
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators import periods
from indicators.models import (
    Alignment,
    DisaggregationCategory,
    DisaggregationOption,
    FunderGoal,
    Indicator,
    NationalTarget,
    Result,
    Target,
)
from partners.models import Membership, Organisation
from projects.models import Activity, Programme, Theme, Twinning, Workstream

PREFIX = "BENCH-"
START, END = datetime.date(2024, 1, 1), datetime.date(2026, 12, 31)


def build(*, municipalities: int, donors: int, programmes: int, indicators: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with transaction.atomic():
        sex, _ = DisaggregationCategory.objects.get_or_create(code="sex", defaults={"name_en": "Sex"})
        for code in ("female", "male"):
            DisaggregationOption.objects.get_or_create(category=sex, code=code, defaults={"name_en": code.title()})
        ministry = Organisation.objects.create(kind="ministry", name_en=f"{PREFIX}Ministry", country="LY")
        implementer = Organisation.objects.create(kind="implementer", name_en=f"{PREFIX}Implementer", country="LY")
        towns = Organisation.objects.bulk_create(
            Organisation(kind="municipality", name_en=f"{PREFIX}Town {n}", name_ar=f"بلدية {n}", country="LY")
            for n in range(municipalities)
        )
        funders = Organisation.objects.bulk_create(
            Organisation(kind="donor", name_en=f"{PREFIX}Donor {n}", country="US") for n in range(donors)
        )
        themes = [
            Theme.objects.get_or_create(code=f"bench-theme-{n}", defaults={"name_en": f"Theme {n}"})[0]
            for n in range(12)
        ]
        nationals = NationalTarget.objects.bulk_create(
            NationalTarget(code=f"{PREFIX}NT-{n}", title_en=f"National target {n}") for n in range(30)
        )
        goals = []
        for donor in funders:
            top = FunderGoal.objects.create(donor=donor, code="G1", title_en="Top goal")
            goals.append(top)
            goals += FunderGoal.objects.bulk_create(
                FunderGoal(donor=donor, code=f"G1.{n}", title_en=f"Sub-goal {n}", parent=top) for n in range(4)
            )
        for p in range(programmes):
            donor = funders[p % donors]
            programme = Programme.objects.create(
                code=f"{PREFIX}P{p}",
                name_en=f"Programme {p}",
                implementer=implementer,
                counterpart=ministry,
                start_date=START,
                end_date=END,
                status="active",
            )
            programme.donors.set([donor])
            members = rng.sample(towns, 6)
            twinning = Twinning.objects.create(programme=programme, name_en=f"Twinning {p}", status="active")
            twinning.municipalities.set(members[:2])
            streams = []
            for w in range(6):
                stream = Workstream.objects.create(
                    programme=programme, twinning=twinning, theme=rng.choice(themes), name_en=f"Workstream {p}.{w}"
                )
                stream.municipalities.set(members[w % 3 * 2 : w % 3 * 2 + 2])
                streams.append(stream)
            Activity.objects.bulk_create(
                Activity(
                    workstream=rng.choice(streams),
                    kind="training",
                    title_en=f"Activity {p}.{a}",
                    start_date=START + datetime.timedelta(days=20 * a),
                    end_date=START + datetime.timedelta(days=20 * a + 2),
                    municipality=members[0],
                    participants_female=10,
                    participants_male=12,
                )
                for a in range(30)
            )
            made = Indicator.objects.bulk_create(
                Indicator(programme=programme, code=f"I{i}", name_en=f"Indicator {p}.{i}", frequency="quarterly")
                for i in range(indicators)
            )
            quarters = periods.periods_between(START, END, "quarterly", 1)
            targets, results, alignments = [], [], []
            for indicator in made:
                indicator.disaggregations.set([sex])
                targets += [
                    Target(indicator=indicator, period_start=s, period_end=e, value=Decimal(300)) for s, e in quarters
                ]
                for town in members:
                    for s, e in quarters[:10]:
                        total = rng.randint(10, 80)
                        status = "approved" if s.year < 2026 else rng.choice(["approved", "submitted", "draft"])
                        common = {"indicator": indicator, "municipality": town, "period_start": s, "period_end": e}
                        results.append(Result(**common, value=total, status=status))
                        results.append(
                            Result(
                                **common,
                                value=total // 2,
                                status=status,
                                disaggregation_category="sex",
                                disaggregation_option="female",
                            )
                        )
                        results.append(
                            Result(
                                **common,
                                value=total - total // 2,
                                status=status,
                                disaggregation_category="sex",
                                disaggregation_option="male",
                            )
                        )
                alignments.append(Alignment(indicator=indicator, national_target=rng.choice(nationals)))
                alignments.append(
                    Alignment(indicator=indicator, funder_goal=rng.choice([g for g in goals if g.donor_id == donor.pk]))
                )
            Target.objects.bulk_create(targets)
            Result.objects.bulk_create(results, batch_size=5000)
            Alignment.objects.bulk_create(alignments)
        first = Programme.objects.filter(code=f"{PREFIX}P0").first()
        _bench_users(
            ministry=ministry,
            implementer=implementer,
            donor=funders[0],
            municipality=first.twinnings.first().municipalities.order_by("pk").first(),
        )


def build_from_rollup_bench(*, municipalities: int, indicators: int, periods_count: int, seed: int = 1) -> None:
    """The rollup benchmark's data, plus a ministry, an implementer, activities, results waiting for
    approval and one user per role."""
    from benchmarks.management.commands.bench_rollups import _load

    _load(random.Random(seed), municipalities, indicators, periods_count)
    with transaction.atomic():
        ministry = Organisation.objects.create(kind="ministry", name_en=f"{PREFIX}Ministry", country="LY")
        implementer = Organisation.objects.create(kind="implementer", name_en=f"{PREFIX}Implementer", country="LY")
        Programme.objects.filter(code__startswith=PREFIX).update(
            implementer=implementer, counterpart=ministry, status="active"
        )
        towns = list(Organisation.objects.filter(kind="municipality").values_list("pk", flat=True))
        Activity.objects.bulk_create(
            Activity(
                workstream=workstream,
                kind="workshop",
                title_en=f"Activity {workstream.pk}.{n}",
                start_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=30 * n),
                end_date=datetime.date(2024, 1, 2) + datetime.timedelta(days=30 * n),
                municipality_id=towns[(workstream.pk + n) % len(towns)],
                participants_female=8,
                participants_male=9,
            )
            for workstream in Workstream.objects.filter(programme__code__startswith=PREFIX)
            for n in range(10)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE indicators_result SET status = 'submitted' WHERE mod(id, 50) = 0 AND status = 'approved'"
            )
        first = Programme.objects.filter(code__startswith=PREFIX).order_by("pk").first()
        _bench_users(
            ministry=ministry,
            implementer=implementer,
            donor=first.donors.first(),
            municipality=first.twinnings.order_by("pk").first().municipalities.order_by("pk").first(),
        )


def _bench_users(*, ministry, implementer, donor, municipality) -> None:
    users = {
        "bench_ministry": (ministry, "approver"),
        "bench_donor": (donor, "viewer"),
        "bench_implementer": (implementer, "editor"),
        "bench_municipality": (municipality, "editor"),
    }
    for username, (organisation, role) in users.items():
        user, _ = get_user_model().objects.get_or_create(username=username)
        Membership.objects.get_or_create(user=user, organisation=organisation, defaults={"role": role})


class Command(BaseCommand):
    help = "Server time per page on a national-scale dataset (see the module docstring)."

    def add_arguments(self, parser):
        parser.add_argument("--build", action="store_true", help="build the dataset if it is not there yet")
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--dataset", choices=["rollups", "own"], default="rollups")
        parser.add_argument("--municipalities", type=int, default=100)
        parser.add_argument("--indicators", type=int, default=200, help="in all (rollups) or per programme (own)")
        parser.add_argument("--periods", type=int, default=12, help="rollups dataset only")
        parser.add_argument("--donors", type=int, default=12, help="own dataset only")
        parser.add_argument("--programmes", type=int, default=40, help="own dataset only")
        parser.add_argument("--language", default="en")

    def handle(self, *args, **options):
        if options["build"]:
            call_command("migrate", verbosity=0)  # a new, empty database of its own
        if not Programme.objects.filter(code__startswith=PREFIX).exists():
            if not options["build"]:
                self.stderr.write("No benchmark dataset: run with --build (on a database of its own).")
                return
            started = time.perf_counter()
            if options["dataset"] == "rollups":
                build_from_rollup_bench(
                    municipalities=options["municipalities"],
                    indicators=options["indicators"],
                    periods_count=options["periods"],
                )
            else:
                build(
                    municipalities=options["municipalities"],
                    donors=options["donors"],
                    programmes=options["programmes"],
                    indicators=options["indicators"],
                )
            self.stdout.write(f"dataset built in {time.perf_counter() - started:.1f} s; computing rollups…")
            from rollups.alignment import force_global_snapshot
            from rollups.engine import recompute_all

            started = time.perf_counter()
            recompute_all()
            force_global_snapshot()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would give
            self.stdout.write(f"rollups and alignment computed in {time.perf_counter() - started:.1f} s")
        self.stdout.write(
            f"data: {Programme.objects.count()} programmes, {Indicator.objects.count()} indicators, "
            f"{Result.objects.count()} results, {Organisation.objects.filter(kind='municipality').count()} "
            f"municipalities, {Activity.objects.count()} activities"
        )
        self.report(options["repeat"], options["language"])

    def pages(self):
        municipality = Organisation.objects.get(memberships__user__username="bench_municipality")
        programme = Programme.objects.filter(code__startswith=PREFIX).order_by("pk").first()
        indicator = programme.indicators.order_by("code").first()
        result = Result.objects.filter(indicator=indicator, municipality=municipality).order_by("-period_start").first()
        quarter = result.period_start
        # The drill-down pages at their largest: the national target with the most indicators,
        # the donor's top goal (it counts every goal below it), the indicator of the grid.
        target = NationalTarget.objects.annotate(n=Count("alignments")).order_by("-n", "pk").first()
        goal = (
            FunderGoal.objects.filter(donor__memberships__user__username="bench_donor", parent__isnull=True)
            .order_by("pk")
            .first()
        )
        drill_down = [("indicator page", "bench_donor", reverse("indicator_detail", args=[indicator.pk]))]
        if target is not None:
            drill_down.append(
                ("national target page", "bench_ministry", reverse("national_target_detail", args=[target.pk]))
            )
        if goal is not None:
            drill_down.append(("funder goal page", "bench_donor", reverse("funder_goal_detail", args=[goal.pk])))
        return [
            ("ministry dashboard", "bench_ministry", reverse("ministry_dashboard")),
            ("donor dashboard", "bench_donor", reverse("donor_dashboard")),
            ("programme list", "bench_ministry", reverse("programme_list")),
            ("programme page (IPTT)", "bench_donor", reverse("programme_detail", args=[programme.pk])),
            ("municipality list", "bench_ministry", reverse("municipality_list")),
            ("municipality page", "bench_municipality", reverse("municipality_detail", args=[municipality.pk])),
            ("activities", "bench_ministry", reverse("activity_list")),
            ("log an activity", "bench_implementer", reverse("activity_create")),
            (
                "result entry grid",
                "bench_municipality",
                f"{reverse('result_entry')}?indicator={indicator.pk}&municipality={municipality.pk}&period={quarter}",
            ),
            ("approval queue", "bench_ministry", reverse("approval_queue")),
            ("result history", "bench_ministry", reverse("result_history", args=[result.pk])),
            (
                "spreadsheet download",
                "bench_municipality",
                f"{reverse('spreadsheet')}?programme={programme.pk}&municipality={municipality.pk}"
                f"&on={quarter}&download=1",
            ),
            *drill_down,
        ]

    def report(self, repeat: int, language: str):
        users = {u.username: u for u in get_user_model().objects.filter(username__startswith="bench_")}
        with translation.override(language):
            pages = self.pages()
        self.stdout.write(f"{'page':<24} {'median ms':>10} {'max ms':>8} {'queries':>8}")
        for name, username, url in pages:
            client = Client()
            client.force_login(users[username])
            timings, queries = [], 0
            for _ in range(repeat):
                cache.clear()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url, SERVER_NAME="localhost")
                    timings.append((time.perf_counter() - started) * 1000)
                queries = len(captured)
                if response.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {response.status_code}")
            self.stdout.write(f"{name:<24} {statistics.median(timings):>10.0f} {max(timings):>8.0f} {queries:>8}")
