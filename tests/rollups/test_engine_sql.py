"""The engine's hand-written SQL: tables named through the models, and every assembled statement
one that PostgreSQL accepts, so a broken part fails here rather than in a benchmark or a worker."""

import inspect
import random
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from indicators.models import Indicator, Result, Target
from projects.models import Twinning
from rollups import engine, queue
from rollups.models import Rollup
from tests.rollups.rollup_data import generate_programme


def every_table() -> set[str]:
    return {model._meta.db_table for model in apps.get_models(include_auto_created=True)}


def project_table_prefixes() -> list[str]:
    """`indicators_`, `projects_`, ...: how this project's tables are named unless a model says
    otherwise; catches a table written out that no model has (yet)."""
    return [
        f"{config.label}_"
        for config in apps.get_app_configs()
        if config.path.startswith(str(settings.BASE_DIR)) and list(config.get_models())
    ]


@pytest.mark.parametrize("module", [engine, queue], ids=lambda module: module.__name__)
def test_the_hand_written_sql_names_no_table_itself(module):
    source = inspect.getsource(module)
    written = {table for table in every_table() if re.search(rf"\b{re.escape(table)}\b", source)}
    written |= set(re.findall(rf"\b(?:{'|'.join(project_table_prefixes())})[a-z]\w*", source))
    assert not written, f"{module.__name__} writes table names instead of reading the models' _meta: {written}"


def quoted_table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def test_the_statements_read_and_write_the_models_tables():
    membership = Twinning._meta.get_field("municipalities").m2m_db_table()
    computed_from = {quoted_table(model) for model in (Indicator, Result, Target, Twinning)}
    computed_from.add(connection.ops.quote_name(membership))
    for statement in (
        engine.full_recompute_sql(),
        engine.cell_recompute_sql(),
        engine.rebuild_insert_sql(),
        engine.rebuild_compute_sql(),
    ):
        assert {table for table in computed_from if table in statement} == computed_from
    assert f"UPDATE {quoted_table(Rollup)}" in engine.refresh_to_date_sql()
    for writing in (engine.full_recompute_sql(), engine.cell_recompute_sql(), engine.rebuild_write_sql()):
        assert f"INSERT INTO {quoted_table(Rollup)}" in writing
        assert f"DELETE FROM {quoted_table(Rollup)}" in writing
    assert f"INSERT INTO {quoted_table(Rollup)}" in engine.rebuild_insert_sql()


def explained(statement: str, parameters: dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def parameters(db):
    """Parameters as the engine passes them, for a programme with results and targets."""
    programme = generate_programme(random.Random(7), municipalities=3, periods=4, indicators=3)
    ids = [item.spec.id for item in programme.indicators]
    cells = list(
        Result.objects.filter(indicator_id__in=ids).values_list(
            "indicator_id", "municipality_id", "disaggregation_category", "disaggregation_option"
        )[:3]
    )
    assert cells
    return {
        "ids": ids,
        "now": timezone.now(),
        "as_of": timezone.localdate(),
        "cell_indicators": [cell[0] for cell in cells],
        "cell_municipalities": [cell[1] for cell in cells],
        "cell_categories": [cell[2] for cell in cells],
        "cell_options": [cell[3] for cell in cells],
    }


@pytest.mark.parametrize(
    "statement", ["full_recompute_sql", "cell_recompute_sql", "rebuild_insert_sql", "rebuild_compute_sql"]
)
def test_postgresql_can_plan_each_statement(parameters, statement):
    plan = explained(getattr(engine, statement)(), parameters)
    assert re.search(rf"Scan .*\bon {Result._meta.db_table}\b", plan)  # computed from the results
    if statement != "rebuild_compute_sql":
        assert f"Insert on {Rollup._meta.db_table}" in plan


def test_postgresql_can_plan_the_rebuild_write_over_the_computed_rows(parameters):
    with connection.cursor() as cursor:
        cursor.execute(engine.rebuild_compute_sql(), parameters)  # the temporary table it reads
    plan = explained(engine.rebuild_write_sql(), parameters)
    assert f"Insert on {Rollup._meta.db_table}" in plan
    assert f"Delete on {Rollup._meta.db_table}" in plan


def test_postgresql_can_plan_the_progress_to_date_refresh(parameters):
    """The daily refresh reads the stored period rows, never the results, and updates LoP rows."""
    assert Rollup._meta.db_table in explained(engine.stale_to_date_sql(), parameters)
    plan = explained(engine.refresh_to_date_sql(), parameters)
    assert f"Update on {Rollup._meta.db_table}" in plan
    assert Result._meta.db_table not in plan
