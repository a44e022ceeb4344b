"""Table and column names for the statements written by hand, read from the models.

A hand-written statement that names `indicators_result` breaks silently when the model's table
moves (as the rollup models' did when they left `indicators`); one that reads `_meta` follows it.
"""

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


class QuotedNames:
    """A model's table as `table`, and each concrete field's column as an attribute of the field's
    name, quoted for the default database: `quoted_names(Result).indicator` is `"indicator_id"`.
    A field the model does not have is an `AttributeError` when the statement is built."""

    def __init__(self, model: type[Model]) -> None:
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        for field in model._meta.concrete_fields:
            setattr(self, field.name, quote(field.column))


@cache
def quoted_names(model: type[Model]) -> QuotedNames:
    return QuotedNames(model)


def quoted(name: str) -> str:
    """One identifier (a table or column name taken from `_meta`), quoted for the default database."""
    return connection.ops.quote_name(name)


PLAIN = frozenset({int, str})


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows of field values written to the model's table: one `COPY` on PostgreSQL, where building
    `bulk_create`'s statement for tens of thousands of rows costs more than running it;
    `executemany` elsewhere (the embedded SQLite demo). Values are prepared as the fields prepare
    them; nothing is validated or defaulted: the caller gives every column the table needs."""
    names = quoted_names(model)
    columns = ", ".join(getattr(names, field) for field in fields)
    database = connections[DEFAULT_DB_ALIAS]
    prepare = [model._meta.get_field(field).get_db_prep_save for field in fields]

    def prepared(row: Sequence[Any]) -> list[Any]:
        # Plain integers and strings go as they are (most of the values, and the field's
        # preparation would only copy them); JSON, dates and the like as the field prepares them.
        return [
            value if type(value) in PLAIN else step(value, database) for step, value in zip(prepare, row, strict=True)
        ]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {names.table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(prepared(row))
            return
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(f"INSERT INTO {names.table} ({columns}) VALUES ({marks})", [prepared(row) for row in rows])
