"""The benchmark command works (at a tiny size; the full-size numbers are in docs/performance.md)."""

import json
import uuid

import pytest
from django.core.management import call_command

from indicators.models import Indicator

pytestmark = pytest.mark.django_db


def test_bench_prints_one_json_line_and_leaves_the_test_database_alone(capsys):
    before = Indicator.objects.count()
    call_command(
        "bench_rollups",
        municipalities=3,
        indicators=5,
        periods=2,
        database_name=f"twinning_bench_test_{uuid.uuid4().hex[:8]}",
    )
    [line] = capsys.readouterr().out.strip().splitlines()
    numbers = json.loads(line)
    assert numbers["results"] == 5 * 2 * 3 * 5  # indicators × periods × municipalities × (total + 4 options)
    for key in ("full_recompute_s", "raw_groupby_s", "ratio", "incremental_ms_p50", "incremental_ms_p95",
                "alignment_s", "peak_rss_mb"):  # fmt: skip
        assert numbers[key] > 0, key
    assert numbers["reconcile_rows_corrected"] == 0
    assert Indicator.objects.count() == before
