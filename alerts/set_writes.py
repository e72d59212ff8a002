"""Rows written set-wise: one statement for a whole batch, whatever its size (issue 17).

In PostgreSQL a batch travels as one JSON text (serialized by the json module's C encoder,
sent as one escaped literal) and is read back with `jsonb_array_elements`: one parameter
whatever the batch's size, and no per-row placeholders or per-value quoting in the driver
(arrays of text passed as parameters were quoted value by value, the largest cost of a raise).
The embedded SQLite default gets a VALUES list.
"""

import json

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup
from django.db.models.base import ModelState


def postgresql() -> bool:
    return connection.vendor == "postgresql"


def rows_source(columns, rows) -> tuple[str, list]:
    """A FROM item named `v` with `columns` ((name, PostgreSQL type), …) over `rows` (tuples).

    A `jsonb` column's values are JSON texts already (serialized once by the caller); they
    come last, and PostgreSQL reads them in place, not as strings to parse twice."""
    names = [name for name, _ in columns]
    if postgresql():
        documents = sum(1 for _, kind in columns if kind == "jsonb")
        assert all(kind == "jsonb" for _, kind in columns[len(columns) - documents:]), "jsonb columns come last"
        picked = ", ".join(
            f"r->{i} AS {name}" if kind == "jsonb" else f"r->>{i} AS {name}" if kind == "text"
            else f"(r->>{i})::{kind} AS {name}"
            for i, (name, kind) in enumerate(columns)
        )
        if documents:
            scalars = len(columns) - documents
            payload = "[" + ",".join(
                json.dumps(row[:scalars])[:-1] + "," + ",".join(row[scalars:]) + "]" for row in rows
            ) + "]"
        else:
            payload = json.dumps(rows)
        return f"(SELECT {picked} FROM jsonb_array_elements(%s::jsonb) AS r) AS v", [payload]
    picked = ", ".join(f"column{i} AS {name}" for i, name in enumerate(names, 1))
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"(SELECT {picked} FROM (VALUES {', '.join([row] * len(rows))})) AS v", [x for r in rows for x in r]


def one_of(column, values) -> tuple[str, list]:
    """`column` is one of `values`: one array parameter in PostgreSQL."""
    values = list(values)
    if postgresql():
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values)) or 'NULL'})", values


@ForeignObject.register_lookup
@Field.register_lookup
class AnyOf(Lookup):
    """`field__any_of=ids`: `field = ANY(%s)`, one array parameter in PostgreSQL. `__in` sends one
    placeholder per value, which the driver scans and quotes one by one (thousands per batch).
    Integers go as one array literal joined in C, not a list the driver dumps value by value;
    a set (or any iterable but a list or tuple) is not walked value by value by Django either."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            if all(type(value) is int for value in self.rhs):
                return f"{lhs} = ANY(%s::bigint[])", [*params, "{" + ",".join(map(str, self.rhs)) + "}"]
            return f"{lhs} = ANY(%s)", [*params, self.rhs]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs)) or 'NULL'})", [*params, *self.rhs]


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


def loaded(model, values: dict):
    """An instance of `model` for a row just written, from every field's value (attnames):
    what `Model.from_db` answers, without its per-field work (a batch builds thousands)."""
    instance = model.__new__(model)
    instance.__dict__.update(values)
    state = instance._state = ModelState()
    state.adding, state.db = False, connection.alias
    return instance
