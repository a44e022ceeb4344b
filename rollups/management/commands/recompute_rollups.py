"""`manage.py recompute_rollups [--indicator ID ...] [--programme ID]`: recompute rollups from source.

Without options: every indicator (with a progress bar) and the alignment snapshot. Use it after
Redis was down, after a restore, or to check the stored rollups: "rows corrected" counts the
rows that were missing, wrong or obsolete (0 when everything was already right).
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from indicators.models import Indicator
from projects.models import Programme
from rollups import alignment, engine


class Command(BaseCommand):
    help = "Recompute stored rollups (one indicator, one programme, or everything) and the alignment snapshot."

    def add_arguments(self, parser):
        parser.add_argument("--indicator", type=int, action="append", help="indicator id (repeatable)")
        parser.add_argument("--programme", type=int, help="programme id")
        parser.add_argument(
            "--chunk",
            type=int,
            help=f"indicators per transaction (default {engine.DEFAULT_CHUNK}; full runs on PostgreSQL "
            f"{engine.REBUILD_CHUNK})",
        )
        parser.add_argument("--jobs", type=int, default=1, help="database connections working at once (full runs)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, indicator=None, programme=None, chunk=None, jobs=1, no_progress=False, **options):
        if indicator:
            missing = set(indicator) - set(Indicator.objects.filter(id__in=indicator).values_list("id", flat=True))
            if missing:
                raise CommandError(f"No indicator with id {', '.join(map(str, sorted(missing)))}.")
            summary = engine.recompute_in_chunks(indicator, chunk=chunk or engine.DEFAULT_CHUNK)
        elif programme is not None:
            if not Programme.objects.filter(id=programme).exists():
                raise CommandError(f"No programme with id {programme}.")
            summary = engine.recompute_programme(programme)
        else:
            total = Indicator.objects.count()
            with tqdm(total=total, unit="indicator", disable=no_progress, file=self.stderr) as bar:
                summary = engine.recompute_all(progress=bar.update, chunk=chunk, jobs=jobs)
        alignment_seconds = alignment.force_global_snapshot()
        self.stdout.write(
            f"indicators: {summary.indicators}, rows written: {summary.rows_written}, "
            f"rows corrected: {summary.rows_corrected}, seconds: {summary.seconds + alignment_seconds:.2f}"
        )
