"""The embedded demo path: SQLite, tasks run eagerly on commit, numbers from the pure rules, rows
written in bulk.

Runs in a subprocess with its own SQLite file (the test suite itself is on PostgreSQL).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DEMO_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, skip_checks=True)
from decimal import Decimal as D
from django.db import transaction
from rollups.models import NationalTargetProgress, Rollup
from indicators.models import Result, Target
from rollups.queue import pending_indicator_ids, schedule_cell_recompute, schedule_recompute
from tests.factories import (AlignmentFactory, IndicatorFactory, MunicipalityFactory, NationalTargetFactory,
                             ProgrammeFactory, TwinningFactory)

programme = ProgrammeFactory(fiscal_year_start_month=10)
ghadames, tinley = MunicipalityFactory(), MunicipalityFactory()
TwinningFactory(programme=programme, municipalities=[ghadames, tinley])
share = IndicatorFactory(programme=programme, measure="percentage")
AlignmentFactory(indicator=share, national_target=NationalTargetFactory())
with transaction.atomic():
    for town, numerator, denominator in [(ghadames, 30, 100), (tinley, 45, 50)]:
        Result.objects.create(indicator=share, municipality=town, period_start="2025-10-01",
                              period_end="2025-12-31", value=D(100 * numerator) / denominator,
                              numerator=numerator, denominator=denominator, status="approved")
    Target.objects.create(indicator=share, period_start="2025-10-01", period_end="2025-12-31", value=D(55))
    schedule_recompute(indicator_ids=[share.id])
before = Rollup.objects.get(indicator=share, scope="programme", period_start__isnull=True)
with transaction.atomic():
    Result.objects.filter(municipality=ghadames).update(numerator=60)
    schedule_cell_recompute(cells=[(share.id, ghadames.id, "", "")])
after = Rollup.objects.get(indicator=share, scope="programme", period_start__isnull=True)
from datetime import date
from rollups import engine
engine.recompute_indicators([share.id], as_of=date(2025, 12, 30))
early = Rollup.objects.get(indicator=share, scope="programme", period_start__isnull=True)
moved = engine.refresh_progress_to_date(as_of=date(2025, 12, 31))
refreshed = Rollup.objects.get(indicator=share, scope="programme", period_start__isnull=True)
from django.utils import timezone
from common.sql import insert_rows
from registry.models import Intervention, OverlapCandidate
first, second = (Intervention.objects.create(source="iati", iati_identifier=f"XM-{n}", title="Work") for n in (1, 2))
written_at = timezone.now()
insert_rows(OverlapCandidate, ("intervention_a", "intervention_b", "score", "reasons", "fingerprint", "status",
                               "previous_status", "note", "created_at", "updated_at"),
            [(first.id, second.id, 75, ["same_municipality", "similar_title"], "f" * 64, "open", "", "", written_at,
              written_at)])
candidate = OverlapCandidate.objects.get()
print(json.dumps({
    "candidate": [candidate.reasons, candidate.score, candidate.created_at == written_at,
                  OverlapCandidate.objects.filter(created_at__lte=written_at).count()],
    "to_date": [early.status_to_date, moved, refreshed.status_to_date, str(refreshed.percent_to_date),
                str(refreshed.as_of)],
    "before": [str(before.actual), str(before.percent_of_target), before.status],
    "after": [str(after.actual), str(after.percent_of_target), after.status],
    "pending": sorted(pending_indicator_ids()),
    "alignment": [str(p) for p in NationalTargetProgress.objects.values_list("progress", flat=True)],
}))
"""


def test_demo_on_sqlite_with_eager_tasks_shows_the_contract_numbers(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(
        DJANGO_SETTINGS_MODULE="twinning.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        DEBUG="1",
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-c", DEMO_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    numbers = json.loads(done.stdout.strip().splitlines()[-1])
    # 75/150 pooled = 50 % against 55: 90.91 % on track; then 105/150 = 70 %: 127.27 % above.
    assert numbers["before"] == ["50.000000", "90.91", "on_track"]
    assert numbers["after"] == ["70.000000", "127.27", "above"]
    assert numbers["pending"] == []
    assert numbers["alignment"] == ["100.00"]
    # The quarter had not ended on 30 December (nothing due yet); the daily refresh of 31 December
    # judges it.
    assert numbers["to_date"] == ["no_target", 1, "above", "127.27", "2025-12-31"]
    # Rows written in bulk (the duplicate detector's new candidates) read back as the ORM wrote them.
    assert numbers["candidate"] == [["same_municipality", "similar_title"], 75, True, 1]
