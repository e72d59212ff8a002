"""Rows for the benchmarks' data sets, written the fast way: COPY, and ids taken in one query."""

import os
from pathlib import Path

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


def database_cpu() -> float | None:
    """CPU seconds used so far by PostgreSQL on this machine (None when it is elsewhere): every
    server process's, plus what the postmaster has collected of the backends that ended (the
    computation's spans run on connections of their own, closed when done). Other databases'
    work counts too: read it on a quiet machine."""
    tick, total, found = os.sysconf("SC_CLK_TCK"), 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()
        if name != "postgres" and not name.startswith("postgres:"):
            continue
        found = True
        total += int(fields[11]) + int(fields[12])
        if Path(f"/proc/{fields[1]}/comm").exists() and "postgres" not in Path(f"/proc/{fields[1]}/comm").read_text():
            total += int(fields[13]) + int(fields[14])  # the postmaster: its ended children's CPU
    return total / tick if found else None
