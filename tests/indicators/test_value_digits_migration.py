"""Narrowing the value columns to 12 digits before the decimal point and 6 after keeps every stored
value or stops, saying which rows to fix; it never truncates (docs/design.md §4)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import IndicatorFactory

BEFORE = [("indicators", "0011_result_first_submitted_at")]
NARROWING = [("indicators", "0012_value_digits_12_6")]


def migrate(targets=None):
    """To the given migrations, or (None) to the latest of every app."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_a_stored_value_with_more_than_twelve_digits_stops_the_migration():
    indicator = IndicatorFactory()
    try:
        migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE indicators_indicator SET lop_target = 1234567890123.5 WHERE id = %s", [indicator.pk])
        with pytest.raises(RuntimeError, match=rf"Indicator\.lop_target \(ids {indicator.pk}\)"):
            migrate(NARROWING)
        with connection.cursor() as cursor:
            cursor.execute("SELECT lop_target FROM indicators_indicator WHERE id = %s", [indicator.pk])
            assert str(cursor.fetchone()[0]) == "1234567890123.5000"
            cursor.execute("UPDATE indicators_indicator SET lop_target = 123.5 WHERE id = %s", [indicator.pk])
    finally:
        migrate()
    indicator.refresh_from_db()
    assert str(indicator.lop_target) == "123.500000"
