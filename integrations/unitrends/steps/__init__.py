"""The steps of an appliance sync: each reads one part of the appliance and writes it to inventory.

Each step is idempotent (upsert by the appliance's own ids), writes only rows
that changed, and skips a malformed row instead of failing the whole step, so
one odd record never blocks the rest. `since` limits the dated reads to what
changed after the last completed sync (with a day of overlap). A step is
`step(client, appliance, since, now) -> number of rows changed`.
"""

from integrations.unitrends.steps.appliance import alerts, storage, system
from integrations.unitrends.steps.assets import assets
from integrations.unitrends.steps.backups import backups, certification, cold_copies, hot_copies
from integrations.unitrends.steps.jobs import jobs
from integrations.unitrends.steps.schedules import schedules

# In this order: assets before their schedules and backups, backups before their copies.
STEPS = {fn.__name__: fn for fn in (
    system, storage, assets, schedules, backups, hot_copies, cold_copies, certification, jobs, alerts)}
