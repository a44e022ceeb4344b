"""Table and column names for the statements written by hand, read from the models.

A hand-written statement that names `indicators_result` breaks silently when the model's table
moves (as the rollup models' did when they left `indicators`); one that reads `_meta` follows it.
"""

from functools import cache

from django.db import connection
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
