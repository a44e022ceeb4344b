"""The completeness benchmark works (at a tiny size; the numbers are in docs/performance.md)."""

import json
import uuid

import pytest
from django.core.management import call_command

from indicators.models import Indicator

pytestmark = pytest.mark.django_db


def test_bench_prints_one_json_line_and_leaves_the_test_database_alone(capsys):
    before = Indicator.objects.count()
    call_command(
        "bench_completeness",
        municipalities=2,
        indicators=4,
        periods=2,
        database_name=f"twinning_bench_test_{uuid.uuid4().hex[:8]}",
    )
    [line] = capsys.readouterr().out.strip().splitlines()
    numbers = json.loads(line)
    assert numbers["results"] == 4 * 2 * 2 * 5
    assert numbers["cells"] == numbers["on_time"] + numbers["late"] + numbers["missing"] > 0
    for key in ("compute_s_median", "serve_ms_p50", "serve_ms_p95", "fresh_ms"):
        assert numbers[key] > 0, key
    assert Indicator.objects.count() == before
