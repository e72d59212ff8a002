"""Sets of values sent to the database as one parameter (issue 17), for every room: ids as one
PostgreSQL array rather than one placeholder (or one driver-adapted element) each.

The driver adapts a list value by value in Python, and types a list of small integers as
smallint[] (or integer[]): a bigint column compared with that is a cross-type comparison
PostgreSQL cannot hash. So arrays go as their text, joined in C, and are cast to the column's
type. The embedded SQLite default gets an `IN` list.
"""

from django.db import connection


def postgresql() -> bool:
    return connection.vendor == "postgresql"


def int_array(values):
    """A list of integers as PostgreSQL's array text ('{1,2,3}'), built in one join: the
    driver adapts a list value by value in Python (a third of a second per 10,000 ids).
    Anything else is passed on as it is."""
    values = list(values)
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return values


def text_array(values):
    """A list of strings as PostgreSQL's array text ('{"a","b"}'), each element quoted and
    escaped, in one join (see `int_array`). Anything else is passed on as it is."""
    values = list(values)
    if all(type(value) is str for value in values):
        return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
    return values


def one_of(column, values) -> tuple[str, list]:
    """`column` (a bigint) is one of `values`: one array parameter in PostgreSQL."""
    values = list(values)
    if postgresql():
        return f"{column} = ANY(%s::bigint[])", [int_array(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values)) or 'NULL'})", values
