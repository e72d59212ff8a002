"""Rows written set-wise: one statement for a whole batch, whatever its size (issue 17).

In PostgreSQL a batch travels as one JSON text (serialized by orjson,
sent as one escaped literal) and is read back with `jsonb_array_elements`: one parameter
whatever the batch's size, and no per-row placeholders or per-value quoting in the driver
(arrays of text passed as parameters were quoted value by value, the largest cost of a raise).
The embedded SQLite default gets a VALUES list.
"""

import orjson
from django.db import connection
from django.db.models import Field, ForeignObject, Lookup
from django.db.models.base import ModelState

from tenancy.arrays import int_array, postgresql, text_array


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
                orjson.dumps(row[:scalars]).decode()[:-1] + "," + ",".join(row[scalars:]) + "]" for row in rows
            ) + "]"
        else:
            payload = orjson.dumps(rows).decode()
        return f"(SELECT {picked} FROM jsonb_array_elements(%s::jsonb) AS r) AS v", [payload]
    picked = ", ".join(f"column{i} AS {name}" for i, name in enumerate(names, 1))
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"(SELECT {picked} FROM (VALUES {', '.join([row] * len(rows))})) AS v", [x for r in rows for x in r]


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
            kind = _internal_type(self.lhs.output_field)
            if kind in _ARRAY_TYPES:
                return f"{lhs} = ANY(%s::{_ARRAY_TYPES[kind]}[])", [*params, int_array(self.rhs)]
            if kind in _TEXT_TYPES:
                return f"{lhs} = ANY(%s::text[])", [*params, text_array(self.rhs)]
            return f"{lhs} = ANY(%s)", [*params, self.rhs]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs)) or 'NULL'})", [*params, *self.rhs]


# The driver types a list of small integers as smallint[] (or integer[]): a bigint column compared
# with it is a cross-type comparison, which PostgreSQL cannot hash, so a filter `= ANY` over
# thousands of ids (one not served by an index) compared each row with every id in turn:
# 0.5 s per 5,000 ids against 10,000 rows. Cast to the column's own type, it is one hash probe.
_ARRAY_TYPES = {"BigAutoField": "bigint", "BigIntegerField": "bigint", "AutoField": "integer",
                "IntegerField": "integer"}
_TEXT_TYPES = {"CharField", "TextField"}


def _internal_type(field) -> str:
    target = field.target_field if field.is_relation else field
    return target.get_internal_type()


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


def loaded(model, values: dict, alias: str | None = None):
    """An instance of `model` for a row just written, from every field's value (attnames):
    what `Model.from_db` answers, without its per-field work (a batch builds thousands).
    `alias`: the connection's, read once by a caller building many (reading it goes
    through a thread-local lookup each time)."""
    instance = model.__new__(model)
    instance.__dict__.update(values)
    state = instance._state = ModelState()
    state.adding, state.db = False, alias or connection.alias
    return instance
