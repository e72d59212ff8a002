"""PostgreSQL advisory locks, keyed by a namespace per purpose and an object's id.

The two-integer form `(namespace, id)` cannot collide across purposes or between
accounts the way a hash of a string can. SQLite (the embedded default) has no
advisory locks; it serialises writers by itself, so every lock is granted there.
"""

from contextlib import contextmanager

from django.db import connection

EVALUATION = 1  # one evaluation per account at a time (invariant 6, R15.6)
APPLIANCE_SYNC = 2  # one sync per appliance
SAAS_POLL = 3  # one poll per Spanning or Datto integration: beat's and a "sync now" never overlap
EVALUATION_SHARD = 4  # one evaluation per (account, batch of organizations) when a full one is split
COMPLIANCE = 18  # one compliance computation per account at a time (R18.1)


def try_xact_lock(namespace: int, key: int) -> bool:
    """Try to take a lock held until the current transaction ends; answers at once."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [namespace, key])
        return cursor.fetchone()[0]


def try_xact_lock_shared(namespace: int, key: int) -> bool:
    """The shared form: holders of it run side by side; an exclusive holder excludes them all."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s, %s)", [namespace, key])
        return cursor.fetchone()[0]


@contextmanager
def session_lock(namespace: int, key: int):
    """Try to take a lock held for the block, across transactions; yields whether it was granted."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
