"""The database keeps one inventory.NextCheck row per subject: a subject inserted by any
writer (the ORM, bulk_create, COPY) gets its row, due at once; a subject deleted loses it; a
subject moved to another account takes it along, due. Installed by migration 0010 and again
after every `migrate` (idempotent): SQLite drops a table's triggers when a later migration
rebuilds that table."""

# {kind: the subject's table}
SUBJECT_TABLES = {
    "asset": "inventory_asset",
    "appliance": "inventory_appliance",
    "saas": "inventory_saassource",
    "azure": "inventory_azureasset",
}
# A mark: a moment a century back (inventory/due.py, CHANGED_OFFSET).
_MARK = {"postgresql": "now() - interval '36500 days'",
         "sqlite": "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-36500 days')"}  # as Django writes it: microseconds

_POSTGRESQL_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION inventory_next_check_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_nextcheck (kind, subject_id, account_id, next_check_at)
    SELECT TG_ARGV[0], id, account_id, {_MARK["postgresql"]} FROM added
    ON CONFLICT (kind, subject_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION inventory_next_check_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM inventory_nextcheck AS n USING removed AS r WHERE n.kind = TG_ARGV[0] AND n.subject_id = r.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION inventory_next_check_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inventory_nextcheck SET account_id = NEW.account_id, next_check_at = {_MARK["postgresql"]}
    WHERE kind = TG_ARGV[0] AND subject_id = NEW.id;
    RETURN NULL;
END $$;
"""


def _postgresql(kind, table) -> list[str]:
    # Statement-level with transition tables: a COPY of a million assets adds their rows in one INSERT.
    return [
        f"CREATE OR REPLACE TRIGGER {table}_next_check_added AFTER INSERT ON {table} REFERENCING NEW TABLE AS added "
        f"FOR EACH STATEMENT EXECUTE FUNCTION inventory_next_check_added('{kind}')",
        f"CREATE OR REPLACE TRIGGER {table}_next_check_removed AFTER DELETE ON {table} REFERENCING OLD TABLE AS removed "
        f"FOR EACH STATEMENT EXECUTE FUNCTION inventory_next_check_removed('{kind}')",
        f"CREATE OR REPLACE TRIGGER {table}_next_check_moved AFTER UPDATE OF account_id ON {table} FOR EACH ROW "
        f"WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id) EXECUTE FUNCTION inventory_next_check_moved('{kind}')",
    ]


def _sqlite(kind, table) -> list[str]:
    mark = _MARK["sqlite"]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_next_check_added AFTER INSERT ON {table} BEGIN "
        f"INSERT OR IGNORE INTO inventory_nextcheck (kind, subject_id, account_id, next_check_at) "
        f"VALUES ('{kind}', NEW.id, NEW.account_id, {mark}); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_next_check_removed AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM inventory_nextcheck WHERE kind = '{kind}' AND subject_id = OLD.id; END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_next_check_moved AFTER UPDATE OF account_id ON {table} "
        f"WHEN OLD.account_id IS NOT NEW.account_id BEGIN UPDATE inventory_nextcheck "
        f"SET account_id = NEW.account_id, next_check_at = {mark} WHERE kind = '{kind}' AND subject_id = NEW.id; END",
    ]


def install(cursor, vendor) -> None:
    """Create (or replace) the triggers; `cursor` anything with `execute(sql)`."""
    if vendor == "postgresql":
        cursor.execute(_POSTGRESQL_FUNCTIONS)
        statements = [s for kind, table in SUBJECT_TABLES.items() for s in _postgresql(kind, table)]
    elif vendor == "sqlite":
        statements = [s for kind, table in SUBJECT_TABLES.items() for s in _sqlite(kind, table)]
    else:
        raise NotImplementedError(f"inventory.NextCheck needs its triggers written for {vendor}")
    for statement in statements:
        cursor.execute(statement)


def uninstall(cursor, vendor) -> None:
    for table in SUBJECT_TABLES.values():
        for action in ("added", "removed", "moved"):
            on = f" ON {table}" if vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_next_check_{action}{on}")
    if vendor == "postgresql":
        for action in ("added", "removed", "moved"):
            cursor.execute(f"DROP FUNCTION IF EXISTS inventory_next_check_{action}()")


def installed_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: the triggers exist whatever later migrations rebuilt."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if not recorder.has_table() or ("inventory", "0010_next_checks_in_a_table_of_their_own") not in \
            recorder.applied_migrations():
        return
    with connection.cursor() as cursor:
        install(cursor, connection.vendor)
