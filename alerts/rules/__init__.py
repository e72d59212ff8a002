"""The rules, one module per alert kind. Each exports `conditions(account, now)`.

The registry below says which kinds each rule owns, so the reconciler can
resolve a kind's open alerts when its rule yields nothing for them.
"""

from alerts.rules import (
    appliance_offline,
    appliance_reported,
    appliance_upgrade,
    backup_alarm,
    dbma,
    hot_copy_alarm,
    purging,
    spanning,
    vendor_incident,
)

RULES = [
    # R17.2 first: an incident open before the per-organization rules run holds what it explains.
    (("vendor_incident",), vendor_incident.conditions),
    (("appliance_offline",), appliance_offline.conditions),
    (("appliance_alert",), appliance_reported.conditions),
    (("appliance_upgrade",), appliance_upgrade.conditions),
    (("purging",), purging.conditions),
    (("backup_alarm",), backup_alarm.conditions),
    (("hot_copy_alarm",), hot_copy_alarm.conditions),
    (("spanning_m365", "spanning_gws", "spanning_salesforce"), spanning.conditions),
    (("dbma_integration", "dbma_backup"), dbma.conditions),
]
