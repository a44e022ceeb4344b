"""`manage.py recompute_rollups`: one indicator, one programme, or everything, with a summary."""

import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from rollups.models import Rollup
from tests.factories import IndicatorFactory, ResultFactory

pytestmark = pytest.mark.django_db


def summary(capsys) -> dict[str, float]:
    out = capsys.readouterr().out
    return {key: float(value) for key, value in re.findall(r"([a-z ]+): ([\d.]+)", out.replace(", ", "\n"))}


def test_recompute_one_indicator_then_everything_reports_what_it_corrected(capsys):
    first = ResultFactory(status="approved", value=Decimal(4)).indicator
    second = ResultFactory(status="approved", value=Decimal(6)).indicator

    call_command("recompute_rollups", "--indicator", str(first.id))
    assert summary(capsys)["indicators"] == 1
    assert not Rollup.objects.filter(indicator=second).exists()

    call_command("recompute_rollups", "--no-progress")
    numbers = summary(capsys)
    assert numbers["indicators"] == 2
    assert numbers["rows corrected"] == Rollup.objects.filter(indicator=second).count() > 0

    Rollup.objects.filter(indicator=first, period_start__isnull=True, scope="programme").update(actual=Decimal(99))
    call_command("recompute_rollups", "--programme", str(first.programme_id))
    assert summary(capsys)["rows corrected"] == 1
    assert Rollup.objects.get(indicator=first, period_start__isnull=True, scope="programme").actual == Decimal(4)


def test_unknown_ids_are_refused():
    with pytest.raises(CommandError):
        call_command("recompute_rollups", "--indicator", "999999")
    with pytest.raises(CommandError):
        call_command("recompute_rollups", "--programme", "999999")


def test_measure_changed_after_results_were_entered():
    indicator = IndicatorFactory(measure="number")
    ResultFactory(
        indicator=indicator, status="approved", value=Decimal(30), numerator=Decimal(3), denominator=Decimal(10)
    )
    ResultFactory(indicator=indicator, status="approved", value=Decimal(50))  # no parts
    call_command("recompute_rollups", "--indicator", str(indicator.id))
    lop = Rollup.objects.get(indicator=indicator, scope="programme", period_start__isnull=True)
    assert lop.actual == Decimal(80)
    indicator.measure = "percentage"
    indicator.save()
    call_command("recompute_rollups", "--indicator", str(indicator.id))
    lop.refresh_from_db()
    assert lop.actual == Decimal(30)  # only the result with a numerator and denominator can be pooled
