"""bench_registry runs end to end (at a tiny size; the full-size numbers are in docs/performance.md)."""

import json
import uuid

import pytest
from django.core.management import call_command

from registry.models import Intervention

pytestmark = pytest.mark.django_db


def test_bench_prints_one_json_line_and_leaves_the_test_database_alone(capsys):
    before = Intervention.objects.count()
    call_command(
        "bench_registry",
        activities=60,
        municipalities=12,
        database_name=f"twinning_bench_test_{uuid.uuid4().hex[:8]}",
    )
    [line] = capsys.readouterr().out.strip().splitlines()
    numbers = json.loads(line)
    assert (numbers["activities"], numbers["municipalities"], numbers["interventions"]) == (60, 12, 60)
    for key in ("file_mb", "import_s", "peak_rss_mb", "reimport_s", "detector_s", "pairs_blocked"):
        assert numbers[key] > 0, key
    assert Intervention.objects.count() == before
