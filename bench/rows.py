"""Rows for the benchmarks' data sets, written the fast way: COPY, and ids taken in one query."""

from django.db import connection


def copy_rows(model, columns, rows) -> None:
    """COPY `rows` (tuples in the order of `columns`) into the model's table (or a table name)."""
    table = model if isinstance(model, str) else model._meta.db_table
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def next_ids(model, count) -> list[int]:
    """`count` ids from the model's sequence, so rows can point at each other before they are written."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [model._meta.db_table, count])
        return [row[0] for row in cursor.fetchall()]
