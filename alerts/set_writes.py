"""Rows written set-wise: one statement for a whole batch, whatever its size (issue 17).

In PostgreSQL a batch travels as one array per column and is read back with `unnest`, so a
statement has as many parameters as columns and its text is the same for every batch (no
per-row placeholders for the driver to parse). The embedded SQLite default gets a VALUES list.
"""

from django.db import connection


def postgresql() -> bool:
    return connection.vendor == "postgresql"


def rows_source(columns, rows) -> tuple[str, list]:
    """A FROM item named `v` with `columns` ((name, PostgreSQL type), …) over `rows` (tuples)."""
    names = [name for name, _ in columns]
    if postgresql():
        arrays = [list(values) for values in zip(*rows, strict=True)] if rows else [[] for _ in columns]
        unnest = ", ".join(f"%s::{kind}[]" for _, kind in columns)
        return f"unnest({unnest}) AS v({', '.join(names)})", arrays
    picked = ", ".join(f"column{i} AS {name}" for i, name in enumerate(names, 1))
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"(SELECT {picked} FROM (VALUES {', '.join([row] * len(rows))})) AS v", [x for r in rows for x in r]


def one_of(column, values) -> tuple[str, list]:
    """`column` is one of `values`: one array parameter in PostgreSQL."""
    values = list(values)
    if postgresql():
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values)) or 'NULL'})", values


def as_jsonb(expression) -> str:
    return f"{expression}::jsonb" if postgresql() else expression


def skip_locked() -> str:
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def batched(iterable, size):
    """Lists of up to `size` items, without reading further ahead than one batch."""
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
