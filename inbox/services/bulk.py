"""Many new rows of one model in one INSERT, for recording Meta's deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


def rows_insert(
    rows: Sequence[Model], *, conflict: str = "", returning: Sequence[str] = ()
) -> list[tuple]:
    """INSERT unsaved `rows` of one model in one statement; a row that would break a
    unique constraint (`conflict`: ON CONFLICT's target, any constraint when empty) is
    skipped, as one a concurrent worker stored first. Returns the `returning` columns
    of the rows this statement inserted.

    On PostgreSQL the values go as one array per column, unnested: the statement is the
    same whatever the number of rows, so psycopg converts it once, and it stays within
    the limit on parameters. Django's bulk_create spells out every value and cannot
    say which rows it skipped."""
    if not rows:
        return []
    connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked for each value
    model = type(rows[0])
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = [
        [field.get_db_prep_save(field.pre_save(row, add=True), connection) for row in rows]
        for field in fields
    ]
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
        source, params = f"SELECT * FROM unnest({arrays})", values  # noqa: S608
    else:  # SQLite, in the demo
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        source = "VALUES " + ", ".join([row_sql] * len(rows))
        params = [value for row_values in zip(*values, strict=True) for value in row_values]
    table = model._meta.db_table
    sql = f"INSERT INTO {table} ({columns}) {source} ON CONFLICT {conflict} DO NOTHING"
    if not returning:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return []
    sql += " RETURNING " + ", ".join(connection.ops.quote_name(column) for column in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
